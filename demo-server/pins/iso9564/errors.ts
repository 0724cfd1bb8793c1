/**
 * Stable codes for every refusal in this module. Callers switch on `code`, never on `message`.
 */
export const PinBlockErrorCode = {
  /** The PIN is not a string of 4 to 12 decimal digits (ISO 9564-1:2017 §8.1). */
  INVALID_PIN: 'INVALID_PIN',
  /** The PAN is not a string of decimal digits of a length the format accepts. */
  INVALID_PAN: 'INVALID_PAN',
  /** A PIN block (or data block) has the wrong size, or does not decode to a well-formed PIN field. */
  INVALID_BLOCK: 'INVALID_BLOCK',
  /** A key has a length the cipher does not take, or is a degenerate triple-DES key. */
  INVALID_KEY: 'INVALID_KEY',
  /** An injected random source returned something unusable. */
  INVALID_RANDOM: 'INVALID_RANDOM',
} as const;

export type PinBlockErrorCode = (typeof PinBlockErrorCode)[keyof typeof PinBlockErrorCode];

/**
 * The only error this module throws. Messages are fixed strings chosen at the throw site and
 * never interpolate a PIN, a PAN, a key or any nibble of a block, so an error can be logged
 * or reported without leaking cardholder data.
 */
export class PinBlockError extends Error {
  override readonly name = 'PinBlockError';

  constructor(
    readonly code: PinBlockErrorCode,
    message: string,
  ) {
    super(message);
  }
}
