import { describe, expect, it } from 'vitest';
import { deriveIccMasterKeyOptionA } from './keys.js';
import {
  formatIso9564Format2PinBlock,
  formatVisPinBlock,
  parseIso9564Format2PinBlock,
  parseVisPinBlock,
} from './pin-block.js';
import { codeOf, h, hex } from './test-helpers.js';

describe('ISO 9564-1 format 2 PIN block', () => {
  // pyemv pyemv/sm.py doctest format_iso9564_2_pin_block: "123456789012" -> 2C123456789012FF
  // pyemv tests/test_sm_hsm.py: "9999" -> 249999FFFFFFFFFF, "999999999999" -> 2C999999999999FF
  // pyemv pyemv/sm.py doctest encrypt_command_data uses PIN block 241234FFFFFFFFFF for "1234".
  it.each([
    ['123456789012', '2C123456789012FF'],
    ['9999', '249999FFFFFFFFFF'],
    ['999999999999', '2C999999999999FF'],
    ['1234', '241234FFFFFFFFFF'],
  ])('formats and parses %s', (pin, block) => {
    expect(hex(formatIso9564Format2PinBlock(pin))).toBe(block);
    expect(parseIso9564Format2PinBlock(h(block))).toBe(pin);
  });

  it.each([
    ['wrong control nibble', '141234FFFFFFFFFF'],
    ['length below 4', '23123FFFFFFFFFFF'],
    ['length above 12', '2D1234567890123F'],
    ['non-F fill', '241234FFFFFFFFF0'],
    ['non-digit PIN nibble', '24123AFFFFFFFFFF'],
    ['short block', '241234FFFFFFFF'],
  ])('rejects %s', (_name, block) => {
    expect(codeOf(() => parseIso9564Format2PinBlock(h(block)))).toBe('BAD_PIN_BLOCK');
  });

  it('rejects PINs that are not 4-12 digits without echoing them', () => {
    for (const pin of ['123', '1234567890123', '12a4', '', ' 1234']) {
      expect(codeOf(() => formatIso9564Format2PinBlock(pin))).toBe('INVALID_PIN');
    }
    try {
      formatIso9564Format2PinBlock('9876543210987');
    } catch (err) {
      expect(JSON.stringify(err)).not.toContain('9876543210987');
      expect(String(err)).not.toContain('9876543210987');
    }
  });
});

describe('VIS PIN block (without current PIN)', () => {
  // pyemv pyemv/sm.py doctest format_vis_pin_block: MK-AC 0123456789ABCDEFFEDCBA9876543210,
  // PIN "1234" -> 041234FF76543210
  it('matches the pyemv doctest', () => {
    const mkAc = h('0123456789ABCDEFFEDCBA9876543210');
    expect(hex(formatVisPinBlock(mkAc, '1234'))).toBe('041234FF76543210');
    expect(parseVisPinBlock(mkAc, h('041234FF76543210'))).toBe('1234');
  });

  // pyemv tests/test_sm_hsm.py test_vis_pin_change: MK-AC = Option A of IMK-AC
  // FEDCBA98765432100123456789ABCDEF, PAN 1234567890123456, PSN 01; PIN 9999 -> 049999FFC4B001F1
  it('matches the pyemv HSM-checked vector', () => {
    const mkAc = deriveIccMasterKeyOptionA(
      h('FEDCBA98765432100123456789ABCDEF'),
      '1234567890123456',
      '01',
    );
    expect(hex(formatVisPinBlock(mkAc, '9999'))).toBe('049999FFC4B001F1');
    expect(parseVisPinBlock(mkAc, h('049999FFC4B001F1'))).toBe('9999');
  });

  it('round-trips 4..12 digit PINs and rejects malformed blocks', () => {
    const mkAc = h('0123456789ABCDEFFEDCBA9876543210');
    for (const pin of ['0000', '12345', '987654321098']) {
      expect(parseVisPinBlock(mkAc, formatVisPinBlock(mkAc, pin))).toBe(pin);
    }
    // Length byte 03 after unmasking.
    expect(codeOf(() => parseVisPinBlock(mkAc, h('031234FF76543210')))).toBe('BAD_PIN_BLOCK');
    // Wrong mask (another MK-AC) leaves garbage fill.
    expect(
      codeOf(() => parseVisPinBlock(h('0123456789ABCDEE0000000000000000'), h('041234FF76543210'))),
    ).toBe('BAD_PIN_BLOCK');
    expect(codeOf(() => parseVisPinBlock(mkAc, h('041234FF7654')))).toBe('BAD_PIN_BLOCK');
    expect(codeOf(() => formatVisPinBlock(mkAc.subarray(0, 8), '1234'))).toBe('INVALID_KEY');
    expect(codeOf(() => formatVisPinBlock(mkAc, '12'))).toBe('INVALID_PIN');
  });
});
