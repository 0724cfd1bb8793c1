/**
 * DES / Triple-DES building blocks for EMV secure messaging (node:crypto only).
 *
 * - Triple DES here is always two-key (double-length, 16-byte K1‖K2) EDE: OpenSSL `des-ede-ecb`
 *   and `des-ede-cbc`, no automatic padding, zero IV unless one is given.
 * - Single DES: OpenSSL 3 moved `des-ecb` to the legacy provider, which Node 20 does not load by
 *   default (`createCipheriv('des-ecb', ...)` throws "unsupported"). Because EDE with K1 = K2 = K
 *   is E_K(D_K(E_K(x))) = E_K(x), single DES is computed as `des-ede-ecb` with the key K‖K.
 * - Padding: ISO/IEC 9797-1 padding method 2 (= ISO/IEC 7816-4): append 80, then 00s up to the
 *   block size; always adds at least one byte.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { EmvCryptoError, EmvErrorCode } from './errors.js';

export const DES_BLOCK_SIZE = 8;

const ZERO_IV = Buffer.alloc(DES_BLOCK_SIZE);

function assertDoubleLengthKey(key: Buffer): void {
  if (key.length !== 16) {
    throw new EmvCryptoError(
      EmvErrorCode.INVALID_KEY,
      'Expected a double-length (16-byte) DES key.',
    );
  }
}

function assertSingleLengthKey(key: Buffer): void {
  if (key.length !== 8) {
    throw new EmvCryptoError(
      EmvErrorCode.INVALID_KEY,
      'Expected a single-length (8-byte) DES key.',
    );
  }
}

function assertBlocks(data: Buffer): void {
  if (data.length === 0 || data.length % DES_BLOCK_SIZE !== 0) {
    throw new EmvCryptoError(
      EmvErrorCode.INVALID_INPUT,
      'Data length must be a non-zero multiple of 8 bytes (no implicit padding).',
    );
  }
}

function assertIv(iv: Buffer): void {
  if (iv.length !== DES_BLOCK_SIZE) {
    throw new EmvCryptoError(EmvErrorCode.INVALID_INPUT, 'The CBC IV must be 8 bytes.');
  }
}

function run(
  mode: 'encrypt' | 'decrypt',
  algorithm: 'des-ede-ecb' | 'des-ede-cbc',
  key: Buffer,
  iv: Buffer | null,
  data: Buffer,
): Buffer {
  const c =
    mode === 'encrypt' ? createCipheriv(algorithm, key, iv) : createDecipheriv(algorithm, key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** Two-key Triple-DES ECB encryption (16-byte key, data a multiple of 8 bytes). */
export function tdesEcbEncrypt(key: Buffer, data: Buffer): Buffer {
  assertDoubleLengthKey(key);
  assertBlocks(data);
  return run('encrypt', 'des-ede-ecb', key, null, data);
}

/** Two-key Triple-DES ECB decryption. */
export function tdesEcbDecrypt(key: Buffer, data: Buffer): Buffer {
  assertDoubleLengthKey(key);
  assertBlocks(data);
  return run('decrypt', 'des-ede-ecb', key, null, data);
}

/** Two-key Triple-DES CBC encryption; IV defaults to 8 zero bytes. */
export function tdesCbcEncrypt(key: Buffer, data: Buffer, iv: Buffer = ZERO_IV): Buffer {
  assertDoubleLengthKey(key);
  assertBlocks(data);
  assertIv(iv);
  return run('encrypt', 'des-ede-cbc', key, iv, data);
}

/** Two-key Triple-DES CBC decryption; IV defaults to 8 zero bytes. */
export function tdesCbcDecrypt(key: Buffer, data: Buffer, iv: Buffer = ZERO_IV): Buffer {
  assertDoubleLengthKey(key);
  assertBlocks(data);
  assertIv(iv);
  return run('decrypt', 'des-ede-cbc', key, iv, data);
}

/** Single-DES ECB encryption, computed as `des-ede-ecb` with K‖K (see the module comment). */
export function desEcbEncrypt(key: Buffer, data: Buffer): Buffer {
  assertSingleLengthKey(key);
  assertBlocks(data);
  return run('encrypt', 'des-ede-ecb', Buffer.concat([key, key]), null, data);
}

/** Single-DES ECB decryption, computed as `des-ede-ecb` with K‖K. */
export function desEcbDecrypt(key: Buffer, data: Buffer): Buffer {
  assertSingleLengthKey(key);
  assertBlocks(data);
  return run('decrypt', 'des-ede-ecb', Buffer.concat([key, key]), null, data);
}

/** ISO/IEC 9797-1 padding method 2: data ‖ 80 ‖ 00… up to a multiple of `blockSize`. */
export function pad80(data: Buffer, blockSize: number = DES_BLOCK_SIZE): Buffer {
  const padded = Buffer.alloc((Math.floor(data.length / blockSize) + 1) * blockSize);
  data.copy(padded);
  padded[data.length] = 0x80;
  return padded;
}

/**
 * Removes ISO/IEC 9797-1 padding method 2. Throws BAD_PADDING unless the data is a non-empty
 * multiple of `blockSize` ending in 80 00… with the 80 inside the last block.
 */
export function unpad80(data: Buffer, blockSize: number = DES_BLOCK_SIZE): Buffer {
  if (data.length === 0 || data.length % blockSize !== 0) {
    throw new EmvCryptoError(EmvErrorCode.BAD_PADDING, 'Padded data is not whole blocks.');
  }
  let i = data.length - 1;
  while (i >= 0 && data[i] === 0x00) i -= 1;
  if (i < 0 || data[i] !== 0x80 || data.length - i > blockSize) {
    throw new EmvCryptoError(
      EmvErrorCode.BAD_PADDING,
      'ISO/IEC 9797-1 method 2 padding not found.',
    );
  }
  return Buffer.from(data.subarray(0, i));
}

function oddParityByte(b: number): number {
  let ones = 0;
  for (let v = b >> 1; v !== 0; v >>= 1) ones += v & 1;
  // Bit 0 (least significant) is the DES parity bit: set it so the byte has an odd number of 1s.
  return (b & 0xfe) | (ones % 2 === 0 ? 1 : 0);
}

/** Sets the least significant bit of every byte so that each byte has odd parity. */
export function adjustOddParity(key: Buffer): Buffer {
  return Buffer.from(key.map(oddParityByte));
}

/** True when every byte of the key has odd parity. */
export function hasOddParity(key: Buffer): boolean {
  return key.every((b) => oddParityByte(b) === b);
}

/** Key check value: leftmost `length` bytes of 3DES(key)[00…00]. */
export function keyCheckValue(key: Buffer, length: number = 3): Buffer {
  if (!Number.isInteger(length) || length < 1 || length > 8) {
    throw new EmvCryptoError(EmvErrorCode.INVALID_INPUT, 'KCV length must be 1-8 bytes.');
  }
  return tdesEcbEncrypt(key, Buffer.alloc(DES_BLOCK_SIZE)).subarray(0, length);
}

/** Byte-wise XOR of two equal-length buffers. */
export function xor(a: Buffer, b: Buffer): Buffer {
  if (a.length !== b.length) {
    throw new EmvCryptoError(EmvErrorCode.INVALID_INPUT, 'XOR operands differ in length.');
  }
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i += 1) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}
