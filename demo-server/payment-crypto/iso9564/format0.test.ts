import { describe, expect, it } from 'vitest';

import { fromHex, toHex } from '../bytes.js';
import { PaymentCryptoErrorCode } from '../errors.js';
import { decodeFormat0, encodeFormat0 } from './format0.js';
import { expectRefusal } from '../test-helpers.js';

// ISO 9564-1:2017 §9.3.2 (ANSI X9.8, VISA-1): PIN field XOR account number field.
describe('ISO 9564-1 format 0', () => {
  // Published vectors:
  // - PIN 1234 / PAN 43219876543210987: the ISO-0 example of ID TECH's knowledge base
  //   ("PIN Block Formats", atlassian.idtechproducts.com, BP-Tools output), also EFTlab's
  //   "Complete list of PIN-blocks".
  // - PAN 5555555551234567: psec (github.com/knovichikhin/psec) tests/test_pinblock.py.
  const vectors = [
    { pin: '1234', pan: '43219876543210987', block: '0412AC89ABCDEF67' },
    { pin: '1234', pan: '5555555551234567', block: '041261AAAAEDCBA9' },
    { pin: '123456789', pan: '5555555551234567', block: '091261032D8DCBA9' },
    { pin: '1234567890', pan: '5555555551234567', block: '0A1261032D82CBA9' },
    { pin: '123456789012', pan: '5555555551234567', block: '0C1261032D8226A9' },
  ];

  it.each(vectors)('encodes PIN $pin with PAN $pan to $block', ({ pin, pan, block }) => {
    expect(toHex(encodeFormat0(pin, pan))).toBe(block);
  });

  it.each(vectors)('decodes $block with PAN $pan to PIN $pin', ({ pin, pan, block }) => {
    expect(decodeFormat0(fromHex(block), pan)).toBe(pin);
  });

  it('left-pads the account field when the PAN without check digit is under 12 digits', () => {
    // §9.3.2.3 rule applied to a 12-digit PAN: account digits 012345678901.
    // 041234FFFFFFFFFF XOR 0000012345678901 (derived, not a published vector).
    const block = encodeFormat0('1234', '123456789012');
    expect(toHex(block)).toBe('041235DCBA9876FE');
    expect(decodeFormat0(block, '123456789012')).toBe('1234');
  });

  it('round-trips every PIN length with a 19-digit PAN', () => {
    const pan = '4000123456789012345';
    for (let length = 4; length <= 12; length++) {
      const pin = '908172635445'.slice(0, length);
      expect(decodeFormat0(encodeFormat0(pin, pan), pan)).toBe(pin);
    }
  });

  describe('refuses', () => {
    const pan = '4921876543210987';

    it.each(['123', '1234567890123', '12a4', '12 34', '', '１２３４'])('PIN %j', (pin) => {
      expectRefusal(() => encodeFormat0(pin, pan), PaymentCryptoErrorCode.INVALID_PIN, [pin, pan]);
    });

    it('a PIN that is not a string', () => {
      expectRefusal(
        () => encodeFormat0(1234 as unknown as string, pan),
        PaymentCryptoErrorCode.INVALID_PIN,
      );
    });

    it.each(['49218765432', '49218765432109876543', '492187654321098A', ' 4921876543210987'])(
      'PAN %j',
      (badPan) => {
        expectRefusal(() => encodeFormat0('97531', badPan), PaymentCryptoErrorCode.INVALID_PAN, [
          '97531',
          badPan.trim(),
        ]);
        expectRefusal(
          () => decodeFormat0(fromHex('041261AAAAEDCBA9'), badPan),
          PaymentCryptoErrorCode.INVALID_PAN,
          [badPan.trim()],
        );
      },
    );

    it.each(['041261AAAAEDCB', '041261AAAAEDCBA900', ''])('a block of the wrong size (%j)', (b) => {
      expectRefusal(() => decodeFormat0(fromHex(b), pan), PaymentCryptoErrorCode.INVALID_BLOCK);
    });

    it('a block that is not bytes', () => {
      expectRefusal(
        () => decodeFormat0('041261AAAAEDCBA9' as unknown as Buffer, pan),
        PaymentCryptoErrorCode.INVALID_BLOCK,
      );
    });

    // Malformed blocks from psec tests/test_pinblock.py (PAN 5555555551234567).
    it.each([
      ['control field 2', '241261AAAAEDCBA9'],
      ['PIN length 15', '0F1261AAAAEDCBA9'],
      ['PIN length 2', '021261AAAAEDCBA9'],
      ['a fill digit other than F', '041261AAAAEDCBAA'],
      ['a non-decimal PIN digit', '051261AAAAEDCBA9'],
    ])('a block with %s', (_, block) => {
      const error = expectRefusal(
        () => decodeFormat0(fromHex(block), '5555555551234567'),
        PaymentCryptoErrorCode.INVALID_BLOCK,
        ['5555555551234567', '1234'],
      );
      // One message for every content failure, so errors are no format oracle.
      expect(error.message).toBe('PIN block does not hold a well-formed format 0 PIN field');
    });

    it('a block decoded with the wrong PAN', () => {
      const block = encodeFormat0('97531', '4921876543210987');
      expectRefusal(
        () => decodeFormat0(block, '4921876543210995'),
        PaymentCryptoErrorCode.INVALID_BLOCK,
        ['97531', '4921876543210995'],
      );
    });
  });
});
