import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError, notFound } from '../http/errors.js';
import { newId } from '../lib/ids.js';
import type { Card, Repositories, Store, WidgetToken, WidgetType } from '../store/types.js';
import { type DpopRefusal, checkDpopProof } from './dpop.js';

export const PARENT_ORIGIN_HEADER = 'pin-widget-parent-origin';

export const tokenHash = (token: string): string =>
  createHash('sha256').update(token).digest('hex');

/** `wst`, the widget session tag bound into every JWE: base64url(SHA-256(widget_token)). */
export const sessionTag = (token: string): string =>
  createHash('sha256').update(token).digest('base64url');

export interface WidgetSession {
  token: WidgetToken;
  /** The raw token: needed for `wst`, never stored or logged. */
  secret: string;
  card: Card;
  /**
   * A DPoP proof whose `jti` the request's own transaction records (`authenticate` with
   * `proofInTransaction`); undefined when there is none, or it is recorded already.
   */
  proof?: { id: string; expiresAt: number; now: number; recorded: boolean };
}

/** `authenticate` options. */
export interface AuthenticateOptions {
  /**
   * Record the DPoP proof's `jti` in the first transaction the request commits
   * (`WidgetSessions.transaction`), not in one of its own; `serve` records it alone if the
   * request ends without one. Checked like any other proof until then.
   */
  proofInTransaction?: boolean;
}

export interface WidgetSessionOptions {
  ttlSeconds: number;
  maxFailures: number;
  /** The platform's public origin: proofs' `htu` are URLs on it. */
  publicUrl: string;
}

/**
 * Widget tokens (README “PINs”): minted by the program's backend for one card and one widget type,
 * short-lived, single use, origin-bound, optionally sender-constrained (DPoP). Only the token's
 * SHA-256 is stored; a lookup by hash does not leak the token through timing.
 */
export class WidgetSessions {
  constructor(
    private readonly store: Store,
    private readonly options: WidgetSessionOptions,
  ) {}

  async mint(
    cardId: string,
    request: { widget_type: WidgetType; origin?: string; jkt?: string },
    apiKeyId: string | null = null,
  ): Promise<{ widget_token: string; widget_type: WidgetType; expires_at: string }> {
    const card = await this.store.read.getCard(cardId);
    if (!card) throw notFound('card', cardId);
    if (card.form === 'VIRTUAL') {
      throw new ApiError('CARD_IS_VIRTUAL', 'Virtual cards have no PIN: no widget token for them');
    }
    if (card.cardStatus === 'TERMINATED') {
      throw new ApiError(
        'CARD_TERMINATED',
        'The card is terminated: its PIN can no longer be used',
      );
    }
    if (request.widget_type === 'ENROLL_PASSKEY') {
      // A passkey confirms reveals from then on: its enrollment is never a bearer token's.
      if (request.jkt === undefined) {
        throw new ApiError(
          'DPOP_BINDING_REQUIRED',
          'An ENROLL_PASSKEY token is always DPoP-bound: pass jkt (the SDK’s fetchToken gives it to you)',
          'jkt',
        );
      }
      if (card.customerId === null) {
        throw new ApiError(
          'CARD_HAS_NO_CUSTOMER',
          'Passkeys belong to the card’s customer: issue the card with a customer_id',
        );
      }
    }
    // DPoP is the default (README “PINs”): a bearer token only where the product opted into it.
    if (request.jkt === undefined) {
      const product = await this.store.read.getProduct(card.cardProductId);
      if (!product?.allowBearerWidgetTokens) {
        throw new ApiError(
          'DPOP_BINDING_REQUIRED',
          'Pass jkt, the RFC 7638 thumbprint of the widget’s DPoP key (the SDK’s fetchToken gives it to you): bearer widget tokens are off for this card’s product (allow_bearer_widget_tokens)',
          'jkt',
        );
      }
    }
    let origin: string | null = null;
    if (request.origin !== undefined) {
      const parsed = URL.canParse(request.origin) ? new URL(request.origin) : undefined;
      if (
        !parsed ||
        parsed.origin !== request.origin ||
        !['https:', 'http:'].includes(parsed.protocol)
      ) {
        throw new ApiError(
          'INVALID_FIELD',
          'origin must be a bare origin such as https://program.example (no path, no trailing slash)',
          'origin',
        );
      }
      origin = parsed.origin;
    }
    const now = Date.now();
    const secret = `wt_${randomBytes(32).toString('base64url')}`;
    const token: WidgetToken = {
      id: newId('wtk', now),
      tokenHash: tokenHash(secret),
      cardId,
      widgetType: request.widget_type,
      origin,
      jkt: request.jkt ?? null,
      apiKeyId,
      expiresAt: now + this.options.ttlSeconds * 1000,
      consumedAt: null,
      failures: 0,
      createdTime: new Date(now).toISOString(),
    };
    await this.store.transaction((tx) => tx.insertWidgetToken(token));
    return {
      widget_token: secret,
      widget_type: token.widgetType,
      expires_at: new Date(token.expiresAt).toISOString(),
    };
  }

