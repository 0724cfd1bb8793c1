import { invalidRequest } from './errors.js';

/** The page's request bodies, parsed from `unknown` here and nowhere else. */

const POLICIES = ['REQUIRED', 'RANDOM', 'NOT_REQUIRED'] as const;
const EMV_PROFILES = ['EMV_CCD', 'MASTERCARD', 'VISA'] as const;
/** The only widgets this program embeds: a token for anything else is never minted. */
const WIDGET_TYPES = ['SET_PIN', 'REVEAL_PIN'] as const;
const ENTRY_MODES = ['CHIP_CONTACT', 'CONTACTLESS'] as const;
/** RFC 7638 SHA-256 thumbprint, base64url without padding: 32 bytes are 43 characters. */
const JKT = /^[A-Za-z0-9_-]{43}$/;
const CARD_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface IssueRequest {
  policy: (typeof POLICIES)[number];
  offline_pin: boolean;
  emv_profile: (typeof EMV_PROFILES)[number];
}
export interface TokenRequest {
  card_id: string;
  widget_type: (typeof WIDGET_TYPES)[number];
  jkt: string;
}
export interface AuthorizeRequest {
  entry_mode: (typeof ENTRY_MODES)[number];
}

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

export function parseAuthorizeRequest(body: unknown): AuthorizeRequest {
  return { entry_mode: oneOf(object(body), 'entry_mode', ENTRY_MODES) };
}

export function parseCardId(value: unknown): string {
  if (typeof value !== 'string' || !CARD_ID.test(value))
    throw invalidRequest('card_id is not a card id');
  return value;
}
