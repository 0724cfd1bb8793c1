import { createDecipheriv } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEYS } from '../config.js';
import { DIST_DIR, widgetDocumentHeaders } from '../http/widget-assets.js';
import { rotateTransportKey } from '../pins/transport-keys.js';
import { logSink } from '../testing/log-sink.js';
import { issueCard, testPan } from '../testing/cards.js';
import { encryptPin } from '../testing/independent-jose.js';
import { PRODUCTION_SECRETS, type TestPlatform, startTestPlatform } from '../testing/platform.js';
import { PIN_PAD_ENTRY_LIFETIME_S } from './pin-pad.js';

const PROGRAM = 'http://127.0.0.1:4401';
const OTHER_PROGRAM = 'http://localhost:4402';
const PAN = testPan('476173000000014');
const TRANSLATE = '/v1/simulations/pin_pad/pin_block';

let platform: TestPlatform;
let jwks: { keys: object[] };
let cardId: string;
let otherCardId: string;

beforeAll(async () => {
  platform = await startTestPlatform({
    ISSUANCE_DELAY_MS: '3600000',
    FRAME_ANCESTORS: `${PROGRAM} ${OTHER_PROGRAM}`,
  });
  jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
  cardId = (await issueCard(platform, {}, { pan: PAN })).id;
  otherCardId = (await issueCard(platform, {})).id;
});
afterAll(() => platform?.dispose());

const now = () => Math.floor(Date.now() / 1000);

/**
 * What the pad sends, made with node-jose (another JOSE implementation than the platform's):
 * `{"pin"}` to the platform's key with `card` and `iat` in the protected header. The helper
 * adds the Set PIN widget's `wst`; the pad has none, so it is left out (undefined drops it).
 */
function padJwe(
  pin: string,
  header: Record<string, unknown> = {},
  payload = JSON.stringify({ pin }),
): Promise<string> {
  return encryptPin(
    jwks,
    pin,
    '',
    { wst: undefined, card: cardId, iat: now(), ...header },
    payload,
  );
}

const translate = (body: Record<string, unknown>) =>
  platform.call('POST', TRANSLATE, { card_id: cardId, format: 'ISO_9564_4', ...body });

/** ISO 9564-1 written here with node:crypto, apart from payment-crypto/, to check the blocks. */
const independent = {
  decipher(algorithm: string, key: Buffer, block: Buffer): Buffer {
    const decipher = createDecipheriv(algorithm, key, null).setAutoPadding(false);
    return Buffer.concat([decipher.update(block), decipher.final()]);
  },
  /** Format 4, AES: D(block) ⊕ PAN field = E(PIN field). */
  format4(block: Buffer, pan: string, key: Buffer): string {
    const panField = Buffer.from(`${pan.length - 12}${pan}`.padEnd(32, '0'), 'hex');
    const intermediate = independent.decipher('aes-256-ecb', key, block);
    for (let i = 0; i < 16; i++) intermediate[i]! ^= panField[i]!;
    const pinField = independent.decipher('aes-256-ecb', key, intermediate).toString('hex');
    const length = parseInt(pinField[1]!, 16);
    expect(pinField[0]).toBe('4');
    expect(pinField.slice(2 + length, 16)).toMatch(/^a*$/);
    return pinField.slice(2, 2 + length);
  },
  /** Format 0, 3DES: D(block) = PIN field ⊕ PAN field (the 12 digits before the check digit). */
  format0(block: Buffer, pan: string, key: Buffer): string {
    const clear = independent.decipher('des-ede-ecb', key, block);
    const panField = Buffer.from(`0000${pan.slice(-13, -1)}`, 'hex');
    const pinField = Buffer.from(clear.map((byte, i) => byte ^ panField[i]!)).toString('hex');
    const length = parseInt(pinField[1]!, 16);
    expect(pinField[0]).toBe('0');
    expect(pinField.slice(2 + length)).toMatch(/^f*$/);
    return pinField.slice(2, 2 + length);
  },
};