  /**
   * Checks the widget token of a request, in a fixed order: present, known, unexpired, unused,
   * not locked, right type, right parent origin, and (when bound) a valid DPoP proof.
   */
  async authenticate(
    request: FastifyRequest,
    type?: WidgetType,
    options: AuthenticateOptions = {},
  ): Promise<WidgetSession> {
    const header = request.headers.authorization;
    const [scheme, secret, extra] = typeof header === 'string' ? header.trim().split(/\s+/) : [];
    if (
      !secret ||
      extra !== undefined ||
      !['bearer', 'dpop'].includes(scheme?.toLowerCase() ?? '')
    ) {
      throw new ApiError(
        'WIDGET_TOKEN_MISSING',
        'Send the widget token as "Authorization: Bearer <token>" (or "DPoP <token>" with a DPoP proof)',
      );
    }
    const now = Date.now();
    const token = await this.store.read.getWidgetTokenByHash(tokenHash(secret));
    if (!token) throw new ApiError('WIDGET_TOKEN_INVALID', 'The widget token is not valid');
    if (token.expiresAt <= now) {
      throw new ApiError('WIDGET_TOKEN_EXPIRED', 'The widget token has expired: ask for a new one');
    }
    if (token.consumedAt !== null) {
      throw new ApiError(
        'WIDGET_TOKEN_USED',
        'The widget token was already used: ask for a new one',
      );
    }
    if (token.failures >= this.options.maxFailures) {
      throw new ApiError('WIDGET_TOKEN_LOCKED', 'Too many failed attempts with this widget token');
    }
    if (type !== undefined && token.widgetType !== type) {
      throw new ApiError(
        'WIDGET_TOKEN_WRONG_TYPE',
        `This widget token is for ${token.widgetType}, not ${type}`,
      );
    }
    this.checkOrigin(request, token);
    const usesDpop = scheme!.toLowerCase() === 'dpop';
    const jkt = token.jkt;
    let deferred: WidgetSession['proof'];
    if (jkt !== null || usesDpop) {
      if (jkt === null || !usesDpop) {
        throw new ApiError(
          'DPOP_PROOF_INVALID',
          token.jkt === null
            ? 'This token is not sender-constrained: use "Authorization: Bearer <token>"'
            : 'This token is sender-constrained: use "Authorization: DPoP <token>" with a DPoP proof',
        );
      }
      const proof = request.headers.dpop;
      const refusal = await checkDpopProof({
        proof: typeof proof === 'string' ? proof : undefined,
        method: request.method,
        url: `${this.options.publicUrl}${request.url.split('?')[0]}`,
        accessToken: secret,
        jkt,
        now,
        remember: async (jti, expiresAt) => {
          if (!options.proofInTransaction) {
            return this.store.transaction((tx) => tx.rememberProofId(jti, expiresAt, now));
          }
          deferred = { id: jti, expiresAt, now, recorded: false };
          return true;
        },
      });
      if (refusal) throw new ApiError(refusal, DPOP_MESSAGES[refusal]);
    }
    const card = await this.store.read.getCard(token.cardId);
    if (!card) throw new ApiError('WIDGET_TOKEN_INVALID', 'The widget token is not valid');
    return deferred ? { token, secret, card, proof: deferred } : { token, secret, card };
  }

