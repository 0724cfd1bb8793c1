import { PaymentCryptoError, PaymentCryptoErrorCode } from './errors.js';

const HEX = /^(?:[0-9A-Fa-f]{2})*$/;

/** Bytes to upper-case hex, the way the standards and their published vectors print them. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('hex')
    .toUpperCase();
}

/**
 * Hex text (either case) to bytes. Refuses anything but pairs of hex digits, where
 * `Buffer.from(text, 'hex')` would silently stop at the first bad digit and return fewer bytes.
 */
export function fromHex(text: string): Buffer {
  if (typeof text !== 'string' || !HEX.test(text)) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_INPUT,
      'Hex text must be an even number of hex digits.',
    );
  }
  return Buffer.from(text, 'hex');
}

/** Byte-wise XOR of two equal-length byte strings. */
export function xor(a: Uint8Array, b: Uint8Array): Buffer {
  if (a.length !== b.length) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_INPUT,
      'XOR operands differ in length.',
    );
  }
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i += 1) out[i] = a[i]! ^ b[i]!;
  return out;
}
