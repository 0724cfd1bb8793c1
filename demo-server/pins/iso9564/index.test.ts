import { describe, expect, it } from 'vitest';

import * as iso9564 from './index.js';
import { PinBlockError, PinBlockErrorCode } from './index.js';
import { expectRefusal } from './test-helpers.js';

describe('iso9564 public surface', () => {
  it('exports exactly the documented names', () => {
    expect(Object.keys(iso9564).sort()).toEqual([
      'PinBlockError',
      'PinBlockErrorCode',
      'decipherFormat4',
      'decodeFormat0',
      'decodeFormat2',
      'decodeFormat3',
      'encipherFormat4',
      'encodeFormat0',
      'encodeFormat2',
      'encodeFormat3',
      'panField4',
      'pinField4',
      'tdesEcbDecrypt',
      'tdesEcbEncrypt',
    ]);
  });

  it('has stable error codes', () => {
    expect(Object.values(PinBlockErrorCode).sort()).toEqual([
      'INVALID_BLOCK',
      'INVALID_KEY',
      'INVALID_PAN',
      'INVALID_PIN',
      'INVALID_RANDOM',
    ]);
    const error = new PinBlockError(PinBlockErrorCode.INVALID_PIN, 'm');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('PinBlockError');
    expect(error.code).toBe('INVALID_PIN');
  });

  it('never puts a PIN or PAN into an error, whatever is malformed', () => {
    const pin = '86420';
    const pan = '5413339000001513';
    const longPan = `${pan}0000`;
    const key = Buffer.alloc(16, 0x11);
    const tdesKey = Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex');
    const secrets = [pin, pan, longPan, pan.slice(-13, -1), pan.slice(0, 6)];
    const block8 = iso9564.encodeFormat0(pin, pan);
    const block16 = iso9564.encipherFormat4(pin, pan, key);
    const otherPan = '5413339000001521';
    const cases: [() => unknown, PinBlockErrorCode][] = [
      [() => iso9564.encodeFormat0(`${pin}x`, pan), 'INVALID_PIN'],
      [() => iso9564.encodeFormat0(pin, longPan), 'INVALID_PAN'],
      [() => iso9564.decodeFormat0(block8, otherPan), 'INVALID_BLOCK'],
      [() => iso9564.encodeFormat2(`${pin}${pin}${pin}`), 'INVALID_PIN'],
      [() => iso9564.decodeFormat2(block8), 'INVALID_BLOCK'],
      [() => iso9564.encodeFormat3(pin, `${pan}x`), 'INVALID_PAN'],
      [() => iso9564.decodeFormat3(block8, pan), 'INVALID_BLOCK'],
      [() => iso9564.encipherFormat4(pin, longPan, key), 'INVALID_PAN'],
      [() => iso9564.encipherFormat4(pin, pan, Buffer.from(`${pan}0`)), 'INVALID_KEY'],
      [() => iso9564.decipherFormat4(block16, otherPan, key), 'INVALID_BLOCK'],
      [() => iso9564.decipherFormat4(block8, pan, key), 'INVALID_BLOCK'],
      [() => iso9564.tdesEcbEncrypt(tdesKey, Buffer.from(`${pan}0`)), 'INVALID_BLOCK'],
    ];
    for (const [fn, code] of cases) expectRefusal(fn, code, secrets);
  });
});