  /**
   * A transaction of a widget request: it records the request's DPoP `jti` first (when
   * `authenticate` left it to the request), so a set PIN or a reveal takes one transaction,
   * not two. A replayed proof is refused there, and nothing the transaction did is kept.
   */
  async transaction<T>(session: WidgetSession, work: (tx: Repositories) => Promise<T>): Promise<T> {
    const proof = session.proof;
    if (!proof || proof.recorded) return this.store.transaction(work);
    const value = await this.store.transaction(async (tx) => {
      if (!(await tx.rememberProofId(proof.id, proof.expiresAt, proof.now))) {
        throw new ApiError('DPOP_PROOF_REPLAYED', DPOP_MESSAGES.DPOP_PROOF_REPLAYED);
      }
      return work(tx);
    });
    proof.recorded = true;
    return value;
  }

  /**
   * Authenticates a set PIN or a reveal and runs `work` for it, with its DPoP `jti` recorded
   * in the first transaction it commits (`transaction`), not in one of its own. A request that
   * commits none (refused before one, or its transaction rolled back) records the `jti` alone
   * at its end, so every proof is used once; a replayed proof is then answered as one,
   * whatever the request's own outcome was.
   */
  async serve<T>(
    request: FastifyRequest,
    type: WidgetType,
    work: (session: WidgetSession) => Promise<T>,
  ): Promise<T> {
    const session = await this.authenticate(request, type, { proofInTransaction: true });
    try {
      return await work(session);
    } finally {
      if (session.proof && !session.proof.recorded) await this.transaction(session, async () => {});
    }
  }

  /**
   * The token is bound to the origin it was minted for: the widget reports its parent's origin,
   * and a token minted without one works only for a top-level (webview) document.
   */
  private checkOrigin(request: FastifyRequest, token: WidgetToken): void {
    const reported = request.headers[PARENT_ORIGIN_HEADER];
    const parent = typeof reported === 'string' ? reported : undefined;
    if (token.origin === null && parent !== undefined) {
      throw new ApiError(
        'ORIGIN_MISMATCH',
        'This token was minted without an origin: it works only in a top-level (webview) document',
      );
    }
    if (token.origin !== null && parent !== token.origin) {
      throw new ApiError(
        'ORIGIN_MISMATCH',
        'The widget runs under an origin this token was not minted for',
      );
    }
  }

  /** Counts a failed attempt; the attempt that reaches the limit locks the token (429). */
  async recordFailure(session: WidgetSession, error: ApiError): Promise<never> {
    const failures = await this.transaction(session, (tx) =>
      tx.recordWidgetTokenFailure(session.token.id),
    );
    if (failures >= this.options.maxFailures) {
      throw new ApiError(
        'TOO_MANY_ATTEMPTS',
        'Too many failed attempts: this widget session is closed, start a new one',
      );
    }
    throw error;
  }
}

const DPOP_MESSAGES: Record<DpopRefusal, string> = {
  DPOP_PROOF_MISSING: 'A DPoP proof is required for this token (DPoP header)',
  DPOP_PROOF_INVALID: 'The DPoP proof is not a valid ES256 dpop+jwt',
  DPOP_PROOF_STALE: 'The DPoP proof is not fresh (iat must be within 60 seconds)',
  DPOP_PROOF_REPLAYED: 'The DPoP proof was already used (jti seen before)',
  DPOP_PROOF_WRONG_KEY: 'The DPoP proof is signed by a key this token is not bound to',
  DPOP_PROOF_WRONG_REQUEST: 'The DPoP proof is for another request (htm/htu)',
  DPOP_PROOF_WRONG_TOKEN: 'The DPoP proof is for another token (ath)',
};
