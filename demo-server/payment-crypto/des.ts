/**
 * DES and triple DES (FIPS 46-3, NIST SP 800-67) on node:crypto, the one implementation the
 * PIN blocks, the key check values and EMV secure messaging share.
 *
 * - Triple DES is EDE: a 16-byte key is keying option 2 (K1, K2, K1, OpenSSL `des-ede-*`), a
 *   24-byte key keying option 1 (`des-ede3-*`). OpenSSL 3 keeps both in its default provider.
 *   No automatic padding; CBC uses a zero IV unless one is given.
 * - Single DES: OpenSSL 3 moved `des-ecb` to the legacy provider, which Node 20 does not load
 *   (`createCipheriv('des-ecb', ...)` throws "unsupported"). EDE with K1 = K2 = K is
 *   E_K(D_K(E_K(x))) = E_K(x), so single DES runs as `des-ede-ecb` under K‖K.
 */
import { type Direction, blockCipher } from './cipher.js';
import { PaymentCryptoError, PaymentCryptoErrorCode } from './errors.js';

export const DES_BLOCK_SIZE = 8;

const TDES_KEY_LENGTHS: readonly number[] = [16, 24];

/** For EMV keys (IMKs, ICC master keys, session keys, MAC keys): K1‖K2 only. */
export const DOUBLE_LENGTH_ONLY: readonly number[] = [16];

const ZERO_IV = Buffer.alloc(DES_BLOCK_SIZE);

/** Equal apart from the parity bits, i.e. the same DES key. */
function sameDesKey(key: Uint8Array, a: number, b: number): boolean {
  for (let i = 0; i < DES_BLOCK_SIZE; i++) {
    if ((key[a + i]! & 0xfe) !== (key[b + i]! & 0xfe)) return false;
  }
  return true;
}

/**
 * The one key rule for triple DES: bytes, 16 or 24 long (`lengths` narrows that, e.g. to the
 * double-length keys EMV uses), and no component key repeated. With K1 = K2 (or K2 = K3) EDE
 * collapses to single DES: such a key is refused rather than silently protect PINs with 56
 * bits. K1 = K3 in a 24-byte key is the double-length key written out, and is accepted.
 */
export function assertTdesKey(
  key: unknown,
  name = 'triple-DES key',
  lengths: readonly number[] = TDES_KEY_LENGTHS,
): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) {
    throw new PaymentCryptoError(PaymentCryptoErrorCode.INVALID_KEY, `${name} must be bytes`);
  }
  if (!lengths.includes(key.length)) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_KEY,
      `${name} must be ${lengths.join(' or ')} bytes`,
    );
  }
  if (sameDesKey(key, 0, 8) || (key.length === 24 && sameDesKey(key, 8, 16))) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_KEY,
      `${name} must not repeat a component key`,
    );
  }
}

function assertSingleDesKey(key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== 8) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_KEY,
      'Expected a single-length (8-byte) DES key.',
    );
  }
}

function assertWholeBlocks(data: unknown): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array) || data.length === 0 || data.length % DES_BLOCK_SIZE !== 0) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_INPUT,
      'DES data must be a non-empty multiple of 8 bytes (no implicit padding).',
    );
  }
}

function assertIv(iv: unknown): asserts iv is Uint8Array {
  if (!(iv instanceof Uint8Array) || iv.length !== DES_BLOCK_SIZE) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_INPUT,
      'The CBC IV must be 8 bytes.',
    );
  }
}

function tdes(
  mode: 'ecb' | 'cbc',
  direction: Direction,
  key: Buffer,
  data: Buffer,
  iv: Buffer | null,
): Buffer {
  assertTdesKey(key);
  assertWholeBlocks(data);
  if (iv !== null) assertIv(iv);
  const algorithm = `${key.length === 16 ? 'des-ede' : 'des-ede3'}-${mode}`;
  return blockCipher(algorithm, direction, key, iv, data);
}

/** Triple-DES ECB encryption, no padding, for 16-byte (2-key) and 24-byte (3-key) keys. */
export function tdesEcbEncrypt(key: Buffer, data: Buffer): Buffer {
  return tdes('ecb', 'encrypt', key, data, null);
}

/** Triple-DES ECB decryption, no padding, for 16-byte (2-key) and 24-byte (3-key) keys. */
export function tdesEcbDecrypt(key: Buffer, data: Buffer): Buffer {
  return tdes('ecb', 'decrypt', key, data, null);
}

/** Triple-DES CBC encryption, no padding; the IV defaults to 8 zero bytes. */
export function tdesCbcEncrypt(key: Buffer, data: Buffer, iv: Buffer = ZERO_IV): Buffer {
  return tdes('cbc', 'encrypt', key, data, iv);
}

/** Triple-DES CBC decryption, no padding; the IV defaults to 8 zero bytes. */
export function tdesCbcDecrypt(key: Buffer, data: Buffer, iv: Buffer = ZERO_IV): Buffer {
  return tdes('cbc', 'decrypt', key, data, iv);
}

function singleDes(direction: Direction, key: Buffer, data: Buffer): Buffer {
  assertSingleDesKey(key);
  assertWholeBlocks(data);
  // K‖K on purpose: the triple-DES key rule would refuse it, and must not apply here.
  return blockCipher('des-ede-ecb', direction, Buffer.concat([key, key]), null, data);
}

/** Single-DES ECB encryption, computed as `des-ede-ecb` with K‖K (see the module comment). */
export function desEcbEncrypt(key: Buffer, data: Buffer): Buffer {
  return singleDes('encrypt', key, data);
}

/** Single-DES ECB decryption, computed as `des-ede-ecb` with K‖K. */
export function desEcbDecrypt(key: Buffer, data: Buffer): Buffer {
  return singleDes('decrypt', key, data);
}

function oddParityByte(b: number): number {
  let ones = 0;
  for (let v = b >> 1; v !== 0; v >>= 1) ones += v & 1;
  // Bit 0 (least significant) is the DES parity bit: set it so the byte has an odd number of 1s.
  return (b & 0xfe) | (ones % 2 === 0 ? 1 : 0);
}

/** Sets the least significant bit of every byte so that each byte has odd parity (FIPS 46-3). */
export function adjustOddParity(key: Buffer): Buffer {
  return Buffer.from(key.map(oddParityByte));
}

/** True when every byte of the key has odd parity. */
export function hasOddParity(key: Buffer): boolean {
  return key.every((b) => oddParityByte(b) === b);
}
