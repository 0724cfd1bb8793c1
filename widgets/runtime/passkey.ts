import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/browser';
import type * as WebAuthn from '@simplewebauthn/browser';
import { lazyChunk } from './request.js';

/**
 * The passkey ceremonies of docs/step-up.md, run in this document (the platform's origin, so
 * the platform's RP ID): `create()` to enroll, `get()` before a reveal. A ceremony that does not
 * end with a credential ends with a CeremonyFailure and its stable code, never a hang.
 */

/**
 * The WebAuthn helpers, loaded once (lazyChunk). A chunk of its own: only the widgets that run a
 * ceremony fetch it (the enroll document, a reveal on a PASSKEY product), so the others stay
 * within their size budget.
 */
const library: () => Promise<typeof WebAuthn> = lazyChunk(() => import('@simplewebauthn/browser'));

/** Starts loading the ceremonies as soon as one is likely, so they are there for the press. */
export function preloadCeremonies(): void {
  library().catch(() => undefined);
}

/** Why a ceremony ended without a credential: the codes the host's `failure` or `error` carries. */
export type CeremonyCode = 'STEP_UP_CANCELLED' | 'PASSKEY_UNSUPPORTED' | 'PASSKEY_ALREADY_ENROLLED';

export class CeremonyFailure extends Error {
  constructor(readonly code: CeremonyCode) {
    super(code);
  }
}

type Ceremony = 'publickey-credentials-create' | 'publickey-credentials-get';

/**
 * Whether this document can run `ceremony` at all: WebAuthn is there (a webview may have none)
 * and, where the engine says (Chromium's `document.featurePolicy`), the frame was allowed it. An
 * engine that masks either signal is found out by the ceremony itself (NotSupportedError, …).
 */
export function passkeysAvailable(ceremony: Ceremony): boolean {
  if (typeof globalThis.PublicKeyCredential !== 'function') return false;
  const policy = (
    document as { featurePolicy?: { features(): string[]; allowsFeature(name: string): boolean } }
  ).featurePolicy;
  // A feature the engine does not list is one it cannot judge: only a listed one is answered.
  return policy?.features().includes(ceremony) ? policy.allowsFeature(ceremony) : true;
}

/**
 * The ceremony's DOMException, as the cardholder and host hear it. NotAllowedError is what a
 * cancelled or timed-out prompt gives (and what a webview that refuses passkeys gives too: then
 * trying again is all a cardholder can do); the rest mean this device cannot do it here.
 */
function failureOf(error: unknown): CeremonyFailure | unknown {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'NotAllowedError' || name === 'AbortError') {
    return new CeremonyFailure('STEP_UP_CANCELLED');
  }
  if (name === 'InvalidStateError') return new CeremonyFailure('PASSKEY_ALREADY_ENROLLED');
  if (name === 'NotSupportedError' || name === 'SecurityError' || name === 'ConstraintError') {
    return new CeremonyFailure('PASSKEY_UNSUPPORTED');
  }
  return error;
}

async function run<T>(ceremony: Ceremony, start: () => Promise<T>): Promise<T> {
  if (!passkeysAvailable(ceremony)) throw new CeremonyFailure('PASSKEY_UNSUPPORTED');
  try {
    return await start();
  } catch (error) {
    throw failureOf(error);
  }
}

/** Enrollment: `navigator.credentials.create()` with the platform's creation options. */
export const createPasskey = (
  optionsJSON: PublicKeyCredentialCreationOptionsJSON,
): Promise<RegistrationResponseJSON> =>
  run('publickey-credentials-create', async () =>
    (await library()).startRegistration({ optionsJSON }),
  );

/** Step-up: `navigator.credentials.get()` with the reveal challenge's request options. */
export const assertPasskey = (
  optionsJSON: PublicKeyCredentialRequestOptionsJSON,
): Promise<AuthenticationResponseJSON> =>
  run('publickey-credentials-get', async () =>
    (await library()).startAuthentication({ optionsJSON }),
  );
