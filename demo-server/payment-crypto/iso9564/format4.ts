import { randomBytes } from 'node:crypto';

import { AES_BLOCK_SIZE, aesEcb, assertAesKey } from '../aes.js';
import { xor } from '../bytes.js';
import { PaymentCryptoError, PaymentCryptoErrorCode } from '../errors.js';
import { assertBlock, assertPan, assertPin, readPinField, writePinField } from './pin-field.js';

const RANDOM_SIZE = 8;
const CONTROL = 0x4;
const FILL = 0xa;

/**
 * The PAN field takes up to 19 digits, and explicitly encodes PANs shorter than 12 digits
 * (ISO 9564-1:2017 §9.4.2.2.3), so unlike formats 0 and 3 nothing below 12 is refused.
 */
const PAN_MIN = 1;
const PAN_MAX = 19;

/**
 * Plain text PIN field (ISO 9564-1:2017 §9.4.2.2.2): 4, N, PIN, A fill up to 16 nibbles, then
 * 8 random bytes. The random half is what makes equal PINs encipher differently; `random` is
 * injectable for reproducible tests and must return exactly the `n` bytes asked for.
 */
export function pinField4(
  pin: string,
  random: (n: number) => Buffer = (n) => randomBytes(n),
): Buffer {
  assertPin(pin);
  const nonce = random(RANDOM_SIZE);
  if (!(nonce instanceof Uint8Array) || nonce.length !== RANDOM_SIZE) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_RANDOM,
      `random source must return ${RANDOM_SIZE} bytes`,
    );
  }
  const head = writePinField(CONTROL, pin, () => FILL);
  const field = Buffer.concat([head, nonce]);
  head.fill(0);
  return field;
}

/**
 * PAN field (ISO 9564-1:2017 §9.4.2.2.3): M = PAN length - 12, then the whole PAN (check digit
 * included, unlike formats 0 and 3), zero padded to 32 nibbles. A PAN shorter than 12 digits
 * has M = 0 and is right-justified in 12 digits with leading zeros.
 */
export function panField4(pan: string): Buffer {
  assertPan(pan, PAN_MIN, PAN_MAX);
  const m = Math.max(pan.length - 12, 0);
  return Buffer.from(`${m}${pan.padStart(12, '0')}`.padEnd(32, '0'), 'hex');
}

/**
 * Enciphered format 4 block (ISO 9564-1:2017 §9.4.2.3): E_K(E_K(PIN field) XOR PAN field).
 * Chaining the PAN between two encipherments binds the block to the card without putting the
 * PAN in the block. The AES variant follows the key length (16, 24 or 32 bytes).
 */
export function encipherFormat4(
  pin: string,
  pan: string,
  key: Buffer,
  random?: (n: number) => Buffer,
): Buffer {
  assertPin(pin);
  assertPan(pan, PAN_MIN, PAN_MAX);
  assertAesKey(key);
  const pinField = pinField4(pin, random);
  const intermediate = aesEcb('encrypt', key, pinField);
  const chained = xor(intermediate, panField4(pan));
  try {
    return aesEcb('encrypt', key, chained);
  } finally {
    pinField.fill(0);
    intermediate.fill(0);
    chained.fill(0);
  }
}

/** Inverse of `encipherFormat4`: D_K(D_K(block) XOR PAN field), then checks the PIN field. */
export function decipherFormat4(block: Buffer, pan: string, key: Buffer): string {
  // Format 4 is sized to the AES block (ISO 9564-1:2017 §9.4).
  assertBlock(block, AES_BLOCK_SIZE);
  assertPan(pan, PAN_MIN, PAN_MAX);
  assertAesKey(key);
  const intermediate = aesEcb('decrypt', key, block);
  const chained = xor(intermediate, panField4(pan));
  const pinField = aesEcb('decrypt', key, chained);
  try {
    return readPinField(pinField, CONTROL, (nibble) => nibble === FILL, 'format 4');
  } finally {
    pinField.fill(0);
    intermediate.fill(0);
    chained.fill(0);
  }
}
