import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver } from '../testing/receiver.js';
import { PRODUCTION_SECRETS, type TestPlatform, startTestPlatform } from '../testing/platform.js';
import type { ResolveHost } from './egress-lookup.js';
import { patternMatches } from './events.js';
import { retryDelayMs } from './dispatcher.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(env: Record<string, string> = {}, respond?: (i: number) => number) {
  const platform = await startTestPlatform(env);
  const receiver = await startReceiver(respond);
  cleanups.push(
    () => platform.dispose(),
    () => receiver.close(),
  );
  platform.startWorkers();
  return { platform, receiver };
}

async function subscribe(platform: TestPlatform, url: string, enabled_events = ['*']) {
  const response = await platform.call('POST', '/v1/webhooks', { url, enabled_events });
  expect(response.status).toBe(201);
  expect(response.body.secret).toMatch(/^whsec_/);
  return response.body as { id: string; secret: string };
}

async function issue(platform: TestPlatform, policy: string) {
  const product = await platform.call('POST', '/v1/card_products', {
    name: policy,
    form: 'PHYSICAL',
    pin_issuance_policy: policy,
  });
  const card = await platform.call('POST', '/v1/cards', {
    card_product_id: product.body.id,
    account_id: 'acct_1',
  });
  return card.body as { id: string; card_status: string };
}

