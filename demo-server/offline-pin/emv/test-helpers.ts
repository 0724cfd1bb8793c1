import { EmvCryptoError } from './errors.js';

/** Hex in, bytes out, and back (upper case, as the published vectors print them). */
export const h = (hex: string): Buffer => Buffer.from(hex, 'hex');
export const hex = (b: Buffer): string => b.toString('hex').toUpperCase();

/** The `code` a call fails with (NOT_EMV_ERROR for any other error), or undefined. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof EmvCryptoError ? err.code : 'NOT_EMV_ERROR';
  }
  return undefined;
}
