import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueCard, mintToken, testPan, widgetCall } from '../testing/cards.js';
import { dpopKey, encryptPin, ephemeralKey } from '../testing/independent-jose.js';
import { type TestPlatform, startTestPlatform } from '../testing/platform.js';
import { type Ceremony, SoftwareAuthenticator } from '../testing/webauthn.js';

/**
 * Passkey step-up (docs/step-up.md), over the API: enrollment, the reveal behind an assertion,
 * and every refusal, with responses made by testing/webauthn.ts, a software authenticator written
 * apart from @simplewebauthn.
 */
const ORIGIN = 'http://localhost:4000';
const RP_ID = 'localhost';
const PIN = '3850';
const PROGRAM = 'https://program.example';

let platform: TestPlatform;
beforeEach(async () => {
  platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000' });
});
afterEach(() => platform.dispose());

/** A widget session as the widget holds it: a DPoP-bound token and its key. */
async function widget(cardId: string, widgetType: string, origin?: string) {
  const key = await dpopKey();
  const token = await mintToken(platform, cardId, {
    widget_type: widgetType,
    jkt: key.jkt,
    ...(origin ? { origin } : {}),
  });
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) =>
    widgetCall(platform, method, path, token, body, {
      authorization: `DPoP ${token}`,
      dpop: await key.proof(method, `${ORIGIN}${path}`, token),
      ...(origin ? { 'pin-widget-parent-origin': origin } : {}),
    });
  return { token, key, call };
}

/** An ACTIVE card with a PIN on a PASSKEY product, for customer `cust_1`. */
async function passkeyCard(extra: Record<string, unknown> = {}, pan = testPan('400000555500001')) {
  const card = await issueCard(
    platform,
    { pin_issuance_policy: 'REQUIRED', reveal_step_up: 'PASSKEY', ...extra },
    { pan, customer_id: 'cust_1' },
  );
  const set = await widget(card.id, 'SET_PIN');
  const jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
  expect(
    (
      await set.call('POST', '/v1/widget/pin', {
        encrypted_pin: await encryptPin(jwks, PIN, set.token),
      })
    ).status,
  ).toBe(200);
  await platform.call('POST', `/v1/simulations/cards/${card.id}/advance`);
  await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
  return card;
}

const ceremony = (challenge: string, extra: Partial<Ceremony> = {}): Ceremony => ({
  challenge,
  origin: ORIGIN,
  rpId: RP_ID,
  ...extra,
});

/** Enrolls `authenticator` for the card's customer through an ENROLL_PASSKEY widget. */
async function enroll(
  cardId: string,
  authenticator: SoftwareAuthenticator,
  extra: Partial<Ceremony> = {},
) {
  const session = await widget(cardId, 'ENROLL_PASSKEY');
  const options = await session.call('POST', '/v1/widget/passkeys/registration_options');
  expect(options.status).toBe(200);
  const credential = authenticator.register(
    ceremony(options.body.challenge, extra),
    options.body.user.id,
  );
  return {
    options: options.body,
    answer: await session.call('POST', '/v1/widget/passkeys', { credential }),
  };
}

/** A reveal: challenge, assertion (made by `assert`), reveal. */
async function reveal(cardId: string, assert: (challenge: string) => unknown, origin?: string) {
  const session = await widget(cardId, 'REVEAL_PIN', origin);
  const challenge = await session.call('POST', '/v1/widget/pin/reveal/challenge');
  const key = await ephemeralKey();
  const assertion = challenge.status === 200 ? assert(challenge.body.challenge) : undefined;
  const answer = await session.call('POST', '/v1/widget/pin/reveal', {
    public_key: key.publicJwk,
    ...(assertion === undefined ? {} : { assertion }),
  });
  return { challenge, answer, key, session, assertion };
}

