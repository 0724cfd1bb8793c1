import { createCipheriv, createDecipheriv } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueCard, mintToken, testPan, widgetCall } from '../testing/cards.js';
import { CompactEncrypt, type JWK, importJWK } from 'jose';
import { encryptPin, ephemeralKey, sessionTagOf } from '../testing/independent-jose.js';
import { type TestPlatform, startTestPlatform } from '../testing/platform.js';
import { TEST_KEYS } from '../config.js';

let platform: TestPlatform;
let jwks: { keys: object[] };
beforeEach(async () => {
  platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000' });
  jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
});
afterEach(() => platform.dispose());

const PAN = testPan('400000123456785'); // ends …7855? computed: last four = PAN.slice(-4)

async function setPin(token: string, pin: string, extra: Record<string, unknown> = {}) {
  return widgetCall(platform, 'POST', '/v1/widget/pin', token, {
    encrypted_pin: await encryptPin(jwks, pin, token),
    ...extra,
  });
}

async function reveal(token: string) {
  const key = await ephemeralKey();
  const response = await widgetCall(platform, 'POST', '/v1/widget/pin/reveal', token, {
    public_key: key.publicJwk,
  });
  if (response.status !== 200) return { ...response, pin: undefined, header: undefined };
  const { payload, header } = await key.decrypt(response.body.encrypted_pin);
  return { ...response, pin: payload.pin, header };
}

async function activeCard(
  product: Record<string, unknown> = {},
  card: Record<string, unknown> = {},
) {
  const issued = await issueCard(platform, product, { pan: PAN, ...card });
  await platform.call('POST', `/v1/simulations/cards/${issued.id}/advance`);
  await platform.call('PATCH', `/v1/cards/${issued.id}`, { card_status: 'ACTIVE' });
  return issued;
}

