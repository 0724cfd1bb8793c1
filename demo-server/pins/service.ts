import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { JWK } from 'jose';
import type { PasskeyService } from '../passkeys/service.js';
import type { CardService } from '../cards/service.js';
import { ApiError, notFound } from '../http/errors.js';
import { newId } from '../lib/ids.js';
import { emitEvent } from '../webhooks/events.js';
import type { Card, CardProduct, Repositories, Store } from '../store/types.js';
import { type WidgetSession, type WidgetSessions, sessionTag } from '../widget-sessions/tokens.js';
import { pinStatus } from '../cards/resources.js';
import type { PinRecords } from './records.js';
import {
  type PinBlockFormat,
  type ZonePinKeys,
  undecipherablePinBlock,
  zoneKeyFor,
  zonePinBlock,
} from './zone-pin-blocks.js';
import { PinJweError, importRevealKey } from './jwe.js';
import type { PinJwe } from './jwe-workers.js';
import { pinPolicyViolation } from './policy.js';
import type { TransportKeys } from './transport-keys.js';

export interface PinServiceOptions {
  /** Reveals allowed per card per window (README “PINs”: 5 an hour). */
  revealLimit: number;
  /** Reveals allowed per account, and for the whole platform, per window. */
  revealLimitPerAccount: number;
  revealLimitTotal: number;
  revealWindowMs: number;
  zonePinKeys: ZonePinKeys;
  /** Where JOSE runs: this thread or worker threads (docs/performance.md, "Both cores"). */
  jwe: PinJwe;
}

/** What the offline-PIN module does when a card's online PIN changes or unblocks (a script). */
export interface PinChangeListener {
  onPinChanged(
    tx: Repositories,
    card: Card,
    change: { syncOfflinePin: boolean; now: number },
  ): Promise<void>;
  onPinUnblocked(tx: Repositories, card: Card, now: number): Promise<void>;
}

export type { PinBlockFormat };

/** What the issuer answers about an online PIN (docs/point-of-sale.md). */
export type OnlinePinVerification = 'VERIFIED' | 'INCORRECT' | 'BLOCKED' | 'NOT_SET';

/** Who asked, for the audit events of reveals and exports (never anything about the PIN). */
export interface AuditContext {
  clientIp: string;
  userAgent: string | null;
  /** The API key behind the request (an export) or that minted the token (a reveal). */
  apiKeyId: string | null;
}

/** The quotas a reveal passes, narrowest first; each refusal names its scope. */
type RevealQuota = {
  scope: 'card' | 'account' | 'platform';
  /** When the quota is used up: the reveal that must age out first; null while under it. */
  agesOut: number | null;
};

export class PinService {
  constructor(
    private readonly store: Store,
    private readonly cards: CardService,
    private readonly sessions: WidgetSessions,
    private readonly transportKeys: TransportKeys,
    private readonly records: PinRecords,
    /** The offline-PIN module: queues an issuer script when a chip's PIN goes stale. */
    private readonly pinChanges: PinChangeListener,
    /** Reveal step-up on PASSKEY products (docs/step-up.md). */
    private readonly passkeys: PasskeyService,
    private readonly options: PinServiceOptions,
  ) {}

  get currentKeyId(): string {
    return this.records.currentKeyId;
  }

