import { type Direction, blockCipher } from './cipher.js';
import { PaymentCryptoError, PaymentCryptoErrorCode } from './errors.js';

/** The AES block size (FIPS 197): format 4 PIN blocks and AES key check values use it. */
export const AES_BLOCK_SIZE = 16;

export function assertAesKey(key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || ![16, 24, 32].includes(key.length)) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_KEY,
      'AES key must be 16, 24 or 32 bytes',
    );
  }
}

/** AES ECB without padding; the variant (AES-128, -192 or -256) follows the key length. */
export function aesEcb(direction: Direction, key: Uint8Array, data: Uint8Array): Buffer {
  assertAesKey(key);
  return blockCipher(`aes-${key.length * 8}-ecb`, direction, key, null, data);
}