describe('enrollment', () => {
  it('options for the platform’s RP ID with user verification; the passkey stored for the customer', async () => {
    const card = await passkeyCard();
    const authenticator = new SoftwareAuthenticator();
    const { options, answer } = await enroll(card.id, authenticator);
    expect(options).toMatchObject({
      rp: { id: RP_ID, name: 'Card PIN' },
      user: { name: `Card ending ${card.last_four}` },
      authenticatorSelection: { userVerification: 'required' },
      attestation: 'none',
      challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(answer).toMatchObject({
      status: 201,
      body: { id: expect.stringMatching(/^pk_/), customer_id: 'cust_1', card_id: card.id },
    });
    const listed = await platform.call('GET', '/v1/customers/cust_1/passkeys');
    expect(listed.body.data).toEqual([answer.body]);
    expect(JSON.stringify(listed.body)).not.toContain('publicKey');
    const events = await platform.db.events('CUSTOMER.PASSKEY.CREATED');
    expect(events.map((event) => event.data.passkey)).toEqual([answer.body]);

    // A second enrollment excludes the first credential and keeps the customer's user handle.
    const again = await widget(card.id, 'ENROLL_PASSKEY');
    const next = await again.call('POST', '/v1/widget/passkeys/registration_options');
    expect(next.body.user.id).toBe(options.user.id);
    expect(next.body.excludeCredentials).toEqual([
      {
        id: authenticator.credentialId.toString('base64url'),
        type: 'public-key',
        transports: ['internal'],
      },
    ]);
  });

  it('only DPoP-bound tokens, only for a card with a customer', async () => {
    const card = await passkeyCard({ allow_bearer_widget_tokens: true });
    expect(
      await platform.call('POST', `/v1/cards/${card.id}/widget_token`, {
        widget_type: 'ENROLL_PASSKEY',
      }),
    ).toMatchObject({ status: 400, body: { code: 'DPOP_BINDING_REQUIRED' } });
    const orphan = await issueCard(
      platform,
      { pin_issuance_policy: 'REQUIRED' },
      { pan: testPan('400000555500019') },
    );
    expect(
      await platform.call('POST', `/v1/cards/${orphan.id}/widget_token`, {
        widget_type: 'ENROLL_PASSKEY',
        jkt: 'A'.repeat(43),
      }),
    ).toMatchObject({ status: 409, body: { code: 'CARD_HAS_NO_CUSTOMER' } });
  });

  it.each([
    ['another origin', { origin: 'https://evil.example' }],
    ['another RP ID', { rpId: 'evil.example' }],
    ['no user verification', { userVerified: false }],
    ['a get() response', { type: 'webauthn.get' }],
    ['framed without an origin on the token', { crossOrigin: true, topOrigin: PROGRAM }],
  ] as const)('refuses a registration from %s', async (_name, extra) => {
    const card = await passkeyCard();
    const { answer } = await enroll(card.id, new SoftwareAuthenticator(), extra);
    expect(answer).toMatchObject({ status: 400, body: { code: 'PASSKEY_REGISTRATION_FAILED' } });
    expect((await platform.call('GET', '/v1/customers/cust_1/passkeys')).body.data).toEqual([]);
  });

  it('a challenge serves one registration, and only its own token', async () => {
    const card = await passkeyCard();
    const first = await widget(card.id, 'ENROLL_PASSKEY');
    const options = (await first.call('POST', '/v1/widget/passkeys/registration_options')).body;
    const other = await widget(card.id, 'ENROLL_PASSKEY');
    const credential = new SoftwareAuthenticator().register(
      ceremony(options.challenge),
      options.user.id,
    );
    expect((await other.call('POST', '/v1/widget/passkeys', { credential })).body.code).toBe(
      'PASSKEY_REGISTRATION_FAILED',
    );
    expect((await first.call('POST', '/v1/widget/passkeys', { credential })).status).toBe(201);
    const replay = await widget(card.id, 'ENROLL_PASSKEY');
    expect((await replay.call('POST', '/v1/widget/passkeys', { credential })).body.code).toBe(
      'PASSKEY_REGISTRATION_FAILED',
    );
  });
});

describe('a reveal on a PASSKEY product', () => {
  it('none enrolled: 409; no assertion: 401 STEP_UP_REQUIRED; never an encrypted PIN', async () => {
    const card = await passkeyCard();
    const none = await reveal(card.id, () => undefined);
    expect(none.challenge).toMatchObject({ status: 409, body: { code: 'PASSKEY_NOT_ENROLLED' } });
    expect(none.answer).toMatchObject({ status: 409, body: { code: 'PASSKEY_NOT_ENROLLED' } });
    await enroll(card.id, new SoftwareAuthenticator());
    const bare = await reveal(card.id, () => undefined);
    expect(bare.answer).toMatchObject({ status: 401, body: { code: 'STEP_UP_REQUIRED' } });
    expect(bare.answer.body).not.toHaveProperty('encrypted_pin');
  });

  it('with the cardholder’s assertion, top-level and framed, the PIN is revealed and audited', async () => {
    const card = await passkeyCard();
    const authenticator = new SoftwareAuthenticator();
    const { answer: enrolled } = await enroll(card.id, authenticator);
    const top = await reveal(card.id, (challenge) => authenticator.assert(ceremony(challenge)));
    expect(top.challenge.body).toMatchObject({
      rpId: RP_ID,
      userVerification: 'required',
      allowCredentials: [
        { id: authenticator.credentialId.toString('base64url'), type: 'public-key' },
      ],
    });
    expect(top.answer.status).toBe(200);
    expect((await top.key.decrypt(top.answer.body.encrypted_pin)).payload.pin).toBe(PIN);

    const framed = await reveal(
      card.id,
      (challenge) =>
        authenticator.assert(ceremony(challenge, { crossOrigin: true, topOrigin: PROGRAM })),
      PROGRAM,
    );
    expect(framed.answer.status).toBe(200);
    const audits = await platform.db.events('CARD.PIN.REVEALED');
    expect(audits.map((event) => event.data.step_up)).toEqual([
      { method: 'PASSKEY', passkey_id: enrolled.body.id },
      { method: 'PASSKEY', passkey_id: enrolled.body.id },
    ]);
    const [stored] = (await platform.call('GET', '/v1/customers/cust_1/passkeys')).body.data;
    expect(stored.last_used_time).not.toBeNull();
  });

  it('refuses every bad assertion with 401 STEP_UP_FAILED, before anything is decrypted', async () => {
    const card = await passkeyCard();
    const authenticator = new SoftwareAuthenticator();
    await enroll(card.id, authenticator);
    const stranger = new SoftwareAuthenticator();
    const cases: [string, (challenge: string) => unknown, string?][] = [
      ['another RP ID', (c) => authenticator.assert(ceremony(c, { rpId: 'evil.example' }))],
      [
        'another origin',
        (c) => authenticator.assert(ceremony(c, { origin: 'https://evil.example' })),
      ],
      ['no user verification', (c) => authenticator.assert(ceremony(c, { userVerified: false }))],
      ['a credential not enrolled', (c) => stranger.assert(ceremony(c))],
      ['a challenge it was not given', () => authenticator.assert(ceremony('A'.repeat(43)))],
      [
        'framed, but the token is for a top-level widget',
        (c) => authenticator.assert(ceremony(c, { crossOrigin: true, topOrigin: PROGRAM })),
      ],
      [
        'framed under another top origin',
        (c) =>
          authenticator.assert(
            ceremony(c, { crossOrigin: true, topOrigin: 'https://evil.example' }),
          ),
        PROGRAM,
      ],
      [
        'top-level, but the token is for a frame',
        (c) => authenticator.assert(ceremony(c)),
        PROGRAM,
      ],
      [
        'a forged signature',
        (c) => {
          const assertion = authenticator.assert(ceremony(c));
          const signature = Buffer.from(assertion.response.signature, 'base64url');
          signature[signature.length - 1]! ^= 1;
          return {
            ...assertion,
            response: { ...assertion.response, signature: signature.toString('base64url') },
          };
        },
      ],
    ];
    for (const [name, assert, origin] of cases) {
      const { answer } = await reveal(card.id, assert, origin);
      expect(answer, name).toMatchObject({ status: 401, body: { code: 'STEP_UP_FAILED' } });
    }
    expect(await platform.db.events('CARD.PIN.REVEALED')).toEqual([]);
  });

  it('a replayed assertion, a counter going backwards and an attacker’s own token are refused', async () => {
    const card = await passkeyCard();
    const authenticator = new SoftwareAuthenticator();
    await enroll(card.id, authenticator);
    const first = await reveal(card.id, (c) => authenticator.assert(ceremony(c)));
    expect(first.answer.status).toBe(200);
    // The attacker holds a fresh token bound to its own key, and replays what it saw.
    const attacker = await widget(card.id, 'REVEAL_PIN');
    const key = await ephemeralKey();
    const replayed = await attacker.call('POST', '/v1/widget/pin/reveal', {
      public_key: key.publicJwk,
      assertion: first.assertion,
    });
    expect(replayed).toMatchObject({ status: 401, body: { code: 'STEP_UP_FAILED' } });
    // Its own challenge does not help: it cannot make an assertion for the platform's RP ID.
    const own = await reveal(card.id, (c) => new SoftwareAuthenticator().assert(ceremony(c)));
    expect(own.answer.body.code).toBe('STEP_UP_FAILED');

    authenticator.counter = 0; // a cloned authenticator: its counter is behind the platform's
    const cloned = await reveal(card.id, (c) => authenticator.assert(ceremony(c)));
    expect(cloned.answer.body.code).toBe('STEP_UP_FAILED');
  });

  it('a NONE product reveals without a step-up', async () => {
    const card = await passkeyCard({ reveal_step_up: 'NONE' }, testPan('400000555500027'));
    const session = await widget(card.id, 'REVEAL_PIN');
    const key = await ephemeralKey();
    const answer = await session.call('POST', '/v1/widget/pin/reveal', {
      public_key: key.publicJwk,
    });
    expect(answer.status).toBe(200);
  });
});

describe('the customer’s passkeys over the API', () => {
  it('lists and removes them, one or all, each removal an event', async () => {
    const card = await passkeyCard();
    const one = await enroll(card.id, new SoftwareAuthenticator());
    const two = await enroll(card.id, new SoftwareAuthenticator());
    const base = '/v1/customers/cust_1/passkeys';
    expect((await platform.call('GET', base)).body.data).toHaveLength(2);
    expect((await platform.call('DELETE', `${base}/${one.answer.body.id}`)).status).toBe(204);
    expect((await platform.call('DELETE', `${base}/${one.answer.body.id}`)).status).toBe(404);
    expect((await platform.call('DELETE', base)).body).toEqual({ deleted: 1 });
    expect((await platform.call('GET', base)).body.data).toEqual([]);
    const removed = await platform.db.events('CUSTOMER.PASSKEY.DELETED');
    expect(removed.map((event) => event.data.passkey.id)).toEqual([
      one.answer.body.id,
      two.answer.body.id,
    ]);
    expect((await reveal(card.id, () => undefined)).answer.body.code).toBe('PASSKEY_NOT_ENROLLED');
  });
});
