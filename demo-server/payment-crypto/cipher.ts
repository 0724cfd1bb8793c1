import { createCipheriv, createDecipheriv } from 'node:crypto';

export type Direction = 'encrypt' | 'decrypt';

/**
 * One pass of a node:crypto block cipher over whole blocks. Padding is off: PIN blocks, key
 * check blocks and EMV command data are whole blocks already (or padded by ISO/IEC 9797-1
 * method 2 first), and automatic PKCS#7 padding would append a block the peer does not expect.
 */
export function blockCipher(
  algorithm: string,
  direction: Direction,
  key: Uint8Array,
  iv: Uint8Array | null,
  data: Uint8Array,
): Buffer {
  const cipher =
    direction === 'encrypt'
      ? createCipheriv(algorithm, key, iv)
      : createDecipheriv(algorithm, key, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}
