import { generateKeyPairSync } from 'node:crypto';
import { CompactEncrypt, type JWK, importJWK } from 'jose';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueCard, mintToken, testPan, widgetCall } from '../testing/cards.js';
import { encryptPin, ephemeralKey, sessionTagOf } from '../testing/independent-jose.js';
import { type TestPlatform, startTestPlatform } from '../testing/platform.js';
import { PinJweError } from './jwe.js';
import { JweWorkers } from './jwe-workers.js';

/**
 * JOSE on worker threads (docs/performance.md, "Both cores"): the same answers as on the
 * request thread, for the wire (an independent JOSE client) and for every refusal.
 */
describe('a platform with CRYPTO_WORKERS=2', () => {
  let platform: TestPlatform;
  let jwks: { keys: object[] };
  beforeEach(async () => {
    platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000', CRYPTO_WORKERS: '2' });
    jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
  });
  afterEach(() => platform.dispose());

  async function activeCard() {
    const card = await issueCard(platform, {}, { pan: testPan('400000123456785') });
    await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
    return card;
  }

  it('sets PINs from an independent client and reveals them, many at once', async () => {
    const card = await activeCard();
    for (const pin of ['3850', '7291']) {
      const answers = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
          return widgetCall(platform, 'POST', '/v1/widget/pin', token, {
            encrypted_pin: await encryptPin(jwks, pin, token),
          });
        }),
      );
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const token = await mintToken(platform, card.id, { widget_type: 'REVEAL_PIN' });
      const key = await ephemeralKey();
      const revealed = await widgetCall(platform, 'POST', '/v1/widget/pin/reveal', token, {
        public_key: key.publicJwk,
      });
      expect(revealed.status).toBe(200);
      expect((await key.decrypt(revealed.body.encrypted_pin)).payload.pin).toBe(pin);
    }
  });

  it('refuses a tampered JWE, an unknown kid and a point off the curve as the request thread does', async () => {
    const card = await activeCard();
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const jwe = await encryptPin(jwks, '3850', token);
    const parts = jwe.split('.');
    parts[3] = parts[3]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    const tampered = await widgetCall(platform, 'POST', '/v1/widget/pin', token, {
      encrypted_pin: parts.join('.'),
    });
    expect(tampered).toMatchObject({ status: 400, body: { code: 'PIN_DECRYPTION_FAILED' } });
    // node-jose always writes the key's thumbprint as kid: this one is made with jose.
    const unknownKid = await widgetCall(platform, 'POST', '/v1/widget/pin', token, {
      encrypted_pin: await new CompactEncrypt(new TextEncoder().encode('{"pin":"3850"}'))
        .setProtectedHeader({
          alg: 'ECDH-ES',
          enc: 'A256GCM',
          kid: 'not-a-key',
          wst: sessionTagOf(token),
        })
        .encrypt(await importJWK(jwks.keys[0] as JWK, 'ECDH-ES')),
    });
    expect(unknownKid).toMatchObject({ status: 400, body: { code: 'UNKNOWN_KEY_ID' } });
    const reveal = await mintToken(platform, card.id, { widget_type: 'REVEAL_PIN' });
    const offCurve = await widgetCall(platform, 'POST', '/v1/widget/pin/reveal', reveal, {
      public_key: { kty: 'EC', crv: 'P-256', x: 'A'.repeat(43), y: 'A'.repeat(43) },
    });
    expect(offCurve).toMatchObject({ status: 400, body: { code: 'INVALID_PUBLIC_KEY' } });
  });
});

describe('JweWorkers', () => {
  const workers = new JweWorkers(1);
  afterAll(() => workers.close());
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const jweFor = (kid: string) =>
    new CompactEncrypt(new TextEncoder().encode('{"pin":"3850"}'))
      .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid })
      .encrypt(publicKey);

  it('decrypts with the key the request thread resolved, and only that one', async () => {
    const jwe = await jweFor('k1');
    const decrypted = await workers.decrypt(jwe, (kid) => (kid === 'k1' ? privateKey : undefined));
    expect(new TextDecoder().decode(decrypted.plaintext)).toBe('{"pin":"3850"}');
    expect(decrypted.header.kid).toBe('k1');
    await expect(workers.decrypt(jwe, () => other)).rejects.toEqual(
      new PinJweError('PIN_DECRYPTION_FAILED'),
    );
    await expect(workers.decrypt(jwe, () => undefined)).rejects.toEqual(
      new PinJweError('UNKNOWN_KEY_ID'),
    );
    await expect(workers.decrypt('not.a.jwe', () => privateKey)).rejects.toEqual(
      new PinJweError('PIN_DECRYPTION_FAILED'),
    );
  });
});