describe('issuance with webhooks', () => {
  it('RANDOM: PENDING, then UNACTIVATED after ISSUANCE_DELAY_MS; the CARD.UPDATED verifies with standardwebhooks', async () => {
    const { platform, receiver } = await setup({ ISSUANCE_DELAY_MS: '300' });
    const { secret } = await subscribe(platform, receiver.url, ['CARD.UPDATED']);
    const started = Date.now();
    const card = await issue(platform, 'RANDOM');
    expect(card.card_status).toBe('PENDING');

    const [update] = await receiver.waitFor((all) => all.length >= 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    const verified = new StandardWebhook(secret).verify(update!.body, {
      'webhook-id': update!.headers['webhook-id'] as string,
      'webhook-timestamp': update!.headers['webhook-timestamp'] as string,
      'webhook-signature': update!.headers['webhook-signature'] as string,
    }) as { type: string; data: any };
    expect(verified.type).toBe('CARD.UPDATED');
    expect(verified.data.card).toMatchObject({ id: card.id, card_status: 'UNACTIVATED' });
    expect(verified.data.changed_fields).toEqual({
      card_status: 'PENDING',
      is_pin_set: false,
      timestamp_pin_set: null,
      // Derived: a PIN now exists, so its status moved from NOT_SET.
      pin_status: 'NOT_SET',
    });

    // A tampered body or a wrong secret does not verify.
    const headers = {
      'webhook-id': update!.headers['webhook-id'] as string,
      'webhook-timestamp': update!.headers['webhook-timestamp'] as string,
      'webhook-signature': update!.headers['webhook-signature'] as string,
    };
    expect(() =>
      new StandardWebhook(secret).verify(update!.body.replace('UNACTIVATED', 'ACTIVE'), headers),
    ).toThrow();
    expect(() =>
      new StandardWebhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(
        update!.body,
        headers,
      ),
    ).toThrow();
  });

  it('REQUIRED: stays PENDING and waiting for the PIN well past the delay', async () => {
    const { platform } = await setup({ ISSUANCE_DELAY_MS: '100' });
    const card = await issue(platform, 'REQUIRED');
    await new Promise((resolve) => setTimeout(resolve, 800)); // 8× the delay, scheduler polling at 20 ms
    const now = await platform.call('GET', `/v1/cards/${card.id}`);
    expect(now.body).toMatchObject({
      card_status: 'PENDING',
      card_fulfillment_status: 'ORDERED',
      pending_reasons: { is_waiting_for_pin: true },
    });
  });

  it('REQUIRED: the "PIN set" operation starts issuance; UNACTIVATED only after the delay, then fulfillment', async () => {
    const { platform, receiver } = await setup({ ISSUANCE_DELAY_MS: '300' });
    await subscribe(platform, receiver.url, ['CARD.UPDATED']);
    const created = await issue(platform, 'REQUIRED');
    const pinSetAt = Date.now();
    await platform.store.transaction(async (tx) => {
      const time = new Date().toISOString();
      await platform.cards.change(tx, created.id, { type: 'PIN_SET', time }, Date.now());
    });
    expect((await platform.call('GET', `/v1/cards/${created.id}`)).body).toMatchObject({
      card_status: 'PENDING',
      is_pin_set: true,
      pending_reasons: { is_waiting_for_pin: false },
    });
    const received = await receiver.waitFor((all) =>
      all.some((w) => w.json.data.card.card_fulfillment_status === 'SHIPPED'),
    );
    const activation = received.find((w) => w.json.data.changed_fields.card_status === 'PENDING');
    expect(Date.parse(activation!.json.timestamp) - pinSetAt).toBeGreaterThanOrEqual(300);
    expect(received.map((w) => Object.keys(w.json.data.changed_fields).join(','))).toEqual([
      'is_pin_set,timestamp_pin_set,pending_reasons.is_waiting_for_pin,pin_status',
      'card_status',
      'card_fulfillment_status',
      'card_fulfillment_status',
    ]);
  });
});

describe('delivery', () => {
  it('a receiver that answers 500 three times then 200 gets the event; response_history shows 4 attempts', async () => {
    const { platform, receiver } = await setup({}, (i) => (i < 3 ? 500 : 200));
    await subscribe(platform, receiver.url, ['CARD.CREATED']);
    const card = await issue(platform, 'NOT_REQUIRED');
    const [delivered] = await receiver.waitFor((all) => all.length === 1);
    expect(delivered!.json.data.card.id).toBe(card.id);
    expect(receiver.requests).toBe(4);

    const eventId = delivered!.headers['webhook-id'] as string;
    let event = await platform.call('GET', `/v1/events/${eventId}`);
    for (let i = 0; i < 50 && event.body.deliveries[0].status !== 'SUCCEEDED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      event = await platform.call('GET', `/v1/events/${eventId}`);
    }
    expect(event.body.deliveries).toEqual([
      expect.objectContaining({ status: 'SUCCEEDED', attempt_count: 4, next_attempt_time: null }),
    ]);
    expect(event.body.response_history.map((a: any) => [a.attempt, a.status_code])).toEqual([
      [1, 500],
      [2, 500],
      [3, 500],
      [4, 200],
    ]);
    expect(event.body.response_history[0].response_body).toBe('status 500');
  });

  it('gives up after WEBHOOK_MAX_ATTEMPTS and records a connection failure', async () => {
    const { platform } = await setup({ WEBHOOK_MAX_ATTEMPTS: '2' });
    await subscribe(platform, 'http://127.0.0.1:9/unreachable', ['CARD.CREATED']);
    await issue(platform, 'NOT_REQUIRED');
    const events = await platform.call('GET', '/v1/events?type=CARD.CREATED');
    const id = events.body.data[0].id;
    let event = await platform.call('GET', `/v1/events/${id}`);
    for (let i = 0; i < 100 && event.body.deliveries[0].status === 'PENDING'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      event = await platform.call('GET', `/v1/events/${id}`);
    }
    expect(event.body.deliveries[0]).toMatchObject({ status: 'FAILED', attempt_count: 2 });
    expect(event.body.response_history).toEqual([
      expect.objectContaining({ attempt: 1, status_code: null, error: 'connection failed' }),
      expect.objectContaining({ attempt: 2, status_code: null, error: 'connection failed' }),
    ]);
  });

  it('redelivers an event on request', async () => {
    const { platform, receiver } = await setup();
    const webhook = await subscribe(platform, receiver.url, ['CARD.CREATED']);
    await issue(platform, 'NOT_REQUIRED');
    const [first] = await receiver.waitFor((all) => all.length === 1);
    const id = first!.headers['webhook-id'] as string;
    const again = await platform.call('POST', `/v1/events/${id}/redeliver`, {
      webhook_id: webhook.id,
    });
    expect(again.status).toBe(202);
    const both = await receiver.waitFor((all) => all.length === 2);
    expect(both[1]!.headers['webhook-id']).toBe(id);
    expect(both[1]!.body).toBe(first!.body);
  });

  it('only subscribed types are delivered; disabled webhooks get nothing', async () => {
    const { platform, receiver } = await setup();
    const other = await startReceiver();
    cleanups.push(() => other.close());
    await subscribe(platform, receiver.url, ['CARD.CREATED']);
    const disabled = await subscribe(platform, other.url, ['*']);
    await platform.call('PATCH', `/v1/webhooks/${disabled.id}`, { is_enabled: false });
    const card = await issue(platform, 'NOT_REQUIRED');
    await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
    await receiver.waitFor((all) => all.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received.map((w) => w.json.type)).toEqual(['CARD.CREATED']);
    expect(other.requests).toBe(0);
  });

  it('after a secret rotation both secrets verify during the overlap', async () => {
    const { platform, receiver } = await setup();
    const webhook = await subscribe(platform, receiver.url, ['CARD.CREATED']);
    const rotated = await platform.call('POST', `/v1/webhooks/${webhook.id}/rotate_secret`, {
      overlap_seconds: 60,
    });
    expect(rotated.body.secret).not.toBe(webhook.secret);
    await issue(platform, 'NOT_REQUIRED');
    const [delivered] = await receiver.waitFor((all) => all.length === 1);
    const headers = {
      'webhook-id': delivered!.headers['webhook-id'] as string,
      'webhook-timestamp': delivered!.headers['webhook-timestamp'] as string,
      'webhook-signature': delivered!.headers['webhook-signature'] as string,
    };
    expect(() =>
      new StandardWebhook(rotated.body.secret).verify(delivered!.body, headers),
    ).not.toThrow();
    expect(() =>
      new StandardWebhook(webhook.secret).verify(delivered!.body, headers),
    ).not.toThrow();
    expect((await platform.call('GET', `/v1/webhooks/${webhook.id}`)).body.secret).toBeUndefined();
  });
});

describe('webhook subscriptions', () => {
  it('refuses unknown event types and non-http URLs', async () => {
    const platform = await startTestPlatform();
    cleanups.push(() => platform.dispose());
    const badType = await platform.call('POST', '/v1/webhooks', {
      url: 'https://x.example',
      enabled_events: ['CARD.DELETED'],
    });
    expect(badType.body).toMatchObject({ code: 'INVALID_FIELD', field: 'enabled_events' });
    const badUrl = await platform.call('POST', '/v1/webhooks', {
      url: 'ftp://x.example',
      enabled_events: ['*'],
    });
    expect(badUrl.body).toMatchObject({ code: 'INVALID_FIELD', field: 'url' });
    const deleted = await platform.call('POST', '/v1/webhooks', {
      url: 'https://x.example',
      enabled_events: ['*'],
    });
    expect((await platform.call('DELETE', `/v1/webhooks/${deleted.body.id}`)).body).toEqual({
      id: deleted.body.id,
      deleted: true,
    });
    expect((await platform.call('GET', `/v1/webhooks/${deleted.body.id}`)).status).toBe(404);
  });

  it('wildcards: * and CARD.* match every card event; exact types only themselves', () => {
    expect(patternMatches('*', 'CARD.ISSUER_SCRIPT.UPDATED')).toBe(true);
    expect(patternMatches('CARD.*', 'CARD.ISSUER_SCRIPT.UPDATED')).toBe(true);
    expect(patternMatches('CARD.ISSUER_SCRIPT.*', 'CARD.UPDATED')).toBe(false);
    expect(patternMatches('CARD.UPDATED', 'CARD.CREATED')).toBe(false);
  });

  it('retry delays grow exponentially with jitter inside [d/2, d], capped', () => {
    const options = { retryBaseMs: 1000, retryMaxMs: 8000 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, options, () => 0))).toEqual([
      500, 1000, 2000, 4000, 4000,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, options, () => 1))).toEqual([
      1000, 2000, 4000, 8000, 8000,
    ]);
  });
});

