import { randomBytes } from 'node:crypto';

import { PaymentCryptoError, PaymentCryptoErrorCode } from '../errors.js';
import { xor } from '../bytes.js';
import {
  PIN_BLOCK_LENGTH,
  accountField,
  assertBlock,
  assertPan,
  assertPin,
  readPinField,
  writePinField,
} from './pin-field.js';

const CONTROL = 0x3;
const isFill = (nibble: number): boolean => nibble >= 0xa && nibble <= 0xf;

/** Enough for any honest source: 10 fill nibbles at a 6/16 acceptance rate need ~4 bytes. */
const MAX_DRAWS = 32;

/**
 * ISO 9564-1:2017 §9.3.5.2 wants the fill digits drawn from A..F so that the same PIN and PAN
 * rarely give the same block. Nibbles of the random bytes outside A..F are skipped (rejection
 * sampling) so each fill digit is uniform over the six values; a source that keeps failing
 * to supply them is refused rather than looped on.
 */
function fillDigits(count: number, random: () => Buffer): number[] {
  const digits: number[] = [];
  for (let draws = 0; digits.length < count; draws++) {
    const bytes = draws < MAX_DRAWS ? random() : undefined;
    if (!(bytes instanceof Uint8Array)) {
      throw new PaymentCryptoError(
        PaymentCryptoErrorCode.INVALID_RANDOM,
        'random source did not supply enough fill digits',
      );
    }
    for (const byte of bytes) {
      for (const nibble of [byte >> 4, byte & 0x0f]) {
        if (isFill(nibble) && digits.length < count) digits.push(nibble);
      }
    }
  }
  return digits;
}

/**
 * Clear ISO 9564-1 format 3 block (ISO 9564-1:2017 §9.3.5): format 0 with random fill digits
 * in A..F. `random` returns random bytes and is called until enough fill digits are found; it
 * is injectable for reproducible tests and defaults to `crypto.randomBytes(8)`.
 */
export function encodeFormat3(
  pin: string,
  pan: string,
  random: () => Buffer = () => randomBytes(8),
): Buffer {
  assertPin(pin);
  assertPan(pan, 12, 19);
  const fill = fillDigits(14 - pin.length, random);
  const pinField = writePinField(CONTROL, pin, (i) => fill[i]!);
  const block = xor(pinField, accountField(pan));
  pinField.fill(0);
  return block;
}

/** Inverse of `encodeFormat3`; refuses any block that is not a well-formed format 3 block. */
export function decodeFormat3(block: Buffer, pan: string): string {
  assertBlock(block, PIN_BLOCK_LENGTH);
  assertPan(pan, 12, 19);
  const pinField = xor(block, accountField(pan));
  try {
    return readPinField(pinField, CONTROL, isFill, 'format 3');
  } finally {
    pinField.fill(0);
  }
}
