import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCard } from '../testing/cards.js';
import { type TestPlatform, startTestPlatform } from '../testing/platform.js';

/**
 * The input rules the bad-input corpus found broken, each with the request that used to get
 * through (and change state) and the valid neighbour that must still work.
 */
let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000' });
});
afterAll(() => platform.dispose());

const products = async () => (await platform.call('GET', '/v1/card_products?limit=100')).body.data;

async function postProduct(payload: Buffer | string, headers: Record<string, string> = {}) {
  const response = await platform.app.inject({
    method: 'POST',
    url: '/v1/card_products',
    headers: { ...platform.auth, 'content-type': 'application/json', ...headers },
    payload,
  });
  return { status: response.statusCode, body: response.json() };
}

describe('JSON bodies are UTF-8 text, nothing else', () => {
  const named = (name: Buffer) =>
    Buffer.concat([Buffer.from('{"name":"'), name, Buffer.from('","form":"PHYSICAL"}')]);

  it('refuses invalid UTF-8 instead of storing U+FFFD', async () => {
    const before = (await products()).length;
    const refused = await postProduct(named(Buffer.from([0xff, 0xfe])));
    expect(refused).toEqual({
      status: 400,
      body: { code: 'MALFORMED_JSON', message: 'The body is not valid UTF-8' },
    });
    expect(await products()).toHaveLength(before);
  });

  it('refuses a lone surrogate escape, accepts a real pair and any valid UTF-8', async () => {
    expect((await postProduct('{"name":"\\ud800x","form":"PHYSICAL"}')).body.code).toBe(
      'MALFORMED_JSON',
    );
    const pair = await postProduct('{"name":"Card \\ud83d\\udcb3","form":"PHYSICAL"}');
    expect(pair).toMatchObject({ status: 201, body: { name: 'Card 💳' } });
    const text = await postProduct(named(Buffer.from('Carte bancaire é 卡 💳')));
    expect(text).toMatchObject({ status: 201, body: { name: 'Carte bancaire é 卡 💳' } });
    const read = await platform.call('GET', `/v1/card_products/${text.body.id}`);
    expect(read.body.name).toBe('Carte bancaire é 卡 💳');
  });

  it('refuses other charsets and content codings (415); utf-8 in any spelling passes', async () => {
    const body = '{"name":"x","form":"PHYSICAL"}';
    for (const headers of <Record<string, string>[]>[
      { 'content-type': 'application/json; charset=utf-16' },
      { 'content-type': 'application/json;charset=ISO-8859-1' },
      { 'content-encoding': 'gzip' },
    ]) {
      expect((await postProduct(body, headers)).body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    for (const headers of <Record<string, string>[]>[
      { 'content-type': 'application/json; charset=utf-8' },
      { 'content-type': 'application/json; charset="UTF-8"' },
      { 'content-encoding': 'identity' },
    ]) {
      expect((await postProduct(body, headers)).status).toBe(201);
    }
  });
});

describe('URLs the router cannot read get the API’s error shape', () => {
  it('bad percent-encoding and over-long path parameters are 400 INVALID_REQUEST', async () => {
    for (const url of ['/v1/cards/%ff', `/v1/cards/card_${'a'.repeat(200)}`]) {
      const response = await platform.call('GET', url);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ code: 'INVALID_REQUEST', message: expect.any(String) });
    }
  });
});

describe('unknown query parameters and bodies are refused, not ignored', () => {
  it('a query parameter on a route that takes none is 400, and the create does not happen', async () => {
    const before = (await products()).length;
    const response = await platform.app.inject({
      method: 'POST',
      url: '/v1/card_products?dry_run=true',
      headers: platform.auth,
      payload: { name: 'x', form: 'PHYSICAL' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'UNKNOWN_FIELD', field: 'dry_run' });
    expect(await products()).toHaveLength(before);
    const card = await issueCard(platform, {});
    expect((await platform.call('GET', `/v1/cards/${card.id}?expand=pan`)).body.code).toBe(
      'UNKNOWN_FIELD',
    );
  });

  it('a body on advance is refused before any job runs; no body or {} still advance', async () => {
    const card = await issueCard(platform, { pin_issuance_policy: 'RANDOM' });
    const advance = (payload?: string) =>
      platform.app.inject({
        method: 'POST',
        url: `/v1/simulations/cards/${card.id}/advance`,
        headers: { ...platform.auth, ...(payload ? { 'content-type': 'application/json' } : {}) },
        ...(payload ? { payload } : {}),
      });
    const refused = await advance('{"force":true}');
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'UNKNOWN_FIELD', field: 'force' });
    expect((await advance('[]')).json().code).toBe('INVALID_REQUEST');
    expect((await platform.call('GET', `/v1/cards/${card.id}`)).body.card_status).toBe('PENDING');
    expect((await advance('{}')).json().card_status).toBe('UNACTIVATED');
    expect((await advance()).statusCode).toBe(200);
  });

  it('a body on delete is refused and the webhook stays', async () => {
    const webhook = await platform.call('POST', '/v1/webhooks', {
      url: 'https://example.com/hook',
      enabled_events: ['*'],
    });
    const refused = await platform.app.inject({
      method: 'DELETE',
      url: `/v1/webhooks/${webhook.body.id}`,
      headers: { ...platform.auth, 'content-type': 'application/json' },
      payload: '{"cascade":true}',
    });
    expect(refused.json()).toMatchObject({ code: 'UNKNOWN_FIELD' });
    expect((await platform.call('GET', `/v1/webhooks/${webhook.body.id}`)).status).toBe(200);
    expect((await platform.call('DELETE', `/v1/webhooks/${webhook.body.id}`)).status).toBe(200);
  });
});

describe('path and query parameters hold no U+0000 or lone surrogate', () => {
  it('is a 400 naming the parameter, on every backend (PostgreSQL text cannot hold U+0000)', async () => {
    const token = (await platform.call('POST', '/v1/accounts/acct_nul/tokens')).body.access_token;
    for (const [url, field, headers] of [
      [
        '/pcicards/v1/pcicards/%00/scripts/sync-offline-pin',
        'cardId',
        { authorization: `Bearer ${token}` },
      ],
      ['/v1/customers/a%00b/passkeys', 'customer_id', platform.auth],
      ['/v1/cards?account_id=a%00', 'account_id', platform.auth],
      ['/v1/cards?account_id=%ED%A0%80', 'account_id', platform.auth],
    ] as const) {
      const response = await platform.app.inject({
        method: url.startsWith('/pcicards') ? 'POST' : 'GET',
        url,
        headers,
      });
      expect(response.statusCode, url).toBe(400);
      expect(response.json(), url).toMatchObject({ code: 'INVALID_FIELD', field });
    }
    // Its valid neighbour still answers.
    const card = await issueCard(platform, { pin_issuance_policy: 'REQUIRED' });
    expect(
      (await platform.call('GET', `/v1/cards?account_id=acct_1`)).body.data.map(
        (c: { id: string }) => c.id,
      ),
    ).toContain(card.id);
  });
});
