import { createCipheriv, createDecipheriv } from 'node:crypto';

import { PinBlockError, PinBlockErrorCode } from './errors.js';

const DES_BLOCK = 8;

/**
 * Double-length keys are keying option 2 (K1, K2, K1) and triple-length keys option 1 of
 * NIST SP 800-67. OpenSSL 3 keeps both EDE ciphers in its default provider (only single DES
 * moved to the legacy provider), so no provider configuration is needed.
 */
function algorithmFor(key: Uint8Array): string {
  if (key.length === 16) return 'des-ede-ecb';
  if (key.length === 24) return 'des-ede3-ecb';
  throw new PinBlockError(PinBlockErrorCode.INVALID_KEY, 'triple-DES key must be 16 or 24 bytes');
}

/** Equal apart from the parity bits, i.e. the same DES key. */
function sameDesKey(key: Uint8Array, a: number, b: number): boolean {
  for (let i = 0; i < DES_BLOCK; i++) {
    if ((key[a + i]! & 0xfe) !== (key[b + i]! & 0xfe)) return false;
  }
  return true;
}

function assertTdesKey(key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) {
    throw new PinBlockError(PinBlockErrorCode.INVALID_KEY, 'triple-DES key must be bytes');
  }
  algorithmFor(key);
  // With K1 = K2 (or K2 = K3) EDE collapses to single DES: refuse such a zone key rather than
  // silently protect PINs with 56 bits.
  if (sameDesKey(key, 0, 8) || (key.length === 24 && sameDesKey(key, 8, 16))) {
    throw new PinBlockError(
      PinBlockErrorCode.INVALID_KEY,
      'triple-DES key must not repeat a component key',
    );
  }
}

function tdesEcb(direction: 'encrypt' | 'decrypt', key: Buffer, data: Buffer): Buffer {
  assertTdesKey(key);
  if (!(data instanceof Uint8Array) || data.length === 0 || data.length % DES_BLOCK !== 0) {
    throw new PinBlockError(
      PinBlockErrorCode.INVALID_BLOCK,
      'triple-DES data must be a non-empty multiple of 8 bytes',
    );
  }
  const algorithm = algorithmFor(key);
  const cipher =
    direction === 'encrypt'
      ? createCipheriv(algorithm, key, null)
      : createDecipheriv(algorithm, key, null);
  // PIN blocks are whole DES blocks: padding would only append a block the peer does not expect.
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** Triple-DES ECB encryption, no padding, for 16-byte (2-key) and 24-byte (3-key) keys. */
export function tdesEcbEncrypt(key: Buffer, data: Buffer): Buffer {
  return tdesEcb('encrypt', key, data);
}

/** Triple-DES ECB decryption, no padding, for 16-byte (2-key) and 24-byte (3-key) keys. */
export function tdesEcbDecrypt(key: Buffer, data: Buffer): Buffer {
  return tdesEcb('decrypt', key, data);
}
