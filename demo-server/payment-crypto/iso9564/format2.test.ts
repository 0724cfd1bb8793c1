import { describe, expect, it } from 'vitest';

import { fromHex, toHex } from '../bytes.js';
import { PaymentCryptoErrorCode } from '../errors.js';
import { expectRefusal } from '../test-helpers.js';
import { decodeFormat2, encodeFormat2 } from './format2.js';

// ISO 9564-1:2017 §9.3.4: 2, N, PIN, F fill. EMV uses it for the new PIN of an issuer-script
// PIN change (EMV_CCD and MASTERCARD profiles), so pyemv's secure-messaging vectors apply too.
describe('ISO 9564-1 format 2', () => {
  const vectors = [
    // psec (github.com/knovichikhin/psec) tests/test_pinblock.py.
    { pin: '1234', block: '241234FFFFFFFFFF' },
    { pin: '123456789', block: '29123456789FFFFF' },
    { pin: '1234567890', block: '2A1234567890FFFF' },
    { pin: '123456789012', block: '2C123456789012FF' },
    // pyemv (github.com/knovichikhin/pyemv) tests/test_sm_hsm.py; pyemv/sm.py doctests
    // format_iso9564_2_pin_block (2C123456789012FF, above) and encrypt_command_data (241234…).
    { pin: '9999', block: '249999FFFFFFFFFF' },
    { pin: '999999999999', block: '2C999999999999FF' },
  ];

  it.each(vectors)('encodes PIN $pin to $block', ({ pin, block }) => {
    expect(toHex(encodeFormat2(pin))).toBe(block);
  });

  it.each(vectors)('decodes $block to PIN $pin', ({ pin, block }) => {
    expect(decodeFormat2(fromHex(block))).toBe(pin);
  });

  describe('refuses', () => {
    it.each(['123', '1234567890123', '123A', '12a4', '', '12345 ', ' 1234'])('PIN %j', (pin) => {
      expectRefusal(() => encodeFormat2(pin), PaymentCryptoErrorCode.INVALID_PIN, [pin.trim()]);
    });

    it('a 13-digit PIN without echoing it', () => {
      expectRefusal(() => encodeFormat2('9876543210987'), PaymentCryptoErrorCode.INVALID_PIN, [
        '9876543210987',
      ]);
    });

    it.each(['29123456789FFF', '241234FFFFFFFFFFFF', '241234FFFFFFFF'])(
      'a block of the wrong size (%s)',
      (b) => {
        expectRefusal(() => decodeFormat2(fromHex(b)), PaymentCryptoErrorCode.INVALID_BLOCK);
      },
    );

    // Malformed blocks from psec tests/test_pinblock.py, then the cases the EMV module
    // checked (control 1, lengths 3 and 13, fill 0, digit A).
    it.each([
      ['control field 0', '041234FFFFFFFFFF'],
      ['PIN length 15', '2F123456789012FF'],
      ['PIN length 2', '22123456789012FF'],
      ['a fill digit other than F', '2C123456789012CF'],
      ['a non-decimal PIN digit', '2C12345678901FFF'],
      ['control field 1', '141234FFFFFFFFFF'],
      ['PIN length 3', '23123FFFFFFFFFFF'],
      ['PIN length 13', '2D1234567890123F'],
      ['a fill digit 0', '241234FFFFFFFFF0'],
      ['a PIN digit A', '24123AFFFFFFFFFF'],
    ])('a block with %s', (_, block) => {
      const error = expectRefusal(
        () => decodeFormat2(fromHex(block)),
        PaymentCryptoErrorCode.INVALID_BLOCK,
        ['123456789012', '12345678901', '1234567890123'],
      );
      expect(error.message).toBe('PIN block does not hold a well-formed format 2 PIN field');
    });
  });
});
