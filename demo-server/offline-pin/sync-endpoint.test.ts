import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueCard, mintToken, testPan, widgetCall } from '../testing/cards.js';
import { encryptPin } from '../testing/independent-jose.js';
import { type TestPlatform, startTestPlatform } from '../testing/platform.js';

let platform: TestPlatform;
beforeEach(async () => {
  platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000' });
});
afterEach(() => platform.dispose());

const PAN = testPan('400000123456785');
const OFFLINE = { pin_issuance_policy: 'REQUIRED', offline_pin: true } as const;

async function accountToken(accountId = 'acct_1', on: TestPlatform = platform) {
  const minted = await on.call('POST', `/v1/accounts/${accountId}/tokens`);
  expect(minted.status).toBe(200);
  return minted.body.access_token as string;
}

/** The sync call as a processor client makes it; `init` adds a body or changes headers. */
async function sync(
  cardId: string,
  token: string | undefined,
  init: { payload?: string | object; headers?: Record<string, string> } = {},
) {
  const response = await platform.app.inject({
    method: 'POST',
    url: `/pcicards/v1/pcicards/${cardId}/scripts/sync-offline-pin`,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...init.headers,
    },
    ...(init.payload === undefined ? {} : { payload: init.payload }),
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    raw: response.body,
    body: response.body === '' ? undefined : response.json(),
  };
}

async function setPin(cardId: string, pin: string) {
  const jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
  const token = await mintToken(platform, cardId, { widget_type: 'SET_PIN' });
  const set = await widgetCall(platform, 'POST', '/v1/widget/pin', token, {
    encrypted_pin: await encryptPin(jwks, pin, token),
  });
  expect(set.status).toBe(200);
}

/** An issued offline-PIN card with a PIN: what the sync endpoint accepts. */
async function syncableCard(card: Record<string, unknown> = {}) {
  const issued = await issueCard(platform, OFFLINE, { pan: PAN, ...card });
  await setPin(issued.id, '3850');
  await platform.call('POST', `/v1/simulations/cards/${issued.id}/advance`);
  return issued;
}

const scriptEvents = async () =>
  (await platform.call('GET', '/v1/events?type=CARD.ISSUER_SCRIPT.UPDATED')).body.data as {
    data: Record<string, unknown>;
  }[];

describe('account tokens', () => {
  it('are short-lived signed JWTs carrying the account id, aud, iss, exp, iat and jti', async () => {
    const minted = await platform.call('POST', '/v1/accounts/acct_1/tokens');
    expect(minted).toMatchObject({
      status: 200,
      body: { access_token: expect.any(String), token_type: 'Bearer', expires_in: 300 },
    });
    const token = minted.body.access_token as string;
    const [signingKey] = await platform.store.read.accountTokenKeys(Date.now());
    expect(decodeProtectedHeader(token)).toEqual({
      alg: 'HS256',
      typ: 'at+jwt',
      kid: signingKey!.kid,
    });
    const claims = decodeJwt(token);
    expect(claims).toEqual({
      sub: 'acct_1',
      iss: 'http://localhost:4000',
      aud: 'http://localhost:4000/pcicards',
      iat: expect.any(Number),
      exp: claims.iat! + 300,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(Math.abs(claims.iat! - Date.now() / 1000)).toBeLessThan(5);
    expect(decodeJwt(await accountToken()).jti).not.toBe(claims.jti);
  });

  it('last ACCOUNT_TOKEN_TTL_S seconds', async () => {
    const short = await startTestPlatform({ ACCOUNT_TOKEN_TTL_S: '60' });
    try {
      const minted = await short.call('POST', '/v1/accounts/acct_1/tokens');
      expect(minted.body.expires_in).toBe(60);
      const claims = decodeJwt(minted.body.access_token);
      expect(claims.exp! - claims.iat!).toBe(60);
    } finally {
      await short.dispose();
    }
    await expect(startTestPlatform({ ACCOUNT_TOKEN_TTL_S: '5' })).rejects.toThrow(
      /ACCOUNT_TOKEN_TTL_S must be between 10 and 3600/,
    );
  });

  it('need the API key, a valid account id, and no fields in the body', async () => {
    const anonymous = await platform.app.inject({
      method: 'POST',
      url: '/v1/accounts/acct_1/tokens',
    });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await platform.call('POST', '/v1/accounts/a%20b/tokens')).body).toMatchObject({
      code: 'INVALID_FIELD',
      field: 'account_id',
    });
    expect((await platform.call('POST', '/v1/accounts/acct_1/tokens', {})).status).toBe(200);
    expect(
      (await platform.call('POST', '/v1/accounts/acct_1/tokens', { ttl: 9999 })).body,
    ).toMatchObject({ code: 'UNKNOWN_FIELD', field: 'ttl' });
  });

  it('are answered with Cache-Control: no-store', async () => {
    const response = await platform.app.inject({
      method: 'POST',
      url: '/v1/accounts/acct_1/tokens',
      headers: platform.auth,
    });
    expect(response.headers['cache-control']).toBe('no-store');
  });
});

