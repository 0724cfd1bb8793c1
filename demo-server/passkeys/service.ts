import { randomBytes } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { ApiError } from '../http/errors.js';
import { newId } from '../lib/ids.js';
import type { Card, Passkey, Repositories, Store, WebauthnChallenge } from '../store/types.js';
import { emitEvent } from '../webhooks/events.js';
import type { WidgetSession, WidgetSessions } from '../widget-sessions/tokens.js';

export interface PasskeyOptions {
  /** The platform's origin (PUBLIC_URL): the only one a ceremony may run on. */
  origin: string;
  /** The RP ID: the platform's host. */
  rpId: string;
  /** How long a challenge may wait for its ceremony. */
  challengeTtlMs: number;
}

/** What a verified step-up hands the reveal: which passkey, and the counter to record. */
export interface StepUp {
  passkeyId: string;
  counter: number;
}

/** The name the cardholder's passkey manager shows for the platform. */
const RP_NAME = 'Card PIN';
/** ES256 and RS256: what platform authenticators and security keys make. */
const ALGORITHMS = [-7, -257];

/** The API shape of a passkey: what it is and when it was used, never key material. */
export function passkeyResource(passkey: Passkey) {
  return {
    id: passkey.id,
    customer_id: passkey.customerId,
    card_id: passkey.cardId,
    device_type: passkey.deviceType,
    backed_up: passkey.backedUp,
    transports: passkey.transports,
    created_time: passkey.createdTime,
    last_used_time: passkey.lastUsedTime,
  };
}

/**
 * Passkey step-up (docs/step-up.md): enrollment through an ENROLL_PASSKEY widget, and the
 * assertion a reveal on a PASSKEY product must carry. Ceremonies run in the platform's own
 * documents, for the platform's RP ID; @simplewebauthn/server checks each response, after this
 * service has used up its challenge (one try per challenge, whatever the outcome) and checked
 * where the ceremony ran (framed by the token's origin, or top-level).
 */
export class PasskeyService {
  constructor(
    private readonly store: Store,
    private readonly sessions: WidgetSessions,
    private readonly options: PasskeyOptions,
  ) {}

