import { describe, expect, it } from 'vitest';

import { fromHex, toHex } from './bytes.js';
import {
  adjustOddParity,
  desEcbDecrypt,
  desEcbEncrypt,
  hasOddParity,
  tdesCbcDecrypt,
  tdesCbcEncrypt,
  tdesEcbDecrypt,
  tdesEcbEncrypt,
} from './des.js';
import { PaymentCryptoErrorCode } from './errors.js';
import { decodeFormat0, encodeFormat0 } from './iso9564/format0.js';
import { codeOf, expectRefusal } from './test-helpers.js';

describe('triple-DES ECB and CBC (NIST SP 800-67)', () => {
  it('matches the NIST SP 800-67 three-key example (keying option 1)', () => {
    // NIST SP 800-67 TDEA example (also in Galois' Cryptol TripleDES test vectors): keys
    // 0123456789ABCDEF / 23456789ABCDEF01 / 456789ABCDEF0123, plaintext "The qufck brown fox
    // jump" (sic), three ECB blocks.
    const key = fromHex('0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123');
    const plain = Buffer.from('The qufck brown fox jump', 'latin1');
    const cipher = tdesEcbEncrypt(key, plain);
    expect(toHex(cipher)).toBe('A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900');
    expect(tdesEcbDecrypt(key, cipher).toString('latin1')).toBe('The qufck brown fox jump');
  });

  // pyemv (knovichikhin/pyemv) pyemv/tools.py doctests of encrypt_tdes_ecb / encrypt_tdes_cbc:
  // key 0123456789ABCDEFFEDCBA9876543210, data b"12345678", zero IV -> 41D2FFBA3CDC15FE
  const key = fromHex('0123456789ABCDEFFEDCBA9876543210');
  const data = Buffer.from('12345678', 'ascii');

  it('ECB matches the pyemv published vector (keying option 2) and decrypts back', () => {
    const ct = tdesEcbEncrypt(key, data);
    expect(toHex(ct)).toBe('41D2FFBA3CDC15FE');
    expect(tdesEcbDecrypt(key, ct).equals(data)).toBe(true);
  });

  it('CBC with zero IV matches the pyemv published vector and decrypts back', () => {
    const ct = tdesCbcEncrypt(key, data);
    expect(toHex(ct)).toBe('41D2FFBA3CDC15FE');
    expect(tdesCbcDecrypt(key, ct).equals(data)).toBe(true);
  });

  it('CBC chains blocks (second block differs from ECB) and round-trips', () => {
    const two = Buffer.concat([data, data]);
    const cbc = tdesCbcEncrypt(key, two);
    expect(toHex(cbc.subarray(0, 8))).toBe('41D2FFBA3CDC15FE');
    expect(cbc.subarray(8).equals(tdesEcbEncrypt(key, data))).toBe(false);
    expect(tdesCbcDecrypt(key, cbc).equals(two)).toBe(true);
  });

  it('enciphers and deciphers a format 0 block under a zone PIN key without padding', () => {
    const zpk = fromHex('0123456789ABCDEFFEDCBA9876543210');
    const clear = encodeFormat0('1234', '43219876543210987');
    const enciphered = tdesEcbEncrypt(zpk, clear);
    expect(enciphered).toHaveLength(8);
    expect(toHex(enciphered)).not.toBe(toHex(clear));
    expect(decodeFormat0(tdesEcbDecrypt(zpk, enciphered), '43219876543210987')).toBe('1234');
  });

  it('accepts K1 = K3 in a triple-length key (the double-length key written out)', () => {
    // E_K(0^64) of the ANSI sample key 0123456789ABCDEFFEDCBA9876543210 is 08D7B4FB629D0885
    // (see kcv.test.ts); written out as K1 K2 K1 it must give the same block.
    const written = fromHex('0123456789ABCDEFFEDCBA98765432100123456789ABCDEF');
    expect(toHex(tdesEcbEncrypt(written, Buffer.alloc(8)))).toBe('08D7B4FB629D0885');
    expect(toHex(tdesCbcEncrypt(written, data))).toBe('41D2FFBA3CDC15FE');
  });

  describe('the one key rule refuses', () => {
    it.each([0, 8, 15, 17, 23, 32])('a %i-byte key', (size) => {
      const badKey = Buffer.from(Array.from({ length: size }, (_, i) => i + 1));
      for (const run of [tdesEcbEncrypt, tdesEcbDecrypt, tdesCbcEncrypt, tdesCbcDecrypt]) {
        expectRefusal(() => run(badKey, Buffer.alloc(8)), PaymentCryptoErrorCode.INVALID_KEY);
      }
    });

    it('a key that is not bytes', () => {
      expectRefusal(
        () =>
          tdesEcbEncrypt('0123456789ABCDEFFEDCBA9876543210' as unknown as Buffer, Buffer.alloc(8)),
        PaymentCryptoErrorCode.INVALID_KEY,
      );
    });

    it.each([
      ['K1 = K2 (double length)', '0123456789ABCDEF0123456789ABCDEF'],
      ['K1 = K2 up to parity bits', '0123456789ABCDEF0022446688AACCEE'],
      ['K1 = K2 (triple length)', '0123456789ABCDEF0123456789ABCDEFFEDCBA9876543210'],
      ['K2 = K3 (triple length)', 'FEDCBA98765432100123456789ABCDEF0123456789ABCDEF'],
      ['all zeros (triple length)', '00'.repeat(24)],
    ])('a degenerate key with %s, which is single DES', (_, k) => {
      for (const run of [tdesEcbEncrypt, tdesCbcEncrypt]) {
        const error = expectRefusal(
          () => run(fromHex(k), Buffer.alloc(8)),
          PaymentCryptoErrorCode.INVALID_KEY,
          [k, k.slice(0, 16)],
        );
        expect(error.message).toBe('triple-DES key must not repeat a component key');
      }
    });
  });

  describe('refuses data that is not whole blocks', () => {
    it.each([0, 2, 7, 9, 15])('%i bytes of data', (size) => {
      for (const run of [tdesEcbEncrypt, tdesEcbDecrypt, tdesCbcEncrypt, tdesCbcDecrypt]) {
        expectRefusal(() => run(key, Buffer.alloc(size)), PaymentCryptoErrorCode.INVALID_INPUT);
      }
    });

    it('and a CBC IV that is not 8 bytes', () => {
      expect(codeOf(() => tdesCbcEncrypt(key, data, Buffer.alloc(4)))).toBe('INVALID_INPUT');
      expect(codeOf(() => tdesCbcDecrypt(key, data, Buffer.alloc(9)))).toBe('INVALID_INPUT');
    });
  });
});

