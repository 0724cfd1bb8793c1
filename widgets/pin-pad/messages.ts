/**
 * The demo terminal's PIN pad and the page that frames it talk in these messages only
 * (docs/point-of-sale.md, "The demo terminal"). The pad is no widget of the SDK, so it keeps its
 * own small protocol here; both sides import it, and each message has one guard.
 */

/** The most a prompt shows: one line of a terminal's display. */
export const PIN_PAD_PROMPT_MAX_LENGTH = 32;

/** Pad → page: the PIN entered, encrypted to the platform (the page never has the digits). */
export interface PinPadEntered {
  type: 'pin-pad:entered';
  encrypted_pin: string;
}

/** Pad → page: the cardholder pressed Cancel. */
export interface PinPadCancelled {
  type: 'pin-pad:cancelled';
}

/** Page → pad: what the display says above the dots ("ENTER PIN", "INCORRECT PIN", an amount). */
export interface PinPadPrompt {
  type: 'pin-pad:prompt';
  text: string;
}

export type PinPadEvent = PinPadEntered | PinPadCancelled;

/** A compact JWE: five base64url parts, the second (the encrypted key) empty for ECDH-ES. */
const COMPACT_JWE = /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_JWE_LENGTH = 4096;

const record = (data: unknown): Record<string, unknown> | undefined =>
  typeof data === 'object' && data !== null && !Array.isArray(data)
    ? (data as Record<string, unknown>)
    : undefined;

const hasOnly = (fields: Record<string, unknown>, names: readonly string[]) =>
  Object.keys(fields).every((name) => names.includes(name));

export function isPinPadEntered(data: unknown): data is PinPadEntered {
  const fields = record(data);
  return (
    fields?.type === 'pin-pad:entered' &&
    hasOnly(fields, ['type', 'encrypted_pin']) &&
    typeof fields.encrypted_pin === 'string' &&
    fields.encrypted_pin.length <= MAX_JWE_LENGTH &&
    COMPACT_JWE.test(fields.encrypted_pin)
  );
}

export function isPinPadCancelled(data: unknown): data is PinPadCancelled {
  const fields = record(data);
  return fields?.type === 'pin-pad:cancelled' && hasOnly(fields, ['type']);
}

export const isPinPadEvent = (data: unknown): data is PinPadEvent =>
  isPinPadEntered(data) || isPinPadCancelled(data);

/** Printable text only, one line, at most PIN_PAD_PROMPT_MAX_LENGTH characters. */
const PROMPT_TEXT = new RegExp(
  `^[^\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}]{1,${PIN_PAD_PROMPT_MAX_LENGTH}}$`,
  'u',
);

export function isPinPadPrompt(data: unknown): data is PinPadPrompt {
  const fields = record(data);
  return (
    fields?.type === 'pin-pad:prompt' &&
    hasOnly(fields, ['type', 'text']) &&
    typeof fields.text === 'string' &&
    PROMPT_TEXT.test(fields.text)
  );
}
