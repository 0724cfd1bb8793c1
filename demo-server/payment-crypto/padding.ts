/**
 * ISO/IEC 9797-1 padding method 2 (the same as ISO/IEC 7816-4 padding): append 80, then 00s up
 * to the block size. It always adds at least one byte, so it can be removed without knowing the
 * data's length. EMV secure messaging uses it for the MAC and for enciphered command data.
 */
import { DES_BLOCK_SIZE } from './des.js';
import { PaymentCryptoError, PaymentCryptoErrorCode } from './errors.js';

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
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.BAD_PADDING,
      'Padded data is not whole blocks.',
    );
  }
  let i = data.length - 1;
  while (i >= 0 && data[i] === 0x00) i -= 1;
  if (i < 0 || data[i] !== 0x80 || data.length - i > blockSize) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.BAD_PADDING,
      'ISO/IEC 9797-1 method 2 padding not found.',
    );
  }
  return Buffer.from(data.subarray(0, i));
}
