import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { Delivery, Store } from '../store/types.js';
import {
  EgressRefused,
  type ResolveHost,
  egressLookup,
  refuseForbiddenHost,
  systemResolver,
} from './egress-lookup.js';
import { signatureHeader } from './signing.js';

export interface DispatcherOptions {
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  pollMs: number;
  batchSize?: number;
  /** DEMO_MODE: any http(s) receiver, local ones included. Otherwise public addresses only. */
  demoMode: boolean;
  resolveHost?: ResolveHost;
}

/**
 * Delay before retry number `attempt` (1 = the first retry): exponential, capped, with "equal
 * jitter" (half fixed, half random) so receivers that failed together do not retry together.
 */
export function retryDelayMs(
  attempt: number,
  options: Pick<DispatcherOptions, 'retryBaseMs' | 'retryMaxMs'>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

const RESPONSE_EXCERPT = 1024;

class DeliveryTimeout extends Error {
  override readonly name = 'DeliveryTimeout';
}

/**
 * One POST with a deadline over connect, send and the answer. A redirect is never followed: a
 * 3xx is the answer, so a receiver cannot bounce the platform to a target it was not given.
 */
function post(
  target: URL,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; lookup: LookupFunction },
): Promise<{ status: number; excerpt: string }> {
  return new Promise((resolve, reject) => {
    const request = (target.protocol === 'https:' ? https : http).request({
      method: 'POST',
      hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: target.port || undefined,
      path: `${target.pathname}${target.search}`,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: options.lookup,
      agent: false,
    });
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    // Settles first: whatever destroying the socket then emits is ignored.
    const timer = setTimeout(() => {
      fail(new DeliveryTimeout());
      request.destroy();
    }, options.timeoutMs);
    request.on('error', fail);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = () => {
        clearTimeout(timer);
        const excerpt = Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_EXCERPT);
        resolve({ status: response.statusCode ?? 0, excerpt });
      };
      response.on('error', fail);
      response.on('end', finish);
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // Enough bytes for the excerpt's characters (UTF-8: at most 4 each); the rest is unread.
        if (size >= RESPONSE_EXCERPT * 4) {
          finish();
          request.destroy();
        }
      });
    });
    request.end(body);
  });
}

/**
 * Delivers the outbox: leases due deliveries (a crash mid-send leaves them due again once the
 * lease runs out: at-least-once), POSTs each signed event with a per-attempt timeout, and
 * records every attempt with the delivery's next state in one transaction.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;
  private idle: Promise<void> = Promise.resolve();
  private readonly lookup: LookupFunction;

  constructor(
    private readonly store: Store,
    private readonly options: DispatcherOptions,
    private readonly log: FastifyBaseLogger,
  ) {
    this.lookup = egressLookup(options.resolveHost ?? systemResolver, !options.demoMode);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.idle;
  }

  /** Wakes the loop now (after a transaction queued deliveries). */
  nudge(): void {
    if (!this.stopped && !this.running) this.schedule(0);
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.idle = this.loop();
    }, delay);
    this.timer.unref?.();
  }

  private async loop(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    let full = false;
    try {
      full = (await this.deliverDue()) === (this.options.batchSize ?? 32);
    } catch (error) {
      this.log.error({ err: error }, 'webhook dispatcher failed');
    } finally {
      this.running = false;
    }
    if (!this.stopped) this.schedule(full ? 0 : this.options.pollMs);
  }

  /** Sends every due delivery once; returns how many it sent. */
  async deliverDue(now: number = Date.now()): Promise<number> {
    // A fresh token per lease: only this lease may record the outcome of these attempts.
    const lease = { token: randomUUID(), now, until: now + this.options.timeoutMs + 1000 };
    const due = await this.store.transaction((tx) =>
      tx.leaseDueDeliveries(lease, this.options.batchSize ?? 32),
    );
    await Promise.all(due.map((delivery) => this.send(delivery, lease.token)));
    return due.length;
  }

  private async send(delivery: Delivery, token: string): Promise<void> {
    const [webhook, event] = await Promise.all([
      this.store.read.getWebhook(delivery.webhookId),
      this.store.read.getEvent(delivery.eventId),
    ]);
    const attemptNumber = delivery.attemptCount + 1;
    const started = Date.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    let responseBody: string | null = null;

    if (!webhook || !webhook.isEnabled || !event) {
      error = webhook ? 'webhook disabled' : 'webhook deleted';
    } else {
      const body = JSON.stringify({
        type: event.type,
        timestamp: event.createdTime,
        data: event.data,
      });
      const timestamp = Math.floor(started / 1000);
      const secrets = [webhook.secret];
      if (webhook.previousSecret && (webhook.previousSecretExpiresAt ?? 0) > started) {
        secrets.push(webhook.previousSecret);
      }
      try {
        const target = new URL(webhook.url);
        // connect() dials an IP literal without calling lookup: check those here.
        if (!this.options.demoMode) refuseForbiddenHost(target.hostname);
        const answer = await post(
          target,
          {
            'content-type': 'application/json',
            'user-agent': 'pin-widgets-webhooks/1',
            'webhook-id': event.id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signatureHeader(secrets, event.id, timestamp, body),
          },
          body,
          { timeoutMs: this.options.timeoutMs, lookup: this.lookup },
        );
        statusCode = answer.status;
        responseBody = answer.excerpt;
      } catch (failure) {
        error =
          failure instanceof EgressRefused
            ? `refused: ${failure.message}`
            : failure instanceof DeliveryTimeout
              ? `timed out after ${this.options.timeoutMs} ms`
              : 'connection failed';
      }
    }

    const succeeded = statusCode !== null && statusCode >= 200 && statusCode < 300;
    const givesUp =
      !succeeded && (attemptNumber >= this.options.maxAttempts || !webhook?.isEnabled);
    const finished = Date.now();
    const recorded = await this.store.transaction((tx) =>
      tx.finishDeliveryAttempt(
        delivery.id,
        token,
        {
          status: succeeded ? 'SUCCEEDED' : givesUp ? 'FAILED' : 'PENDING',
          attemptCount: attemptNumber,
          nextAttemptAt:
            succeeded || givesUp ? finished : finished + retryDelayMs(attemptNumber, this.options),
        },
        {
          attemptNumber,
          attemptedTime: new Date(started).toISOString(),
          statusCode,
          error,
          durationMs: finished - started,
          responseBody,
        },
      ),
    );
    if (!recorded) {
      // The attempt outlived its lease and another worker leased the delivery since: its
      // attempt is the one on record (the receiver may see this one too: at least once).
      this.log.warn({ delivery_id: delivery.id }, 'webhook attempt finished after its lease');
    }
  }
}
