/**
 * ISO/IEC 9797-1 MAC algorithm 3 ("retail MAC", ANSI X9.19) with padding method 2 and an 8-byte
 * result, as used for EMV secure messaging for integrity (EMV Book 2 §9.2.3 / Annex A1.2.1):
 *
 *   key = K1 ‖ K2 (16 bytes); D = pad80(data) = D1 … Dn
 *   H1 = DES(K1)[D1];  Hi = DES(K1)[Hi-1 xor Di]        (MAC algorithm 1: single-DES CBC-MAC)
 *   MAC = DES(K1)[ DES⁻¹(K2)[Hn] ]                      (output transformation 3)
 *
 * Single DES comes from ./des.ts, which runs it as `des-ede-ecb` with K‖K because OpenSSL 3 only
 * offers `des-ecb` through the legacy provider.
 */
import { timingSafeEqual } from 'node:crypto';
import { xor } from './bytes.js';
import {
  DES_BLOCK_SIZE,
  DOUBLE_LENGTH_ONLY,
  assertTdesKey,
  desEcbDecrypt,
  desEcbEncrypt,
} from './des.js';
import { pad80 } from './padding.js';

export const MAC_LENGTH = 8;

/** ISO/IEC 9797-1 MAC algorithm 3, padding method 2, 8-byte MAC, key = K1 ‖ K2 (16 bytes). */
export function retailMac(key: Buffer, data: Buffer): Buffer {
  // K1 = K2 would make the output transformation a no-op: a single-DES CBC-MAC.
  assertTdesKey(key, 'The MAC key', DOUBLE_LENGTH_ONLY);
  const k1 = key.subarray(0, 8);
  const k2 = key.subarray(8, 16);
  const padded = pad80(data);
  let h: Buffer = Buffer.alloc(DES_BLOCK_SIZE);
  for (let off = 0; off < padded.length; off += DES_BLOCK_SIZE) {
    h = desEcbEncrypt(k1, xor(h, padded.subarray(off, off + DES_BLOCK_SIZE)));
  }
  return desEcbEncrypt(k1, desEcbDecrypt(k2, h));
}

/** Recomputes the retail MAC and compares in constant time. */
export function verifyRetailMac(key: Buffer, data: Buffer, mac: Buffer): boolean {
  const expected = retailMac(key, data);
  return mac.length === expected.length && timingSafeEqual(mac, expected);
}
