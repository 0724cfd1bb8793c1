import { ApiError, notFound } from '../http/errors.js';
import { newId } from '../lib/ids.js';
import type { EventRecord, PageQuery, Store, Webhook } from '../store/types.js';
import {
  EgressRefused,
  type ResolveHost,
  publicAddresses,
  systemResolver,
} from './egress-lookup.js';
import { isValidPattern, patternMatches } from './events.js';
import { newSigningSecret } from './signing.js';

export interface WebhookInput {
  url?: string;
  enabled_events?: string[];
  is_enabled?: boolean;
  description?: string | null;
}

const forbiddenUrl = (message: string) => new ApiError('WEBHOOK_URL_FORBIDDEN', message, 'url');

export class WebhookService {
  constructor(
    private readonly store: Store,
    private readonly options: {
      demoMode: boolean;
      onQueued?: () => void;
      resolveHost?: ResolveHost | undefined;
    },
  ) {}

  private async checkInput(input: WebhookInput): Promise<void> {
    let url: URL | undefined;
    if (input.url !== undefined) {
      try {
        url = new URL(input.url);
      } catch {
        throw new ApiError('INVALID_FIELD', 'url must be an absolute http(s) URL', 'url');
      }
      if (this.options.demoMode) {
        if (!['https:', 'http:'].includes(url.protocol) || url.username || url.password) {
          throw new ApiError(
            'INVALID_FIELD',
            'url must be an http(s) URL without credentials',
            'url',
          );
        }
      } else if (url.protocol !== 'https:') {
        throw forbiddenUrl(`url must be https outside DEMO_MODE, got "${url.protocol}"`);
      } else if (url.username || url.password) {
        throw forbiddenUrl('url must not carry credentials (user:password@) outside DEMO_MODE');
      }
    }
    const bad = input.enabled_events?.find((pattern) => !isValidPattern(pattern));
    if (bad !== undefined) {
      throw new ApiError(
        'INVALID_FIELD',
        `enabled_events: "${bad}" is not an event type or wildcard (e.g. "CARD.UPDATED", "CARD.*", "*")`,
        'enabled_events',
      );
    }
    if (url && !this.options.demoMode) await this.checkEgress(url);
  }

  /**
   * The subscription-time half of the SSRF guard (the dispatcher checks again at connect time,
   * against the address it dials). A name that does not resolve yet is accepted: nothing can be
   * reached through it, and the connect-time check still holds once it does.
   */
  private async checkEgress(url: URL): Promise<void> {
    try {
      await publicAddresses(url.hostname, this.options.resolveHost ?? systemResolver);
    } catch (failure) {
      if (failure instanceof EgressRefused) {
        throw forbiddenUrl(
          `url: ${failure.message}; outside DEMO_MODE webhooks go to public addresses only`,
        );
      }
    }
  }

  async create(input: Required<Pick<WebhookInput, 'url' | 'enabled_events'>> & WebhookInput) {
    await this.checkInput(input);
    const now = Date.now();
    const webhook: Webhook = {
      id: newId('wh', now),
      url: input.url,
      enabledEvents: [...new Set(input.enabled_events)],
      isEnabled: input.is_enabled ?? true,
      description: input.description ?? null,
      secret: newSigningSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
      createdTime: new Date(now).toISOString(),
      deleted: false,
    };
    await this.store.transaction((tx) => tx.insertWebhook(webhook));
    return webhook;
  }

  async get(id: string): Promise<Webhook> {
    const webhook = await this.store.read.getWebhook(id);
    if (!webhook) throw notFound('webhook', id);
    return webhook;
  }

  list(query: PageQuery) {
    return this.store.read.listWebhooks(query);
  }

  async update(id: string, input: WebhookInput): Promise<Webhook> {
    await this.checkInput(input);
    return this.mutate(id, (webhook) => ({
      ...webhook,
      ...(input.url === undefined ? {} : { url: input.url }),
      ...(input.enabled_events === undefined
        ? {}
        : { enabledEvents: [...new Set(input.enabled_events)] }),
      ...(input.is_enabled === undefined ? {} : { isEnabled: input.is_enabled }),
      ...(input.description === undefined ? {} : { description: input.description }),
    }));
  }

  remove(id: string): Promise<Webhook> {
    return this.mutate(id, (webhook) => ({ ...webhook, deleted: true, isEnabled: false }));
  }

  /** New secret; the old one keeps signing (second signature) for `overlapSeconds`. */
  rotateSecret(id: string, overlapSeconds: number): Promise<Webhook> {
    const now = Date.now();
    return this.mutate(id, (webhook) => ({
      ...webhook,
      secret: newSigningSecret(),
      previousSecret: overlapSeconds > 0 ? webhook.secret : null,
      previousSecretExpiresAt: overlapSeconds > 0 ? now + overlapSeconds * 1000 : null,
    }));
  }

  private mutate(id: string, change: (webhook: Webhook) => Webhook): Promise<Webhook> {
    return this.store.transaction(async (tx) => {
      const webhook = await tx.getWebhook(id);
      if (!webhook) throw notFound('webhook', id);
      const updated = change(webhook);
      await tx.updateWebhook(updated);
      return updated;
    });
  }

  async getEvent(id: string) {
    const event = await this.store.read.getEvent(id);
    if (!event) throw notFound('event', id);
    const [deliveries, attempts] = await Promise.all([
      this.store.read.deliveriesForEvent(id),
      this.store.read.attemptsForEvent(id),
    ]);
    return { event, deliveries, attempts };
  }

  listEvents(query: PageQuery & { type?: string | undefined }) {
    return this.store.read.listEvents(query);
  }

  /** Queues the event again to the given webhook, or to every enabled webhook subscribed to it. */
  async redeliver(eventId: string, webhookId?: string): Promise<EventRecord> {
    const now = Date.now();
    const event = await this.store.transaction(async (tx) => {
      const found = await tx.getEvent(eventId);
      if (!found) throw notFound('event', eventId);
      let targets: Webhook[];
      if (webhookId !== undefined) {
        const webhook = await tx.getWebhook(webhookId);
        if (!webhook) throw notFound('webhook', webhookId);
        targets = [webhook];
      } else {
        targets = (await tx.enabledWebhooks()).filter((w) =>
          w.enabledEvents.some((pattern) => patternMatches(pattern, found.type)),
        );
      }
      for (const webhook of targets) {
        await tx.insertDelivery({
          id: newId('dlv', now),
          eventId,
          webhookId: webhook.id,
          status: 'PENDING',
          attemptCount: 0,
          nextAttemptAt: now,
          createdTime: new Date(now).toISOString(),
          leaseToken: null,
        });
      }
      return found;
    });
    this.options.onQueued?.();
    return event;
  }
}
