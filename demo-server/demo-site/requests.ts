import { invalidRequest } from './errors.js';

/** The page's request bodies, parsed from `unknown` here and nowhere else. */

const POLICIES = ['REQUIRED', 'RANDOM', 'NOT_REQUIRED'] as const;
const EMV_PROFILES = ['EMV_CCD', 'MASTERCARD', 'VISA'] as const;
/** The only widgets this program embeds: a token for anything else is never minted. */
const WIDGET_TYPES = ['SET_PIN', 'REVEAL_PIN', 'ENROLL_PASSKEY'] as const;
/** Whether a reveal needs the cardholder's passkey (docs/step-up.md). */
const STEP_UPS = ['NONE', 'PASSKEY'] as const;
const ENTRY_MODES = ['CHIP_CONTACT', 'CONTACTLESS'] as const;
/** Who checks the PIN typed at the terminal: the issuer (online) or the card's chip (offline). */
const CVMS = ['ONLINE_PIN', 'OFFLINE_PIN'] as const;
/** How the acquirer forwards an online PIN; the chip takes format 4 only (docs/point-of-sale.md). */
const PIN_BLOCK_FORMATS = ['ISO_9564_4', 'ISO_9564_0'] as const;
/** The PIN pad's compact JWE (ECDH-ES: the encrypted key part is empty). */
const COMPACT_JWE = /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_JWE_LENGTH = 4096;
/** RFC 7638 SHA-256 thumbprint, base64url without padding: 32 bytes are 43 characters. */
const JKT = /^[A-Za-z0-9_-]{43}$/;
const CARD_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A platform widget token: `wt_` and 32 random bytes, base64url. */
const WIDGET_TOKEN = /^wt_[A-Za-z0-9_-]{43}$/;
/** A compact JWS (the DPoP proof): three base64url parts. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_PROOF_LENGTH = 2048;
/** A P-256 coordinate: 32 bytes, base64url without padding. */
const COORDINATE = /^[A-Za-z0-9_-]{43}$/;
/** What the relay forwards as the assertion, at most: the platform bounds each field itself. */
const MAX_ASSERTION_JSON = 16 * 1024;

export interface IssueRequest {
  policy: (typeof POLICIES)[number];
  offline_pin: boolean;
  emv_profile: (typeof EMV_PROFILES)[number];
  reveal_step_up: (typeof STEP_UPS)[number];
}
export interface TokenRequest {
  card_id: string;
  widget_type: (typeof WIDGET_TYPES)[number];
  jkt: string;
}
/**
 * What the hostile host's script hands its server to relay to the platform's reveal: a token
 * this program minted for the script's key, a DPoP proof the script signed, its ECDH public key,
 * and (when one was captured) a replayed assertion.
 */
export interface HostileRevealRequest {
  card_id: string;
  token: string;
  dpop: string;
  public_key: { kty: 'EC'; crv: 'P-256'; x: string; y: string };
  assertion?: Record<string, unknown>;
}
/** A payment at the terminal; with a PIN, only its JWE from the platform's PIN pad. */
export type AuthorizeRequest =
  | { entry_mode: (typeof ENTRY_MODES)[number] }
  | {
      entry_mode: (typeof ENTRY_MODES)[number];
      cvm: (typeof CVMS)[number];
      encrypted_pin: string;
      pin_block_format: (typeof PIN_BLOCK_FORMATS)[number];
    };

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidRequest('Send a JSON object');
  return body as Record<string, unknown>;
}