describe('JWKS', () => {
  it('publishes one EC P-256 ECDH-ES encryption key with a kid', () => {
    expect(jwks.keys).toEqual([
      expect.objectContaining({
        kty: 'EC',
        crv: 'P-256',
        use: 'enc',
        alg: 'ECDH-ES',
        kid: expect.any(String),
      }),
    ]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });
});

describe('widget tokens', () => {
  it('are refused for virtual and terminated cards with clear codes', async () => {
    const virtual = await issueCard(platform, { form: 'VIRTUAL' });
    const refused = await platform.call('POST', `/v1/cards/${virtual.id}/widget_token`, {
      widget_type: 'SET_PIN',
    });
    expect(refused).toMatchObject({ status: 400, body: { code: 'CARD_IS_VIRTUAL' } });
    const physical = await issueCard(platform, {});
    await platform.call('PATCH', `/v1/cards/${physical.id}`, { card_status: 'TERMINATED' });
    const terminated = await platform.call('POST', `/v1/cards/${physical.id}/widget_token`, {
      widget_type: 'SET_PIN',
    });
    expect(terminated).toMatchObject({ status: 400, body: { code: 'CARD_TERMINATED' } });
  });

  it('expire after WIDGET_TOKEN_TTL_S', async () => {
    const card = await issueCard(platform, {}, { pan: PAN });
    const minted = await platform.call('POST', `/v1/cards/${card.id}/widget_token`, {
      widget_type: 'SET_PIN',
    });
    expect(Date.parse(minted.body.expires_at) - Date.now()).toBeGreaterThan(290_000);
    expect(Date.parse(minted.body.expires_at) - Date.now()).toBeLessThanOrEqual(300_000);
    const short = await startTestPlatform({ WIDGET_TOKEN_TTL_S: '10' });
    try {
      const shortCard = await issueCard(short, {}, { pan: PAN });
      const token = await mintToken(short, shortCard.id, { widget_type: 'SET_PIN' });
      const realNow = Date.now;
      Date.now = () => realNow() + 10_001;
      try {
        const late = await widgetCall(short, 'GET', '/v1/widget/session', token);
        expect(late).toMatchObject({ status: 401, body: { code: 'WIDGET_TOKEN_EXPIRED' } });
      } finally {
        Date.now = realNow;
      }
      expect((await widgetCall(short, 'GET', '/v1/widget/session', token)).status).toBe(200);
    } finally {
      await short.dispose();
    }
  });

  it('are stored hashed: the token is in no table', async () => {
    const card = await issueCard(platform, {});
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const row = await platform.store.read.getWidgetTokenByHash(
      (await import('../widget-sessions/tokens.js')).tokenHash(token),
    );
    expect(row).toBeDefined();
    expect(JSON.stringify(row)).not.toContain(token);
  });

  it('are scoped to one widget type', async () => {
    const card = await activeCard();
    const revealToken = await mintToken(platform, card.id, { widget_type: 'REVEAL_PIN' });
    const response = await setPin(revealToken, '2580');
    expect(response).toMatchObject({ status: 403, body: { code: 'WIDGET_TOKEN_WRONG_TYPE' } });
  });

  it('are bound to their origin; without one only a top-level document may use them', async () => {
    const card = await issueCard(platform, {}, { pan: PAN });
    const bound = await mintToken(platform, card.id, {
      widget_type: 'SET_PIN',
      origin: 'https://program.example',
    });
    const elsewhere = await widgetCall(
      platform,
      'POST',
      '/v1/widget/pin',
      bound,
      {
        encrypted_pin: await encryptPin(jwks, '3850', bound),
      },
      { 'pin-widget-parent-origin': 'https://evil.example' },
    );
    expect(elsewhere).toMatchObject({ status: 403, body: { code: 'ORIGIN_MISMATCH' } });
    const topLevel = await setPin(bound, '3850');
    expect(topLevel).toMatchObject({ status: 403, body: { code: 'ORIGIN_MISMATCH' } });
    const home = await widgetCall(
      platform,
      'POST',
      '/v1/widget/pin',
      bound,
      {
        encrypted_pin: await encryptPin(jwks, '3850', bound),
      },
      { 'pin-widget-parent-origin': 'https://program.example' },
    );
    expect(home.status).toBe(200);

    const unbound = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const framed = await widgetCall(
      platform,
      'POST',
      '/v1/widget/pin',
      unbound,
      {
        encrypted_pin: await encryptPin(jwks, '3850', unbound),
      },
      { 'pin-widget-parent-origin': 'https://program.example' },
    );
    expect(framed).toMatchObject({ status: 403, body: { code: 'ORIGIN_MISMATCH' } });
  });

  it('refuse browser calls from any origin but the platform’s own', async () => {
    const card = await issueCard(platform, {});
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const response = await widgetCall(platform, 'GET', '/v1/widget/session', token, undefined, {
      origin: 'https://program.example',
    });
    expect(response).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
  });

  it('tell the widget what it needs without using the token up', async () => {
    const card = await issueCard(
      platform,
      { pin_issuance_policy: 'REQUIRED', pin_length: 6, offline_pin: true },
      { pan: PAN },
    );
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const session = await widgetCall(platform, 'GET', '/v1/widget/session', token);
    expect(session.body).toMatchObject({
      widget_type: 'SET_PIN',
      card: {
        last_four: PAN.slice(-4),
        pin_length: 6,
        card_status: 'PENDING',
        is_pin_set: false,
        offline_pin: true,
      },
    });
    expect(session.headers['cache-control']).toBe('no-store');
    expect((await setPin(token, '385027')).status).toBe(200);
  });
});

describe('set PIN', () => {
  it('a JWE from an independent JOSE implementation sets the PIN; the token is then used up (401)', async () => {
    const card = await issueCard(platform, { pin_issuance_policy: 'REQUIRED' }, { pan: PAN });
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const first = await setPin(token, '3850');
    expect(first).toMatchObject({ status: 200, body: { card_id: card.id, is_pin_set: true } });
    const again = await setPin(token, '3851');
    expect(again).toMatchObject({ status: 401, body: { code: 'WIDGET_TOKEN_USED' } });
    const now = await platform.call('GET', `/v1/cards/${card.id}`);
    expect(now.body).toMatchObject({
      is_pin_set: true,
      pending_reasons: { is_waiting_for_pin: false },
    });
    expect(now.body.timestamp_pin_set).toBe(first.body.timestamp_pin_set);
  });

  it('a JWE whose wst belongs to another token is refused and changes nothing', async () => {
    const card = await issueCard(platform, { pin_issuance_policy: 'REQUIRED' }, { pan: PAN });
    const mine = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const other = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const captured = await encryptPin(jwks, '3850', other);
    const replayed = await widgetCall(platform, 'POST', '/v1/widget/pin', mine, {
      encrypted_pin: captured,
    });
    expect(replayed).toMatchObject({ status: 400, body: { code: 'SESSION_MISMATCH' } });
    expect((await platform.call('GET', `/v1/cards/${card.id}`)).body.is_pin_set).toBe(false);
    expect((await setPin(mine, '3850')).status).toBe(200);
  });

  it('weak PINs (1234, 1111, the last four) → 400 with a stable code, card unchanged', async () => {
    const card = await issueCard(platform, { pin_issuance_policy: 'REQUIRED' }, { pan: PAN });
    const before = (await platform.call('GET', `/v1/cards/${card.id}`)).body;
    const cases: [string, string][] = [
      ['1234', 'PIN_TOO_WEAK'],
      ['1111', 'PIN_TOO_WEAK'],
      [PAN.slice(-4), 'PIN_MATCHES_CARD_NUMBER'],
      ['123', 'PIN_WRONG_LENGTH'],
    ];
    for (const [pin, code] of cases) {
      const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
      const response = await setPin(token, pin);
      expect(response.status, pin).toBe(400);
      expect(response.body).toMatchObject({ code, field: 'pin' });
      expect(JSON.stringify(response.body)).not.toContain(pin);
    }
    expect((await platform.call('GET', `/v1/cards/${card.id}`)).body).toEqual(before);
    expect(await platform.store.read.getPin(card.id)).toBeUndefined();
  });

  it('refuses a payload that is not {"pin": digits}, and a wrong kid, alg or enc', async () => {
    const card = await issueCard(platform, {}, { pan: PAN });
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const cases: [Promise<string>, string][] = [
      [encryptPin(jwks, '', token, {}, '{"pin":"3850","extra":1}'), 'INVALID_PIN_PAYLOAD'],
      [encryptPin(jwks, '', token, {}, 'not json'), 'INVALID_PIN_PAYLOAD'],
      [encryptPin(jwks, '38a0', token), 'PIN_NOT_DIGITS'],
      // node-jose always writes the key's thumbprint as kid: craft this one with jose.
      [
        new CompactEncrypt(new TextEncoder().encode('{"pin":"3850"}'))
          .setProtectedHeader({
            alg: 'ECDH-ES',
            enc: 'A256GCM',
            kid: 'unknown-kid',
            wst: sessionTagOf(token),
          })
          .encrypt(await importJWK(jwks.keys[0] as JWK, 'ECDH-ES')),
        'UNKNOWN_KEY_ID',
      ],
    ];
    for (const [jwe, code] of cases) {
      const response = await widgetCall(platform, 'POST', '/v1/widget/pin', token, {
        encrypted_pin: await jwe,
      });
      expect(response.body.code).toBe(code);
    }
    // Those were four failures: the fifth closes the session, then even a good PIN is refused.
    expect((await setPin(token, '9999')).body.code).toBe('TOO_MANY_ATTEMPTS');
    const locked = await setPin(token, '3850');
    expect(locked).toMatchObject({ status: 401, body: { code: 'WIDGET_TOKEN_LOCKED' } });
    expect(await platform.store.read.getPin(card.id)).toBeUndefined();
  });

  it('refuses an enc downgrade, another alg, a truncated or tag-flipped JWE: one opaque code', async () => {
    const card = await issueCard(platform, {}, { pan: PAN });
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const good = await encryptPin(jwks, '3850', token);
    const parts = good.split('.');
    const tag = Buffer.from(parts[4]!, 'base64url');
    tag[0]! ^= 1;
    const cases = [
      await encryptPin(jwks, '3850', token, { enc: 'A128GCM' }),
      await encryptPin(jwks, '3850', token, { alg: 'ECDH-ES+A256KW' }),
      good.slice(0, -10),
      [...parts.slice(0, 4), tag.toString('base64url')].join('.'),
    ];
    const codes = [];
    for (const jwe of cases) {
      codes.push(
        (await widgetCall(platform, 'POST', '/v1/widget/pin', token, { encrypted_pin: jwe })).body
          .code,
      );
    }
    expect(codes).toEqual([
      'PIN_DECRYPTION_FAILED',
      'PIN_DECRYPTION_FAILED',
      'PIN_DECRYPTION_FAILED',
      'PIN_DECRYPTION_FAILED',
    ]);
    // Four failures: the untouched JWE still works.
    expect(
      (await widgetCall(platform, 'POST', '/v1/widget/pin', token, { encrypted_pin: good })).status,
    ).toBe(200);
  });

  it('limits failures per token: the 5th failure closes the session (429)', async () => {
    const card = await issueCard(platform, {}, { pan: PAN });
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await setPin(token, '1111')).body.code);
    expect(codes).toEqual([
      'PIN_TOO_WEAK',
      'PIN_TOO_WEAK',
      'PIN_TOO_WEAK',
      'PIN_TOO_WEAK',
      'TOO_MANY_ATTEMPTS',
    ]);
    expect((await setPin(token, '3850')).body.code).toBe('WIDGET_TOKEN_LOCKED');
  });

  it('two concurrent uses of one token: exactly one succeeds', async () => {
    const card = await issueCard(platform, {}, { pan: PAN });
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const results = await Promise.all(
      ['3850', '3851', '3852', '3853'].map((pin) => setPin(token, pin)),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401]);
  });

  it('REQUIRED: UNACTIVATED only after the PIN is set plus the delay', async () => {
    const timed = await startTestPlatform({ ISSUANCE_DELAY_MS: '400' });
    try {
      timed.startWorkers();
      const keys = (await timed.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
      const card = await issueCard(timed, { pin_issuance_policy: 'REQUIRED' }, { pan: PAN });
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect((await timed.call('GET', `/v1/cards/${card.id}`)).body.card_status).toBe('PENDING');
      const token = await mintToken(timed, card.id, { widget_type: 'SET_PIN' });
      const set = await widgetCall(timed, 'POST', '/v1/widget/pin', token, {
        encrypted_pin: await encryptPin(keys, '3850', token),
      });
      const setAt = Date.now();
      expect(set.status).toBe(200);
      expect((await timed.call('GET', `/v1/cards/${card.id}`)).body.card_status).toBe('PENDING');
      let status = 'PENDING';
      while (status === 'PENDING' && Date.now() - setAt < 5000) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        status = (await timed.call('GET', `/v1/cards/${card.id}`)).body.card_status;
      }
      expect(status).toBe('UNACTIVATED');
      expect(Date.now() - setAt).toBeGreaterThanOrEqual(380);
    } finally {
      await timed.dispose();
    }
  });

  it('RANDOM: a PIN the cardholder sets while PENDING is kept', async () => {
    const card = await issueCard(platform, { pin_issuance_policy: 'RANDOM' }, { pan: PAN });
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    expect((await setPin(token, '3850')).status).toBe(200);
    await platform.call('POST', `/v1/simulations/cards/${card.id}/advance`);
    await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
    const revealed = await reveal(
      await mintToken(platform, card.id, { widget_type: 'REVEAL_PIN' }),
    );
    expect(revealed.pin).toBe('3850');
  });
});

