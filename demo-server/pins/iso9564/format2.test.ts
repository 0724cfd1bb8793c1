import { describe, expect, it } from 'vitest';

import { PinBlockErrorCode } from './errors.js';
import { decodeFormat2, encodeFormat2 } from './format2.js';
import { expectRefusal, hex, toHex } from './test-helpers.js';

describe('ISO 9564-1 format 2', () => {
  // Published vectors: psec (github.com/knovichikhin/psec) tests/test_pinblock.py.
  const vectors = [
    { pin: '1234', block: '241234FFFFFFFFFF' },
    { pin: '123456789', block: '29123456789FFFFF' },
    { pin: '1234567890', block: '2A1234567890FFFF' },
    { pin: '123456789012', block: '2C123456789012FF' },
  ];

  it.each(vectors)('encodes PIN $pin to $block', ({ pin, block }) => {
    expect(toHex(encodeFormat2(pin))).toBe(block);
  });

  it.each(vectors)('decodes $block to PIN $pin', ({ pin, block }) => {
    expect(decodeFormat2(hex(block))).toBe(pin);
  });

  describe('refuses', () => {
    it.each(['123', '1234567890123', '123A', '', '12345 '])('PIN %j', (pin) => {
      expectRefusal(() => encodeFormat2(pin), PinBlockErrorCode.INVALID_PIN, [pin.trim()]);
    });

    it.each(['29123456789FFF', '241234FFFFFFFFFFFF'])('a block of the wrong size (%s)', (b) => {
      expectRefusal(() => decodeFormat2(hex(b)), PinBlockErrorCode.INVALID_BLOCK);
    });

    // Malformed blocks from psec tests/test_pinblock.py.
    it.each([
      ['control field 0', '041234FFFFFFFFFF'],
      ['PIN length 15', '2F123456789012FF'],
      ['PIN length 2', '22123456789012FF'],
      ['a fill digit other than F', '2C123456789012CF'],
      ['a non-decimal PIN digit', '2C12345678901FFF'],
    ])('a block with %s', (_, block) => {
      const error = expectRefusal(
        () => decodeFormat2(hex(block)),
        PinBlockErrorCode.INVALID_BLOCK,
        ['123456789012', '12345678901'],
      );
      expect(error.message).toBe('PIN block does not hold a well-formed format 2 PIN field');
    });
  });
});