  /**
   * `POST /v1/widget/pin`: decrypts the cardholder's PIN (JWE bound to this session by `wst`),
   * applies the policy, and in one transaction consumes the token, stores the PIN block and
   * marks the card (which may start issuance). Each refusal counts against the token.
   */
  async setPin(
    session: WidgetSession,
    body: { encrypted_pin: string; sync_offline_pin?: boolean },
  ): Promise<{ card_id: string; is_pin_set: true; timestamp_pin_set: string }> {
    this.assertPinCapable(session.card);
    let plaintext: Uint8Array;
    try {
      const decrypted = await this.options.jwe.decrypt(body.encrypted_pin, (kid) =>
        this.transportKeys.decryptionKey(kid),
      );
      if (decrypted.header.wst !== sessionTag(session.secret)) {
        return this.sessions.recordFailure(
          session,
          new ApiError(
            'SESSION_MISMATCH',
            'This encrypted PIN was made for another widget session',
          ),
        );
      }
      plaintext = decrypted.plaintext;
    } catch (error) {
      if (!(error instanceof PinJweError)) throw error;
      return this.sessions.recordFailure(
        session,
        error.code === 'UNKNOWN_KEY_ID'
          ? new ApiError(
              'UNKNOWN_KEY_ID',
              'The PIN was encrypted to an unknown key: fetch /v1/pin_keys again',
            )
          : new ApiError('PIN_DECRYPTION_FAILED', 'The encrypted PIN could not be decrypted'),
      );
    }
    const payload = parsePinPayload(plaintext);
    if (payload === undefined) {
      return this.sessions.recordFailure(
        session,
        new ApiError(
          'INVALID_PIN_PAYLOAD',
          'The encrypted payload must be {"pin":"<digits>"}, with "current_pin" when the session asks for it',
        ),
      );
    }
    const { pin, currentPin } = payload;

    const product = await this.cards.getProduct(session.card.cardProductId);
    const violation = pinPolicyViolation(pin, product.pinLength, session.card.lastFour);
    if (violation) {
      return this.sessions.recordFailure(
        session,
        new ApiError(violation, policyMessage(violation, product.pinLength), 'pin'),
      );
    }

    const now = Date.now();
    // The request's DPoP proof is recorded in this same transaction (WidgetSessions.transaction).
    const checked = await this.sessions.transaction(session, async (tx) => {
      // A change that needs the current PIN checks it first, under the card's lock; a wrong one
      // uses a try, which commits though the request fails (the last try blocks the PIN).
      const refusal = await this.checkCurrentPin(tx, session.card.id, product, currentPin, now);
      if (refusal) return refusal;
      // The card core locks the card and decides; a refusal rolls back with nothing written.
      const time = new Date(now).toISOString();
      const result = await this.cards.change(tx, session.card.id, { type: 'PIN_SET', time }, now);
      const updated = result.card;
      if (!result.allowed) {
        this.assertPinCapable(updated);
        throw new ApiError(
          'INVALID_REQUEST',
          `A PIN cannot be set on a ${updated.cardStatus} card`,
        );
      }
      if (!(await tx.consumeWidgetToken(session.token.id, now))) {
        throw new ApiError(
          'WIDGET_TOKEN_USED',
          'The widget token was already used: ask for a new one',
        );
      }
      await this.records.store(tx, updated, pin, now);
      await this.pinChanges.onPinChanged(tx, updated, {
        syncOfflinePin: body.sync_offline_pin ?? true,
        now,
      });
      return {
        card_id: updated.id,
        is_pin_set: true as const,
        timestamp_pin_set: updated.timestampPinSet!,
      };
    });
    if ('refused' in checked) return this.sessions.recordFailure(session, checked.refused);
    return checked;
  }

  /**
   * The current-PIN rule (docs/point-of-sale.md): when the product requires it and the card has
   * a PIN, a blocked PIN is 409 and a missing or wrong current PIN is refused, the wrong one
   * after using a try. Sending a current PIN the session did not ask for is refused too.
   */
  private async checkCurrentPin(
    tx: Repositories,
    cardId: string,
    product: CardProduct,
    currentPin: string | undefined,
    now: number,
  ): Promise<{ refused: ApiError } | undefined> {
    const unasked = () => ({
      refused: new ApiError(
        'INVALID_PIN_PAYLOAD',
        'This card takes no current PIN: send {"pin":"<digits>"} only',
      ),
    });
    if (!product.pinChangeRequiresCurrentPin)
      return currentPin === undefined ? undefined : unasked();
    const { card } = await this.cards.lock(tx, cardId);
    if (!card.isPinSet) return currentPin === undefined ? undefined : unasked();
    if (pinStatus(card) === 'BLOCKED') {
      throw new ApiError(
        'PIN_BLOCKED',
        'The PIN is blocked after too many wrong tries: the card program must unblock it first',
      );
    }
    if (currentPin === undefined) {
      return {
        refused: new ApiError(
          'CURRENT_PIN_REQUIRED',
          'This card program asks for the current PIN to change it',
          'current_pin',
        ),
      };
    }
    if (await this.records.matches(tx, card, currentPin)) return undefined;
    const { card: after } = await this.cards.change(tx, card.id, { type: 'PIN_INCORRECT' }, now);
    return {
      refused: new ApiError(
        'CURRENT_PIN_INCORRECT',
        after.pinTriesRemaining === 0
          ? 'The current PIN is wrong, and the PIN is now blocked'
          : 'The current PIN is wrong',
        'current_pin',
        { pin_tries_remaining: after.pinTriesRemaining },
      ),
    };
  }

