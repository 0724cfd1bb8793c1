import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PRODUCTION_SECRETS, type TestPlatform, startTestPlatform } from '../testing/platform.js';

let platform: TestPlatform;
beforeEach(async () => {
  // A long delay: these tests drive jobs by hand through the advance endpoint.
  platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000' });
});
afterEach(() => platform.dispose());

async function product(body: Record<string, unknown>) {
  const response = await platform.call('POST', '/v1/card_products', { name: 'Test', ...body });
  expect(response.status).toBe(201);
  return response.body.id as string;
}

async function card(productId: string, body: Record<string, unknown> = {}) {
  const response = await platform.call('POST', '/v1/cards', {
    card_product_id: productId,
    account_id: 'acct_1',
    ...body,
  });
  expect(response.status).toBe(201);
  return response.body;
}

describe('API key', () => {
  it('GET /v1/card_products: 401 without the key, 401 with a wrong one, 200 with it', async () => {
    const none = await platform.app.inject({ method: 'GET', url: '/v1/card_products' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
    const wrong = await platform.app.inject({
      method: 'GET',
      url: '/v1/card_products',
      headers: { authorization: 'Bearer sk_test_wrong' },
    });
    expect(wrong.statusCode).toBe(401);
    expect((await platform.call('GET', '/v1/card_products')).status).toBe(200);
  });

  it('refuses before the handler runs: nothing is created without the key', async () => {
    const response = await platform.app.inject({
      method: 'POST',
      url: '/v1/card_products',
      payload: { name: 'x', form: 'PHYSICAL' },
    });
    expect(response.statusCode).toBe(401);
    expect((await platform.call('GET', '/v1/card_products')).body.data).toEqual([]);
  });
});

describe('card products', () => {
  it('offline PIN with NOT_REQUIRED (explicit or absent) → 400 naming offline_pin', async () => {
    for (const body of [
      { form: 'PHYSICAL', offline_pin: true, pin_issuance_policy: 'NOT_REQUIRED' },
      { form: 'PHYSICAL', offline_pin: true },
    ]) {
      const response = await platform.call('POST', '/v1/card_products', { name: 'x', ...body });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({
        code: 'OFFLINE_PIN_REQUIRES_PIN_POLICY',
        field: 'offline_pin',
      });
    }
  });

  it('a virtual product with a PIN policy → 400', async () => {
    const response = await platform.call('POST', '/v1/card_products', {
      name: 'x',
      form: 'VIRTUAL',
      pin_issuance_policy: 'RANDOM',
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      code: 'VIRTUAL_PRODUCT_HAS_NO_PIN_POLICY',
      field: 'pin_issuance_policy',
    });
  });

  it('defaults: NOT_REQUIRED, 4 digits, EMV_CCD; virtual has no policy', async () => {
    const physical = await platform.call(
      'GET',
      `/v1/card_products/${await product({ form: 'PHYSICAL' })}`,
    );
    expect(physical.body).toMatchObject({
      pin_issuance_policy: 'NOT_REQUIRED',
      pin_length: 4,
      emv_profile: 'EMV_CCD',
      offline_pin: false,
    });
    const virtual = await platform.call(
      'GET',
      `/v1/card_products/${await product({ form: 'VIRTUAL' })}`,
    );
    expect(virtual.body.pin_issuance_policy).toBeNull();
  });

  it('validates fields: unknown, missing, wrong type, out of range', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ name: 'x', form: 'PHYSICAL', colour: 'red' }, 'UNKNOWN_FIELD', 'colour'],
      [{ form: 'PHYSICAL' }, 'MISSING_FIELD', 'name'],
      [{ name: 'x', form: 'PLASTIC' }, 'INVALID_FIELD', 'form'],
      [{ name: 'x', form: 'PHYSICAL', pin_length: 13 }, 'INVALID_FIELD', 'pin_length'],
      [{ name: 'x', form: 'PHYSICAL', pin_length: '6' }, 'INVALID_FIELD', 'pin_length'],
      [{ name: 'x', form: 'PHYSICAL', offline_pin: 'yes' }, 'INVALID_FIELD', 'offline_pin'],
    ];
    for (const [body, code, field] of cases) {
      const response = await platform.call('POST', '/v1/card_products', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toMatchObject({ code, field });
    }
    expect((await platform.call('GET', '/v1/card_products')).body.data).toEqual([]);
  });

  it('lists with cursor pagination', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await product({ form: 'PHYSICAL' }));
    const first = await platform.call('GET', '/v1/card_products?limit=2');
    expect(first.body.data).toHaveLength(2);
    expect(first.body.has_more).toBe(true);
    const second = await platform.call(
      'GET',
      `/v1/card_products?limit=10&starting_after=${first.body.next_cursor}`,
    );
    expect(second.body.has_more).toBe(false);
    const seen = [...first.body.data, ...second.body.data].map((p: { id: string }) => p.id);
    expect(seen.sort()).toEqual(ids.sort());
  });
});