/** A DNS double: answers from a table the test may change (rebinding); records every question. */
function fakeDns(table: Record<string, string[]>) {
  const asked: string[] = [];
  const resolveHost: ResolveHost = async (hostname) => {
    asked.push(hostname);
    return (table[hostname] ?? []).map((address) => ({
      address,
      family: address.includes(':') ? 6 : 4,
    }));
  };
  return { table, asked, resolveHost };
}

/** The first CARD.CREATED event once its one delivery has stopped being PENDING. */
async function settledDelivery(platform: TestPlatform) {
  const events = await platform.call('GET', '/v1/events?type=CARD.CREATED');
  const id = events.body.data[0].id as string;
  let event = await platform.call('GET', `/v1/events/${id}`);
  for (let i = 0; i < 200 && event.body.deliveries[0]?.status === 'PENDING'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    event = await platform.call('GET', `/v1/events/${id}`);
  }
  return event.body as { deliveries: any[]; response_history: any[] };
}

describe('webhook egress outside DEMO_MODE: refused at subscription', () => {
  const dns = fakeDns({
    'hooks.program.example': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
    'loopback.example': ['127.0.0.1'],
    'metadata.example': ['169.254.169.254'],
    'private.example': ['10.1.2.3'],
    'mixed.example': ['93.184.215.14', 'fd12:3456::1'],
  });
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startTestPlatform({ ...PRODUCTION_SECRETS }, false, dns);
  });
  afterAll(() => platform.dispose());

  it.each([
    ['http://hooks.program.example/', 'url must be https outside DEMO_MODE, got "http:"'],
    [
      'https://user:pass@hooks.program.example/',
      'url must not carry credentials (user:password@) outside DEMO_MODE',
    ],
    ['https://127.0.0.1/', 'url: 127.0.0.1 is a loopback address'],
    ['https://[::1]:8443/', 'url: ::1 is a loopback address'],
    ['https://2130706433/', 'url: 127.0.0.1 is a loopback address'],
    ['https://[::ffff:169.254.169.254]/', 'url: ::ffff:a9fe:a9fe is a cloud metadata address'],
    ['https://10.0.0.1/', 'url: 10.0.0.1 is a private address'],
    ['https://LOCALHOST./hook', 'url: localhost is a loopback name'],
    [
      'https://loopback.example/',
      'url: loopback.example resolves to 127.0.0.1, a loopback address',
    ],
    [
      'https://metadata.example/',
      'url: metadata.example resolves to 169.254.169.254, a cloud metadata address',
    ],
    ['https://private.example/', 'url: private.example resolves to 10.1.2.3, a private address'],
    [
      'https://mixed.example/',
      'url: mixed.example resolves to fd12:3456::1, a unique local address',
    ],
  ])('POST %s: 400 WEBHOOK_URL_FORBIDDEN', async (url, reason) => {
    const response = await platform.call('POST', '/v1/webhooks', { url, enabled_events: ['*'] });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      code: 'WEBHOOK_URL_FORBIDDEN',
      field: 'url',
      message: reason.startsWith('url: ')
        ? `${reason}; outside DEMO_MODE webhooks go to public addresses only`
        : reason,
    });
    expect((await platform.call('GET', '/v1/webhooks')).body.data).toEqual([]);
  });

  it('accepts a public name (asking DNS) and one that does not resolve yet; PATCH is checked too', async () => {
    const created = await platform.call('POST', '/v1/webhooks', {
      url: 'https://hooks.program.example/pin-widgets',
      enabled_events: ['*'],
    });
    expect(created.status).toBe(201);
    expect(dns.asked).toContain('hooks.program.example');
    const pending = await platform.call('POST', '/v1/webhooks', {
      url: 'https://not-yet.program.example/',
      enabled_events: ['*'],
    });
    expect(pending.status).toBe(201);

    const patched = await platform.call('PATCH', `/v1/webhooks/${created.body.id}`, {
      url: 'https://metadata.example/',
    });
    expect(patched.body).toMatchObject({ code: 'WEBHOOK_URL_FORBIDDEN', field: 'url' });
    expect((await platform.call('GET', `/v1/webhooks/${created.body.id}`)).body.url).toBe(
      'https://hooks.program.example/pin-widgets',
    );
    for (const id of [created.body.id, pending.body.id]) {
      await platform.call('DELETE', `/v1/webhooks/${id}`);
    }
  });
});