describe('reveal', () => {
  it('decrypts, with an independent client, to the PIN that was set; wst is in the header', async () => {
    const card = await activeCard();
    await setPin(await mintToken(platform, card.id, { widget_type: 'SET_PIN' }), '3850');
    const token = await mintToken(platform, card.id, { widget_type: 'REVEAL_PIN' });
    const revealed = await reveal(token);
    expect(revealed.status).toBe(200);
    expect(revealed.pin).toBe('3850');
    expect(revealed.header).toMatchObject({
      alg: 'ECDH-ES',
      enc: 'A256GCM',
      wst: expect.any(String),
    });
    expect((await reveal(token)).body.code).toBe('WIDGET_TOKEN_USED');
  });

  it('is refused with a clear code on a non-ACTIVE card or a card without a PIN', async () => {
    // A second card of the test: PANs are unique (one card per PAN).
    const unactivated = await issueCard(platform, {}, { pan: testPan('400000123456793') });
    await setPin(await mintToken(platform, unactivated.id, { widget_type: 'SET_PIN' }), '3850');
    const notActive = await reveal(
      await mintToken(platform, unactivated.id, { widget_type: 'REVEAL_PIN' }),
    );
    expect(notActive).toMatchObject({
      status: 409,
      body: { code: 'CARD_NOT_ACTIVE', card_status: 'UNACTIVATED' },
    });

    const noPin = await activeCard();
    const missing = await reveal(
      await mintToken(platform, noPin.id, { widget_type: 'REVEAL_PIN' }),
    );
    expect(missing).toMatchObject({ status: 409, body: { code: 'PIN_NOT_SET' } });
  });

  it('refuses a key that is not a public P-256 point', async () => {
    const card = await activeCard();
    await setPin(await mintToken(platform, card.id, { widget_type: 'SET_PIN' }), '3850');
    const token = await mintToken(platform, card.id, { widget_type: 'REVEAL_PIN' });
    const { publicJwk } = await ephemeralKey();
    const offCurve = { ...publicJwk, y: publicJwk.x };
    const response = await widgetCall(platform, 'POST', '/v1/widget/pin/reveal', token, {
      public_key: offCurve,
    });
    expect(response.body).toMatchObject({ code: 'INVALID_PUBLIC_KEY' });
    const withPrivate = await widgetCall(platform, 'POST', '/v1/widget/pin/reveal', token, {
      public_key: { ...publicJwk, d: publicJwk.x },
    });
    expect(withPrivate.body).toMatchObject({ code: 'UNKNOWN_FIELD', field: 'public_key.d' });
  });

  it('is rate-limited per card (5 an hour): 429 with Retry-After, and audited without the PIN', async () => {
    const card = await activeCard();
    await setPin(await mintToken(platform, card.id, { widget_type: 'SET_PIN' }), '3850');
    for (let i = 0; i < 5; i++) {
      expect(
        (await reveal(await mintToken(platform, card.id, { widget_type: 'REVEAL_PIN' }))).pin,
      ).toBe('3850');
    }
    const limited = await reveal(await mintToken(platform, card.id, { widget_type: 'REVEAL_PIN' }));
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(3500);
    const audit = await platform.store.read.pinRevealTimes(card.id, 0);
    expect(audit).toHaveLength(5);
  });
});