describe('single DES (FIPS 46-3, run as des-ede-ecb with K‖K)', () => {
  // Classic FIPS 46 worked example (Stinson, "Cryptography: Theory and Practice", pp. 79-81;
  // J. O. Grabbe, "The DES Algorithm Illustrated"): K 133457799BBCDFF1, P 0123456789ABCDEF
  // -> C 85E813540F0AB405.
  it('matches the textbook DES vector', () => {
    const k = fromHex('133457799BBCDFF1');
    const c = desEcbEncrypt(k, fromHex('0123456789ABCDEF'));
    expect(toHex(c)).toBe('85E813540F0AB405');
    expect(toHex(desEcbDecrypt(k, c))).toBe('0123456789ABCDEF');
  });

  it('requires an 8-byte key and whole blocks', () => {
    expect(codeOf(() => desEcbEncrypt(Buffer.alloc(16), Buffer.alloc(8)))).toBe('INVALID_KEY');
    expect(codeOf(() => desEcbEncrypt(Buffer.alloc(8), Buffer.alloc(4)))).toBe('INVALID_INPUT');
  });
});

describe('DES odd parity (FIPS 46-3)', () => {
  // pyemv pyemv/tools.py doctest adjust_key_parity.
  it('adjusts parity like pyemv', () => {
    const adjusted = adjustOddParity(fromHex('1A2B3C4D5F0A1B2C4D5F6A7B8C9D0F1A'));
    expect(toHex(adjusted)).toBe('1A2A3D4C5E0B1A2C4C5E6B7A8C9D0E1A');
    expect(hasOddParity(adjusted)).toBe(true);
    expect(hasOddParity(fromHex('1A2B3C4D5F0A1B2C4D5F6A7B8C9D0F1A'))).toBe(false);
  });
});
