import { AES_BLOCK_SIZE, aesEcb } from './aes.js';
import { DES_BLOCK_SIZE, tdesEcbEncrypt } from './des.js';
import { PaymentCryptoError, PaymentCryptoErrorCode } from './errors.js';

export type KeyCheckCipher = 'TDES' | 'AES';

/**
 * Key check value (ANSI X9.24-1): the leftmost `length` bytes of the key enciphering one block
 * of zeros, 8 bytes for triple DES, 16 for AES. It names a key without revealing it; 3 bytes
 * (6 hex digits) is the customary length. For AES, ANSI X9.24-1:2017 prefers a CMAC-based
 * check value; the zero-block method is kept because the format 4 export `key_id` publishes it.
 */
export function keyCheckValue(
  key: Buffer,
  length: number = 3,
  cipher: KeyCheckCipher = 'TDES',
): Buffer {
  const blockSize = cipher === 'AES' ? AES_BLOCK_SIZE : DES_BLOCK_SIZE;
  if (!Number.isInteger(length) || length < 1 || length > blockSize) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_INPUT,
      `KCV length must be 1-${blockSize} bytes.`,
    );
  }
  const zeros = Buffer.alloc(blockSize);
  const block = cipher === 'AES' ? aesEcb('encrypt', key, zeros) : tdesEcbEncrypt(key, zeros);
  return block.subarray(0, length);
}
