/**
 * The one error type of the EMV crypto modules. Codes are stable: callers switch on them.
 *
 * Messages are fixed, human-readable sentences about *shape* (lengths, formats) and never carry
 * PIN digits, key bytes, session keys, MACs or plaintext. Do not interpolate secrets into them.
 */
export const EmvErrorCode = {
  /** A key is not the required length (16 bytes for double-length DES keys, 8 for single DES). */
  INVALID_KEY: 'INVALID_KEY',
  /** Some non-secret input has the wrong length or format (PAN, PSN, ATC, ARQC, data length...). */
  INVALID_INPUT: 'INVALID_INPUT',
  /** A PIN is not 4-12 decimal digits. */
  INVALID_PIN: 'INVALID_PIN',
  /** BER-TLV (or 9F5B Issuer Script Results) data is malformed. */
  MALFORMED_TLV: 'MALFORMED_TLV',
  /** ISO/IEC 9797-1 padding method 2 is absent or malformed. */
  BAD_PADDING: 'BAD_PADDING',
  /** A secure-messaging MAC does not verify. */
  BAD_MAC: 'BAD_MAC',
  /** A deciphered PIN block (or its padding / length prefix) is not well formed. */
  BAD_PIN_BLOCK: 'BAD_PIN_BLOCK',
  /** A command APDU has the wrong header, Lc or length. */
  MALFORMED_APDU: 'MALFORMED_APDU',
} as const;

export type EmvErrorCode = (typeof EmvErrorCode)[keyof typeof EmvErrorCode];

export class EmvCryptoError extends Error {
  override readonly name = 'EmvCryptoError';

  constructor(
    readonly code: EmvErrorCode,
    message: string,
  ) {
    super(message);
  }

  toJSON(): { name: string; code: EmvErrorCode; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}