describe('RANDOM policy', () => {
  it('assigns a PIN of pin_length digits, not weak, that reveals after activation', async () => {
    const card = await activeCard({ pin_issuance_policy: 'RANDOM', pin_length: 6 });
    const now = (await platform.call('GET', `/v1/cards/${card.id}`)).body;
    expect(now).toMatchObject({ card_status: 'ACTIVE', is_pin_set: true });
    const revealed = await reveal(
      await mintToken(platform, card.id, { widget_type: 'REVEAL_PIN' }),
    );
    expect(revealed.pin).toMatch(/^\d{6}$/);
    const { pinPolicyViolation } = await import('./policy.js');
    expect(pinPolicyViolation(revealed.pin!, 6, PAN.slice(-4))).toBeUndefined();
  });
});

/** An ISO 9564-1 implementation written here, apart from payment-crypto/, to check the exports. */
const independent = {
  aes: (key: Buffer, block: Buffer) => {
    const d = createDecipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    return Buffer.concat([d.update(block), d.final()]);
  },
  format4(block: Buffer, pan: string, key: Buffer): string {
    const m = Math.max(0, pan.length - 12);
    const panField = Buffer.from(`${m}${pan}`.padEnd(32, '0'), 'hex');
    const intermediate = independent.aes(key, block);
    for (let i = 0; i < 16; i++) intermediate[i]! ^= panField[i]!;
    const pinField = independent.aes(key, intermediate).toString('hex');
    expect(pinField[0]).toBe('4');
    const length = parseInt(pinField[1]!, 16);
    return pinField.slice(2, 2 + length);
  },
  format0(block: Buffer, pan: string, key: Buffer): string {
    const d = createDecipheriv('des-ede-ecb', key, null).setAutoPadding(false);
    const clear = Buffer.concat([d.update(block), d.final()]);
    const panField = Buffer.from(`0000${pan.slice(-13, -1)}`, 'hex');
    const pinField = Buffer.from(clear.map((byte, i) => byte ^ panField[i]!)).toString('hex');
    expect(pinField[0]).toBe('0');
    return pinField.slice(2, 2 + parseInt(pinField[1]!, 16));
  },
};