describe('webhook egress at connect time', () => {
  it('outside DEMO_MODE, a name that rebinds to 127.0.0.1 after subscription is refused at delivery, retried, then FAILED', async () => {
    const dns = fakeDns({ 'rebind.example': ['93.184.215.14'] });
    const platform = await startTestPlatform(
      { ...PRODUCTION_SECRETS, WEBHOOK_MAX_ATTEMPTS: '2' },
      false,
      dns,
    );
    cleanups.push(() => platform.dispose());
    platform.startWorkers();
    await subscribe(platform, 'https://rebind.example/hook', ['CARD.CREATED']);
    dns.table['rebind.example'] = ['127.0.0.1'];
    const asked = dns.asked.length;
    await issue(platform, 'NOT_REQUIRED');

    const event = await settledDelivery(platform);
    expect(event.deliveries[0]).toMatchObject({ status: 'FAILED', attempt_count: 2 });
    const refused = {
      status_code: null,
      error: 'refused: rebind.example resolves to 127.0.0.1, a loopback address',
      response_body: null,
    };
    expect(event.response_history).toEqual([
      expect.objectContaining({ attempt: 1, ...refused }),
      expect.objectContaining({ attempt: 2, ...refused }),
    ]);
    expect(dns.asked.slice(asked)).toEqual(['rebind.example', 'rebind.example']);
  });

  it('outside DEMO_MODE, a stored IP-literal URL (never looked up by connect) is refused at delivery', async () => {
    const receiver = await startReceiver();
    const platform = await startTestPlatform(
      { ...PRODUCTION_SECRETS, WEBHOOK_MAX_ATTEMPTS: '1' },
      false,
      fakeDns({ 'hooks.program.example': ['93.184.215.14'] }),
    );
    cleanups.push(
      () => platform.dispose(),
      () => receiver.close(),
    );
    platform.startWorkers();
    const webhook = await subscribe(platform, 'https://hooks.program.example/', ['CARD.CREATED']);
    // As if subscribed before the rule (or in DEMO_MODE) and started strict since.
    const literal = receiver.url.replace('http:', 'https:');
    await platform.store.transaction(async (tx) =>
      tx.updateWebhook({ ...(await tx.getWebhook(webhook.id))!, url: literal }),
    );
    await issue(platform, 'NOT_REQUIRED');

    const event = await settledDelivery(platform);
    expect(event.response_history).toEqual([
      expect.objectContaining({
        attempt: 1,
        status_code: null,
        error: 'refused: 127.0.0.1 is a loopback address',
      }),
    ]);
    expect(receiver.requests).toBe(0);
  });

  it('a 3xx is a failed attempt: the redirect is never followed', async () => {
    const target = await startReceiver();
    const redirecting = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(307, { location: target.url }).end('moved'));
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    const { port } = redirecting.address() as AddressInfo;
    cleanups.push(
      () => target.close(),
      () => new Promise<void>((resolve) => redirecting.close(() => resolve())),
    );
    const { platform } = await setup({ WEBHOOK_MAX_ATTEMPTS: '2' });
    await subscribe(platform, `http://127.0.0.1:${port}/hook`, ['CARD.CREATED']);
    await issue(platform, 'NOT_REQUIRED');

    const event = await settledDelivery(platform);
    expect(event.deliveries[0]).toMatchObject({ status: 'FAILED', attempt_count: 2 });
    expect(
      event.response_history.map((a: any) => [a.attempt, a.status_code, a.response_body]),
    ).toEqual([
      [1, 307, 'moved'],
      [2, 307, 'moved'],
    ]);
    expect(target.requests).toBe(0);
  });

  it('keeps the first 1024 characters of a long answer', async () => {
    const chatty = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(200).end('é'.repeat(100_000)));
    });
    await new Promise<void>((resolve) => chatty.listen(0, '127.0.0.1', resolve));
    const { port } = chatty.address() as AddressInfo;
    cleanups.push(() => new Promise<void>((resolve) => chatty.close(() => resolve())));
    const { platform } = await setup();
    await subscribe(platform, `http://127.0.0.1:${port}/hook`, ['CARD.CREATED']);
    await issue(platform, 'NOT_REQUIRED');

    const event = await settledDelivery(platform);
    expect(event.deliveries[0]).toMatchObject({ status: 'SUCCEEDED' });
    expect(event.response_history[0].response_body).toBe('é'.repeat(1024));
  });

  it('a receiver that answers too slowly is a timed-out attempt', async () => {
    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    cleanups.push(() => {
      silent.closeAllConnections();
      return new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const { platform } = await setup({ WEBHOOK_MAX_ATTEMPTS: '1', WEBHOOK_TIMEOUT_MS: '200' });
    await subscribe(platform, `http://127.0.0.1:${port}/hook`, ['CARD.CREATED']);
    await issue(platform, 'NOT_REQUIRED');

    const event = await settledDelivery(platform);
    expect(event.response_history).toEqual([
      expect.objectContaining({ attempt: 1, status_code: null, error: 'timed out after 200 ms' }),
    ]);
  });

  it('DEMO_MODE delivers to a local http receiver, by IP and by a name that resolves to 127.0.0.1', async () => {
    const receiver = await startReceiver();
    const port = new URL(receiver.url).port;
    const dns = fakeDns({ 'receiver.test': ['127.0.0.1'] });
    const platform = await startTestPlatform({}, false, dns);
    cleanups.push(
      () => platform.dispose(),
      () => receiver.close(),
    );
    platform.startWorkers();
    await subscribe(platform, receiver.url, ['CARD.CREATED']);
    await subscribe(platform, `http://receiver.test:${port}/webhooks`, ['CARD.CREATED']);
    const card = await issue(platform, 'NOT_REQUIRED');

    const delivered = await receiver.waitFor((all) => all.length === 2);
    expect(delivered.map((w) => [w.headers.host, w.json.data.card.id])).toEqual(
      expect.arrayContaining([
        [`127.0.0.1:${port}`, card.id],
        [`receiver.test:${port}`, card.id],
      ]),
    );
    expect(dns.asked).toEqual(['receiver.test']);
  });
});
