import { generateKeyPairSync } from 'node:crypto';
import { type JWK, compactDecrypt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { MAX_PIN_DIGITS, PinEntry } from './entry.js';
import {
  PIN_PAD_PROMPT_MAX_LENGTH,
  isPinPadCancelled,
  isPinPadEntered,
  isPinPadPrompt,
} from './messages.js';

function platformKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = {
    ...(publicKey.export({ format: 'jwk' }) as JWK),
    kid: 'k1',
    use: 'enc',
    alg: 'ECDH-ES',
  };
  return { privateKey, jwk: jwk as JWK & { kid: string } };
}

const type = (entry: PinEntry, digits: string) => {
  for (const digit of digits) entry.add(Number(digit));
};

describe('PinEntry', () => {
  it('seals {"pin"} to the platform key, bound to the card and the moment, and forgets the digits', async () => {
    const { privateKey, jwk } = platformKey();
    const entry = new PinEntry();
    type(entry, '73910');
    entry.correct();
    expect(entry.count).toBe(4);
    const jwe = await entry.seal(jwk, 'card_0123456789abcdefghijklmnop', 1_700_000_000_999);
    expect(entry.count).toBe(0);
    expect(decodeProtectedHeader(jwe)).toEqual({
      alg: 'ECDH-ES',
      enc: 'A256GCM',
      kid: 'k1',
      card: 'card_0123456789abcdefghijklmnop',
      iat: 1_700_000_000,
      epk: expect.any(Object),
    });
    const { plaintext } = await compactDecrypt(jwe, privateKey);
    expect(new TextDecoder().decode(plaintext)).toBe('{"pin":"7391"}');
  });

  it('takes 4 to 12 digits, and digits only', () => {
    const entry = new PinEntry();
    type(entry, '123');
    expect(entry.complete).toBe(false);
    entry.add(4);
    expect(entry.complete).toBe(true);
    type(entry, '56789012');
    expect(entry.count).toBe(MAX_PIN_DIGITS);
    expect(entry.add(3)).toBe(false);
    expect(entry.count).toBe(MAX_PIN_DIGITS);
    entry.clear();
    for (const bad of [-1, 10, 1.5, Number.NaN]) expect(entry.add(bad)).toBe(false);
    expect(entry.count).toBe(0);
  });
});

describe('the pad’s messages', () => {
  it.each([
    [{ type: 'pin-pad:entered', encrypted_pin: 'a..b.c.d' }, true],
    [{ type: 'pin-pad:entered', encrypted_pin: 'a.k.b.c.d' }, false],
    [{ type: 'pin-pad:entered', encrypted_pin: '1234' }, false],
    [{ type: 'pin-pad:entered', encrypted_pin: 'a..b.c.d', pin: '1234' }, false],
    [{ type: 'pin-pad:entered', encrypted_pin: `${'a'.repeat(4096)}..b.c.d` }, false],
    [{ type: 'pin-pad:entered' }, false],
    ['pin-pad:entered', false],
    [null, false],
  ])('entered: %j → %s', (data, valid) => expect(isPinPadEntered(data)).toBe(valid));

  it('cancelled carries nothing else', () => {
    expect(isPinPadCancelled({ type: 'pin-pad:cancelled' })).toBe(true);
    expect(isPinPadCancelled({ type: 'pin-pad:cancelled', digits: 3 })).toBe(false);
  });

  it.each([
    ['ENTER PIN', true],
    ['EUR 12.50 · ENTER PIN', true],
    ['x'.repeat(PIN_PAD_PROMPT_MAX_LENGTH), true],
    ['x'.repeat(PIN_PAD_PROMPT_MAX_LENGTH + 1), false],
    ['', false],
    ['TWO\nLINES', false],
    ['RIGHT\u202eTO LEFT', false],
  ])('a prompt of %j: %s', (text, valid) =>
    expect(isPinPadPrompt({ type: 'pin-pad:prompt', text })).toBe(valid),
  );

  it('a prompt is text and nothing else', () => {
    expect(isPinPadPrompt({ type: 'pin-pad:prompt', text: 'OK', html: '<b>' })).toBe(false);
    expect(isPinPadPrompt({ type: 'pin-pad:prompt', text: 42 })).toBe(false);
  });
});
