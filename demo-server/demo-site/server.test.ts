import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dpopKey, encryptPin } from '../testing/independent-jose.js';
import { TEST_API_KEY, type TestPlatform, startTestPlatform } from '../testing/platform.js';
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
  method: 'GET' | 'POST',
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
      ...(method === 'POST' ? { origin } : {}),
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
      ['/api/cards', { policy: 'REQUIRED', offline_pin: false }],
      ['/api/widget-token', { card_id: cardId, widget_type: 'SET_PIN', jkt: jkt() }],
      [`/api/cards/${cardId}/advance`, undefined],
      [`/api/cards/${cardId}/activate`, undefined],
      [`/api/cards/${cardId}/sync-offline-pin`, undefined],
      [`/api/cards/${cardId}/authorize`, { entry_mode: 'CHIP_CONTACT' }],
      [`/api/cards/${cardId}/unblock-pin`, undefined],
    ] as const;

  it.each([
    ['none', () => null],
    ['a wrong one', () => randomBytes(32).toString('base64url')],
    ['another session’s', () => other.csrf],
    ['a prefix of the right one', () => session.csrf.slice(0, 20)],
  ])('%s: 403 on every POST, and nothing happens', async (_name, token) => {
    for (const [url, body] of routes()) {
      const before = await demoCards();
      const refused = await call('POST', url, {
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

  it.each(['CHANGE_PIN', 'set_pin', 'SET_PIN ', 42, null])(
    'widget_type %j: 400 from the demo site, the platform never asked',
    async (widgetType) => {
      const refused = await call('POST', '/api/widget-token', {
        session,
        body: { card_id: cardId, widget_type: widgetType, jkt: jkt() },
      });
      expect(refused.status).toBe(400);
      expect(refused.json()).toEqual({
        code: 'INVALID_REQUEST',
        message: 'widget_type must be one of SET_PIN, REVEAL_PIN',
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

  async function deliver(cardId: string, type = 'CARD.UPDATED'): Promise<string> {
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const payload = JSON.stringify({
      type,
      timestamp: new Date().toISOString(),
      data: type === 'CARD.ISSUER_SCRIPT.UPDATED' ? { card_id: cardId } : { card: { id: cardId } },
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
});