describe('cards', () => {
  it('a card carries the README “Issuance” fields and never the full PAN', async () => {
    const productId = await product({
      form: 'PHYSICAL',
      pin_issuance_policy: 'REQUIRED',
      offline_pin: true,
    });
    const created = await card(productId, { pan: '4111111111111111', customer_id: 'cust_1' });
    expect(created).toMatchObject({
      id: expect.stringMatching(/^card_/),
      account_id: 'acct_1',
      customer_id: 'cust_1',
      card_product_id: productId,
      form: 'PHYSICAL',
      last_four: '1111',
      card_status: 'PENDING',
      status_reason: null,
      pending_reasons: { is_waiting_for_pin: true },
      card_fulfillment_status: 'ORDERED',
      is_pin_set: false,
      timestamp_pin_set: null,
      offline_pin: { enabled: true, in_sync: false, pending_script_id: null },
    });
    expect(JSON.stringify(created)).not.toContain('4111111111111111');
  });

  it('generates a Luhn-valid PAN when none is given, and refuses a bad one', async () => {
    const productId = await product({ form: 'PHYSICAL' });
    const created = await card(productId);
    expect(created.last_four).toMatch(/^\d{4}$/);
    const bad = await platform.call('POST', '/v1/cards', {
      card_product_id: productId,
      account_id: 'a',
      pan: '4111111111111112',
    });
    expect(bad.body).toMatchObject({ code: 'INVALID_FIELD', field: 'pan' });
  });

  it('refuses an unknown product with a field-named 400', async () => {
    const response = await platform.call('POST', '/v1/cards', {
      card_product_id: 'cp_00000000000000000000000000',
      account_id: 'a',
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      code: 'CARD_PRODUCT_NOT_FOUND',
      field: 'card_product_id',
    });
  });

  it('virtual cards are ACTIVE and DIGITALLY_PRESENTED; NOT_REQUIRED cards start UNACTIVATED', async () => {
    expect(await card(await product({ form: 'VIRTUAL' }))).toMatchObject({
      card_status: 'ACTIVE',
      card_fulfillment_status: 'DIGITALLY_PRESENTED',
    });
    expect(await card(await product({ form: 'PHYSICAL' }))).toMatchObject({
      card_status: 'UNACTIVATED',
      card_fulfillment_status: 'ORDERED',
    });
  });

  it('filters and paginates the card list', async () => {
    const productId = await product({ form: 'PHYSICAL' });
    await card(productId, { account_id: 'acct_a' });
    await card(productId, { account_id: 'acct_a' });
    await card(productId, { account_id: 'acct_b' });
    const pending = await card(await product({ form: 'PHYSICAL', pin_issuance_policy: 'RANDOM' }), {
      account_id: 'acct_a',
    });
    const byAccount = await platform.call('GET', '/v1/cards?account_id=acct_a');
    expect(byAccount.body.data).toHaveLength(3);
    const byStatus = await platform.call('GET', '/v1/cards?account_id=acct_a&card_status=PENDING');
    expect(byStatus.body.data.map((c: { id: string }) => c.id)).toEqual([pending.id]);
    const page = await platform.call('GET', '/v1/cards?limit=1');
    expect(page.body).toMatchObject({ has_more: true, next_cursor: page.body.data[0].id });
    const bad = await platform.call('GET', '/v1/cards?card_status=LOST');
    expect(bad.body).toMatchObject({ code: 'INVALID_FIELD', field: 'card_status' });
  });

  it('GET an unknown card → 404 NOT_FOUND; a malformed id → 400', async () => {
    expect(
      (await platform.call('GET', '/v1/cards/card_00000000000000000000000000')).body,
    ).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await platform.call('GET', '/v1/cards/nope')).status).toBe(400);
  });
});

