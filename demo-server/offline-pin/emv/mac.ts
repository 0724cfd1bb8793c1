/**
 * ISO/IEC 9797-1 MAC algorithm 3 ("retail MAC", ANSI X9.19) with padding method 2 and an 8-byte
 * result, as used for EMV secure messaging for integrity (EMV Book 2 §9.2.3 / Annex A1.2.1):
 *
 *   key = K1 ‖ K2 (16 bytes); D = pad80(data) = D1 … Dn
 *   H1 = DES(K1)[D1];  Hi = DES(K1)[Hi-1 xor Di]        (single-DES CBC-MAC with K1)
 *   MAC = DES(K1)[ DES⁻¹(K2)[Hn] ]                      (output transformation 3)
 *
 * Single DES comes from ./des.ts, which runs it as `des-ede-ecb` with K‖K because OpenSSL 3 only
 * offers `des-ecb` through the legacy provider.
 */
import { timingSafeEqual } from 'node:crypto';
import { DES_BLOCK_SIZE, desEcbDecrypt, desEcbEncrypt, pad80 } from './des.js';
import { EmvCryptoError, EmvErrorCode } from './errors.js';

export const MAC_LENGTH = 8;

/** ISO/IEC 9797-1 MAC algorithm 3, padding method 2, 8-byte MAC, key = K1 ‖ K2 (16 bytes). */
export function retailMac(key: Buffer, data: Buffer): Buffer {
  if (key.length !== 16) {
    throw new EmvCryptoError(
      EmvErrorCode.INVALID_KEY,
      'Expected a double-length (16-byte) MAC key.',
    );
  }
  const k1 = key.subarray(0, 8);
  const k2 = key.subarray(8, 16);
  const padded = pad80(data);
  let h: Buffer = Buffer.alloc(DES_BLOCK_SIZE);
  for (let off = 0; off < padded.length; off += DES_BLOCK_SIZE) {
    const block = Buffer.alloc(DES_BLOCK_SIZE);
    for (let i = 0; i < DES_BLOCK_SIZE; i += 1) {
      block[i] = (h[i] ?? 0) ^ (padded[off + i] ?? 0);
    }
    h = desEcbEncrypt(k1, block);
  }
  return desEcbEncrypt(k1, desEcbDecrypt(k2, h));
}

/** Recomputes the retail MAC and compares in constant time. */
export function verifyRetailMac(key: Buffer, data: Buffer, mac: Buffer): boolean {
  const expected = retailMac(key, data);
  return mac.length === expected.length && timingSafeEqual(mac, expected);
}