describe('POST /pcicards/v1/pcicards/{cardId}/scripts/sync-offline-pin', () => {
  it('204 with no body for an offline-PIN card with a PIN; a script is created', async () => {
    const card = await syncableCard();
    const response = await sync(card.id, await accountToken());
    expect(response.status).toBe(204);
    expect(response.raw).toBe('');
    expect(response.headers['content-type']).toBeUndefined();
    const [created] = await scriptEvents();
    expect(created?.data).toEqual({
      account_id: 'acct_1',
      card_id: card.id,
      customer_id: null,
      card_script_id: expect.stringMatching(/^scr_/),
      script_type: 'SYNC_PIN',
      script_event_type: 'script_created',
    });
    const now = (await platform.call('GET', `/v1/cards/${card.id}`)).body;
    expect(now.offline_pin).toEqual({
      enabled: true,
      in_sync: true,
      pending_script_id: created?.data.card_script_id,
    });
  });

  it('an empty body works with or without a Content-Type; any content is a 400', async () => {
    const card = await syncableCard();
    const token = await accountToken();
    const emptyBodies: Record<string, string>[] = [
      { 'content-type': 'application/json' },
      { 'content-type': 'text/plain' },
      { 'content-length': '0' },
    ];
    for (const headers of emptyBodies) {
      const response = await sync(card.id, token, { headers, payload: '' });
      expect(response.status, JSON.stringify(headers)).toBe(204);
    }
    for (const [payload, headers] of [
      [{}, {}],
      ['{"pin":"3850"}', { 'content-type': 'application/json' }],
      ['x', { 'content-type': 'text/plain' }],
      ['x', { 'content-type': 'application/octet-stream' }],
    ] as const) {
      const refused = await sync(card.id, token, { payload, headers });
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({
        code: 'BODY_NOT_ALLOWED',
        message: 'This endpoint takes no body: send none',
      });
    }
  });

  it('401 without a token, with a bad or expired one, or with the API key', async () => {
    const card = await syncableCard();
    const good = await accountToken();
    const foreignKey = new TextEncoder().encode('x'.repeat(32));
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject('acct_1')
      .setIssuer('http://localhost:4000')
      .setAudience('http://localhost:4000/pcicards')
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti('j')
      .sign(foreignKey);
    const [header, payload] = good.split('.');
    const unsigned = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${payload}.`;
    const otherSub = Buffer.from(JSON.stringify({ ...decodeJwt(good), sub: 'acct_2' })).toString(
      'base64url',
    );
    const cases: [string | undefined, Record<string, string>, string][] = [
      [undefined, {}, 'ACCOUNT_TOKEN_MISSING'],
      [undefined, { authorization: `Basic ${good}` }, 'ACCOUNT_TOKEN_MISSING'],
      ['not-a-jwt', {}, 'ACCOUNT_TOKEN_INVALID'],
      [forged, {}, 'ACCOUNT_TOKEN_INVALID'],
      [unsigned, {}, 'ACCOUNT_TOKEN_INVALID'],
      [`${header}.${otherSub}.${good.split('.')[2]}`, {}, 'ACCOUNT_TOKEN_INVALID'],
      [platform.auth.authorization.slice('Bearer '.length), {}, 'ACCOUNT_TOKEN_INVALID'],
      [await mintToken(platform, card.id, { widget_type: 'SET_PIN' }), {}, 'ACCOUNT_TOKEN_INVALID'],
    ];
    for (const [token, headers, code] of cases) {
      const response = await sync(card.id, token, { headers });
      expect(response.status, code).toBe(401);
      expect(response.body.code).toBe(code);
      expect(response.headers['www-authenticate']).toBe(
        code === 'ACCOUNT_TOKEN_MISSING' ? 'Bearer' : 'Bearer error="invalid_token"',
      );
    }

    const realNow = Date.now;
    Date.now = () => realNow() + 301_000;
    try {
      const late = await sync(card.id, good);
      expect(late).toMatchObject({ status: 401, body: { code: 'ACCOUNT_TOKEN_EXPIRED' } });
    } finally {
      Date.now = realNow;
    }
    expect(await scriptEvents()).toEqual([]);
    expect((await sync(card.id, good)).status).toBe(204);
  });

  it('a token signed by another database’s keys, or by another platform (iss/aud), is refused', async () => {
    const card = await syncableCard();
    const sameUrl = await startTestPlatform();
    const other = await startTestPlatform({ PUBLIC_URL: 'https://elsewhere.example' });
    try {
      const signedElsewhere = await accountToken('acct_1', sameUrl);
      expect((await sync(card.id, signedElsewhere)).body.code).toBe('ACCOUNT_TOKEN_INVALID');
      const token = await accountToken('acct_1', other);
      expect((await sync(card.id, token)).body.code).toBe('ACCOUNT_TOKEN_INVALID');
    } finally {
      await sameUrl.dispose();
      await other.dispose();
    }
  });

  it('403 with another account’s token; 404 for an unknown card', async () => {
    const card = await syncableCard();
    const theirs = await sync(card.id, await accountToken('acct_2'));
    expect(theirs).toMatchObject({ status: 403, body: { code: 'CARD_NOT_IN_ACCOUNT' } });
    const unknown = await sync('card_00000000000000000000000000', await accountToken());
    expect(unknown).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect(Object.keys(unknown.body).sort()).toEqual(['code', 'message']);
    expect(await scriptEvents()).toEqual([]);
  });

  it('checks in order: token (401), card exists (404), ownership (403), card state (400)', async () => {
    const virtual = await issueCard(platform, { form: 'VIRTUAL' });
    const unknown = 'card_00000000000000000000000000';
    expect((await sync(unknown, 'bad')).status).toBe(401);
    expect((await sync(unknown, await accountToken('acct_2'))).status).toBe(404);
    expect((await sync(virtual.id, await accountToken('acct_2'))).status).toBe(403);
    expect((await sync(virtual.id, await accountToken())).status).toBe(400);
    // The body is looked at only once the caller is known.
    expect((await sync(unknown, undefined, { payload: { a: 1 } })).status).toBe(401);
  });

  it('400 for a card without offline PIN, without a PIN, virtual or terminated', async () => {
    const token = await accountToken();
    const noOffline = await issueCard(
      platform,
      { pin_issuance_policy: 'REQUIRED' },
      { pan: testPan('400000123456801') },
    );
    await setPin(noOffline.id, '3850');
    const noPin = await issueCard(platform, OFFLINE, { pan: testPan('400000123456793') });
    const virtual = await issueCard(platform, { form: 'VIRTUAL' });
    const terminated = await syncableCard();
    await platform.call('PATCH', `/v1/cards/${terminated.id}`, { card_status: 'TERMINATED' });
    const cases: [string, string][] = [
      [noOffline.id, 'OFFLINE_PIN_NOT_ENABLED'],
      [noPin.id, 'NO_PIN_TO_SYNC'],
      [virtual.id, 'CARD_IS_VIRTUAL'],
      [terminated.id, 'CARD_TERMINATED'],
    ];
    for (const [cardId, code] of cases) {
      const response = await sync(cardId, token);
      expect(response.status, code).toBe(400);
      expect(response.body).toEqual({ code, message: expect.any(String) });
    }
    expect(await scriptEvents()).toEqual([]);
  });

  it('is described in the OpenAPI document with the account-token scheme', async () => {
    const spec = (await platform.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operation = spec.paths['/pcicards/v1/pcicards/{cardId}/scripts/sync-offline-pin'].post;
    expect(operation).toMatchObject({
      operationId: 'post-v1-sync-offline-pin',
      security: [{ accountToken: [] }],
    });
    // 413: a body over BODY_LIMIT_BYTES; 421: the demo's DNS-rebinding guard.
    expect(Object.keys(operation.responses)).toEqual([
      '204',
      '400',
      '401',
      '403',
      '404',
      '413',
      '421',
      '500',
    ]);
    expect(spec.components.securitySchemes.accountToken).toMatchObject({
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
  });
});
