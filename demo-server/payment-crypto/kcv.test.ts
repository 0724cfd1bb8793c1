import { createCipheriv } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { fromHex, toHex } from './bytes.js';
import { keyCheckValue } from './kcv.js';
import { codeOf } from './test-helpers.js';

// ANSI X9.24-1 key check value: the leftmost bytes of the key enciphering a block of zeros.
describe('key check value, triple DES', () => {
  it.each([
    // The ANSI sample key (ID TECH's key-injection notes call it "the ANSI standard key"):
    // E_K(0^64) = 08D7B4FB629D0885; pyemv pyemv/tools.py doctest key_check_digits gives 08D7.
    { key: '0123456789ABCDEFFEDCBA9876543210', length: 8, kcv: '08D7B4FB629D0885' },
    { key: '0123456789ABCDEFFEDCBA9876543210', length: 2, kcv: '08D7' },
    { key: '0123456789ABCDEFFEDCBA9876543210', length: 3, kcv: '08D7B4' },
    // crypto.stackexchange.com/questions/37379: PC Crypto component with KCV 212CF915.
    { key: 'E6F1081FEA4C402CC192B65DE367EC3E', length: 4, kcv: '212CF915' },
    // pyemv tests/test_sm_hsm.py (3-byte KCVs of the HSM-checked IMKs).
    { key: '11111111111111112222222222222222', length: 3, kcv: 'D2B91C' },
    { key: 'FEDCBA98765432100123456789ABCDEF', length: 3, kcv: '7B8358' },
  ])('uses K1 K2 K1: $key gives $kcv', ({ key, length, kcv }) => {
    expect(toHex(keyCheckValue(fromHex(key), length))).toBe(kcv);
    expect(toHex(keyCheckValue(fromHex(key), length, 'TDES'))).toBe(kcv);
  });

  it('is 3 bytes unless told otherwise', () => {
    expect(toHex(keyCheckValue(fromHex('0123456789ABCDEFFEDCBA9876543210')))).toBe('08D7B4');
  });

  it('follows the triple-DES key rule', () => {
    expect(codeOf(() => keyCheckValue(fromHex('0123456789ABCDEF0123456789ABCDEF')))).toBe(
      'INVALID_KEY',
    );
    expect(codeOf(() => keyCheckValue(fromHex('0123456789ABCDEF')))).toBe('INVALID_KEY');
  });
});

describe('key check value, AES (zero-block method)', () => {
  // NIST AESAVS (CAVS 11.1) KeySbox known-answer values encipher a zero block, so the
  // ciphertext is the whole check block: ECBKeySbox128 and ECBKeySbox256, COUNT = 0.
  it.each([
    {
      key: '10A58869D74BE5A374CF867CFB473859',
      block: '6D251E6944B051E04EAA6FB4DBF78465',
    },
    {
      key: 'C47B0294DBBBEE0FEC4757F22FFEEE3587CA4730C3D33B691DF38BAB076BC558',
      block: '46F2FB342D6F0AB477476FC501242C5F',
    },
  ])('matches the AESAVS KeySbox value for $key', ({ key, block }) => {
    expect(toHex(keyCheckValue(fromHex(key), 16, 'AES'))).toBe(block);
    expect(toHex(keyCheckValue(fromHex(key), 3, 'AES'))).toBe(block.slice(0, 6));
  });

  it('equals the first 3 bytes of AES-256-ECB of a zero block (the format 4 export key_id)', () => {
    const key = fromHex('CD'.repeat(32));
    const cipher = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    const independent = Buffer.concat([cipher.update(Buffer.alloc(16)), cipher.final()]);
    expect(toHex(keyCheckValue(key, 3, 'AES'))).toBe(toHex(independent.subarray(0, 3)));
  });

  it('tells a 16-byte AES key from a 16-byte triple-DES key only by the cipher named', () => {
    const key = fromHex('0123456789ABCDEFFEDCBA9876543210');
    expect(toHex(keyCheckValue(key, 3, 'AES'))).not.toBe('08D7B4');
  });

  it('refuses an AES key of another length', () => {
    expect(codeOf(() => keyCheckValue(Buffer.alloc(20), 3, 'AES'))).toBe('INVALID_KEY');
  });
});

describe('key check value length', () => {
  const tdesKey = fromHex('0123456789ABCDEFFEDCBA9876543210');
  const aesKey = fromHex('10A58869D74BE5A374CF867CFB473859');

  it.each([0, 9, 2.5, -1])('refuses %d bytes of a triple-DES check block', (length) => {
    expect(codeOf(() => keyCheckValue(tdesKey, length))).toBe('INVALID_INPUT');
  });

  it.each([0, 17])('refuses %d bytes of an AES check block', (length) => {
    expect(codeOf(() => keyCheckValue(aesKey, length, 'AES'))).toBe('INVALID_INPUT');
  });
});