describe('POST /v1/simulations/pin_pad/pin_block: the pad’s JWE to a zone-key PIN block', () => {
  it('format 4: an AES block under ZONE_PIN_KEY_AES that deciphers, independently, to the PIN', async () => {
    const translated = await translate({ encrypted_pin: await padJwe('7391') });
    expect(translated.status).toBe(200);
    expect(translated.body).toEqual({
      pin_block: { format: 'ISO_9564_4', block: expect.stringMatching(/^[0-9A-F]{32}$/) },
    });
    const block = Buffer.from(translated.body.pin_block.block, 'hex');
    const key = Buffer.from(TEST_KEYS.ZONE_PIN_KEY_AES, 'hex');
    expect(independent.format4(block, PAN, key)).toBe('7391');
    // Format 4 has a random fill: the same PIN never gives the same block twice.
    const again = await translate({ encrypted_pin: await padJwe('7391') });
    expect(again.body.pin_block.block).not.toBe(translated.body.pin_block.block);
  });

  it('format 0: a 3DES block under ZONE_PIN_KEY_TDES that deciphers, independently, to the PIN', async () => {
    const translated = await translate({
      encrypted_pin: await padJwe('482915670321'),
      format: 'ISO_9564_0',
    });
    expect(translated.status).toBe(200);
    expect(translated.body).toEqual({
      pin_block: { format: 'ISO_9564_0', block: expect.stringMatching(/^[0-9A-F]{16}$/) },
    });
    const block = Buffer.from(translated.body.pin_block.block, 'hex');
    const key = Buffer.from(TEST_KEYS.ZONE_PIN_KEY_TDES, 'hex');
    expect(independent.format0(block, PAN, key)).toBe('482915670321');
  });

  it('accepts an entry up to its lifetime old, and a pad clock a little ahead', async () => {
    for (const iat of [now() - PIN_PAD_ENTRY_LIFETIME_S + 5, now() + 30]) {
      const translated = await translate({ encrypted_pin: await padJwe('2580', { iat }) });
      expect(translated.status, String(iat - now())).toBe(200);
    }
  });

  it('a PIN entered for another card: 400 PIN_PAD_CARD_MISMATCH', async () => {
    for (const header of [{ card: otherCardId }, { card: undefined }, { card: [cardId] }]) {
      const refused = await translate({ encrypted_pin: await padJwe('7391', header) });
      expect(refused, JSON.stringify(header)).toMatchObject({
        status: 400,
        body: { code: 'PIN_PAD_CARD_MISMATCH', field: 'encrypted_pin' },
      });
    }
    // The same JWE sent with the card it was made for goes through: the binding is the check.
    const jwe = await padJwe('7391', { card: otherCardId });
    expect((await translate({ card_id: otherCardId, encrypted_pin: jwe })).status).toBe(200);
  });

  it('an entry older than its lifetime, from the future, or without iat: 400 PIN_PAD_ENTRY_EXPIRED', async () => {
    for (const iat of [
      now() - PIN_PAD_ENTRY_LIFETIME_S - 5,
      now() + PIN_PAD_ENTRY_LIFETIME_S + 5,
      undefined,
      String(now()),
      now() + 0.5,
    ]) {
      const refused = await translate({ encrypted_pin: await padJwe('7391', { iat }) });
      expect(refused, String(iat)).toMatchObject({
        status: 400,
        body: {
          code: 'PIN_PAD_ENTRY_EXPIRED',
          message: `The PIN must be translated within ${PIN_PAD_ENTRY_LIFETIME_S} s of its entry: enter it again`,
        },
      });
    }
  });

  it('a payload that is not {"pin":"<4–12 digits>"}: 400 INVALID_PIN_PAYLOAD', async () => {
    for (const payload of [
      JSON.stringify({ pin: '123' }),
      JSON.stringify({ pin: '1234567890123' }),
      JSON.stringify({ pin: '12a4' }),
      JSON.stringify({ pin: 1234 }),
      JSON.stringify({ pin: '1234', current_pin: '5678' }),
      JSON.stringify(['1234']),
      'not json',
      '\uFFFE',
    ]) {
      const refused = await translate({ encrypted_pin: await padJwe('1234', {}, payload) });
      expect(refused, payload).toMatchObject({
        status: 400,
        body: {
          code: 'INVALID_PIN_PAYLOAD',
          message: 'The encrypted payload must be {"pin":"<4 to 12 digits>"}',
        },
      });
      expect(JSON.stringify(refused.body)).not.toContain('1234');
    }
  });

  it('a JWE it cannot open: 400 PIN_DECRYPTION_FAILED, one opaque answer for every fault', async () => {
    const good = await padJwe('7391');
    const [protectedHeader, , iv, ciphertext, tag] = good.split('.');
    const flipped = `${tag!.startsWith('A') ? 'B' : 'A'}${tag!.slice(1)}`;
    for (const jwe of [
      'not a jwe',
      `${protectedHeader}..${iv}.${ciphertext}.${flipped}`,
      await padJwe('7391', { alg: 'ECDH-ES+A256KW' }),
      await padJwe('7391', { enc: 'A128GCM' }),
    ]) {
      const refused = await translate({ encrypted_pin: jwe });
      expect(refused).toMatchObject({
        status: 400,
        body: {
          code: 'PIN_DECRYPTION_FAILED',
          message: 'The encrypted PIN could not be decrypted',
        },
      });
    }
  });

  it('a JWE to a retired transport key: 400 UNKNOWN_KEY_ID (the pad fetches /v1/pin_keys again)', async () => {
    const jwe = await padJwe('7391');
    await rotateTransportKey(path.join(platform.dataDir, 'pin-transport-keys.json'), 0);
    // The key file is looked at again at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const refused = await translate({ encrypted_pin: jwe });
    expect(refused).toMatchObject({ status: 400, body: { code: 'UNKNOWN_KEY_ID' } });
    jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
    expect((await translate({ encrypted_pin: await padJwe('7391') })).status).toBe(200);
  });

  it('an unknown card: 404; a bad body: 400 before anything is decrypted', async () => {
    const jwe = await padJwe('7391', { card: 'card_00000000000000000000000000' });
    const missing = await translate({
      card_id: 'card_00000000000000000000000000',
      encrypted_pin: jwe,
    });
    expect(missing).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    const bad = await translate({ encrypted_pin: await padJwe('7391'), format: 'ISO_9564_1' });
    expect(bad).toMatchObject({ status: 400, body: { field: 'format' } });
    const extra = await translate({ encrypted_pin: await padJwe('7391'), pin: '7391' });
    expect(extra).toMatchObject({ status: 400, body: { code: 'UNKNOWN_FIELD', field: 'pin' } });
  });

  it('needs an admin API key, and is not in a strict (production) platform', async () => {
    const body = { card_id: cardId, encrypted_pin: await padJwe('7391'), format: 'ISO_9564_4' };
    const anonymous = await platform.app.inject({ method: 'POST', url: TRANSLATE, payload: body });
    expect(anonymous.statusCode).toBe(401);
    const cardsKey = (await platform.apiKeys.create('cardholder backend', ['cards'])).key;
    const scoped = await platform.app.inject({
      method: 'POST',
      url: TRANSLATE,
      headers: { authorization: `Bearer ${cardsKey}` },
      payload: body,
    });
    expect(scoped.json()).toMatchObject({ code: 'INSUFFICIENT_SCOPE', required_scope: 'admin' });

    const strict = await startTestPlatform({ ...PRODUCTION_SECRETS });
    try {
      const refused = await strict.call('POST', TRANSLATE, body);
      expect(refused).toMatchObject({ status: 404, body: { code: 'ROUTE_NOT_FOUND' } });
      const page = await strict.app.inject({
        method: 'GET',
        url: `/simulations/pin-pad/?card=${cardId}&origin=${encodeURIComponent('https://program.example')}`,
      });
      expect(page.statusCode).toBe(404);
    } finally {
      await strict.dispose();
    }
  });

  it('never logs the PIN, its JWE or its block', async () => {
    // 12 digits: no id, time or random hex in a log line contains them by chance.
    const pin = '957316284039';
    const sink = logSink();
    const logged = await startTestPlatform(
      { ISSUANCE_DELAY_MS: '3600000' },
      { level: 'trace', stream: sink.stream },
    );
    try {
      const keys = (await logged.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
      const card = (await issueCard(logged, {}, { pan: PAN })).id;
      const jwe = await encryptPin(keys, pin, '', { wst: undefined, card, iat: now() });
      const translated = await logged.call('POST', TRANSLATE, {
        card_id: card,
        encrypted_pin: jwe,
        format: 'ISO_9564_4',
      });
      expect(translated.status).toBe(200);
      const refused = await logged.call('POST', TRANSLATE, {
        card_id: card,
        encrypted_pin: jwe.slice(0, -2),
        format: 'ISO_9564_4',
      });
      expect(refused.status).toBe(400);
      expect(sink.text()).toContain(TRANSLATE);
      expect(sink.text()).not.toContain(pin);
      expect(sink.text()).not.toContain(jwe.slice(0, 40));
      expect(sink.text()).not.toContain(translated.body.pin_block.block);
    } finally {
      await logged.dispose();
    }
  });
});

describe('GET /simulations/pin-pad/: the pad’s document', () => {
  const page = (query: string) =>
    platform.app.inject({ method: 'GET', url: `/simulations/pin-pad/?${query}` });
  const query = (card: string, origin: string) =>
    `card=${encodeURIComponent(card)}&origin=${encodeURIComponent(origin)}`;

  it.skipIf(!fs.existsSync(path.join(DIST_DIR, 'widgets', 'pin-pad', 'index.html')))(
    'is served to a FRAME_ANCESTORS page with the widget documents’ headers',
    async () => {
      for (const origin of [PROGRAM, OTHER_PROGRAM]) {
        const served = await page(query(cardId, origin));
        expect(served.statusCode).toBe(200);
        expect(served.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(served.headers).toMatchObject(widgetDocumentHeaders([PROGRAM, OTHER_PROGRAM]));
        expect(served.headers['content-security-policy']).toContain(
          `frame-ancestors ${PROGRAM} ${OTHER_PROGRAM}`,
        );
        expect(served.body).toContain('<title>Terminal PIN pad</title>');
      }
    },
  );

  it.each([
    ['an origin that may not frame the pad', query(cardId, 'http://127.0.0.1:4403')],
    ['an origin with a path', query(cardId, `${PROGRAM}/`)],
    ['no origin', `card=${cardId}`],
    ['no card', `origin=${encodeURIComponent(PROGRAM)}`],
    ['a card that is no card id', query('card_../../x', PROGRAM)],
    ['an unknown parameter', `${query(cardId, PROGRAM)}&pin=1234`],
  ])('refuses %s: 400, no document', async (_name, search) => {
    const refused = await page(search);
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect(refused.body).not.toContain('<html');
  });

  it('names the allowed origins when the origin is refused', async () => {
    const refused = await page(query(cardId, 'http://127.0.0.1:4403'));
    expect(refused.json()).toEqual({
      code: 'INVALID_FIELD',
      field: 'origin',
      message: `origin must be one of the origins allowed to frame the pad (FRAME_ANCESTORS): ${PROGRAM}, ${OTHER_PROGRAM}`,
    });
  });
});
