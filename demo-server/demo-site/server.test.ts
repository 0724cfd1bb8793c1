import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dpopKey, encryptPin, ephemeralKey } from '../testing/independent-jose.js';
import { TEST_API_KEY, type TestPlatform, startTestPlatform } from '../testing/platform.js';
import { SoftwareAuthenticator } from '../testing/webauthn.js';
import { tokenHash } from '../widget-sessions/tokens.js';
import { startDemoSite } from './server.js';

let platform: TestPlatform;
let site: FastifyInstance;
let host: string;
let origin: string;

beforeAll(async () => {
  // Minutes, so no card moves on by itself while a test looks at it.
  platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000' });
  await platform.app.listen({ port: 0, host: '127.0.0.1' });
  const platformPort = (platform.app.server.address() as AddressInfo).port;
  site = await startDemoSite({
    port: 0,
    host: '127.0.0.1',
    platformUrl: `http://127.0.0.1:${platformPort}`,
    apiKey: TEST_API_KEY,
    dataDir: platform.dataDir,
  });
  host = `127.0.0.1:${(site.server.address() as AddressInfo).port}`;
  origin = `http://${host}`;
});
afterAll(async () => {
  await site?.close();
  await platform?.dispose();
});

interface Session {
  cookie: string;
  csrf: string;
}

