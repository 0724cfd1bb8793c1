import { afterEach, describe, expect, it } from 'vitest';
import { issueCard, mintToken, widgetCall } from '../testing/cards.js';
import { encryptPin, ephemeralKey } from '../testing/independent-jose.js';
import { type TestPlatform, startTestPlatform } from '../testing/platform.js';
import { startReceiver } from '../testing/receiver.js';

/**
 * Reveals and exports are audited events (README “Security: what holds, and what does not”): each is an event in the same transaction,
 * listable and delivered by webhook, saying who (API key, widget token, DPoP key), when and from
 * where (client IP, user agent), and never the PIN. Reveals have quotas per card, per account
 * and for the whole platform.
 */

const PIN = '3850';
const AGENT = 'audit-test/1.0 (cardholder browser)';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function platformWith(env: Record<string, string> = {}) {
  const platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000', ...env });
  cleanups.push(() => platform.dispose());
  return platform;
}

async function activeCardWithPin(platform: TestPlatform, accountId = 'acct_audit') {
  const card = await issueCard(
    platform,
    { pin_issuance_policy: 'NOT_REQUIRED' },
    { account_id: accountId },
  );
  await platform.call('POST', `/v1/simulations/cards/${card.id}/advance`);
  await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
  const jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
  const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
  const set = await widgetCall(platform, 'POST', '/v1/widget/pin', token, {
    encrypted_pin: await encryptPin(jwks, PIN, token),
  });
  expect(set.status).toBe(200);
  return card;
}

async function reveal(platform: TestPlatform, cardId: string) {
  const token = await mintToken(platform, cardId, { widget_type: 'REVEAL_PIN' });
  const key = await ephemeralKey();
  return widgetCall(
    platform,
    'POST',
    '/v1/widget/pin/reveal',
    token,
    { public_key: key.publicJwk },
    { 'user-agent': AGENT },
  );
}

describe('audit events', () => {
  it('a reveal is CARD.PIN.REVEALED: listed, delivered by webhook, with who and where, no PIN', async () => {
    const platform = await platformWith();
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    await platform.call('POST', '/v1/webhooks', {
      url: receiver.url,
      enabled_events: ['CARD.PIN.*'],
      is_enabled: true,
    });
    platform.startWorkers();
    const card = await activeCardWithPin(platform);
    expect((await reveal(platform, card.id)).status).toBe(200);

    const listed = await platform.call('GET', '/v1/events?type=CARD.PIN.REVEALED');
    expect(listed.body.data).toHaveLength(1);
    const event = listed.body.data[0];
    expect(event.data).toEqual({
      card_id: card.id,
      account_id: 'acct_audit',
      customer_id: null,
      last_four: card.last_four,
      reveal_id: expect.stringMatching(/^rvl_/),
      widget_token_id: expect.stringMatching(/^wtk_/),
      api_key_id: expect.toSatisfy((id: unknown) => id === null || typeof id === 'string'),
      jkt: null,
      origin: null,
      step_up: null,
      client_ip: '127.0.0.1',
      user_agent: AGENT,
      revealed_time: expect.any(String),
    });
    await receiver.waitFor((all) => all.some((w) => w.json.type === 'CARD.PIN.REVEALED'));
    const delivered = receiver.received.find((w) => w.json.type === 'CARD.PIN.REVEALED')!;
    expect(delivered.json.data).toEqual(event.data);
    expect(JSON.stringify(listed.body) + delivered.body).not.toContain(PIN);
  });

  it('an export is CARD.PIN_BLOCK.EXPORTED with the format, the zone key id and the API key', async () => {
    const platform = await platformWith();
    const card = await activeCardWithPin(platform);
    const exported = await platform.app.inject({
      method: 'GET',
      url: `/v1/cards/${card.id}/pin_block?format=ISO_9564_0`,
      headers: { ...platform.auth, 'user-agent': 'processor-batch/2' },
    });
    expect(exported.statusCode).toBe(200);
    const listed = await platform.call('GET', '/v1/events?type=CARD.PIN_BLOCK.EXPORTED');
    expect(listed.body.data).toHaveLength(1);
    expect(listed.body.data[0].data).toMatchObject({
      card_id: card.id,
      account_id: 'acct_audit',
      format: 'ISO_9564_0',
      key_id: exported.json().key_id,
      client_ip: '127.0.0.1',
      user_agent: 'processor-batch/2',
    });
    expect(listed.body.data[0].data).toHaveProperty('api_key_id');
    expect(JSON.stringify(listed.body)).not.toContain(PIN);
    expect(JSON.stringify(listed.body)).not.toContain(exported.json().pin_block);
  });

  it('a refused reveal or export leaves no audit event', async () => {
    const platform = await platformWith();
    const card = await issueCard(platform, { pin_issuance_policy: 'NOT_REQUIRED' });
    expect((await reveal(platform, card.id)).status).toBe(409);
    const exported = await platform.call('GET', `/v1/cards/${card.id}/pin_block?format=ISO_9564_4`);
    expect(exported.status).toBe(409);
    const listed = await platform.call('GET', '/v1/events?type=CARD.PIN.*');
    expect(listed.body.data ?? []).toEqual([]);
  });
});

describe('reveal quotas', () => {
  it('per account: beyond REVEAL_LIMIT_PER_ACCOUNT_PER_HOUR, 429 naming the account quota', async () => {
    const platform = await platformWith({ REVEAL_LIMIT_PER_ACCOUNT_PER_HOUR: '2' });
    const first = await activeCardWithPin(platform, 'acct_a');
    const second = await activeCardWithPin(platform, 'acct_a');
    const elsewhere = await activeCardWithPin(platform, 'acct_b');
    expect((await reveal(platform, first.id)).status).toBe(200);
    expect((await reveal(platform, second.id)).status).toBe(200);
    const limited = await reveal(platform, first.id);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', quota: 'account' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(3500);
    expect((await reveal(platform, elsewhere.id)).status).toBe(200);
  });

  it('for the whole platform: beyond REVEAL_LIMIT_TOTAL_PER_HOUR, 429 naming the platform quota', async () => {
    const platform = await platformWith({ REVEAL_LIMIT_TOTAL_PER_HOUR: '2' });
    const cards = [
      await activeCardWithPin(platform, 'acct_1'),
      await activeCardWithPin(platform, 'acct_2'),
      await activeCardWithPin(platform, 'acct_3'),
    ];
    expect((await reveal(platform, cards[0]!.id)).status).toBe(200);
    expect((await reveal(platform, cards[1]!.id)).status).toBe(200);
    const limited = await reveal(platform, cards[2]!.id);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', quota: 'platform' });
  });
});