describe('status changes', () => {
  it('PENDING → ACTIVE is a 409 with both statuses; the card is unchanged', async () => {
    const created = await card(
      await product({ form: 'PHYSICAL', pin_issuance_policy: 'REQUIRED' }),
    );
    const response = await platform.call('PATCH', `/v1/cards/${created.id}`, {
      card_status: 'ACTIVE',
    });
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({
      code: 'INVALID_STATUS_TRANSITION',
      current_status: 'PENDING',
      requested_status: 'ACTIVE',
    });
    expect((await platform.call('GET', `/v1/cards/${created.id}`)).body).toEqual(created);
  });

  it('UNACTIVATED → ACTIVE → SUSPENDED → ACTIVE → TERMINATED, then nothing', async () => {
    const created = await card(await product({ form: 'PHYSICAL' }));
    for (const status of ['ACTIVE', 'SUSPENDED', 'ACTIVE', 'TERMINATED']) {
      const response = await platform.call('PATCH', `/v1/cards/${created.id}`, {
        card_status: status,
        reason: `to ${status}`,
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ card_status: status, status_reason: `to ${status}` });
    }
    for (const status of ['ACTIVE', 'SUSPENDED', 'UNACTIVATED', 'PENDING']) {
      const response = await platform.call('PATCH', `/v1/cards/${created.id}`, {
        card_status: status,
      });
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({
        code: 'INVALID_STATUS_TRANSITION',
        current_status: 'TERMINATED',
      });
    }
  });

  it('a status change emits CARD.UPDATED with prior values in changed_fields', async () => {
    const created = await card(await product({ form: 'PHYSICAL' }));
    await platform.call('PATCH', `/v1/cards/${created.id}`, {
      card_status: 'ACTIVE',
      reason: 'activated',
    });
    const events = await platform.call('GET', '/v1/events?type=CARD.UPDATED');
    const mine = events.body.data.find(
      (e: any) => e.data.card.id === created.id && e.data.card.card_status === 'ACTIVE',
    );
    expect(mine.data.changed_fields).toEqual({ card_status: 'UNACTIVATED', status_reason: null });
  });
});

describe('POST /v1/simulations/cards/{id}/advance', () => {
  it('runs a RANDOM card’s issuance and fulfillment jobs now', async () => {
    const created = await card(await product({ form: 'PHYSICAL', pin_issuance_policy: 'RANDOM' }));
    expect(created.card_status).toBe('PENDING');
    const advanced = await platform.call('POST', `/v1/simulations/cards/${created.id}/advance`);
    expect(advanced.body).toMatchObject({
      card_status: 'UNACTIVATED',
      card_fulfillment_status: 'SHIPPED',
    });
  });

  it('leaves a REQUIRED card waiting for its PIN where it is', async () => {
    const created = await card(
      await product({ form: 'PHYSICAL', pin_issuance_policy: 'REQUIRED' }),
    );
    const advanced = await platform.call('POST', `/v1/simulations/cards/${created.id}/advance`);
    expect(advanced.body).toMatchObject({
      card_status: 'PENDING',
      card_fulfillment_status: 'ORDERED',
      pending_reasons: { is_waiting_for_pin: true },
    });
  });

  it('is not served in production', async () => {
    const production = await startTestPlatform({ ...PRODUCTION_SECRETS });
    try {
      const response = await production.call(
        'POST',
        '/v1/simulations/cards/card_00000000000000000000000000/advance',
      );
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('ROUTE_NOT_FOUND');
    } finally {
      await production.dispose();
    }
  });
});
