import type * as NodeCrypto from 'node:crypto';
import { createCipheriv, createHash, randomInt, timingSafeEqual } from 'node:crypto';

import { describe, expect, it, vi } from 'vitest';

import { fromHex, toHex, xor } from '../bytes.js';
import { PaymentCryptoErrorCode } from '../errors.js';
import { expectRefusal } from '../test-helpers.js';
import { type ZonePinBlockFormat, pinMatchesBlock, verifyPinBlock } from './verify.js';

// Watches the comparison: it must go through timingSafeEqual (see 'compares in constant time').
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof NodeCrypto>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

/**
 * Blocks built here from the definitions in ISO 9564-1:2017, with node:crypto ciphers directly
 * and none of this folder's PIN block code, so verification is checked against an
 * implementation it does not share.
 */
function encipher(algorithm: 'des-ede-ecb' | 'aes-256-ecb', key: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv(algorithm, key, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** A plain text PIN field: control, length, digits, fill to 16 nibbles (§9.3.2.2, §9.4.2.2.2). */
const pinField = (control: string, pin: string, fill: string): string =>
  `${control}${pin.length.toString(16)}${pin}`.padEnd(16, fill).toUpperCase();

/** §9.3.2: PIN field XOR 0000 ‖ the 12 PAN digits left of the check digit. */
const clearFormat0 = (field: string, pan: string): Buffer =>
  xor(fromHex(field), fromHex(`0000${pan.slice(0, -1).slice(-12).padStart(12, '0')}`));

const format0Block = (field: string, pan: string, key: Buffer): Buffer =>
  encipher('des-ede-ecb', key, clearFormat0(field, pan));

/** §9.4.2.3: E_K(E_K(PIN field ‖ random) XOR (M ‖ PAN, zero padded)). */
function format4Block(
  field: string,
  pan: string,
  key: Buffer,
  random = '0123456789ABCDEF',
): Buffer {
  const panField = `${Math.max(pan.length - 12, 0)}${pan.padStart(12, '0')}`.padEnd(32, '0');
  const aes = (data: Buffer) => encipher('aes-256-ecb', key, data);
  return aes(xor(aes(fromHex(field + random)), fromHex(panField)));
}

const PAN = '5237481234567895';
/** pyemv's double-length test key (pyemv/tools.py doctests), as the zone PIN key for format 0. */
const ZONE_TDES = fromHex('0123456789ABCDEFFEDCBA9876543210');
const ZONE_AES = fromHex('00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF');
/**
 * WPAY developer hub AES-256 worked example ("AES 128-bit PIN Block or ISO Format 4"): PIN
 * 1234, PAN 5237481234567895, random FFC853BBF9685D5E, also a vector of format4.test.ts. It
 * stands for the issuer's stored PIN.
 */
const STORE_KEY = fromHex('62CB437131C129DF001D42676011975150506E2A382145FD9BDEA7EC5A339F63');
const WPAY_BLOCK = fromHex('060E768D21D709B5D2A3F9660A704B9D');
const STORED_1234 = { block: WPAY_BLOCK, key: STORE_KEY };

const stored = (pin: string, pan = PAN) => ({
  block: format4Block(pinField('4', pin, 'A'), pan, STORE_KEY, 'A1B2C3D4E5F60718'),
  key: STORE_KEY,
});

const terminal = {
  ISO_9564_0: (pin: string, pan = PAN, key = ZONE_TDES) =>
    format0Block(pinField('0', pin, 'F'), pan, key),
  ISO_9564_4: (pin: string, pan = PAN, key = ZONE_AES) =>
    format4Block(pinField('4', pin, 'A'), pan, key),
};
const zoneKey = { ISO_9564_0: ZONE_TDES, ISO_9564_4: ZONE_AES };
const formats = ['ISO_9564_0', 'ISO_9564_4'] as const;

const verify = (
  format: ZonePinBlockFormat,
  block: Buffer,
  over: { pan?: string; key?: Buffer; reference?: { block: Buffer; key: Buffer } } = {},
) =>
  verifyPinBlock({
    format,
    block,
    pan: over.pan ?? PAN,
    key: over.key ?? zoneKey[format],
    reference: over.reference ?? STORED_1234,
  });

describe('the independent block builders', () => {
  // The published vectors of format0.test.ts (ID TECH / EFTlab; psec tests/test_pinblock.py).
  it.each([
    { pin: '1234', pan: '43219876543210987', block: '0412AC89ABCDEF67' },
    { pin: '1234', pan: '5555555551234567', block: '041261AAAAEDCBA9' },
    { pin: '123456789012', pan: '5555555551234567', block: '0C1261032D8226A9' },
  ])('build the format 0 vector $block', ({ pin, pan, block }) => {
    expect(toHex(clearFormat0(pinField('0', pin, 'F'), pan))).toBe(block);
  });

  it('build the WPAY format 4 vector', () => {
    const block = format4Block(pinField('4', '1234', 'A'), PAN, STORE_KEY, 'FFC853BBF9685D5E');
    expect(toHex(block)).toBe(toHex(WPAY_BLOCK));
  });
});

// ISO 9564-1:2017 §9.3.2 (format 0) and §9.4 (format 4) blocks against a format 4 reference.
describe('verifyPinBlock', () => {
  it.each(formats)('%s: the right PIN against the published WPAY reference is a MATCH', (f) => {
    expect(verify(f, terminal[f]('1234'))).toBe('MATCH');
  });

  it('the published WPAY block as the terminal block (AES-256 zone key) is a MATCH', () => {
    expect(verify('ISO_9564_4', WPAY_BLOCK, { key: STORE_KEY, reference: stored('1234') })).toBe(
      'MATCH',
    );
  });

  describe.each(formats)('%s', (format) => {
    it.each(['1235', '4321', '0000', '9234'])('PIN %s against 1234 is a MISMATCH', (pin) => {
      expect(verify(format, terminal[format](pin))).toBe('MISMATCH');
    });

    it.each(['12345', '123412', '123456789012'])(
      'a longer PIN starting with 1234 (%s) is a MISMATCH',
      (pin) => {
        expect(verify(format, terminal[format](pin))).toBe('MISMATCH');
      },
    );

    it('a reference of another length holding the same first digits is a MISMATCH', () => {
      const block = terminal[format]('1234');
      expect(verify(format, block, { reference: stored('123456') })).toBe('MISMATCH');
      expect(verify(format, terminal[format]('123456'), { reference: stored('123456') })).toBe(
        'MATCH',
      );
    });

    it('a block of another size is MALFORMED, even when it starts with the right block', () => {
      const right = terminal[format]('1234');
      const sizes = format === 'ISO_9564_0' ? [0, 7, 9, 16] : [0, 8, 15, 17, 32];
      for (const size of sizes) {
        const block = Buffer.concat([right, right]).subarray(0, size);
        expect(verify(format, block)).toBe('MALFORMED');
      }
    });

    it('a block that is not bytes is MALFORMED, not an exception', () => {
      const hex = toHex(terminal[format]('1234'));
      expect(verify(format, hex as unknown as Buffer)).toBe('MALFORMED');
      expect(verify(format, undefined as unknown as Buffer)).toBe('MALFORMED');
    });

    it('deterministic garbage blocks are MALFORMED', () => {
      const size = format === 'ISO_9564_0' ? 8 : 16;
      for (let i = 0; i < 200; i++) {
        const garbage = createHash('sha256').update(`garbage ${i}`).digest().subarray(0, size);
        expect(verify(format, garbage)).toBe('MALFORMED');
      }
      expect(verify(format, Buffer.alloc(size))).toBe('MALFORMED');
      expect(verify(format, Buffer.alloc(size, 0xff))).toBe('MALFORMED');
    });

    it('a block enciphered under another zone key is MALFORMED', () => {
      const otherKey =
        format === 'ISO_9564_0'
          ? fromHex('FEDCBA98765432100123456789ABCDEF')
          : fromHex('FF'.repeat(16) + '00'.repeat(16));
      expect(verify(format, terminal[format]('1234', PAN, otherKey))).toBe('MALFORMED');
    });

    it('a block bound to another PAN is MALFORMED', () => {
      // The PANs differ in the last digits before the check digit: the fill of format 0 and
      // the whole block of format 4 come out wrong.
      expect(verify(format, terminal[format]('1234', '5237481234560005'))).toBe('MALFORMED');
    });
  });

  it('format 0 binds only the 12 digits before the check digit (§9.3.2.3)', () => {
    // Another check digit, or other leading digits, give the same account field.
    expect(verify('ISO_9564_0', terminal.ISO_9564_0('1234', '5237481234567890'))).toBe('MATCH');
    expect(verify('ISO_9564_0', terminal.ISO_9564_0('1234', '9997481234567895'))).toBe('MATCH');
    // Format 4 binds the whole PAN.
    expect(verify('ISO_9564_4', terminal.ISO_9564_4('1234', '5237481234567890'))).toBe('MALFORMED');
  });

  // Each field deciphers under the right key and PAN; only its content is wrong.
  describe.each([
    ['ISO_9564_0', '0', 'F'],
    ['ISO_9564_4', '4', 'A'],
  ] as const)('%s fields that are not well formed', (format, control, fill) => {
    const block = (field: string) =>
      format === 'ISO_9564_0'
        ? format0Block(field, PAN, ZONE_TDES)
        : format4Block(field, PAN, ZONE_AES);

    it('a well-formed field built the same way is a MATCH (the builder is sound)', () => {
      expect(verify(format, block(pinField(control, '1234', fill)))).toBe('MATCH');
    });

    it.each([
      ['control nibble 1', pinField('1', '1234', fill)],
      ['control nibble 3', pinField('3', '1234', fill)],
      ['the other format’s control nibble', pinField(control === '0' ? '4' : '0', '1234', fill)],
      ['PIN length 3', pinField(control, '123', fill)],
      ['PIN length 13', pinField(control, '1234567890123', fill)],
      ['PIN length 0', `${control}0`.padEnd(16, fill)],
      ['PIN length 15', `${control}F1234`.padEnd(16, fill)],
      ['a PIN digit A', pinField(control, '12A4', fill)],
      ['a wrong fill nibble', `${pinField(control, '1234', fill).slice(0, 15)}0`],
      ['the other format’s fill', pinField(control, '1234', fill === 'F' ? 'A' : 'F')],
    ])('%s is MALFORMED', (_, field) => {
      expect(verify(format, block(field))).toBe('MALFORMED');
    });
  });

  describe('throws for the caller’s own inputs, before looking at the terminal block', () => {
    const garbage = Buffer.from('not a PIN block');
    const secrets = [PAN, '1234', toHex(ZONE_TDES), toHex(STORE_KEY)];

    it.each([
      ['an 8-byte key', Buffer.alloc(8, 0x31)],
      [
        'a triple-length key (format 0 takes a double-length zone key)',
        fromHex('0123456789ABCDEFFEDCBA987654321089ABCDEF01234567'),
      ],
      ['K1 = K2', fromHex('0123456789ABCDEF0123456789ABCDEF')],
      ['a hex string', toHex(ZONE_TDES) as unknown as Buffer],
    ])('format 0 with %s', (_, key) => {
      for (const block of [terminal.ISO_9564_0('1234'), garbage]) {
        expectRefusal(
          () => verify('ISO_9564_0', block, { key }),
          PaymentCryptoErrorCode.INVALID_KEY,
          secrets,
        );
      }
    });

    it.each([8, 15, 33])('format 4 with a %i-byte key', (size) => {
      for (const block of [terminal.ISO_9564_4('1234'), garbage]) {
        expectRefusal(
          () => verify('ISO_9564_4', block, { key: Buffer.alloc(size, 0x31) }),
          PaymentCryptoErrorCode.INVALID_KEY,
          secrets,
        );
      }
    });

    it.each(formats)('%s with a reference key of the wrong length', (format) => {
      const reference = { block: WPAY_BLOCK, key: STORE_KEY.subarray(0, 20) };
      for (const block of [terminal[format]('1234'), garbage]) {
        expectRefusal(
          () => verify(format, block, { reference }),
          PaymentCryptoErrorCode.INVALID_KEY,
          secrets,
        );
      }
    });

    it.each(formats)('%s with a reference that does not open', (format) => {
      const references = [
        { block: WPAY_BLOCK.subarray(0, 8), key: STORE_KEY },
        { block: WPAY_BLOCK, key: ZONE_AES },
        stored('1234', '5237481234567890'),
      ];
      for (const reference of references) {
        for (const block of [terminal[format]('1234'), garbage]) {
          expectRefusal(
            () => verify(format, block, { reference }),
            PaymentCryptoErrorCode.INVALID_BLOCK,
            secrets,
          );
        }
      }
    });

    it.each(['', '52374812345678950000', '5237-4812', '１２３４５６７８９０１２'])(
      'a PAN %j',
      (pan) => {
        for (const format of formats) {
          expectRefusal(() => verify(format, garbage, { pan }), PaymentCryptoErrorCode.INVALID_PAN);
        }
      },
    );

    it('a PAN too short for format 0 but not for format 4', () => {
      const pan = '12345678901';
      const reference = stored('1234', pan);
      expectRefusal(
        () => verify('ISO_9564_0', garbage, { pan, reference }),
        PaymentCryptoErrorCode.INVALID_PAN,
      );
      expect(verify('ISO_9564_4', terminal.ISO_9564_4('1234', pan), { pan, reference })).toBe(
        'MATCH',
      );
    });

    it('an unknown format', () => {
      expectRefusal(
        () => verify('ISO_9564_3' as ZonePinBlockFormat, terminal.ISO_9564_0('1234')),
        PaymentCryptoErrorCode.INVALID_INPUT,
      );
    });
  });

  it('compares in constant time: one timingSafeEqual of two 8-byte fields, then wiped', () => {
    const compare = vi.mocked(timingSafeEqual);
    for (const [pin, result] of [
      ['1234', 'MATCH'],
      ['1239', 'MISMATCH'],
      ['123456789012', 'MISMATCH'],
    ] as const) {
      compare.mockClear();
      expect(verify('ISO_9564_4', terminal.ISO_9564_4(pin))).toBe(result);
      expect(compare).toHaveBeenCalledTimes(1);
      const [a, b] = compare.mock.calls[0]! as [Buffer, Buffer];
      expect([a.length, b.length]).toEqual([8, 8]);
      expect([...a, ...b].every((byte) => byte === 0)).toBe(true);
    }
    compare.mockClear();
    expect(verify('ISO_9564_0', Buffer.alloc(8))).toBe('MALFORMED');
    expect(compare).not.toHaveBeenCalled();
  });

  it('random PINs of every length: the same PIN matches, any other does not', () => {
    const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');
    for (let i = 0; i < 150; i++) {
      const pin = digits(randomInt(4, 13));
      const other = randomInt(2) === 0 ? digits(randomInt(4, 13)) : pin.slice(0, -1) + '7';
      const pan = `4${digits(15)}`;
      const reference = stored(pin, pan);
      for (const format of formats) {
        expect(verify(format, terminal[format](pin, pan), { pan, reference })).toBe('MATCH');
        expect(verify(format, terminal[format](other, pan), { pan, reference })).toBe(
          other === pin ? 'MATCH' : 'MISMATCH',
        );
      }
      expect(pinMatchesBlock(pin, reference, pan)).toBe(true);
      expect(pinMatchesBlock(other, reference, pan)).toBe(other === pin);
    }
  });
});

describe('pinMatchesBlock', () => {
  it('is true for the PIN of the published WPAY reference', () => {
    expect(pinMatchesBlock('1234', STORED_1234, PAN)).toBe(true);
  });

  it.each(['1235', '12345', '123412341234', '0000'])('is false for %s', (pin) => {
    expect(pinMatchesBlock(pin, STORED_1234, PAN)).toBe(false);
  });

  it('compares through timingSafeEqual, whatever the candidate’s length', () => {
    const compare = vi.mocked(timingSafeEqual);
    compare.mockClear();
    expect(pinMatchesBlock('123456789', STORED_1234, PAN)).toBe(false);
    expect(compare).toHaveBeenCalledTimes(1);
  });

  it.each(['123', '1234567890123', '12a4', ' 1234', ''])(
    'refuses a candidate %j that is no PIN',
    (pin) => {
      expectRefusal(
        () => pinMatchesBlock(pin, STORED_1234, PAN),
        PaymentCryptoErrorCode.INVALID_PIN,
        [PAN, pin.trim()],
      );
    },
  );

  it('refuses a reference that does not open', () => {
    expectRefusal(
      () => pinMatchesBlock('1234', STORED_1234, '5237481234567890'),
      PaymentCryptoErrorCode.INVALID_BLOCK,
      ['1234', '5237481234567890'],
    );
    expectRefusal(
      () => pinMatchesBlock('1234', { block: WPAY_BLOCK, key: Buffer.alloc(8) }, PAN),
      PaymentCryptoErrorCode.INVALID_KEY,
    );
  });
});