  /** `POST /v1/widget/passkeys/registration_options` (ENROLL_PASSKEY). */
  async registrationOptions(
    session: WidgetSession,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const customerId = customerOf(session.card);
    const existing = await this.store.read.listPasskeys(customerId);
    // One user handle per customer: an authenticator then keeps one passkey per cardholder.
    const userHandle = existing[0]?.userHandle ?? randomBytes(32).toString('base64url');
    const name = `Card ending ${session.card.lastFour}`;
    const options = await generateRegistrationOptions({
      rpName: RP_NAME,
      rpID: this.options.rpId,
      userName: name,
      userDisplayName: name,
      userID: Buffer.from(userHandle, 'base64url'),
      challenge: Buffer.from(
        await this.newChallenge(session, 'REGISTRATION', userHandle),
        'base64url',
      ),
      timeout: this.options.challengeTtlMs,
      attestationType: 'none',
      excludeCredentials: existing.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports,
      })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      supportedAlgorithmIDs: ALGORITHMS,
    });
    return options;
  }

  /**
   * `POST /v1/widget/passkeys` (ENROLL_PASSKEY): the registration, checked, stored for the
   * card's customer with its event; the token is used up with it.
   */
  async register(
    session: WidgetSession,
    response: RegistrationResponseJSON,
  ): Promise<ReturnType<typeof passkeyResource>> {
    const customerId = customerOf(session.card);
    const challenge = await this.useChallenge(session, response.response.clientDataJSON, {
      purpose: 'REGISTRATION',
      failure: 'PASSKEY_REGISTRATION_FAILED',
    });
    let verified;
    try {
      verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: this.options.origin,
        expectedRPID: this.options.rpId,
        requireUserVerification: true,
        supportedAlgorithmIDs: ALGORITHMS,
      });
    } catch {
      verified = { verified: false as const };
    }
    if (!verified.verified) {
      return this.sessions.recordFailure(session, registrationFailed());
    }
    const { credential, credentialDeviceType, credentialBackedUp } = verified.registrationInfo;
    const now = Date.now();
    return this.store.transaction(async (tx) => {
      if (await tx.getPasskeyByCredentialId(credential.id)) {
        throw new ApiError('PASSKEY_ALREADY_ENROLLED', 'This passkey is already enrolled');
      }
      if (!(await tx.consumeWidgetToken(session.token.id, now))) {
        throw new ApiError(
          'WIDGET_TOKEN_USED',
          'The widget token was already used: ask for a new one',
        );
      }
      const passkey: Passkey = {
        id: newId('pk', now),
        customerId,
        credentialId: credential.id,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        userHandle: challenge.userHandle!,
        counter: credential.counter,
        transports: credential.transports ?? [],
        deviceType: credentialDeviceType,
        backedUp: credentialBackedUp,
        cardId: session.card.id,
        createdTime: new Date(now).toISOString(),
        lastUsedTime: null,
      };
      await tx.insertPasskey(passkey);
      await emitEvent(
        tx,
        'CUSTOMER.PASSKEY.CREATED',
        { passkey: passkeyResource(passkey), widget_token_id: session.token.id },
        now,
      );
      return passkeyResource(passkey);
    });
  }

  /** `POST /v1/widget/pin/reveal/challenge` (REVEAL_PIN, PASSKEY products): a get() challenge. */
  async authenticationOptions(
    session: WidgetSession,
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const passkeys = await this.enrolled(session.card);
    return generateAuthenticationOptions({
      rpID: this.options.rpId,
      challenge: Buffer.from(await this.newChallenge(session, 'AUTHENTICATION'), 'base64url'),
      timeout: this.options.challengeTtlMs,
      userVerification: 'required',
      allowCredentials: passkeys.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports as never,
      })),
    });
  }

  /**
   * The step-up a reveal on a PASSKEY product needs, checked before anything is decrypted:
   * 409 none enrolled, 401 `STEP_UP_REQUIRED` without an assertion, 401 `STEP_UP_FAILED` for
   * any bad one (each counts against the token, like any refused attempt).
   */
  async verifyStepUp(
    session: WidgetSession,
    assertion: AuthenticationResponseJSON | undefined,
  ): Promise<StepUp> {
    const passkeys = await this.enrolled(session.card);
    if (assertion === undefined) {
      throw new ApiError(
        'STEP_UP_REQUIRED',
        'This card program asks the cardholder to confirm with a passkey before a reveal',
      );
    }
    const challenge = await this.useChallenge(session, assertion.response.clientDataJSON, {
      purpose: 'AUTHENTICATION',
      failure: 'STEP_UP_FAILED',
    });
    const passkey = passkeys.find((candidate) => candidate.credentialId === assertion.id);
    if (!passkey) return this.sessions.recordFailure(session, stepUpFailed());
    let verified;
    try {
      verified = await verifyAuthenticationResponse({
        response: assertion,
        expectedChallenge: challenge.challenge,
        expectedOrigin: this.options.origin,
        expectedRPID: this.options.rpId,
        ...(session.token.origin ? { expectedTopOrigin: session.token.origin } : {}),
        requireUserVerification: true,
        credential: {
          id: passkey.credentialId,
          publicKey: Buffer.from(passkey.publicKey, 'base64url'),
          counter: passkey.counter,
        },
      });
    } catch {
      verified = undefined;
    }
    if (!verified?.verified) return this.sessions.recordFailure(session, stepUpFailed());
    return { passkeyId: passkey.id, counter: verified.authenticationInfo.newCounter };
  }

  /** Inside the reveal's transaction: the counter the assertion reported, and when. */
  recordUse(tx: Repositories, stepUp: StepUp, now: number): Promise<void> {
    return tx.recordPasskeyUse(stepUp.passkeyId, stepUp.counter, new Date(now).toISOString());
  }

  /** `GET /v1/customers/{customer_id}/passkeys`. */
  async list(customerId: string) {
    return (await this.store.read.listPasskeys(customerId)).map(passkeyResource);
  }

  /** `DELETE /v1/customers/{customer_id}/passkeys[/{id}]`: each removal is an event. */
  async remove(customerId: string, passkeyId?: string): Promise<number> {
    const now = Date.now();
    return this.store.transaction(async (tx) => {
      const removed = await tx.deletePasskeys(customerId, passkeyId);
      if (passkeyId !== undefined && removed.length === 0) {
        throw new ApiError(
          'NOT_FOUND',
          `No passkey with id "${passkeyId}" for customer "${customerId}"`,
        );
      }
      for (const passkey of removed) {
        await emitEvent(
          tx,
          'CUSTOMER.PASSKEY.DELETED',
          { passkey: passkeyResource(passkey), deleted_time: new Date(now).toISOString() },
          now,
        );
      }
      return removed.length;
    });
  }

  private async enrolled(card: Card): Promise<Passkey[]> {
    const passkeys = card.customerId ? await this.store.read.listPasskeys(card.customerId) : [];
    if (passkeys.length === 0) {
      throw new ApiError(
        'PASSKEY_NOT_ENROLLED',
        'The cardholder has no passkey yet: enroll one with the enroll-passkey widget first',
      );
    }
    return passkeys;
  }

  /** A fresh 32-byte challenge for this token and ceremony, stored until it is used. */
  private async newChallenge(
    session: WidgetSession,
    purpose: WebauthnChallenge['purpose'],
    userHandle: string | null = null,
  ): Promise<string> {
    const challenge = randomBytes(32).toString('base64url');
    const now = Date.now();
    await this.store.transaction((tx) =>
      tx.insertWebauthnChallenge({
        challenge,
        tokenId: session.token.id,
        purpose,
        userHandle,
        expiresAt: now + this.options.challengeTtlMs,
        usedAt: null,
      }),
    );
    return challenge;
  }

  /**
   * Reads the ceremony's client data, checks where it ran, and uses up its challenge (in its own
   * transaction: a response gets one verification, whatever its outcome). A framed widget's
   * ceremony is cross-origin under the token's origin; a token minted without an origin serves
   * a top-level document only.
   */
  private async useChallenge(
    session: WidgetSession,
    clientDataJSON: string,
    check: {
      purpose: WebauthnChallenge['purpose'];
      failure: 'STEP_UP_FAILED' | 'PASSKEY_REGISTRATION_FAILED';
    },
  ): Promise<WebauthnChallenge> {
    const refuse = () =>
      this.sessions.recordFailure(
        session,
        check.failure === 'STEP_UP_FAILED' ? stepUpFailed() : registrationFailed(),
      );
    const data = parseClientData(clientDataJSON);
    if (!data) return refuse();
    const framed = session.token.origin !== null;
    if (data.crossOrigin === true ? !framed : framed) return refuse();
    if (data.topOrigin !== undefined && data.topOrigin !== session.token.origin) return refuse();
    const used = await this.sessions.transaction(session, (tx) =>
      tx.consumeWebauthnChallenge(data.challenge, session.token.id, check.purpose, Date.now()),
    );
    return used ?? refuse();
  }
}

