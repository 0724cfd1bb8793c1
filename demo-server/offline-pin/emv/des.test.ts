import { describe, expect, it } from 'vitest';
import {
  adjustOddParity,
  desEcbDecrypt,
  desEcbEncrypt,
  hasOddParity,
  keyCheckValue,
  pad80,
  tdesCbcDecrypt,
  tdesCbcEncrypt,
  tdesEcbDecrypt,
  tdesEcbEncrypt,
  unpad80,
  xor,
} from './des.js';
import { codeOf, h, hex } from './test-helpers.js';

describe('Triple DES (two-key EDE)', () => {
  // pyemv (knovichikhin/pyemv) pyemv/tools.py doctests of encrypt_tdes_ecb / encrypt_tdes_cbc:
  // key 0123456789ABCDEFFEDCBA9876543210, data b"12345678", zero IV -> 41D2FFBA3CDC15FE
  const key = h('0123456789ABCDEFFEDCBA9876543210');
  const data = Buffer.from('12345678', 'ascii');

  it('ECB matches the pyemv published vector and decrypts back', () => {
    const ct = tdesEcbEncrypt(key, data);
    expect(hex(ct)).toBe('41D2FFBA3CDC15FE');
    expect(tdesEcbDecrypt(key, ct).equals(data)).toBe(true);
  });

  it('CBC with zero IV matches the pyemv published vector and decrypts back', () => {
    const ct = tdesCbcEncrypt(key, data);
    expect(hex(ct)).toBe('41D2FFBA3CDC15FE');
    expect(tdesCbcDecrypt(key, ct).equals(data)).toBe(true);
  });

  it('CBC chains blocks (second block differs from ECB) and round-trips', () => {
    const two = Buffer.concat([data, data]);
    const cbc = tdesCbcEncrypt(key, two);
    expect(hex(cbc.subarray(0, 8))).toBe('41D2FFBA3CDC15FE');
    expect(cbc.subarray(8).equals(tdesEcbEncrypt(key, data))).toBe(false);
    expect(tdesCbcDecrypt(key, cbc).equals(two)).toBe(true);
  });

  it('rejects non double-length keys and partial blocks', () => {
    expect(codeOf(() => tdesEcbEncrypt(h('0123456789ABCDEF'), data))).toBe('INVALID_KEY');
    expect(codeOf(() => tdesEcbEncrypt(Buffer.alloc(24), data))).toBe('INVALID_KEY');
    expect(codeOf(() => tdesCbcEncrypt(key, h('1234')))).toBe('INVALID_INPUT');
    expect(codeOf(() => tdesCbcEncrypt(key, Buffer.alloc(0)))).toBe('INVALID_INPUT');
    expect(codeOf(() => tdesCbcEncrypt(key, data, Buffer.alloc(4)))).toBe('INVALID_INPUT');
  });
});

describe('single DES (des-ede-ecb with K||K)', () => {
  // Classic FIPS 46 worked example (Stinson, "Cryptography: Theory and Practice", pp. 79-81;
  // J. O. Grabbe, "The DES Algorithm Illustrated"): K 133457799BBCDFF1, P 0123456789ABCDEF
  // -> C 85E813540F0AB405.
  it('matches the textbook DES vector', () => {
    const k = h('133457799BBCDFF1');
    const c = desEcbEncrypt(k, h('0123456789ABCDEF'));
    expect(hex(c)).toBe('85E813540F0AB405');
    expect(hex(desEcbDecrypt(k, c))).toBe('0123456789ABCDEF');
  });

  it('requires an 8-byte key', () => {
    expect(codeOf(() => desEcbEncrypt(Buffer.alloc(16), Buffer.alloc(8)))).toBe('INVALID_KEY');
  });
});

describe('ISO/IEC 9797-1 padding method 2', () => {
  // pyemv pyemv/mac.py doctest pad_iso9797_2: 1234 -> 1234800000000000
  it('matches the pyemv doctest', () => {
    expect(hex(pad80(h('1234')))).toBe('1234800000000000');
  });

  // pyemv tests/test_mac.py test_pad_iso9797_2: empty -> 80 00*7; 8 bytes -> 8 bytes + 80 00*7
  it('always adds a byte, a full block when already aligned', () => {
    expect(hex(pad80(Buffer.alloc(0)))).toBe('8000000000000000');
    for (let i = 0; i < 8; i += 1) {
      const data = Buffer.alloc(i, 0x46);
      expect(pad80(data).equals(Buffer.concat([data, h('80'), Buffer.alloc(7 - i)]))).toBe(true);
    }
    const eight = Buffer.alloc(8, 0x46);
    expect(pad80(eight).equals(Buffer.concat([eight, h('80'), Buffer.alloc(7)]))).toBe(true);
    expect(pad80(Buffer.alloc(16, 0x46), 16).length).toBe(32);
  });

  it('unpad80 inverts pad80 and rejects bad padding', () => {
    for (let i = 0; i < 20; i += 1) {
      const data = Buffer.alloc(i, 0x80);
      expect(unpad80(pad80(data)).equals(data)).toBe(true);
    }
    expect(codeOf(() => unpad80(h('1234000000000000')))).toBe('BAD_PADDING');
    expect(codeOf(() => unpad80(h('0000000000000000')))).toBe('BAD_PADDING');
    expect(codeOf(() => unpad80(h('12348000000000')))).toBe('BAD_PADDING');
    expect(codeOf(() => unpad80(Buffer.alloc(0)))).toBe('BAD_PADDING');
    // The 80 must lie in the last block.
    expect(codeOf(() => unpad80(h('80000000000000000000000000000000')))).toBe('BAD_PADDING');
  });
});

describe('odd parity and KCV', () => {
  // pyemv pyemv/tools.py doctest adjust_key_parity.
  it('adjusts parity like pyemv', () => {
    const adjusted = adjustOddParity(h('1A2B3C4D5F0A1B2C4D5F6A7B8C9D0F1A'));
    expect(hex(adjusted)).toBe('1A2A3D4C5E0B1A2C4C5E6B7A8C9D0E1A');
    expect(hasOddParity(adjusted)).toBe(true);
    expect(hasOddParity(h('1A2B3C4D5F0A1B2C4D5F6A7B8C9D0F1A'))).toBe(false);
  });

  // pyemv tools.py doctest key_check_digits (08D7) and tests/test_sm_hsm.py (3-byte KCVs).
  it('computes key check values', () => {
    expect(hex(keyCheckValue(h('0123456789ABCDEFFEDCBA9876543210'), 2))).toBe('08D7');
    expect(hex(keyCheckValue(h('0123456789ABCDEFFEDCBA9876543210')))).toBe('08D7B4');
    expect(hex(keyCheckValue(h('11111111111111112222222222222222')))).toBe('D2B91C');
    expect(hex(keyCheckValue(h('FEDCBA98765432100123456789ABCDEF')))).toBe('7B8358');
  });

  it('xor requires equal lengths', () => {
    expect(hex(xor(h('F0F0'), h('0FF0')))).toBe('FF00');
    expect(codeOf(() => xor(h('00'), h('0000')))).toBe('INVALID_INPUT');
  });
});
