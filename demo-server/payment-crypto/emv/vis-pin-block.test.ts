import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { codeOf } from '../test-helpers.js';
import { deriveIccMasterKeyOptionA } from './keys.js';
import { formatVisPinBlock, parseVisPinBlock } from './vis-pin-block.js';

// Visa Integrated Circuit Card Specification (VIS), PIN CHANGE/UNBLOCK without the current
// PIN: VIS PIN block = (00000000 ‖ MK-AC bytes 4..7) XOR the ISO 9564-1 format 0 PIN field.
describe('VIS PIN block (without current PIN)', () => {
  // pyemv pyemv/sm.py doctest format_vis_pin_block: MK-AC 0123456789ABCDEFFEDCBA9876543210,
  // PIN "1234" -> 041234FF76543210
  it('matches the pyemv doctest', () => {
    const mkAc = fromHex('0123456789ABCDEFFEDCBA9876543210');
    expect(toHex(formatVisPinBlock(mkAc, '1234'))).toBe('041234FF76543210');
    expect(parseVisPinBlock(mkAc, fromHex('041234FF76543210'))).toBe('1234');
  });

  // pyemv tests/test_sm_hsm.py test_vis_pin_change: MK-AC = Option A of IMK-AC
  // FEDCBA98765432100123456789ABCDEF, PAN 1234567890123456, PSN 01; PIN 9999 -> 049999FFC4B001F1
  it('matches the pyemv HSM-checked vector', () => {
    const mkAc = deriveIccMasterKeyOptionA(
      fromHex('FEDCBA98765432100123456789ABCDEF'),
      '1234567890123456',
      '01',
    );
    expect(toHex(formatVisPinBlock(mkAc, '9999'))).toBe('049999FFC4B001F1');
    expect(parseVisPinBlock(mkAc, fromHex('049999FFC4B001F1'))).toBe('9999');
  });

  it('round-trips 4..12 digit PINs and rejects malformed blocks', () => {
    const mkAc = fromHex('0123456789ABCDEFFEDCBA9876543210');
    for (const pin of ['0000', '12345', '987654321098']) {
      expect(parseVisPinBlock(mkAc, formatVisPinBlock(mkAc, pin))).toBe(pin);
    }
    // Length byte 03 after unmasking.
    expect(codeOf(() => parseVisPinBlock(mkAc, fromHex('031234FF76543210')))).toBe('INVALID_BLOCK');
    // Wrong mask (another MK-AC) leaves garbage fill.
    expect(
      codeOf(() =>
        parseVisPinBlock(fromHex('0123456789ABCDEE0000000000000000'), fromHex('041234FF76543210')),
      ),
    ).toBe('INVALID_BLOCK');
    expect(codeOf(() => parseVisPinBlock(mkAc, fromHex('041234FF7654')))).toBe('INVALID_BLOCK');
    expect(codeOf(() => formatVisPinBlock(mkAc.subarray(0, 8), '1234'))).toBe('INVALID_KEY');
    expect(codeOf(() => formatVisPinBlock(mkAc, '12'))).toBe('INVALID_PIN');
  });
});