async function call(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  {
    session,
    csrf = session?.csrf,
    headers = {},
    body,
  }: {
    session?: Session;
    csrf?: string | null;
    headers?: Record<string, string>;
    body?: object;
  } = {},
) {
  const response = await site.inject({
    method,
    url,
    headers: {
      host,
      ...(method !== 'GET' ? { origin } : {}),
      ...(session ? { cookie: session.cookie } : {}),
      ...(csrf == null ? {} : { 'x-csrf-token': csrf }),
      ...headers,
    },
    ...(body === undefined ? {} : { payload: body }),
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    text: response.body,
    json: () => response.json(),
  };
}

async function startSession(): Promise<Session> {
  const started = await call('POST', '/api/session');
  expect(started.status).toBe(201);
  const cookie = String(started.headers['set-cookie']).split(';')[0]!;
  return { cookie, csrf: started.json().csrf_token };
}

async function issue(session: Session): Promise<string> {
  const issued = await call('POST', '/api/cards', {
    session,
    body: { policy: 'REQUIRED', offline_pin: false },
  });
  expect(issued.status).toBe(201);
  return issued.json().id;
}

const jkt = () => randomBytes(32).toString('base64url');
const demoCards = async (): Promise<number> =>
  (await platform.call('GET', '/v1/cards?account_id=acct_demo&limit=100')).body.data.length;

describe('the demo cardholder session', () => {
  it('is an HttpOnly, SameSite=Strict cookie on Path=/ with a 256-bit random id, and a CSRF token', async () => {
    const started = await call('POST', '/api/session');
    expect(started.status).toBe(201);
    const cookie = String(started.headers['set-cookie']);
    expect(cookie).toMatch(/^demo_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
    expect(started.json().csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(started.headers['cache-control']).toBe('no-store');
    const again = await call('POST', '/api/session');
    expect(String(again.headers['set-cookie'])).not.toBe(cookie);
  });

  it('starts only from the site’s own origin', async () => {
    const refused = await call('POST', '/api/session', {
      headers: { origin: 'http://127.0.0.1:4403' },
    });
    expect(refused.status).toBe(403);
    expect(refused.json().code).toBe('ORIGIN_NOT_ALLOWED');
    expect(refused.headers['set-cookie']).toBeUndefined();
  });

  it('starting again ends the previous session', async () => {
    const first = await startSession();
    await call('POST', '/api/session', { headers: { cookie: first.cookie } });
    const stale = await call('GET', '/api/events', { session: first });
    expect(stale.status).toBe(401);
  });

  it('two session cookies (one planted under another path) name no session', async () => {
    const mine = await startSession();
    const planted = await startSession();
    const both = await call('GET', '/api/events', {
      headers: { cookie: `${planted.cookie}; ${mine.cookie}` },
    });
    expect(both.status).toBe(401);
  });
});

describe('every cardholder route needs the session', () => {
  it.each([
    ['POST', '/api/cards', { policy: 'REQUIRED', offline_pin: false }],
    ['POST', '/api/widget-token', { card_id: 'card_x', widget_type: 'SET_PIN', jkt: jkt() }],
    ['GET', '/api/cards/card_x', undefined],
    ['POST', '/api/cards/card_x/advance', undefined],
    ['POST', '/api/cards/card_x/activate', undefined],
    ['POST', '/api/cards/card_x/sync-offline-pin', undefined],
    ['POST', '/api/cards/card_x/authorize', { entry_mode: 'CHIP_CONTACT' }],
    ['POST', '/api/cards/card_x/unblock-pin', undefined],
    ['GET', '/api/passkeys', undefined],
    ['DELETE', '/api/passkeys', undefined],
    ['POST', '/api/hostile-host/reveal', { card_id: 'card_x' }],
    ['GET', '/api/events', undefined],
    ['GET', '/api/stream', undefined],
  ] as const)('%s %s without a session: 401', async (method, url, body) => {
    const before = await demoCards();
    const refused = await call(method, url, { csrf: 'anything', ...(body ? { body } : {}) });
    expect(refused.status).toBe(401);
    expect(refused.json()).toEqual({
      code: 'SESSION_REQUIRED',
      message: 'No demo cardholder session: reload the page to start one',
    });
    expect(await demoCards()).toBe(before);
  });

  it('a forged or expired session cookie is no session', async () => {
    const refused = await call('GET', '/api/events', {
      headers: { cookie: `demo_session=${randomBytes(32).toString('base64url')}` },
    });
    expect(refused.status).toBe(401);
  });
});

describe('every state-changing call needs the session’s CSRF token', () => {
  let session: Session;
  let other: Session;
  let cardId: string;
  beforeAll(async () => {
    session = await startSession();
    other = await startSession();
    cardId = await issue(session);
  });

  const routes = () =>
    [
      ['POST', '/api/cards', { policy: 'REQUIRED', offline_pin: false }],
      ['POST', '/api/widget-token', { card_id: cardId, widget_type: 'SET_PIN', jkt: jkt() }],
      ['POST', `/api/cards/${cardId}/advance`, undefined],
      ['POST', `/api/cards/${cardId}/activate`, undefined],
      ['POST', `/api/cards/${cardId}/sync-offline-pin`, undefined],
      ['POST', `/api/cards/${cardId}/authorize`, { entry_mode: 'CHIP_CONTACT' }],
      ['POST', `/api/cards/${cardId}/unblock-pin`, undefined],
      ['DELETE', '/api/passkeys', undefined],
      ['POST', '/api/hostile-host/reveal', { card_id: cardId }],
    ] as const;

  it.each([
    ['none', () => null],
    ['a wrong one', () => randomBytes(32).toString('base64url')],
    ['another session’s', () => other.csrf],
    ['a prefix of the right one', () => session.csrf.slice(0, 20)],
  ])('%s: 403 on every POST and DELETE, and nothing happens', async (_name, token) => {
    for (const [method, url, body] of routes()) {
      const before = await demoCards();
      const refused = await call(method, url, {
        session,
        csrf: token(),
        ...(body ? { body } : {}),
      });
      expect(refused.status, url).toBe(403);
      expect(refused.json(), url).toEqual({
        code: 'CSRF_TOKEN_INVALID',
        message: 'Send the session’s CSRF token in x-csrf-token',
      });
      expect(await demoCards()).toBe(before);
    }
    const card = await platform.call('GET', `/v1/cards/${cardId}`);
    expect(card.body.card_status).toBe('PENDING');
  });
});

describe('a session touches only its own cards', () => {
  let mine: Session;
  let theirs: Session;
  let theirCard: string;
  beforeAll(async () => {
    mine = await startSession();
    theirs = await startSession();
    theirCard = await issue(theirs);
  });

  it.each([
    ['GET', (id: string) => `/api/cards/${id}`, undefined],
    ['POST', (id: string) => `/api/cards/${id}/advance`, undefined],
    ['POST', (id: string) => `/api/cards/${id}/activate`, undefined],
    ['POST', (id: string) => `/api/cards/${id}/sync-offline-pin`, undefined],
    ['POST', (id: string) => `/api/cards/${id}/authorize`, { entry_mode: 'CHIP_CONTACT' }],
    ['POST', (id: string) => `/api/cards/${id}/unblock-pin`, undefined],
    [
      'POST',
      () => '/api/widget-token',
      (id: string) => ({ card_id: id, widget_type: 'SET_PIN', jkt: jkt() }),
    ],
    [
      'POST',
      () => '/api/widget-token',
      (id: string) => ({ card_id: id, widget_type: 'ENROLL_PASSKEY', jkt: jkt() }),
    ],
    [
      'POST',
      () => '/api/hostile-host/reveal',
      (id: string) => ({
        card_id: id,
        token: `wt_${'A'.repeat(43)}`,
        dpop: 'a.b.c',
        public_key: { kty: 'EC', crv: 'P-256', x: 'A'.repeat(43), y: 'A'.repeat(43) },
      }),
    ],
  ] as const)(
    '%s %s of another session’s card: the same 404 as no card at all',
    async (method, url, body) => {
      const payload = (id: string) =>
        typeof body === 'function' ? body(id) : body ? { ...body } : undefined;
      const foreign = await call(method, url(theirCard), {
        session: mine,
        ...(payload(theirCard) ? { body: payload(theirCard)! } : {}),
      });
      expect(foreign.status).toBe(404);
      expect(foreign.json()).toEqual({ code: 'CARD_NOT_FOUND', message: 'No such card' });
      const missing = await call(method, url('card_00000000000000000000000000'), {
        session: mine,
        ...(payload('card_00000000000000000000000000')
          ? { body: payload('card_00000000000000000000000000')! }
          : {}),
      });
      expect(missing.status).toBe(404);
      expect(missing.json()).toEqual(foreign.json());
      expect((await platform.call('GET', `/v1/cards/${theirCard}`)).body.card_status).toBe(
        'PENDING',
      );
    },
  );

  it('its owner reaches the same card', async () => {
    const own = await call('GET', `/api/cards/${theirCard}`, { session: theirs });
    expect(own.status).toBe(200);
    expect(own.json().id).toBe(theirCard);
  });
});

describe('minting a widget token', () => {
  let session: Session;
  let cardId: string;
  beforeAll(async () => {
    session = await startSession();
    cardId = await issue(session);
  });

  it.each(['CHANGE_PIN', 'set_pin', 'SET_PIN ', 'enroll_passkey', 42, null])(
    'widget_type %j: 400 from the demo site, the platform never asked',
    async (widgetType) => {
      const refused = await call('POST', '/api/widget-token', {
        session,
        body: { card_id: cardId, widget_type: widgetType, jkt: jkt() },
      });
      expect(refused.status).toBe(400);
      expect(refused.json()).toEqual({
        code: 'INVALID_REQUEST',
        message: 'widget_type must be one of SET_PIN, REVEAL_PIN, ENROLL_PASSKEY',
      });
    },
  );

  it.each([
    ['missing', undefined],
    ['42 characters', 'a'.repeat(42)],
    ['44 characters', 'a'.repeat(44)],
    ['padding', `${'a'.repeat(42)}=`],
    ['standard base64', `${'a'.repeat(42)}+`],
    ['not a string', 43],
  ])('jkt %s: 400 before minting', async (_name, value) => {
    const refused = await call('POST', '/api/widget-token', {
      session,
      body: {
        card_id: cardId,
        widget_type: 'SET_PIN',
        ...(value === undefined ? {} : { jkt: value }),
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.json().code).toBe('INVALID_REQUEST');
    expect(refused.json().message).toMatch(/^jkt must be the 43-character base64url/);
  });

  it('happy path: a single-use token for the session’s card, DPoP-bound to jkt and bound to the page’s origin', async () => {
    const key = jkt();
    const minted = await call('POST', '/api/widget-token', {
      session,
      body: { card_id: cardId, widget_type: 'SET_PIN', jkt: key },
    });
    expect(minted.status).toBe(201);
    expect(minted.headers['cache-control']).toBe('no-store');
    const { token } = minted.json();
    const stored = await platform.store.read.getWidgetTokenByHash(tokenHash(token));
    expect(stored).toMatchObject({ cardId, widgetType: 'SET_PIN', jkt: key, origin });
  });

  it('the origin bound is the one the page was served on', async () => {
    const localhost = host.replace('127.0.0.1', 'localhost');
    const headers = { host: localhost, origin: `http://${localhost}` };
    const started = await call('POST', '/api/session', { headers });
    const own = {
      cookie: String(started.headers['set-cookie']).split(';')[0]!,
      csrf: started.json().csrf_token,
    };
    const issued = await call('POST', '/api/cards', {
      session: own,
      headers,
      body: { policy: 'RANDOM', offline_pin: false },
    });
    const minted = await call('POST', '/api/widget-token', {
      session: own,
      headers,
      body: { card_id: issued.json().id, widget_type: 'REVEAL_PIN', jkt: jkt() },
    });
    expect(minted.status).toBe(201);
    const stored = await platform.store.read.getWidgetTokenByHash(tokenHash(minted.json().token));
    expect(stored?.origin).toBe(`http://${localhost}`);
  });
});

describe('paying at the demo terminal: the PIN pad’s JWE, never a PIN', () => {
  const PIN = '3850';
  const WRONG = '2961';
  const PUBLIC_URL = 'http://localhost:4000';
  let session: Session;
  let jwks: { keys: object[] };

  beforeAll(async () => {
    session = await startSession();
    jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
  });

  /** The cardholder sets the PIN in the Set PIN widget (here: its calls, DPoP-bound). */
  async function setPin(cardId: string, pin: string) {
    const key = await dpopKey();
    const minted = await platform.call('POST', `/v1/cards/${cardId}/widget_token`, {
      widget_type: 'SET_PIN',
      jkt: key.jkt,
    });
    const token = minted.body.widget_token as string;
    const set = await platform.app.inject({
      method: 'POST',
      url: '/v1/widget/pin',
      headers: {
        authorization: `DPoP ${token}`,
        dpop: await key.proof('POST', `${PUBLIC_URL}/v1/widget/pin`, token),
      },
      payload: { encrypted_pin: await encryptPin(jwks, pin, token) },
    });
    expect(set.statusCode).toBe(200);
  }

  /** An active offline-PIN card of the session, its PIN set. */
  async function activeCard(): Promise<string> {
    const issued = await call('POST', '/api/cards', {
      session,
      body: { policy: 'REQUIRED', offline_pin: true },
    });
    const cardId = issued.json().id as string;
    await setPin(cardId, PIN);
    expect((await call('POST', `/api/cards/${cardId}/advance`, { session })).status).toBe(200);
    expect((await call('POST', `/api/cards/${cardId}/activate`, { session })).status).toBe(200);
    return cardId;
  }

  /** What the platform's PIN pad hands the page: a JWE bound to the card and the moment. */
  const padJwe = (pin: string, cardId: string) =>
    encryptPin(jwks, pin, '', { wst: undefined, card: cardId, iat: Math.floor(Date.now() / 1000) });

  const pay = (cardId: string, body: Record<string, unknown>) =>
    call('POST', `/api/cards/${cardId}/authorize`, {
      session,
      body: { entry_mode: 'CHIP_CONTACT', ...body },
    });

  it('online PIN: translated to a format 4 block (or format 0) and verified by the issuer', async () => {
    const cardId = await activeCard();
    const paid = await pay(cardId, {
      cvm: 'ONLINE_PIN',
      encrypted_pin: await padJwe(PIN, cardId),
    });
    expect(paid.status).toBe(200);
    expect(paid.json()).toMatchObject({
      approved: true,
      pin_verification: 'VERIFIED',
      pin_status: 'OK',
      pin_block_format: 'ISO_9564_4',
    });
    // The page learns the answer, never the block the backend forwarded.
    expect(paid.json()).not.toHaveProperty('pin_block');
    const format0 = await pay(cardId, {
      cvm: 'ONLINE_PIN',
      encrypted_pin: await padJwe(PIN, cardId),
      pin_block_format: 'ISO_9564_0',
    });
    expect(format0.json()).toMatchObject({
      approved: true,
      pin_verification: 'VERIFIED',
      pin_block_format: 'ISO_9564_0',
    });
  });

  it('offline PIN: the chip verifies the PIN it holds', async () => {
    const cardId = await activeCard();
    const paid = await pay(cardId, {
      cvm: 'OFFLINE_PIN',
      encrypted_pin: await padJwe(PIN, cardId),
    });
    expect(paid.status).toBe(200);
    expect(paid.json()).toMatchObject({
      approved: true,
      offline_pin_verification: 'VERIFIED',
      chip_pin_tries_remaining: 3,
    });
    const wrong = await pay(cardId, {
      cvm: 'OFFLINE_PIN',
      encrypted_pin: await padJwe(WRONG, cardId),
    });
    expect(wrong.json()).toMatchObject({
      approved: false,
      offline_pin_verification: 'INCORRECT',
      chip_pin_tries_remaining: 2,
      decline_reason: 'OFFLINE_PIN_INCORRECT',
    });
  });

  it('three wrong online PINs block the PIN; the back office unblocks it', async () => {
    const cardId = await activeCard();
    const answers = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const paid = await pay(cardId, {
        cvm: 'ONLINE_PIN',
        encrypted_pin: await padJwe(WRONG, cardId),
      });
      answers.push(paid.json());
    }
    expect(answers.map((answer) => [answer.decline_reason, answer.pin_tries_remaining])).toEqual([
      ['INCORRECT_PIN', 2],
      ['INCORRECT_PIN', 1],
      ['PIN_TRIES_EXCEEDED', 0],
    ]);
    const refused = await pay(cardId, {
      cvm: 'ONLINE_PIN',
      encrypted_pin: await padJwe(PIN, cardId),
    });
    expect(refused.json()).toMatchObject({ approved: false, pin_verification: 'BLOCKED' });

    const unblocked = await call('POST', `/api/cards/${cardId}/unblock-pin`, { session });
    expect(unblocked.status).toBe(200);
    expect(unblocked.json()).toMatchObject({
      id: cardId,
      pin_status: 'OK',
      pin_tries_remaining: 3,
    });
    const again = await pay(cardId, {
      cvm: 'ONLINE_PIN',
      encrypted_pin: await padJwe(PIN, cardId),
    });
    expect(again.json()).toMatchObject({ approved: true, pin_verification: 'VERIFIED' });
  });

  it('the platform’s refusal of the JWE reaches the page with its code', async () => {
    const cardId = await activeCard();
    const otherCard = await activeCard();
    const refused = await pay(cardId, {
      cvm: 'ONLINE_PIN',
      encrypted_pin: await padJwe(PIN, otherCard),
    });
    expect(refused.status).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'PIN_PAD_CARD_MISMATCH' });
    expect((await platform.call('GET', `/v1/cards/${cardId}`)).body.pin_tries_remaining).toBe(3);
  });

  it.each([
    ['a PIN in clear', { cvm: 'ONLINE_PIN', pin: '3850' }, 'Unknown field pin: remove it'],
    [
      'a cvm without the pad’s JWE',
      { cvm: 'ONLINE_PIN' },
      'encrypted_pin must be the PIN pad’s compact JWE',
    ],
    [
      'digits as the JWE',
      { cvm: 'ONLINE_PIN', encrypted_pin: '3850' },
      'encrypted_pin must be the PIN pad’s compact JWE',
    ],
    [
      'a JWE without a cvm',
      { encrypted_pin: 'a..b.c.d' },
      'encrypted_pin and pin_block_format go with a cvm',
    ],
    [
      'an unknown cvm',
      { cvm: 'SIGNATURE', encrypted_pin: 'a..b.c.d' },
      'cvm must be one of ONLINE_PIN, OFFLINE_PIN',
    ],
    [
      'an unknown PIN block format',
      { cvm: 'ONLINE_PIN', encrypted_pin: 'a..b.c.d', pin_block_format: 'ISO_9564_1' },
      'pin_block_format must be one of ISO_9564_4, ISO_9564_0',
    ],
    [
      'an offline PIN tapped',
      { cvm: 'OFFLINE_PIN', encrypted_pin: 'a..b.c.d', entry_mode: 'CONTACTLESS' },
      'An offline PIN is checked by the chip: insert the card (CHIP_CONTACT)',
    ],
    [
      'an offline PIN in format 0',
      { cvm: 'OFFLINE_PIN', encrypted_pin: 'a..b.c.d', pin_block_format: 'ISO_9564_0' },
      'The terminal hands the chip its PIN in format 4: use ISO_9564_4',
    ],
  ])('%s: 400 from the demo site', async (_name, body, message) => {
    const cardId = await activeCard();
    const refused = await pay(cardId, body);
    expect(refused.status).toBe(400);
    expect(refused.json()).toEqual({ code: 'INVALID_REQUEST', message });
    expect((await platform.call('GET', `/v1/cards/${cardId}`)).body.pin_tries_remaining).toBe(3);
  });
});

/** The test platform's PUBLIC_URL: DPoP proofs' htu and where its ceremonies run. */
const PLATFORM_PUBLIC_URL = 'http://localhost:4000';
const STEP_UP_PIN = '3850';

/**
 * What a widget on the page does with a token the demo minted for its key: calls the platform,
 * DPoP-bound, reporting the page as its parent (the platform's documents send no other Origin).
 */
async function widgetSession(session: Session, cardId: string, widgetType: string) {
  const key = await dpopKey();
  const minted = await call('POST', '/api/widget-token', {
    session,
    body: { card_id: cardId, widget_type: widgetType, jkt: key.jkt },
  });
  expect(minted.status).toBe(201);
  const token = minted.json().token as string;
  return {
    token,
    async call(method: 'GET' | 'POST', url: string, body?: object) {
      const response = await platform.app.inject({
        method,
        url,
        headers: {
          authorization: `DPoP ${token}`,
          dpop: await key.proof(method, `${PLATFORM_PUBLIC_URL}${url}`, token),
          'pin-widget-parent-origin': origin,
        },
        ...(body === undefined ? {} : { payload: body }),
      });
      return { status: response.statusCode, body: response.json() };
    },
  };
}

/** A ceremony in the platform's frame on the demo page: cross-origin, under the page's origin. */
const framed = (challenge: string) => ({
  challenge,
  origin: PLATFORM_PUBLIC_URL,
  rpId: 'localhost',
  crossOrigin: true,
  topOrigin: origin,
});

/** An ACTIVE card of the session with its PIN set, issued through the demo. */
async function activeCard(session: Session, revealStepUp: 'NONE' | 'PASSKEY'): Promise<string> {
  const issued = await call('POST', '/api/cards', {
    session,
    body: { policy: 'REQUIRED', offline_pin: false, reveal_step_up: revealStepUp },
  });
  expect(issued.status).toBe(201);
  const cardId = issued.json().id as string;
  const set = await widgetSession(session, cardId, 'SET_PIN');
  const jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
  const answer = await set.call('POST', '/v1/widget/pin', {
    encrypted_pin: await encryptPin(jwks, STEP_UP_PIN, set.token),
  });
  expect(answer.status).toBe(200);
  expect((await call('POST', `/api/cards/${cardId}/advance`, { session })).status).toBe(200);
  expect((await call('POST', `/api/cards/${cardId}/activate`, { session })).status).toBe(200);
  return cardId;
}

/** The enroll-passkey widget's two calls, the credential made by `authenticator`. */
async function enroll(session: Session, cardId: string, authenticator: SoftwareAuthenticator) {
  const widget = await widgetSession(session, cardId, 'ENROLL_PASSKEY');
  const options = await widget.call('POST', '/v1/widget/passkeys/registration_options');
  expect(options.status).toBe(200);
  const credential = authenticator.register(framed(options.body.challenge), options.body.user.id);
  const enrolled = await widget.call('POST', '/v1/widget/passkeys', { credential });
  expect(enrolled.status).toBe(201);
  return enrolled.body;
}

/**
 * What the hostile host's script does: its own DPoP key, a REVEAL_PIN token the program's
 * backend mints for it through the route the widget uses, its own signed proof, out through the
 * relay.
 */
async function attack(session: Session, cardId: string, extra: Record<string, unknown> = {}) {
  const key = await dpopKey();
  const minted = await call('POST', '/api/widget-token', {
    session,
    body: { card_id: cardId, widget_type: 'REVEAL_PIN', jkt: key.jkt },
  });
  expect(minted.status).toBe(201);
  const token = minted.json().token as string;
  const ecdh = await ephemeralKey();
  return call('POST', '/api/hostile-host/reveal', {
    session,
    body: {
      card_id: cardId,
      token,
      dpop: await key.proof('POST', `${PLATFORM_PUBLIC_URL}/v1/widget/pin/reveal`, token),
      public_key: ecdh.publicJwk,
      ...extra,
    },
  });
}

const revealAudits = async (cardId: string) =>
  (await platform.db.events('CARD.PIN.REVEALED')).filter((event) => event.data.card_id === cardId);

describe('cards for the session’s cardholder, with or without a passkey step-up', () => {
  it('every card of a session carries its own customer id, another session’s another', async () => {
    const mine = await startSession();
    const theirs = await startSession();
    const first = (await call('GET', `/api/cards/${await issue(mine)}`, { session: mine })).json();
    const second = (await call('GET', `/api/cards/${await issue(mine)}`, { session: mine })).json();
    const other = (
      await call('GET', `/api/cards/${await issue(theirs)}`, { session: theirs })
    ).json();
    expect(first.customer_id).toMatch(/^cust_demo_[0-9a-f]{16}$/);
    expect(second.customer_id).toBe(first.customer_id);
    expect(other.customer_id).toMatch(/^cust_demo_[0-9a-f]{16}$/);
    expect(other.customer_id).not.toBe(first.customer_id);
    // Not a piece of the session's cookie: an id in cards and logs carries no credential.
    expect(mine.cookie).not.toContain(first.customer_id.slice('cust_demo_'.length));
  });

  it('reveal_step_up PASSKEY makes a PASSKEY product; every card answer says which', async () => {
    const session = await startSession();
    const issued = await call('POST', '/api/cards', {
      session,
      body: { policy: 'RANDOM', offline_pin: false, reveal_step_up: 'PASSKEY' },
    });
    expect(issued.status).toBe(201);
    expect(issued.json().reveal_step_up).toBe('PASSKEY');
    const product = await platform.call(
      'GET',
      `/v1/card_products/${issued.json().card_product_id}`,
    );
    expect(product.body.reveal_step_up).toBe('PASSKEY');
    const cardId = issued.json().id as string;
    for (const [method, url] of [
      ['GET', `/api/cards/${cardId}`],
      ['POST', `/api/cards/${cardId}/advance`],
      ['POST', `/api/cards/${cardId}/activate`],
    ] as const) {
      const answer = await call(method, url, { session });
      expect(answer.json().reveal_step_up, url).toBe('PASSKEY');
    }
    const plain = await call('POST', '/api/cards', {
      session,
      body: { policy: 'REQUIRED', offline_pin: false },
    });
    expect(plain.json().reveal_step_up).toBe('NONE');
  });

  it.each(['passkey', 'WEBAUTHN', true])('reveal_step_up %j: 400', async (value) => {
    const session = await startSession();
    const refused = await call('POST', '/api/cards', {
      session,
      body: { policy: 'REQUIRED', offline_pin: false, reveal_step_up: value },
    });
    expect(refused.status).toBe(400);
    expect(refused.json()).toEqual({
      code: 'INVALID_REQUEST',
      message: 'reveal_step_up must be one of NONE, PASSKEY',
    });
  });
});

describe('the cardholder’s passkeys', () => {
  it('an ENROLL_PASSKEY token is DPoP-bound and bound to the page’s origin; never without jkt', async () => {
    const session = await startSession();
    const cardId = await issue(session);
    const key = jkt();
    const minted = await call('POST', '/api/widget-token', {
      session,
      body: { card_id: cardId, widget_type: 'ENROLL_PASSKEY', jkt: key },
    });
    expect(minted.status).toBe(201);
    const stored = await platform.store.read.getWidgetTokenByHash(tokenHash(minted.json().token));
    expect(stored).toMatchObject({ cardId, widgetType: 'ENROLL_PASSKEY', jkt: key, origin });
    const bare = await call('POST', '/api/widget-token', {
      session,
      body: { card_id: cardId, widget_type: 'ENROLL_PASSKEY' },
    });
    expect(bare.status).toBe(400);
    expect(bare.json().message).toMatch(/^jkt must be the 43-character base64url/);
  });

  it('enrolled in the platform’s frame, listed for the session’s customer only; the back office removes them', async () => {
    const mine = await startSession();
    const theirs = await startSession();
    const cardId = await activeCard(mine, 'PASSKEY');
    const enrolled = await enroll(mine, cardId, new SoftwareAuthenticator());
    const customerId = (await call('GET', `/api/cards/${cardId}`, { session: mine })).json()
      .customer_id;
    expect(enrolled).toMatchObject({ customer_id: customerId, card_id: cardId });

    const listed = await call('GET', '/api/passkeys', { session: mine });
    expect(listed.status).toBe(200);
    expect(listed.json()).toEqual({ data: [enrolled] });
    expect((await call('GET', '/api/passkeys', { session: theirs })).json()).toEqual({ data: [] });

    // Another session's back office reaches only its own customer: nothing of mine is removed.
    const foreign = await call('DELETE', '/api/passkeys', { session: theirs });
    expect(foreign.json()).toEqual({ deleted: 0 });
    expect((await call('GET', '/api/passkeys', { session: mine })).json().data).toHaveLength(1);

    const removed = await call('DELETE', '/api/passkeys', { session: mine });
    expect(removed.status).toBe(200);
    expect(removed.json()).toEqual({ deleted: 1 });
    expect((await call('GET', '/api/passkeys', { session: mine })).json()).toEqual({ data: [] });
    const events = await platform.db.events('CUSTOMER.PASSKEY.DELETED');
    expect(events.map((event) => event.data.passkey.id)).toContain(enrolled.id);
  });

  it('a reveal behind the passkey: the widget’s challenge, the cardholder’s assertion, the PIN', async () => {
    const session = await startSession();
    const cardId = await activeCard(session, 'PASSKEY');
    const authenticator = new SoftwareAuthenticator();
    const enrolled = await enroll(session, cardId, authenticator);
    const widget = await widgetSession(session, cardId, 'REVEAL_PIN');
    const challenge = await widget.call('POST', '/v1/widget/pin/reveal/challenge');
    expect(challenge.status).toBe(200);
    const key = await ephemeralKey();
    const revealed = await widget.call('POST', '/v1/widget/pin/reveal', {
      public_key: key.publicJwk,
      assertion: authenticator.assert(framed(challenge.body.challenge)),
    });
    expect(revealed.status).toBe(200);
    expect((await key.decrypt(revealed.body.encrypted_pin)).payload.pin).toBe(STEP_UP_PIN);
    expect((await revealAudits(cardId)).map((event) => event.data.step_up)).toEqual([
      { method: 'PASSKEY', passkey_id: enrolled.id },
    ]);
  });
});

describe('the hostile host: a token for the script’s own key, relayed to the platform', () => {
  it('PASSKEY product: refused, 401 STEP_UP_REQUIRED, nothing revealed', async () => {
    const session = await startSession();
    const cardId = await activeCard(session, 'PASSKEY');
    await enroll(session, cardId, new SoftwareAuthenticator());
    const refused = await attack(session, cardId);
    expect(refused.status).toBe(200);
    expect(refused.json()).toEqual({
      platform_status: 401,
      code: 'STEP_UP_REQUIRED',
      message: 'This card program asks the cardholder to confirm with a passkey before a reveal',
    });
    expect(await revealAudits(cardId)).toEqual([]);
  });

  it('PASSKEY product: a replayed assertion is refused, 401 STEP_UP_FAILED', async () => {
    const session = await startSession();
    const cardId = await activeCard(session, 'PASSKEY');
    const authenticator = new SoftwareAuthenticator();
    await enroll(session, cardId, authenticator);
    // The cardholder's own reveal, whose assertion the attacker then replays with its token.
    const widget = await widgetSession(session, cardId, 'REVEAL_PIN');
    const challenge = await widget.call('POST', '/v1/widget/pin/reveal/challenge');
    const assertion = authenticator.assert(framed(challenge.body.challenge));
    const key = await ephemeralKey();
    const own = await widget.call('POST', '/v1/widget/pin/reveal', {
      public_key: key.publicJwk,
      assertion,
    });
    expect(own.status).toBe(200);
    const replayed = await attack(session, cardId, { assertion });
    expect(replayed.json()).toMatchObject({ platform_status: 401, code: 'STEP_UP_FAILED' });
    expect(await revealAudits(cardId)).toHaveLength(1);
  });

  it('PASSKEY product, none enrolled: refused, 409 PASSKEY_NOT_ENROLLED', async () => {
    const session = await startSession();
    const cardId = await activeCard(session, 'PASSKEY');
    const refused = await attack(session, cardId);
    expect(refused.json()).toMatchObject({ platform_status: 409, code: 'PASSKEY_NOT_ENROLLED' });
  });

  it('NONE product: the platform answers 200 with the PIN encrypted to the script’s key; the page gets no ciphertext', async () => {
    const session = await startSession();
    const cardId = await activeCard(session, 'NONE');
    const answered = await attack(session, cardId);
    expect(answered.status).toBe(200);
    expect(answered.json()).toEqual({
      platform_status: 200,
      encrypted_pin: { alg: 'ECDH-ES', enc: 'A256GCM', characters: expect.any(Number) },
    });
    expect(answered.json().encrypted_pin.characters).toBeGreaterThan(100);
    // A real reveal, audited like any other: the platform cannot tell it from the widget's.
    const [audit] = await revealAudits(cardId);
    expect(audit?.data).toMatchObject({
      step_up: null,
      origin,
      user_agent: 'Lumen Bank demo: hostile-host relay (stands in for an attacker server)',
    });
  });

  it('relays only a REVEAL_PIN token this session minted for that very card', async () => {
    const session = await startSession();
    const cardId = await activeCard(session, 'NONE');
    const otherCard = await activeCard(session, 'NONE');
    const key = await dpopKey();
    const tokenFor = async (card: string, widgetType: string) =>
      (
        await call('POST', '/api/widget-token', {
          session,
          body: { card_id: card, widget_type: widgetType, jkt: key.jkt },
        })
      ).json().token as string;
    const relayed = async (token: string) =>
      call('POST', '/api/hostile-host/reveal', {
        session,
        body: {
          card_id: cardId,
          token,
          dpop: await key.proof('POST', `${PLATFORM_PUBLIC_URL}/v1/widget/pin/reveal`, token),
          public_key: (await ephemeralKey()).publicJwk,
        },
      });
    const minted = await platform.call('POST', `/v1/cards/${cardId}/widget_token`, {
      widget_type: 'REVEAL_PIN',
      jkt: key.jkt,
    });
    for (const token of [
      await tokenFor(otherCard, 'REVEAL_PIN'),
      await tokenFor(cardId, 'SET_PIN'),
      minted.body.widget_token as string,
    ]) {
      const refused = await relayed(token);
      expect(refused.status).toBe(400);
      expect(refused.json()).toEqual({
        code: 'WIDGET_TOKEN_NOT_MINTED_HERE',
        message: 'The demo relays only REVEAL_PIN tokens this session minted for that card',
      });
    }
    expect(await revealAudits(cardId)).toEqual([]);
  });

  it.each([
    ['an unknown field', { pin: '3850' }, 'Unknown field pin: remove it'],
    ['no token', { token: undefined }, 'token must be a widget token this program minted'],
    ['a DPoP proof that is no JWS', { dpop: 'proof' }, 'dpop must be a DPoP proof (a compact JWS)'],
    [
      'a private key',
      { public_key: { kty: 'EC', crv: 'P-256', x: 'A'.repeat(43), y: 'A'.repeat(43), d: 'A' } },
      'public_key must be a public EC P-256 JWK: kty, crv, x and y only',
    ],
    [
      'an assertion that is no object',
      { assertion: 'abc' },
      'assertion must be a WebAuthn assertion as JSON',
    ],
  ])('%s: 400 before the platform is asked', async (_name, fields, message) => {
    const session = await startSession();
    const cardId = await issue(session);
    const refused = await call('POST', '/api/hostile-host/reveal', {
      session,
      body: {
        card_id: cardId,
        token: `wt_${'A'.repeat(43)}`,
        dpop: 'a.b.c',
        public_key: { kty: 'EC', crv: 'P-256', x: 'A'.repeat(43), y: 'A'.repeat(43) },
        ...fields,
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.json()).toEqual({ code: 'INVALID_REQUEST', message });
  });

  it('why a relay: the platform’s widget endpoints refuse a browser call from the demo’s origin', async () => {
    const session = await startSession();
    const cardId = await activeCard(session, 'NONE');
    const widget = await widgetSession(session, cardId, 'REVEAL_PIN');
    const fromPage = await platform.app.inject({
      method: 'POST',
      url: '/v1/widget/pin/reveal',
      headers: { origin, authorization: `DPoP ${widget.token}` },
      payload: { public_key: (await ephemeralKey()).publicJwk },
    });
    expect(fromPage.statusCode).toBe(403);
    expect(fromPage.json().code).toBe('FORBIDDEN');
  });
});

describe('the Host header (DNS rebinding)', () => {
  it.each([
    ['GET', '/'],
    ['GET', '/api/config'],
    ['POST', '/api/session'],
    ['GET', '/api/events'],
    ['POST', '/webhooks'],
  ] as const)('%s %s under another name: 421 in plain words', async (method, url) => {
    for (const name of [
      'rebind.attacker.example',
      `rebind.attacker.example:${host.split(':')[1]}`,
      '127.0.0.1:1',
      '',
    ]) {
      const refused = await call(method, url, { headers: { host: name } });
      expect(refused.status, name).toBe(421);
      expect(refused.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(refused.text).toBe(
        `This demo site answers only as ${host} or ${host.replace('127.0.0.1', 'localhost')}.`,
      );
    }
  });

  it('answers as 127.0.0.1:<port> and localhost:<port>', async () => {
    for (const name of [
      host,
      host.replace('127.0.0.1', 'localhost'),
      host.replace('127.0.0.1', 'LOCALHOST'),
    ]) {
      expect((await call('GET', '/api/config', { headers: { host: name } })).status).toBe(200);
    }
  });
});

describe('the event stream and the timeline', () => {
  const secret = () =>
    (
      JSON.parse(fs.readFileSync(path.join(platform.dataDir, 'demo-site.json'), 'utf8')) as {
        secret: string;
      }
    ).secret;

  /** A signed delivery about `subject`: a card id, or for CUSTOMER.* a customer id. */
  async function deliver(subject: string, type = 'CARD.UPDATED'): Promise<string> {
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const payload = JSON.stringify({
      type,
      timestamp: new Date().toISOString(),
      data:
        type === 'CARD.ISSUER_SCRIPT.UPDATED'
          ? { card_id: subject }
          : type.startsWith('CUSTOMER.')
            ? { passkey: { id: `pk_${randomBytes(8).toString('hex')}`, customer_id: subject } }
            : { card: { id: subject } },
    });
    const now = new Date();
    const delivered = await call('POST', '/webhooks', {
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret()).sign(id, now, payload),
      },
      body: JSON.parse(payload),
    });
    expect(delivered.status).toBe(204);
    return id;
  }

  it('the stream refuses a request without a session, over real HTTP', async () => {
    const response = await fetch(`${origin}/api/stream`);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).not.toContain('text/event-stream');
  });

  it('streams and lists only the events of the session’s own cards', async () => {
    const mine = await startSession();
    const theirs = await startSession();
    const myCard = await issue(mine);
    const theirCard = await issue(theirs);

    const controller = new AbortController();
    const stream = await fetch(`${origin}/api/stream`, {
      headers: { cookie: mine.cookie },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).value).toBe(': connected\n\n');

    const theirEvent = await deliver(theirCard);
    const theirScript = await deliver(theirCard, 'CARD.ISSUER_SCRIPT.UPDATED');
    const myEvent = await deliver(myCard);
    const myScript = await deliver(myCard, 'CARD.ISSUER_SCRIPT.UPDATED');
    let received = '';
    while (!received.includes(myScript)) received += (await reader.read()).value;
    controller.abort();
    const ids = received
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: '))
      .map((frame) => JSON.parse(frame.slice(6)).id);
    // Their events were delivered first: had they been streamed, they would be here.
    expect(ids).toEqual([myEvent, myScript]);

    const listed = (await call('GET', '/api/events', { session: mine })).json() as { id: string }[];
    expect(listed.map((event) => event.id)).toEqual([myEvent, myScript]);
    const theirList = (await call('GET', '/api/events', { session: theirs })).json() as {
      id: string;
    }[];
    expect(theirList.map((event) => event.id)).toEqual([theirEvent, theirScript]);
  });

  it('a passkey event goes to the session of its customer, and no other', async () => {
    const mine = await startSession();
    const theirs = await startSession();
    const customerOf = async (session: Session) =>
      (await call('GET', `/api/cards/${await issue(session)}`, { session })).json()
        .customer_id as string;
    const myCustomer = await customerOf(mine);
    const theirCustomer = await customerOf(theirs);

    const controller = new AbortController();
    const stream = await fetch(`${origin}/api/stream`, {
      headers: { cookie: mine.cookie },
      signal: controller.signal,
    });
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).value).toBe(': connected\n\n');
    const theirEvent = await deliver(theirCustomer, 'CUSTOMER.PASSKEY.CREATED');
    const myEvent = await deliver(myCustomer, 'CUSTOMER.PASSKEY.CREATED');
    const myRemoval = await deliver(myCustomer, 'CUSTOMER.PASSKEY.DELETED');
    let received = '';
    while (!received.includes(myRemoval)) received += (await reader.read()).value;
    controller.abort();
    expect(received).not.toContain(theirEvent);
    expect(received).toContain(myEvent);

    const ids = async (session: Session) =>
      ((await call('GET', '/api/events', { session })).json() as { id: string }[])
        .map((event) => event.id)
        .filter((id) => [theirEvent, myEvent, myRemoval].includes(id));
    expect(await ids(mine)).toEqual([myEvent, myRemoval]);
    expect(await ids(theirs)).toEqual([theirEvent]);
  });
});