function oneOf<T extends string>(
  body: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
): T {
  const value = body[name];
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw invalidRequest(`${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

export function parseIssueRequest(body: unknown): IssueRequest {
  const fields = object(body);
  if (typeof fields.offline_pin !== 'boolean')
    throw invalidRequest('offline_pin must be true or false');
  return {
    policy: oneOf(fields, 'policy', POLICIES),
    offline_pin: fields.offline_pin,
    emv_profile:
      fields.emv_profile === undefined ? 'EMV_CCD' : oneOf(fields, 'emv_profile', EMV_PROFILES),
    reveal_step_up:
      fields.reveal_step_up === undefined ? 'NONE' : oneOf(fields, 'reveal_step_up', STEP_UPS),
  };
}

export function parseTokenRequest(body: unknown): TokenRequest {
  const fields = object(body);
  const widget_type = oneOf(fields, 'widget_type', WIDGET_TYPES);
  // Checked here, not left to the platform: this backend never mints a bearer token.
  if (typeof fields.jkt !== 'string' || !JKT.test(fields.jkt))
    throw invalidRequest(
      'jkt must be the 43-character base64url SHA-256 thumbprint of the widget’s DPoP key (the SDK’s fetchToken passes it)',
    );
  return { card_id: parseCardId(fields.card_id), widget_type, jkt: fields.jkt };
}

export function parseHostileRevealRequest(body: unknown): HostileRevealRequest {
  const fields = object(body);
  const unknown = Object.keys(fields).find(
    (name) => !['card_id', 'token', 'dpop', 'public_key', 'assertion'].includes(name),
  );
  if (unknown !== undefined) throw invalidRequest(`Unknown field ${unknown}: remove it`);
  if (typeof fields.token !== 'string' || !WIDGET_TOKEN.test(fields.token))
    throw invalidRequest('token must be a widget token this program minted');
  if (
    typeof fields.dpop !== 'string' ||
    fields.dpop.length > MAX_PROOF_LENGTH ||
    !COMPACT_JWS.test(fields.dpop)
  )
    throw invalidRequest('dpop must be a DPoP proof (a compact JWS)');
  const key = fields.public_key;
  if (
    typeof key !== 'object' ||
    key === null ||
    Object.keys(key).sort().join() !== 'crv,kty,x,y' ||
    (key as Record<string, unknown>).kty !== 'EC' ||
    (key as Record<string, unknown>).crv !== 'P-256' ||
    !COORDINATE.test(String((key as Record<string, unknown>).x)) ||
    !COORDINATE.test(String((key as Record<string, unknown>).y))
  )
    throw invalidRequest('public_key must be a public EC P-256 JWK: kty, crv, x and y only');
  const assertion = fields.assertion;
  if (
    assertion !== undefined &&
    (typeof assertion !== 'object' ||
      assertion === null ||
      Array.isArray(assertion) ||
      JSON.stringify(assertion).length > MAX_ASSERTION_JSON)
  )
    throw invalidRequest('assertion must be a WebAuthn assertion as JSON');
  return {
    card_id: parseCardId(fields.card_id),
    token: fields.token,
    dpop: fields.dpop,
    public_key: {
      kty: 'EC',
      crv: 'P-256',
      x: (key as Record<string, string>).x!,
      y: (key as Record<string, string>).y!,
    },
    ...(assertion === undefined ? {} : { assertion: assertion as Record<string, unknown> }),
  };
}

export function parseAuthorizeRequest(body: unknown): AuthorizeRequest {
  const fields = object(body);
  const entry_mode = oneOf(fields, 'entry_mode', ENTRY_MODES);
  const unknown = Object.keys(fields).find(
    (name) => !['entry_mode', 'cvm', 'encrypted_pin', 'pin_block_format'].includes(name),
  );
  if (unknown !== undefined) throw invalidRequest(`Unknown field ${unknown}: remove it`);
  if (fields.cvm === undefined) {
    if (fields.encrypted_pin !== undefined || fields.pin_block_format !== undefined)
      throw invalidRequest('encrypted_pin and pin_block_format go with a cvm');
    return { entry_mode };
  }
  const cvm = oneOf(fields, 'cvm', CVMS);
  const encrypted = fields.encrypted_pin;
  // Only ciphertext from the pad: this backend never accepts, holds or forwards a PIN.
  if (
    typeof encrypted !== 'string' ||
    encrypted.length > MAX_JWE_LENGTH ||
    !COMPACT_JWE.test(encrypted)
  )
    throw invalidRequest('encrypted_pin must be the PIN pad’s compact JWE');
  const pin_block_format =
    fields.pin_block_format === undefined
      ? 'ISO_9564_4'
      : oneOf(fields, 'pin_block_format', PIN_BLOCK_FORMATS);
  if (cvm === 'OFFLINE_PIN' && entry_mode !== 'CHIP_CONTACT')
    throw invalidRequest('An offline PIN is checked by the chip: insert the card (CHIP_CONTACT)');
  if (cvm === 'OFFLINE_PIN' && pin_block_format !== 'ISO_9564_4')
    throw invalidRequest('The terminal hands the chip its PIN in format 4: use ISO_9564_4');
  return { entry_mode, cvm, encrypted_pin: encrypted, pin_block_format };
}

export function parseCardId(value: unknown): string {
  if (typeof value !== 'string' || !CARD_ID.test(value))
    throw invalidRequest('card_id is not a card id');
  return value;
}
