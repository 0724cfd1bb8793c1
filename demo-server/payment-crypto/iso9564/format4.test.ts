import { createCipheriv } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { fromHex, toHex } from '../bytes.js';
import { PaymentCryptoErrorCode } from '../errors.js';
import { decipherFormat4, encipherFormat4, panField4, pinField4 } from './format4.js';
import { expectRefusal } from '../test-helpers.js';

const fixed = (value: string) => (n: number) => fromHex(value).subarray(0, n);

/** Independent E_K(E_K(field) XOR PAN field), to build blocks around arbitrary PIN fields. */
function forge(field: Buffer, pan: string, key: Buffer): Buffer {
  const aes = (data: Buffer) => {
    const cipher = createCipheriv(`aes-${key.length * 8}-ecb`, key, null).setAutoPadding(false);
    return Buffer.concat([cipher.update(data), cipher.final()]);
  };
  const panField = panField4(pan);
  return aes(Buffer.from(aes(field).map((b, i) => b ^ panField[i]!)));
}

// ISO 9564-1:2017 §9.4: PIN field §9.4.2.2.2, PAN field §9.4.2.2.3, encipherment §9.4.2.3.
describe('ISO 9564-1 format 4', () => {
  describe('pinField4', () => {
    it('builds 4 N PIN A-fill then the random bytes', () => {
      // ANSI X9.24-3-2017 supplement test vectors (AES PIN block format 4): PIN 1234 gives
      // 441234AAAAAAAAAA in the first half; as quoted by github.com/openemv/pinblock
      // test/pinblock_format4_test.c and psec tests/test_pinblock.py.
      const field = pinField4('1234', fixed('0123456789ABCDEF'));
      expect(toHex(field)).toBe('441234AAAAAAAAAA0123456789ABCDEF');
    });

    // paysec (github.com/5n00py/paysec) crates/paysec-pinblock/src/iso_9564/tests/test_format_4.rs.
    it.each([
      { pin: '12345', random: '517F9481BA5275FA', field: '4512345AAAAAAAAA517F9481BA5275FA' },
      { pin: '1234567', random: 'CAF92E156B7D4489', field: '471234567AAAAAAACAF92E156B7D4489' },
      { pin: '12345678', random: '424D0369B23E2B4C', field: '4812345678AAAAAA424D0369B23E2B4C' },
      { pin: '12345678901', random: '9B263A096EA64687', field: '4B12345678901AAA9B263A096EA64687' },
      {
        pin: '123456789012',
        random: '8A268C65E92C3B39',
        field: '4C123456789012AA8A268C65E92C3B39',
      },
    ])('encodes PIN $pin to $field', ({ pin, random, field }) => {
      expect(toHex(pinField4(pin, fixed(random)))).toBe(field);
    });

    it('asks for exactly 8 random bytes and refuses any other answer', () => {
      const asked: number[] = [];
      pinField4('1234', (n) => {
        asked.push(n);
        return Buffer.alloc(n);
      });
      expect(asked).toEqual([8]);
      for (const size of [0, 7, 9]) {
        expectRefusal(
          () => pinField4('97531', () => Buffer.alloc(size)),
          PaymentCryptoErrorCode.INVALID_RANDOM,
          ['97531'],
        );
      }
    });
  });

  describe('panField4', () => {
    it.each([
      // ANSI X9.24-3-2017 supplement, via openemv/pinblock test/pinblock_format4_test.c.
      { pan: '4111111111111111', field: '44111111111111111000000000000000' },
      // psec tests/test_pinblock.py.
      { pan: '112233445566778899', field: '61122334455667788990000000000000' },
      // paysec crates/paysec-pinblock/src/iso_9564/tests/test_format_4.rs, every length.
      { pan: '1', field: '00000000000010000000000000000000' },
      { pan: '12', field: '00000000000120000000000000000000' },
      { pan: '123', field: '00000000001230000000000000000000' },
      { pan: '1234', field: '00000000012340000000000000000000' },
      { pan: '1234567890', field: '00012345678900000000000000000000' },
      { pan: '123456789012', field: '01234567890120000000000000000000' },
      { pan: '1234567890123', field: '11234567890123000000000000000000' },
      { pan: '12345678901234', field: '21234567890123400000000000000000' },
      { pan: '123456789012345', field: '31234567890123450000000000000000' },
      { pan: '1234567890123456', field: '41234567890123456000000000000000' },
      { pan: '12345678901234567', field: '51234567890123456700000000000000' },
      { pan: '123456789012345678', field: '61234567890123456780000000000000' },
      { pan: '1234567890123456789', field: '71234567890123456789000000000000' },
      // openemv/pinblock: 9-digit PAN, M = 0, right-justified in 12 digits.
      { pan: '123456789', field: '00001234567890000000000000000000' },
    ])('encodes PAN $pan to $field', ({ pan, field }) => {
      expect(toHex(panField4(pan))).toBe(field);
    });
  });

  describe('encipherFormat4', () => {
    it('matches psec / paysec (AES-128, random bytes FF)', () => {
      // psec tests/test_pinblock.py test_encipher_pinblock_iso_4_det; also paysec
      // test_encipher_pinblock_iso_4_valid.
      const key = fromHex('00112233445566778899AABBCCDDEEFF');
      const block = encipherFormat4('1234', '1234567890123456789', key, fixed('FFFFFFFFFFFFFFFF'));
      expect(toHex(block)).toBe('28B41FDDD29B743E93124BD8E32D921E');
    });

    it('matches the WPAY worked example (AES-256)', () => {
      // WPAY developer hub, "AES 128-bit PIN Block or ISO Format 4" (Cards Connect reference):
      // AES-256 PIN key, PIN 1234, random FFC853BBF9685D5E. With the full 16-digit PAN the block
      // is 060E768D...; the page's "12 digits PAN" variant feeds 748123456789 as the PAN.
      const key = fromHex('62CB437131C129DF001D42676011975150506E2A382145FD9BDEA7EC5A339F63');
      const random = fixed('FFC853BBF9685D5E');
      expect(toHex(pinField4('1234', random))).toBe('441234AAAAAAAAAAFFC853BBF9685D5E');
      expect(toHex(panField4('5237481234567895'))).toBe('45237481234567895000000000000000');
      expect(toHex(encipherFormat4('1234', '5237481234567895', key, random))).toBe(
        '060E768D21D709B5D2A3F9660A704B9D',
      );
      expect(toHex(panField4('748123456789'))).toBe('07481234567890000000000000000000');
      expect(toHex(encipherFormat4('1234', '748123456789', key, random))).toBe(
        '225EF53C962E6AD84AC671C160A44627',
      );
    });

    it('uses fresh randomness by default, so equal PINs give different blocks', () => {
      const key = fromHex('00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF');
      const a = encipherFormat4('2468', '4921876543210987', key);
      const b = encipherFormat4('2468', '4921876543210987', key);
      expect(a).toHaveLength(16);
      expect(toHex(a)).not.toBe(toHex(b));
    });
  });

  describe('decipherFormat4', () => {
    it.each([
      {
        source: 'ep2 Security Specification 8.0.0 §8.4, via psec tests/test_pinblock.py',
        key: 'C1D0F8FB4958670DBA40AB1F3752EF0D',
        block: 'CC17F65586BFD0953010226C4FC5B3CA',
        pan: '432198765432109870',
        pin: '1234',
      },
      {
        source: 'psec tests/test_pinblock.py (PAN shorter than 12 digits)',
        key: '00112233445566778899AABBCCDDEEFF',
        block: '39B69B1B91FE05D48F7EF0D68EB2CBD6',
        pan: '1',
        pin: '123456',
      },
      {
        source: 'paysec test_format_4.rs test_decipher_pinblock_iso_4_various',
        key: '00112233445566778899AABBCCDDEEFF',
        block: '52DB178C6EDCE52E3A70F7FBC8E9C758',
        pan: '1234567890123456',
        pin: '1234',
      },
      {
        source: 'paysec test_format_4.rs test_decipher_pinblock_iso_4_various',
        key: '00112233445566778899AABBCCDDEEFF',
        block: '847A0209C659E4C4A79CA6A2A2217D31',
        pan: '123456789012345678',
        pin: '123456',
      },
      {
        source: 'paysec test_format_4.rs test_decipher_pinblock_iso_4_various',
        key: '00112233445566778899AABBCCDDEEFF',
        block: '018BFEC8B5EF60181A327AD8325A2BA4',
        pan: '1234567890123456789',
        pin: '12345678',
      },
      {
        source: 'WPAY developer hub AES-256 worked example',
        key: '62CB437131C129DF001D42676011975150506E2A382145FD9BDEA7EC5A339F63',
        block: '060E768D21D709B5D2A3F9660A704B9D',
        pan: '5237481234567895',
        pin: '1234',
      },
    ])('recovers PIN $pin ($source)', ({ key, block, pan, pin }) => {
      expect(decipherFormat4(fromHex(block), pan, fromHex(key))).toBe(pin);
    });

    it.each([16, 24, 32])('round-trips every PIN length under a %i-byte key', (size) => {
      const key = Buffer.from(Array.from({ length: size }, (_, i) => (i * 37 + 11) & 0xff));
      for (let length = 4; length <= 12; length++) {
        const pin = '864209753124'.slice(0, length);
        for (const pan of ['4921876543210987', '12345678', '4000123456789012345']) {
          expect(decipherFormat4(encipherFormat4(pin, pan, key), pan, key)).toBe(pin);
        }
      }
    });
  });

  describe('refuses', () => {
    const key = fromHex('00112233445566778899AABBCCDDEEFF');
    const pan = '4921876543210987';

    it.each(['123', '1234567890123', '12a4', ''])('PIN %j', (pin) => {
      expectRefusal(() => encipherFormat4(pin, pan, key), PaymentCryptoErrorCode.INVALID_PIN, [
        pin,
        pan,
      ]);
      expectRefusal(() => pinField4(pin), PaymentCryptoErrorCode.INVALID_PIN, [pin]);
    });

    it.each(['', '49218765432109876543', '4921-8765', '492187654321098７'])('PAN %j', (badPan) => {
      expectRefusal(
        () => encipherFormat4('97531', badPan, key),
        PaymentCryptoErrorCode.INVALID_PAN,
        ['97531', badPan],
      );
      expectRefusal(() => panField4(badPan), PaymentCryptoErrorCode.INVALID_PAN, [badPan]);
      expectRefusal(
        () => decipherFormat4(fromHex('CC17F65586BFD0953010226C4FC5B3CA'), badPan, key),
        PaymentCryptoErrorCode.INVALID_PAN,
        [badPan],
      );
    });

    it.each([0, 8, 15, 17, 31, 33, 64])('a %i-byte key', (size) => {
      const badKey = Buffer.alloc(size, 0x5a);
      expectRefusal(
        () => encipherFormat4('97531', pan, badKey),
        PaymentCryptoErrorCode.INVALID_KEY,
        ['97531', pan],
      );
      expectRefusal(
        () => decipherFormat4(fromHex('CC17F65586BFD0953010226C4FC5B3CA'), pan, badKey),
        PaymentCryptoErrorCode.INVALID_KEY,
        [pan],
      );
    });

    it('a key given as a hex string', () => {
      expectRefusal(
        () =>
          encipherFormat4('97531', pan, '00112233445566778899AABBCCDDEEFF' as unknown as Buffer),
        PaymentCryptoErrorCode.INVALID_KEY,
      );
    });

    it.each(['CC17F65586BFD0953010226C4FC5B3CA00', 'CC17F65586BFD095', ''])(
      'a block of the wrong size (%j)',
      (block) => {
        expectRefusal(
          () => decipherFormat4(fromHex(block), pan, key),
          PaymentCryptoErrorCode.INVALID_BLOCK,
        );
      },
    );

    // Malformed enciphered blocks published in psec tests/test_pinblock.py
    // (test_decipher_pinblock_iso_4_exception); the last one uses an AES-192 key.
    it.each([
      {
        fault: 'control field 3',
        key: 'E60B15B90ABDF14CEE337C97440F0D6E',
        block: '7D5AF4C33667A2098626027FB7A9A1B7',
        pan: '4266229809609384667',
      },
      {
        fault: 'a non-decimal PIN digit',
        key: 'C7BBEBA16C5AD97D5866450718C03750',
        block: '2F9C910447F17293EC95DEDE1E3CA201',
        pan: '8220499325458689523',
      },
      {
        fault: 'fill digits B instead of A',
        key: '820F6C7C12355BDFF1AB6CE12E8EED89',
        block: 'CCF310A8300B46C925A86B1098089301',
        pan: '939589847393485609',
      },
      {
        fault: 'PIN length 3',
        key: '4FE3F0311936FBCE44F17159F1659CF09B2BF8913BB514A1',
        block: '51334B00A6CBA3EC7B1C6F871F060AFC',
        pan: '2129100799029059903',
      },
    ])('a block deciphering to $fault', ({ key: k, block, pan: p }) => {
      const error = expectRefusal(
        () => decipherFormat4(fromHex(block), p, fromHex(k)),
        PaymentCryptoErrorCode.INVALID_BLOCK,
        [p],
      );
      expect(error.message).toBe('PIN block does not hold a well-formed format 4 PIN field');
    });

    it.each([
      ['PIN length 13', '4D1234567890123A0000000000000000'],
      ['PIN length 0', '40AAAAAAAAAAAAAA0000000000000000'],
      ['a fill digit F', '441234AAAAAAAAAF0000000000000000'],
      ['control field 0', '041234AAAAAAAAAA0000000000000000'],
    ])('a block deciphering to %s', (_, field) => {
      const block = forge(fromHex(field), pan, key);
      expectRefusal(() => decipherFormat4(block, pan, key), PaymentCryptoErrorCode.INVALID_BLOCK, [
        pan,
      ]);
    });

    it('a forged field that is well formed deciphers (the forge helper is sound)', () => {
      const block = forge(fromHex('441234AAAAAAAAAA0000000000000000'), pan, key);
      expect(decipherFormat4(block, pan, key)).toBe('1234');
    });

    it('a block deciphered with the wrong PAN or the wrong key', () => {
      const block = encipherFormat4('97531', pan, key, fixed('0011223344556677'));
      expectRefusal(
        () => decipherFormat4(block, '4921876543210995', key),
        PaymentCryptoErrorCode.INVALID_BLOCK,
        ['97531', '4921876543210995'],
      );
      const otherKey = fromHex('00112233445566778899AABBCCDDEEFE');
      expectRefusal(
        () => decipherFormat4(block, pan, otherKey),
        PaymentCryptoErrorCode.INVALID_BLOCK,
        ['97531', pan],
      );
    });
  });
});