  /**
   * Online PIN verification for an authorization, in its transaction (the caller holds the
   * card's lock): the terminal's block is compared with the stored PIN as PIN blocks, and the
   * card core counts the try (docs/point-of-sale.md). A block that carries no PIN is 400 and
   * uses no try; so is a blocked PIN's, which is refused before it is looked at.
   */
  async verifyOnline(
    tx: Repositories,
    card: Card,
    entered: { format: PinBlockFormat; block: Buffer },
    now: number,
  ): Promise<{ verification: OnlinePinVerification; card: Card }> {
    const key = zoneKeyFor(entered.format, this.options.zonePinKeys);
    const status = pinStatus(card);
    if (status !== 'OK') return { verification: status, card };
    const outcome = await this.records.verify(tx, card, { ...entered, key });
    if (outcome === 'NOT_SET') return { verification: 'NOT_SET', card };
    if (outcome === 'MALFORMED') throw undecipherablePinBlock(entered.format);
    const event = outcome === 'MATCH' ? 'PIN_VERIFIED' : 'PIN_INCORRECT';
    const { card: after } = await this.cards.change(tx, card.id, { type: event }, now);
    return { verification: outcome === 'MATCH' ? 'VERIFIED' : 'INCORRECT', card: after };
  }

  /**
   * `POST /v1/cards/{id}/pin/unblock`: all tries back, and for an issued offline-PIN card a PIN
   * UNBLOCK script for its chip's counter (docs/point-of-sale.md).
   */
  async unblock(cardId: string): Promise<Card> {
    const now = Date.now();
    return this.store.transaction(async (tx) => {
      const { card } = await this.cards.lock(tx, cardId);
      this.assertPinCapable(card);
      if (!card.isPinSet) throw new ApiError('PIN_NOT_SET', 'This card has no PIN to unblock');
      const { card: unblocked } = await this.cards.change(
        tx,
        card.id,
        { type: 'PIN_UNBLOCKED' },
        now,
      );
      await this.pinChanges.onPinUnblocked(tx, unblocked, now);
      return (await tx.getCard(card.id))!;
    });
  }

  /**
   * `POST /v1/widget/pin/reveal`: for an ACTIVE card with a PIN, within the per-card rate limit,
   * consumes the token, records the reveal (audit, without the PIN) and returns the PIN as JWE
   * to the widget's ephemeral key.
   */
  async reveal(
    session: WidgetSession,
    publicJwk: JWK,
    context: Omit<AuditContext, 'apiKeyId'>,
    assertion?: AuthenticationResponseJSON,
  ): Promise<{ encrypted_pin: string }> {
    this.assertPinCapable(session.card);
    let key;
    try {
      key = await importRevealKey(publicJwk);
    } catch {
      throw new ApiError(
        'INVALID_PUBLIC_KEY',
        'public_key must be a public EC P-256 JWK',
        'public_key',
      );
    }
    // A PASSKEY product's step-up comes first: without a verified assertion nothing is read.
    const product = await this.cards.getProduct(session.card.cardProductId);
    const stepUp =
      product.revealStepUp === 'PASSKEY'
        ? await this.passkeys.verifyStepUp(session, assertion)
        : undefined;
    const now = Date.now();
    const { card, stored } = await this.sessions.transaction(session, async (tx) => {
      // The card's lock serializes its quota; the scope locks, its account's and the platform's.
      const { card } = await this.cards.lock(tx, session.card.id);
      this.assertPinCapable(card);
      if (card.cardStatus !== 'ACTIVE') {
        throw new ApiError(
          'CARD_NOT_ACTIVE',
          'The PIN can be revealed only for an ACTIVE card: activate the card first',
          undefined,
          { card_status: card.cardStatus },
        );
      }
      const stored = await tx.getPin(card.id);
      if (!card.isPinSet || !stored) throw new ApiError('PIN_NOT_SET', 'This card has no PIN yet');
      await tx.lockScope(`reveals:account:${card.accountId}`);
      await tx.lockScope('reveals:platform');
      const since = now - this.options.revealWindowMs;
      const cardTimes = await tx.pinRevealTimes(card.id, since);
      const { revealLimit, revealLimitPerAccount, revealLimitTotal } = this.options;
      const quotas: RevealQuota[] = [
        {
          scope: 'card',
          agesOut:
            cardTimes.length >= revealLimit ? cardTimes[cardTimes.length - revealLimit]! : null,
        },
        {
          scope: 'account',
          agesOut: (await tx.revealWindow(since, revealLimitPerAccount, card.accountId)).agesOut,
        },
        { scope: 'platform', agesOut: (await tx.revealWindow(since, revealLimitTotal)).agesOut },
      ];
      for (const { scope, agesOut: oldest } of quotas) {
        if (oldest === null) continue;
        const retryAfter = Math.max(
          1,
          Math.ceil((oldest + this.options.revealWindowMs - now) / 1000),
        );
        throw new ApiError(
          'RATE_LIMITED',
          `Too many PIN reveals for this ${scope}: try again in ${retryAfter} seconds`,
          undefined,
          { retry_after: retryAfter, quota: scope },
          { 'retry-after': String(retryAfter) },
        );
      }
      if (!(await tx.consumeWidgetToken(session.token.id, now))) {
        throw new ApiError(
          'WIDGET_TOKEN_USED',
          'The widget token was already used: ask for a new one',
        );
      }
      if (stepUp) await this.passkeys.recordUse(tx, stepUp, now);
      const revealId = newId('rvl', now);
      await tx.insertPinReveal({
        id: revealId,
        cardId: card.id,
        accountId: card.accountId,
        tokenId: session.token.id,
        origin: session.token.origin,
        revealedAt: now,
      });
      // Audited in the same transaction as the reveal: no reveal without its event.
      await emitEvent(
        tx,
        'CARD.PIN.REVEALED',
        {
          ...auditSubject(card),
          reveal_id: revealId,
          widget_token_id: session.token.id,
          api_key_id: session.token.apiKeyId,
          jkt: session.token.jkt,
          origin: session.token.origin,
          step_up: stepUp ? { method: 'PASSKEY', passkey_id: stepUp.passkeyId } : null,
          client_ip: context.clientIp,
          user_agent: context.userAgent,
          revealed_time: new Date(now).toISOString(),
        },
        now,
      );
      return { card, stored };
    });
    const pin = this.records.open(stored, card);
    const wst = sessionTag(session.secret);
    return { encrypted_pin: await this.options.jwe.encryptForReveal(pin, publicJwk, key, wst) };
  }