describe('PIN-block export', () => {
  it('format 4 and format 0 decipher, independently, to the PIN that was set', async () => {
    const card = await issueCard(platform, {}, { pan: PAN });
    await setPin(await mintToken(platform, card.id, { widget_type: 'SET_PIN' }), '3850');
    const f4 = await platform.call('GET', `/v1/cards/${card.id}/pin_block?format=ISO_9564_4`);
    expect(f4.body).toMatchObject({
      format: 'ISO_9564_4',
      key_id: expect.stringMatching(/^[0-9A-F]{6}$/),
    });
    expect(
      independent.format4(
        Buffer.from(f4.body.pin_block, 'hex'),
        PAN,
        Buffer.from(TEST_KEYS.ZONE_PIN_KEY_AES, 'hex'),
      ),
    ).toBe('3850');
    const f0 = await platform.call('GET', `/v1/cards/${card.id}/pin_block?format=ISO_9564_0`);
    expect(f0.body.pin_block).toMatch(/^[0-9A-F]{16}$/);
    expect(
      independent.format0(
        Buffer.from(f0.body.pin_block, 'hex'),
        PAN,
        Buffer.from(TEST_KEYS.ZONE_PIN_KEY_TDES, 'hex'),
      ),
    ).toBe('3850');
    // The key id is the check value of the zone key (3DES of a zero block).
    const kcv = createCipheriv(
      'des-ede-ecb',
      Buffer.from(TEST_KEYS.ZONE_PIN_KEY_TDES, 'hex'),
      null,
    ).update(Buffer.alloc(8));
    expect(f0.body.key_id).toBe(kcv.subarray(0, 3).toString('hex').toUpperCase());
  });

  it('refuses a card without a PIN, and an unknown format', async () => {
    const card = await issueCard(platform, {}, { pan: PAN });
    expect(
      (await platform.call('GET', `/v1/cards/${card.id}/pin_block?format=ISO_9564_4`)).body.code,
    ).toBe('PIN_NOT_SET');
    expect(
      (await platform.call('GET', `/v1/cards/${card.id}/pin_block?format=ISO_9564_1`)).body,
    ).toMatchObject({
      code: 'INVALID_FIELD',
      field: 'format',
    });
  });
});
