import { describe, expect, it } from 'vitest';

import { fromHex, toHex, xor } from './bytes.js';
import { codeOf } from './test-helpers.js';

describe('toHex / fromHex', () => {
  it('prints bytes as upper-case hex, the way published vectors do', () => {
    expect(toHex(Buffer.from([0x08, 0xd7, 0xb4]))).toBe('08D7B4');
    expect(toHex(new Uint8Array([0xab, 0x01]))).toBe('AB01');
    expect(toHex(Buffer.alloc(0))).toBe('');
  });

  it('prints only the bytes of a view, not its whole buffer', () => {
    expect(toHex(fromHex('0011223344').subarray(1, 3))).toBe('1122');
  });

  it('reads hex of either case back to the same bytes', () => {
    expect(fromHex('08d7B4')).toEqual(Buffer.from([0x08, 0xd7, 0xb4]));
    expect(toHex(fromHex('0123456789abcdefABCDEF'))).toBe('0123456789ABCDEFABCDEF');
    expect(fromHex('')).toEqual(Buffer.alloc(0));
  });

  // Buffer.from(text, 'hex') would return the bytes before the first bad digit.
  it.each(['1', '123', '12G4', '12 34', ' 1234', '0x12', '１２'])('refuses %j', (text) => {
    expect(codeOf(() => fromHex(text))).toBe('INVALID_INPUT');
  });

  it('refuses what is not a string', () => {
    expect(codeOf(() => fromHex(1234 as unknown as string))).toBe('INVALID_INPUT');
  });
});

describe('xor', () => {
  it('xors equal-length byte strings and refuses others', () => {
    expect(toHex(xor(fromHex('F0F0'), fromHex('0FF0')))).toBe('FF00');
    expect(codeOf(() => xor(fromHex('00'), fromHex('0000')))).toBe('INVALID_INPUT');
  });
});
