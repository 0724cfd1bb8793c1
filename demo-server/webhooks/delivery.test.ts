import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver } from '../testing/receiver.js';
import { type TestPlatform, startTestPlatform } from '../testing/platform.js';
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
      const card = (await tx.getCard(created.id))!;
      const product = (await tx.getProduct(card.cardProductId))!;
      await platform.cards.markPinSet(tx, card, product, Date.now());
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
      'is_pin_set,timestamp_pin_set,pending_reasons.is_waiting_for_pin',
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
