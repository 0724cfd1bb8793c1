import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { issueCard, mintToken, testPan } from '../testing/cards.js';
import { dpopKey, encryptPin, ephemeralKey } from '../testing/independent-jose.js';
import { type TestPlatform, startTestPlatform } from '../testing/platform.js';
import { tokenHash as tokenHashOf } from './tokens.js';

let platform: TestPlatform;
let jwks: { keys: object[] };
let cardId: string;
const SESSION_URL = 'http://localhost:4000/v1/widget/session';
const PIN_URL = 'http://localhost:4000/v1/widget/pin';

beforeAll(async () => {
  platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000' });
  jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
  cardId = (await issueCard(platform, {}, { pan: testPan('400000123456785') })).id;
});
afterAll(() => platform.dispose());

async function call(
  url: string,
  method: 'GET' | 'POST',
  auth: string,
  proof?: string,
  body?: object,
) {
  const response = await platform.app.inject({
    method,
    url: new URL(url).pathname,
    headers: { authorization: auth, ...(proof === undefined ? {} : { dpop: proof }) },
    ...(body ? { payload: body } : {}),
  });
  return { status: response.statusCode, body: response.json() };
}

describe('sender-constrained widget tokens (DPoP, RFC 9449)', () => {
  it('a token minted with jkt works with a fresh proof from that key, for every call', async () => {
    const key = await dpopKey();
    const token = await mintToken(platform, cardId, { widget_type: 'SET_PIN', jkt: key.jkt });
    const session = await call(
      SESSION_URL,
      'GET',
      `DPoP ${token}`,
      await key.proof('GET', SESSION_URL, token),
    );
    expect(session.status).toBe(200);
    const set = await call(
      PIN_URL,
      'POST',
      `DPoP ${token}`,
      await key.proof('POST', PIN_URL, token),
      {
        encrypted_pin: await encryptPin(jwks, '3850', token),
      },
    );
    expect(set).toMatchObject({ status: 200, body: { is_pin_set: true } });
  });

  it('refuses, one by one: no proof, Bearer scheme, bad signature, wrong typ/alg, stale, future, replayed, wrong key, wrong htm/htu, wrong ath', async () => {
    const key = await dpopKey();
    const thief = await dpopKey();
    const token = await mintToken(platform, cardId, { widget_type: 'SET_PIN', jkt: key.jkt });
    const now = Math.floor(Date.now() / 1000);
    const valid = await key.proof('GET', SESSION_URL, token);
    const [h, p, s] = valid.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), htm: 'POST' })).toString('base64url')}.${s}`;

    const cases: [string, string, string | undefined][] = [
      ['no proof', `DPoP ${token}`, undefined],
      [
        'Bearer scheme for a bound token',
        `Bearer ${token}`,
        await key.proof('GET', SESSION_URL, token),
      ],
      ['payload changed after signing', `DPoP ${token}`, forged],
      [
        'typ is not dpop+jwt',
        `DPoP ${token}`,
        await key.proof('GET', SESSION_URL, token, {}, { typ: 'JWT' }),
      ],
      [
        'iat 61 s old',
        `DPoP ${token}`,
        await key.proof('GET', SESSION_URL, token, { iat: now - 61 }),
      ],
      [
        'iat in the future',
        `DPoP ${token}`,
        await key.proof('GET', SESSION_URL, token, { iat: now + 120 }),
      ],
      ['another key (a thief’s)', `DPoP ${token}`, await thief.proof('GET', SESSION_URL, token)],
      ['another method', `DPoP ${token}`, await key.proof('POST', SESSION_URL, token)],
      [
        'another URL',
        `DPoP ${token}`,
        await key.proof('GET', 'https://evil.example/v1/widget/session', token),
      ],
      ['another token (ath)', `DPoP ${token}`, await key.proof('GET', SESSION_URL, `${token}x`)],
      ['no jti', `DPoP ${token}`, await key.proof('GET', SESSION_URL, token, { jti: undefined })],
    ];
    const codes: Record<string, string> = {};
    for (const [name, auth, proof] of cases) {
      const response = await call(SESSION_URL, 'GET', auth, proof);
      expect(response.status, name).toBe(401);
      codes[name] = response.body.code;
    }
    expect(codes).toEqual({
      'no proof': 'DPOP_PROOF_MISSING',
      'Bearer scheme for a bound token': 'DPOP_PROOF_INVALID',
      'payload changed after signing': 'DPOP_PROOF_INVALID',
      'typ is not dpop+jwt': 'DPOP_PROOF_INVALID',
      'iat 61 s old': 'DPOP_PROOF_STALE',
      'iat in the future': 'DPOP_PROOF_STALE',
      'another key (a thief’s)': 'DPOP_PROOF_WRONG_KEY',
      'another method': 'DPOP_PROOF_WRONG_REQUEST',
      'another URL': 'DPOP_PROOF_WRONG_REQUEST',
      'another token (ath)': 'DPOP_PROOF_WRONG_TOKEN',
      'no jti': 'DPOP_PROOF_INVALID',
    });

    // A replayed proof: the first use passes, the second is refused.
    const once = await key.proof('GET', SESSION_URL, token);
    expect((await call(SESSION_URL, 'GET', `DPoP ${token}`, once)).status).toBe(200);
    expect((await call(SESSION_URL, 'GET', `DPoP ${token}`, once)).body.code).toBe(
      'DPOP_PROOF_REPLAYED',
    );
  });

  it('a stolen bound token is useless without the key: the thief cannot set the PIN', async () => {
    const key = await dpopKey();
    const thief = await dpopKey();
    const token = await mintToken(platform, cardId, { widget_type: 'SET_PIN', jkt: key.jkt });
    const body = { encrypted_pin: await encryptPin(jwks, '4096', token) };
    const stolen = await call(
      PIN_URL,
      'POST',
      `DPoP ${token}`,
      await thief.proof('POST', PIN_URL, token),
      body,
    );
    expect(stolen).toMatchObject({ status: 401, body: { code: 'DPOP_PROOF_WRONG_KEY' } });
    const asBearer = await call(PIN_URL, 'POST', `Bearer ${token}`, undefined, body);
    expect(asBearer.status).toBe(401);
  });

  it('an unbound token refuses the DPoP scheme (no silent downgrade either way)', async () => {
    const key = await dpopKey();
    const token = await mintToken(platform, cardId, { widget_type: 'SET_PIN' });
    const response = await call(
      SESSION_URL,
      'GET',
      `DPoP ${token}`,
      await key.proof('GET', SESSION_URL, token),
    );
    expect(response).toMatchObject({ status: 401, body: { code: 'DPOP_PROOF_INVALID' } });
  });

  describe('set PIN and reveal record the proof in their own transaction', () => {
    const REVEAL_URL = 'http://localhost:4000/v1/widget/pin/reveal';

    let cards = 0;
    /** An ACTIVE card of its own (PANs are unique). */
    async function boundCard(): Promise<string> {
      const pan = testPan(`40000076543210${cards++}`);
      const card = await issueCard(platform, {}, { pan });
      await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
      return card.id;
    }

    /** A DPoP-bound SET_PIN token on a card of its own, and one proof for it. */
    async function boundSetPin() {
      const key = await dpopKey();
      const card = await boundCard();
      const token = await mintToken(platform, card, { widget_type: 'SET_PIN', jkt: key.jkt });
      return { key, card, token, proof: await key.proof('POST', PIN_URL, token) };
    }

    it('a set PIN and a reveal take one transaction each, the proof’s jti included', async () => {
      const key = await dpopKey();
      const card = await boundCard();
      const transactions = vi.spyOn(platform.store, 'transaction');
      try {
        const token = await mintToken(platform, card, { widget_type: 'SET_PIN', jkt: key.jkt });
        const proof = await key.proof('POST', PIN_URL, token);
        transactions.mockClear();
        const body = { encrypted_pin: await encryptPin(jwks, '3850', token) };
        expect((await call(PIN_URL, 'POST', `DPoP ${token}`, proof, body)).status).toBe(200);
        expect(transactions).toHaveBeenCalledTimes(1);

        const reveal = await mintToken(platform, card, { widget_type: 'REVEAL_PIN', jkt: key.jkt });
        const widget = await ephemeralKey();
        const revealProof = await key.proof('POST', REVEAL_URL, reveal);
        transactions.mockClear();
        const revealed = await call(REVEAL_URL, 'POST', `DPoP ${reveal}`, revealProof, {
          public_key: widget.publicJwk,
        });
        expect(revealed.status).toBe(200);
        expect((await widget.decrypt(revealed.body.encrypted_pin)).payload.pin).toBe('3850');
        expect(transactions).toHaveBeenCalledTimes(1);
      } finally {
        transactions.mockRestore();
      }
    });

    it('a proof used by a refused set PIN is used up: its replay is refused and counts nothing', async () => {
      const { key, card, token, proof } = await boundSetPin();
      // Refused by the PIN policy: the failure is counted, and the proof recorded with it.
      const weak = { encrypted_pin: await encryptPin(jwks, '1234', token) };
      expect((await call(PIN_URL, 'POST', `DPoP ${token}`, proof, weak)).body.code).toBe(
        'PIN_TOO_WEAK',
      );
      const failures = async () =>
        (await platform.store.read.getWidgetTokenByHash(tokenHashOf(token)))!.failures;
      expect(await failures()).toBe(1);
      const good = { encrypted_pin: await encryptPin(jwks, '3850', token) };
      const replayed = await call(PIN_URL, 'POST', `DPoP ${token}`, proof, good);
      expect(replayed).toMatchObject({ status: 401, body: { code: 'DPOP_PROOF_REPLAYED' } });
      expect(await failures()).toBe(1);
      expect((await platform.store.read.getCard(card))!.isPinSet).toBe(false);
      // A fresh proof still works: the token itself was not used up.
      const fresh = await key.proof('POST', PIN_URL, token);
      expect((await call(PIN_URL, 'POST', `DPoP ${token}`, fresh, good)).status).toBe(200);
    });

    it('a proof used by a request refused before any transaction is used up too', async () => {
      const { card, token, proof } = await boundSetPin();
      await platform.call('PATCH', `/v1/cards/${card}`, { card_status: 'TERMINATED' });
      const body = { encrypted_pin: await encryptPin(jwks, '3850', token) };
      expect((await call(PIN_URL, 'POST', `DPoP ${token}`, proof, body)).body.code).toBe(
        'CARD_TERMINATED',
      );
      expect((await call(PIN_URL, 'POST', `DPoP ${token}`, proof, body)).body.code).toBe(
        'DPOP_PROOF_REPLAYED',
      );
    });

    it('one proof sent twice at once sets the PIN once; the other is a replay', async () => {
      const { token, proof } = await boundSetPin();
      const body = { encrypted_pin: await encryptPin(jwks, '3850', token) };
      const answers = await Promise.all([
        call(PIN_URL, 'POST', `DPoP ${token}`, proof, body),
        call(PIN_URL, 'POST', `DPoP ${token}`, proof, body),
      ]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401]);
      expect(answers.find((answer) => answer.status === 401)!.body.code).toBe(
        'DPOP_PROOF_REPLAYED',
      );
    });
  });
});
