import { describe, expect, it } from 'vitest';

import { fromHex, toHex } from '../bytes.js';
import { PaymentCryptoErrorCode } from '../errors.js';
import { decodeFormat3, encodeFormat3 } from './format3.js';
import { expectRefusal } from '../test-helpers.js';

const fixed = (fill: string) => () => fromHex(fill);

// ISO 9564-1:2017 §9.3.5: format 0 with random fill digits A..F (§9.3.5.2).
describe('ISO 9564-1 format 3', () => {
  // Published vectors, all with fill digits F (random source returning 0xFF bytes):
  // paysec (github.com/5n00py/paysec) crates/paysec-pinblock/src/iso_9564/tests/test_format_3.rs.
  const paysec = [
    { pin: '1234', pan: '12345678901234', block: '341217BA9876FEDC' },
    { pin: '12345', pan: '1234567890123', block: '3512266BA9876FED' },
    { pin: '123456', pan: '123456789012345', block: '36120000876FEDCB' },
    { pin: '1234567', pan: '1234567890123456', block: '37127131F6FEDCBA' },
    { pin: '12345678', pan: '12345678901234567', block: '3812622EE8EDCBA9' },
    { pin: '12345678901', pan: '123456789012345678', block: '3B1253DF79B35A98' },
    { pin: '123456789012', pan: '1234567890123456789', block: '3C124CC66AA44487' },
  ];

  it.each(paysec)('encodes PIN $pin with PAN $pan and F fill to $block', ({ pin, pan, block }) => {
    expect(toHex(encodeFormat3(pin, pan, fixed('FFFFFFFFFFFFFFFF')))).toBe(block);
  });

  it.each(paysec)('decodes $block with PAN $pan to PIN $pin', ({ pin, pan, block }) => {
    expect(decodeFormat3(fromHex(block), pan)).toBe(pin);
  });

  it('reproduces the IBM ISO-3 example (fill AFBECDDC)', () => {
    // IBM Docs, "ISO Format 3" (Linux on IBM Z, CCA): PIN 123456, intermediate PIN block
    // 36123456AFBECDDC, PAN block 0000222333444555, PIN block 361216759CFA8889. IBM's account
    // number 111222333444555 is given with the check digit already stripped; a check digit
    // (0) is appended here so the rightmost-12-excluding-check-digit rule selects the same
    // digits 222333444555.
    const block = encodeFormat3('123456', '1112223334445550', fixed('AFBECDDC'));
    expect(toHex(block)).toBe('361216759CFA8889');
    expect(decodeFormat3(block, '1112223334445550')).toBe('123456');
  });

  // Blocks with mixed fill digits: psec (github.com/knovichikhin/psec) tests/test_pinblock.py.
  it.each([
    { pin: '1234', block: '341261AAAAEDCBA9' },
    { pin: '123456789', block: '391261032D8DCBA9' },
    { pin: '1234567890', block: '3A1261032D82CBA9' },
    { pin: '123456789012', block: '3C1261032D8226A9' },
  ])('decodes $block to PIN $pin', ({ pin, block }) => {
    expect(decodeFormat3(fromHex(block), '5555555551234567')).toBe(pin);
  });

  it('skips random nibbles outside A..F instead of biasing them into range', () => {
    // PAN 4000000000000002 has an all-zero account field, so the block is the clear PIN field.
    // Of 1A 2B 3C 4D 5E 6F 7A 8B 9C 0D only the low nibbles A..F are kept.
    const block = encodeFormat3('1234', '4000000000000002', fixed('1A2B3C4D5E6F7A8B9C0D'));
    expect(toHex(block)).toBe('341234ABCDEFABCD');
  });

  it('draws again when one draw does not hold enough fill digits', () => {
    let calls = 0;
    const random = () => {
      calls++;
      return fromHex('A0');
    };
    expect(toHex(encodeFormat3('123456789012', '4000000000000002', random))).toBe(
      '3C123456789012AA',
    );
    expect(calls).toBe(2);
  });

  it('uses crypto randomness by default: fill in A..F, blocks differ, round-trips', () => {
    const pan = '4921876543210987';
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const block = encodeFormat3('2468', pan, undefined);
      expect(decodeFormat3(block, pan)).toBe('2468');
      seen.add(toHex(block));
    }
    // 10 random fill digits: a repeat among 20 blocks has probability ~ 190 / 6^10.
    expect(seen.size).toBe(20);
  });

  describe('refuses', () => {
    const pan = '4921876543210987';

    it.each(['123', '1234567890123', '123A'])('PIN %j', (pin) => {
      expectRefusal(() => encodeFormat3(pin, pan), PaymentCryptoErrorCode.INVALID_PIN, [pin, pan]);
    });

    it.each(['49218765432', '49218765432109876543', '49218765432X0987'])('PAN %j', (badPan) => {
      expectRefusal(() => encodeFormat3('97531', badPan), PaymentCryptoErrorCode.INVALID_PAN, [
        '97531',
        badPan,
      ]);
    });

    it('a random source that never yields A..F nibbles', () => {
      expectRefusal(
        () => encodeFormat3('97531', pan, fixed('0123456789')),
        PaymentCryptoErrorCode.INVALID_RANDOM,
        ['97531', pan],
      );
    });

    it('a random source that returns no bytes', () => {
      expectRefusal(
        () => encodeFormat3('97531', pan, () => undefined as unknown as Buffer),
        PaymentCryptoErrorCode.INVALID_RANDOM,
      );
    });

    it('a block of the wrong size', () => {
      expectRefusal(
        () => decodeFormat3(fromHex('341261AAAAEDCB'), pan),
        PaymentCryptoErrorCode.INVALID_BLOCK,
      );
    });

    // Malformed blocks from psec tests/test_pinblock.py (PAN 5555555551234567).
    it.each([
      ['control field 2', '241261AAAAEDCBA9'],
      ['PIN length 15', '3F1261AAAAEDCBA9'],
      ['PIN length 2', '321261AAAAEDCBA9'],
      ['a fill digit outside A..F', '341261AAAAEDCBA2'],
      ['a non-decimal PIN digit', '351261AAAAEDCBA9'],
    ])('a block with %s', (_, block) => {
      const error = expectRefusal(
        () => decodeFormat3(fromHex(block), '5555555551234567'),
        PaymentCryptoErrorCode.INVALID_BLOCK,
        ['5555555551234567'],
      );
      expect(error.message).toBe('PIN block does not hold a well-formed format 3 PIN field');
    });
  });
});
