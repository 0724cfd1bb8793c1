import { describe, expect, it } from 'vitest';

import { PinBlockErrorCode } from './errors.js';
import { decodeFormat0, encodeFormat0 } from './format0.js';
import { tdesEcbDecrypt, tdesEcbEncrypt } from './tdes.js';
import { expectRefusal, hex, toHex } from './test-helpers.js';

describe('triple-DES ECB', () => {
  it('matches the NIST SP 800-67 three-key example', () => {
    // NIST SP 800-67 TDEA example (also in Galois' Cryptol TripleDES test vectors): keys
    // 0123456789ABCDEF / 23456789ABCDEF01 / 456789ABCDEF0123, plaintext "The qufck brown fox
    // jump" (sic), three ECB blocks.
    const key = hex('0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123');
    const plain = Buffer.from('The qufck brown fox jump', 'latin1');
    const cipher = tdesEcbEncrypt(key, plain);
    expect(toHex(cipher)).toBe('A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900');
    expect(tdesEcbDecrypt(key, cipher).toString('latin1')).toBe('The qufck brown fox jump');
  });

  it.each([
    // Key check value of the ANSI sample key 0123456789ABCDEFFEDCBA9876543210 (ID TECH's
    // key-injection notes call it "the ANSI standard key"): E_K(0^64) = 08D7B4FB629D0885.
    { key: '0123456789ABCDEFFEDCBA9876543210', kcv: '08D7B4FB629D0885' },
    // crypto.stackexchange.com/questions/37379: PC Crypto component with KCV 212CF915.
    { key: 'E6F1081FEA4C402CC192B65DE367EC3E', kcv: '212CF915' },
  ])('uses K1 K2 K1 for double-length key $key (KCV $kcv)', ({ key, kcv }) => {
    const zeros = Buffer.alloc(8);
    const encrypted = tdesEcbEncrypt(hex(key), zeros);
    expect(toHex(encrypted).startsWith(kcv)).toBe(true);
    expect(tdesEcbDecrypt(hex(key), encrypted)).toEqual(zeros);
  });

  it('enciphers and deciphers a format 0 block under a zone PIN key without padding', () => {
    const zpk = hex('0123456789ABCDEFFEDCBA9876543210');
    const clear = encodeFormat0('1234', '43219876543210987');
    const enciphered = tdesEcbEncrypt(zpk, clear);
    expect(enciphered).toHaveLength(8);
    expect(toHex(enciphered)).not.toBe(toHex(clear));
    expect(decodeFormat0(tdesEcbDecrypt(zpk, enciphered), '43219876543210987')).toBe('1234');
  });

  describe('refuses', () => {
    const key = hex('0123456789ABCDEFFEDCBA9876543210');

    it.each([0, 8, 15, 17, 23, 32])('a %i-byte key', (size) => {
      const badKey = Buffer.from(Array.from({ length: size }, (_, i) => i + 1));
      expectRefusal(() => tdesEcbEncrypt(badKey, Buffer.alloc(8)), PinBlockErrorCode.INVALID_KEY);
      expectRefusal(() => tdesEcbDecrypt(badKey, Buffer.alloc(8)), PinBlockErrorCode.INVALID_KEY);
    });

    it('a key that is not bytes', () => {
      expectRefusal(
        () =>
          tdesEcbEncrypt('0123456789ABCDEFFEDCBA9876543210' as unknown as Buffer, Buffer.alloc(8)),
        PinBlockErrorCode.INVALID_KEY,
      );
    });

    it.each([
      ['K1 = K2 (double length)', '0123456789ABCDEF0123456789ABCDEF'],
      ['K1 = K2 up to parity bits', '0123456789ABCDEF0022446688AACCEE'],
      ['K1 = K2 (triple length)', '0123456789ABCDEF0123456789ABCDEFFEDCBA9876543210'],
      ['K2 = K3 (triple length)', 'FEDCBA98765432100123456789ABCDEF0123456789ABCDEF'],
    ])('a degenerate key with %s, which is single DES', (_, k) => {
      const error = expectRefusal(
        () => tdesEcbEncrypt(hex(k), Buffer.alloc(8)),
        PinBlockErrorCode.INVALID_KEY,
        [k, k.slice(0, 16)],
      );
      expect(error.message).toBe('triple-DES key must not repeat a component key');
    });

    it('accepts K1 = K3 in a triple-length key (the double-length key written out)', () => {
      const written = hex('0123456789ABCDEFFEDCBA98765432100123456789ABCDEF');
      expect(toHex(tdesEcbEncrypt(written, Buffer.alloc(8)))).toBe('08D7B4FB629D0885');
    });

    it.each([0, 7, 9, 15])('%i bytes of data', (size) => {
      expectRefusal(() => tdesEcbEncrypt(key, Buffer.alloc(size)), PinBlockErrorCode.INVALID_BLOCK);
      expectRefusal(() => tdesEcbDecrypt(key, Buffer.alloc(size)), PinBlockErrorCode.INVALID_BLOCK);
    });
  });
});