  /** `GET /v1/cards/{id}/pin_block`: the PIN re-enciphered for a processor under a zone key. */
  async exportPinBlock(cardId: string, format: PinBlockFormat, context: AuditContext) {
    const now = Date.now();
    // In one transaction with its audit event: no export without its CARD.PIN_BLOCK.EXPORTED.
    return this.store.transaction(async (tx) => {
      const card = await tx.getCard(cardId);
      if (!card) throw notFound('card', cardId);
      this.assertPinCapable(card);
      const current = await this.records.current(tx, card);
      if (!current) throw new ApiError('PIN_NOT_SET', 'This card has no PIN yet');
      const exported = this.pinBlockUnderZoneKey(card, current.pin, format);
      await emitEvent(
        tx,
        'CARD.PIN_BLOCK.EXPORTED',
        {
          ...auditSubject(card),
          format,
          key_id: exported.key_id,
          api_key_id: context.apiKeyId,
          client_ip: context.clientIp,
          user_agent: context.userAgent,
          exported_time: new Date(now).toISOString(),
        },
        now,
      );
      return exported;
    });
  }

  private pinBlockUnderZoneKey(card: Card, pin: string, format: PinBlockFormat) {
    return zonePinBlock(pin, this.cards.panOf(card), format, this.options.zonePinKeys);
  }

  /** Re-enciphers every stored PIN block that is not under the current key (key rotation). */
  async reencryptAll(batch = 200): Promise<number> {
    let total = 0;
    for (;;) {
      const count = await this.store.transaction((tx) => this.records.reencrypt(tx, batch));
      total += count;
      if (count < batch) return total;
    }
  }

  private assertPinCapable(card: Card): void {
    if (card.form === 'VIRTUAL') throw new ApiError('CARD_IS_VIRTUAL', 'Virtual cards have no PIN');
    if (card.cardStatus === 'TERMINATED') {
      throw new ApiError(
        'CARD_TERMINATED',
        'The card is terminated: its PIN can no longer be used',
      );
    }
  }
}

/** The card an audit event is about: who it belongs to, never its PAN or PIN. */
function auditSubject(card: Card) {
  return {
    card_id: card.id,
    account_id: card.accountId,
    customer_id: card.customerId,
    last_four: card.lastFour,
  };
}

function policyMessage(code: NonNullable<ReturnType<typeof pinPolicyViolation>>, length: number) {
  switch (code) {
    case 'PIN_NOT_DIGITS':
      return 'The PIN must be digits only';
    case 'PIN_WRONG_LENGTH':
      return `The PIN must be exactly ${length} digits`;
    case 'PIN_TOO_WEAK':
      return 'This PIN is too easy to guess: avoid repeats, sequences and common PINs';
    case 'PIN_MATCHES_CARD_NUMBER':
      return 'The PIN must not be the last digits of the card number';
  }
}

/** The decrypted payload must be exactly `{"pin":"<string>"}`, or with `"current_pin"` too. */
function parsePinPayload(
  plaintext: Uint8Array,
): { pin: string; currentPin: string | undefined } | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const { pin, current_pin: currentPin, ...rest } = value as Record<string, unknown>;
    const short = (text: unknown): text is string => typeof text === 'string' && text.length <= 12;
    if (Object.keys(rest).length > 0 || !short(pin)) return undefined;
    if (currentPin !== undefined && !short(currentPin)) return undefined;
    return { pin, currentPin };
  } catch {
    return undefined;
  }
}
