/**
 * Stable codes for every refusal in this folder. Callers switch on `code`, never on `message`.
 */
export const PaymentCryptoErrorCode = {
  /** The PIN is not a string of 4 to 12 decimal digits (ISO 9564-1:2017 §8.1). */
  INVALID_PIN: 'INVALID_PIN',
  /** The PAN is not a string of decimal digits of a length the PIN block format accepts. */
  INVALID_PAN: 'INVALID_PAN',
  /** A PIN block has the wrong size, or does not decode to a well-formed PIN field. */
  INVALID_BLOCK: 'INVALID_BLOCK',
  /** A key has a length the cipher does not take, or is a degenerate triple-DES key. */
  INVALID_KEY: 'INVALID_KEY',
  /** An injected random source returned something unusable. */
  INVALID_RANDOM: 'INVALID_RANDOM',
  /** Other input has the wrong length or format (cipher data, IV, hex, EMV PAN, PSN, ATC, ARQC). */
  INVALID_INPUT: 'INVALID_INPUT',
  /** BER-TLV (or 9F5B Issuer Script Results) data is malformed. */
  MALFORMED_TLV: 'MALFORMED_TLV',
  /** ISO/IEC 9797-1 padding method 2 (or the Visa length prefix) is absent or malformed. */
  BAD_PADDING: 'BAD_PADDING',
  /** Card-side PIN change result only: the secure-messaging MAC does not verify. */
  BAD_MAC: 'BAD_MAC',
  /** Card-side PIN change result only: the deciphered command data is not a PIN block. */
  BAD_PIN_BLOCK: 'BAD_PIN_BLOCK',
  /** Card-side PIN change result only: the command APDU has the wrong header, Lc or length. */
  MALFORMED_APDU: 'MALFORMED_APDU',
} as const;

export type PaymentCryptoErrorCode =
  (typeof PaymentCryptoErrorCode)[keyof typeof PaymentCryptoErrorCode];

/**
 * The only error this folder throws. Messages are fixed strings chosen at the throw site about
 * shape (lengths, formats) and never interpolate a PIN, a PAN, a key, a MAC or any nibble of a
 * block, so an error can be logged or reported without leaking cardholder data.
 */
export class PaymentCryptoError extends Error {
  override readonly name = 'PaymentCryptoError';

  constructor(
    readonly code: PaymentCryptoErrorCode,
    message: string,
  ) {
    super(message);
  }

  toJSON(): { name: string; code: PaymentCryptoErrorCode; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}