function customerOf(card: Card): string {
  if (card.customerId === null) {
    throw new ApiError(
      'CARD_HAS_NO_CUSTOMER',
      'Passkeys belong to the card’s customer: issue the card with a customer_id',
    );
  }
  return card.customerId;
}

/** The client data's fields this service checks itself; undefined when it is not client data. */
function parseClientData(
  encoded: string,
): { challenge: string; crossOrigin?: boolean; topOrigin?: string } | undefined {
  try {
    const data: unknown = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
    if (typeof data !== 'object' || data === null) return undefined;
    const { challenge, crossOrigin, topOrigin } = data as Record<string, unknown>;
    if (typeof challenge !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) return undefined;
    if (crossOrigin !== undefined && typeof crossOrigin !== 'boolean') return undefined;
    if (topOrigin !== undefined && typeof topOrigin !== 'string') return undefined;
    return {
      challenge,
      ...(crossOrigin === undefined ? {} : { crossOrigin }),
      ...(topOrigin === undefined ? {} : { topOrigin }),
    };
  } catch {
    return undefined;
  }
}

const stepUpFailed = () =>
  new ApiError('STEP_UP_FAILED', 'The passkey confirmation could not be verified: try again');

const registrationFailed = () =>
  new ApiError(
    'PASSKEY_REGISTRATION_FAILED',
    'The passkey could not be registered: try again on this device',
  );
