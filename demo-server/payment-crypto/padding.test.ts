import { describe, expect, it } from 'vitest';

import { fromHex, toHex } from './bytes.js';
import { pad80, unpad80 } from './padding.js';
import { codeOf } from './test-helpers.js';

// ISO/IEC 9797-1 padding method 2 (= ISO/IEC 7816-4): 80 then 00s, always at least one byte.
describe('ISO/IEC 9797-1 padding method 2', () => {
  // pyemv pyemv/mac.py doctest pad_iso9797_2: 1234 -> 1234800000000000
  it('matches the pyemv doctest', () => {
    expect(toHex(pad80(fromHex('1234')))).toBe('1234800000000000');
  });

  // pyemv tests/test_mac.py test_pad_iso9797_2: empty -> 80 00*7; 8 bytes -> 8 bytes + 80 00*7
  it('always adds a byte, a full block when already aligned', () => {
    expect(toHex(pad80(Buffer.alloc(0)))).toBe('8000000000000000');
    for (let i = 0; i < 8; i += 1) {
      const data = Buffer.alloc(i, 0x46);
      expect(pad80(data).equals(Buffer.concat([data, fromHex('80'), Buffer.alloc(7 - i)]))).toBe(
        true,
      );
    }
    const eight = Buffer.alloc(8, 0x46);
    expect(pad80(eight).equals(Buffer.concat([eight, fromHex('80'), Buffer.alloc(7)]))).toBe(true);
    expect(pad80(Buffer.alloc(16, 0x46), 16).length).toBe(32);
  });

  it('unpad80 inverts pad80 and rejects bad padding', () => {
    for (let i = 0; i < 20; i += 1) {
      const data = Buffer.alloc(i, 0x80);
      expect(unpad80(pad80(data)).equals(data)).toBe(true);
    }
    expect(codeOf(() => unpad80(fromHex('1234000000000000')))).toBe('BAD_PADDING');
    expect(codeOf(() => unpad80(fromHex('0000000000000000')))).toBe('BAD_PADDING');
    expect(codeOf(() => unpad80(fromHex('12348000000000')))).toBe('BAD_PADDING');
    expect(codeOf(() => unpad80(Buffer.alloc(0)))).toBe('BAD_PADDING');
    // The 80 must lie in the last block.
    expect(codeOf(() => unpad80(fromHex('80000000000000000000000000000000')))).toBe('BAD_PADDING');
  });
});
