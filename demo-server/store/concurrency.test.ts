import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCard, mintToken, testPan, widgetCall } from '../testing/cards.js';
import type { TestDatabase } from '../testing/db-snapshot.js';
import { dpopKey, encryptPin, ephemeralKey } from '../testing/independent-jose.js';
import { type TestPlatform, startTestPlatform } from '../testing/platform.js';

/**
 * Concurrent requests never double-apply (docs/store.md): every race below starts all its requests
 * before any is answered, then checks the outcome and that the events agree with the state.
 */

let serial = 0;
/** A fresh test PAN for each card: the platform issues one card per PAN. */
const nextPan = () => testPan(String(400000123456000 + ++serial));
const OFFLINE = { pin_issuance_policy: 'REQUIRED', offline_pin: true } as const;
const PARALLEL = 12;

let platform: TestPlatform;
let db: TestDatabase;
let jwks: { keys: object[] };

beforeAll(async () => {
  platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000' });
  db = platform.db;
  jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
});
afterAll(async () => {
  await platform.dispose();
});

const times = <T>(n: number, make: (i: number) => Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => make(i)));

async function events(cardId: string, type: string) {
  const all: any[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await platform.call(
      'GET',
      `/v1/events?type=${type}&limit=100${cursor ? `&starting_after=${cursor}` : ''}`,
    );
    all.push(...page.body.data);
    cursor = page.body.next_cursor;
  } while (cursor);
  return all
    .filter((e) => (e.data.card?.id ?? e.data.card_id) === cardId)
    .sort((a, b) => a.id.localeCompare(b.id));
}

const statusChanges = async (cardId: string) =>
  (await events(cardId, 'CARD.UPDATED')).filter(
    (e) => e.data.changed_fields.card_status !== undefined,
  );

async function setPin(cardId: string, pin: string) {
  const token = await mintToken(platform, cardId, { widget_type: 'SET_PIN' });
  const set = await widgetCall(platform, 'POST', '/v1/widget/pin', token, {
    encrypted_pin: await encryptPin(jwks, pin, token),
  });
  expect(set.status).toBe(200);
}

async function reveal(cardId: string): Promise<string> {
  const key = await ephemeralKey();
  const token = await mintToken(platform, cardId, { widget_type: 'REVEAL_PIN' });
  const revealed = await widgetCall(platform, 'POST', '/v1/widget/pin/reveal', token, {
    public_key: key.publicJwk,
  });
  expect(revealed.status).toBe(200);
  return (await key.decrypt(revealed.body.encrypted_pin)).payload.pin;
}

describe('one widget token used in parallel', () => {
  it('set PIN: exactly one of 12 succeeds, the others are WIDGET_TOKEN_USED, and its PIN is the one stored', async () => {
    const card = await issueCard(platform, { pin_issuance_policy: 'REQUIRED' }, { pan: nextPan() });
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const pins = Array.from({ length: PARALLEL }, (_, i) => `${3850 + i * 7}`);
    const bodies = await times(PARALLEL, async (i) => ({
      encrypted_pin: await encryptPin(jwks, pins[i]!, token),
    }));
    const results = await times(PARALLEL, (i) =>
      widgetCall(platform, 'POST', '/v1/widget/pin', token, bodies[i]),
    );
    const winners = results.flatMap((r, i) => (r.status === 200 ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((r) => r.status !== 200)) {
      expect(loser).toMatchObject({ status: 401, body: { code: 'WIDGET_TOKEN_USED' } });
    }
    const pinSet = (await events(card.id, 'CARD.UPDATED')).filter(
      (e) => e.data.changed_fields.is_pin_set === false,
    );
    expect(pinSet).toHaveLength(1);
    await platform.call('POST', `/v1/simulations/cards/${card.id}/advance`);
    await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
    expect(await reveal(card.id)).toBe(pins[winners[0]!]);
  });

  it('set PIN with a DPoP-bound token: one success among 12 fresh proofs', async () => {
    const card = await issueCard(platform, { pin_issuance_policy: 'REQUIRED' }, { pan: nextPan() });
    const key = await dpopKey();
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN', jkt: key.jkt });
    const url = 'http://localhost:4000/v1/widget/pin';
    const requests = await times(PARALLEL, async () => ({
      body: { encrypted_pin: await encryptPin(jwks, '4096', token) },
      proof: await key.proof('POST', url, token),
    }));
    const results = await Promise.all(
      requests.map(({ body, proof }) =>
        platform.app.inject({
          method: 'POST',
          url: '/v1/widget/pin',
          headers: { authorization: `DPoP ${token}`, dpop: proof },
          payload: body,
        }),
      ),
    );
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(results.filter((r) => r.statusCode !== 200).map((r) => r.json().code)).toEqual(
      Array(PARALLEL - 1).fill('WIDGET_TOKEN_USED'),
    );
  });

  it('reveal: one success among 12; one audit row; the rest WIDGET_TOKEN_USED', async () => {
    const card = await issueCard(platform, { pin_issuance_policy: 'REQUIRED' }, { pan: nextPan() });
    await setPin(card.id, '6275');
    await platform.call('POST', `/v1/simulations/cards/${card.id}/advance`);
    await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
    const token = await mintToken(platform, card.id, { widget_type: 'REVEAL_PIN' });
    const keys = await times(PARALLEL, () => ephemeralKey());
    const results = await times(PARALLEL, (i) =>
      widgetCall(platform, 'POST', '/v1/widget/pin/reveal', token, {
        public_key: keys[i]!.publicJwk,
      }),
    );
    const winner = results.findIndex((r) => r.status === 200);
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.body?.code === 'WIDGET_TOKEN_USED')).toHaveLength(PARALLEL - 1);
    expect((await keys[winner]!.decrypt(results[winner]!.body.encrypted_pin)).payload.pin).toBe(
      '6275',
    );
    expect(await db.rows('SELECT * FROM pin_reveals WHERE card_id = ?', card.id)).toHaveLength(1);
  });
});

describe('parallel status changes on one card', () => {
  it('12 parallel terminations: all answer 200, one transition, one event', async () => {
    const card = await issueCard(platform, {});
    const results = await times(PARALLEL, () =>
      platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'TERMINATED' }),
    );
    expect(results.map((r) => r.status)).toEqual(Array(PARALLEL).fill(200));
    const changes = await statusChanges(card.id);
    expect(changes.map((e) => e.data.changed_fields.card_status)).toEqual(['UNACTIVATED']);
  });

  it('a mix of requests: the events form a valid chain that ends in the final state', async () => {
    const allowed: Record<string, string[]> = {
      UNACTIVATED: ['ACTIVE', 'TERMINATED'],
      ACTIVE: ['SUSPENDED', 'TERMINATED'],
      SUSPENDED: ['ACTIVE', 'TERMINATED'],
      TERMINATED: [],
    };
    for (let round = 0; round < 5; round++) {
      const card = await issueCard(platform, {});
      await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
      const wanted = ['SUSPENDED', 'ACTIVE', 'SUSPENDED', 'TERMINATED', 'ACTIVE', 'SUSPENDED'];
      const results = await Promise.all(
        wanted.map((status) =>
          platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: status }),
        ),
      );
      for (const result of results) {
        if (result.status !== 200) {
          expect(result).toMatchObject({
            status: 409,
            body: { code: 'INVALID_STATUS_TRANSITION' },
          });
        }
      }
      const chain = (await statusChanges(card.id)).map((e) => ({
        from: e.data.changed_fields.card_status as string,
        to: e.data.card.card_status as string,
      }));
      expect(chain[0]).toEqual({ from: 'UNACTIVATED', to: 'ACTIVE' });
      for (let i = 1; i < chain.length; i++) {
        expect(chain[i]!.from).toBe(chain[i - 1]!.to);
        expect(allowed[chain[i]!.from]).toContain(chain[i]!.to);
      }
      const final = (await platform.call('GET', `/v1/cards/${card.id}`)).body.card_status;
      expect(chain.at(-1)!.to).toBe(final);
      // Every 200 that asked for a different status than the card had is one event: no more.
      expect(chain.length - 1).toBeLessThanOrEqual(results.filter((r) => r.status === 200).length);
    }
  });

  it('parallel advances and a set PIN on a REQUIRED card: one PENDING → UNACTIVATED', async () => {
    const card = await issueCard(platform, OFFLINE, { pan: nextPan() });
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const body = { encrypted_pin: await encryptPin(jwks, '2741', token) };
    await Promise.all([
      widgetCall(platform, 'POST', '/v1/widget/pin', token, body),
      ...Array.from({ length: 6 }, () =>
        platform.call('POST', `/v1/simulations/cards/${card.id}/advance`),
      ),
    ]);
    await times(6, () => platform.call('POST', `/v1/simulations/cards/${card.id}/advance`));
    const changes = await statusChanges(card.id);
    expect(changes.map((e) => e.data.changed_fields.card_status)).toEqual(['PENDING']);
    const shipped = (await events(card.id, 'CARD.UPDATED')).filter(
      (e) => e.data.changed_fields.card_fulfillment_status === 'ISSUED',
    );
    expect(shipped).toHaveLength(1);
    const jobs = await db.rows<{ kind: string; status: string }>(
      "SELECT kind, status FROM jobs WHERE card_id = ? AND status = 'DONE'",
      card.id,
    );
    expect(jobs.map((j) => j.kind).sort()).toEqual([
      'COMPLETE_ISSUANCE',
      'ISSUE_CARD',
      'SHIP_CARD',
    ]);
  });

  it('parallel advances on RANDOM cards: each job runs once, one random PIN', async () => {
    const cards = await times(4, () => issueCard(platform, { pin_issuance_policy: 'RANDOM' }));
    await Promise.all(
      cards.flatMap((card) =>
        Array.from({ length: 5 }, () =>
          platform.call('POST', `/v1/simulations/cards/${card.id}/advance`),
        ),
      ),
    );
    for (const card of cards) {
      const changes = await statusChanges(card.id);
      expect(changes.map((e) => e.data.changed_fields.card_status)).toEqual(['PENDING']);
      const done = await db.rows(
        "SELECT id FROM jobs WHERE card_id = ? AND status = 'DONE'",
        card.id,
      );
      expect(done).toHaveLength(3);
      expect(await db.rows('SELECT card_id FROM pins WHERE card_id = ?', card.id)).toHaveLength(1);
    }
  });
});

describe('parallel offline-PIN syncs for one card', () => {
  it('12 parallel syncs: all 204, one open script, the rest canceled, events agree', async () => {
    const card = await issueCard(platform, OFFLINE, { pan: nextPan(), account_id: 'acct_race' });
    await setPin(card.id, '3850');
    await platform.call('POST', `/v1/simulations/cards/${card.id}/advance`);
    const token = (await platform.call('POST', '/v1/accounts/acct_race/tokens')).body.access_token;
    const results = await times(PARALLEL, () =>
      platform.app.inject({
        method: 'POST',
        url: `/pcicards/v1/pcicards/${card.id}/scripts/sync-offline-pin`,
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(PARALLEL).fill(204));
    const scripts = await db.rows<{ id: string; status: string; script_identifier: string }>(
      'SELECT id, status, script_identifier FROM issuer_scripts WHERE card_id = ?',
      card.id,
    );
    expect(scripts).toHaveLength(PARALLEL);
    expect(new Set(scripts.map((s) => s.script_identifier)).size).toBe(PARALLEL);
    const open = scripts.filter((s) => s.status === 'CREATED');
    expect(open).toHaveLength(1);
    expect(scripts.filter((s) => s.status === 'CANCELED')).toHaveLength(PARALLEL - 1);
    const card1 = (await platform.call('GET', `/v1/cards/${card.id}`)).body;
    expect(card1.offline_pin.pending_script_id).toBe(open[0]!.id);

    const scriptEvents = await events(card.id, 'CARD.ISSUER_SCRIPT.UPDATED');
    const of = (type: string) =>
      scriptEvents
        .filter((e) => e.data.script_event_type === type)
        .map((e) => e.data.card_script_id);
    expect(of('script_created').sort()).toEqual(scripts.map((s) => s.id).sort());
    expect(of('script_canceled').sort()).toEqual(
      scripts
        .filter((s) => s.status === 'CANCELED')
        .map((s) => s.id)
        .sort(),
    );

    // Parallel chip authorizations: the script goes out once, is applied once.
    const auths = await times(6, () =>
      platform.call('POST', '/v1/simulations/authorizations', {
        card_id: card.id,
        amount: 100,
        entry_mode: 'CHIP_CONTACT',
      }),
    );
    expect(auths.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(auths.filter((a) => a.body.issuer_script_template)).toHaveLength(1);
    await platform.call('POST', '/v1/simulations/authorizations', {
      card_id: card.id,
      amount: 100,
      entry_mode: 'CHIP_CONTACT',
    });
    const after = await events(card.id, 'CARD.ISSUER_SCRIPT.UPDATED');
    const sent = after.filter((e) => e.data.script_event_type === 'script_sent');
    const applied = after.filter((e) => e.data.script_event_type === 'script_applied');
    expect(sent.map((e) => e.data.card_script_id)).toEqual([open[0]!.id]);
    expect(applied.map((e) => e.data.card_script_id)).toEqual([open[0]!.id]);
    expect((await platform.call('GET', `/v1/cards/${card.id}`)).body.offline_pin).toMatchObject({
      in_sync: true,
      pending_script_id: null,
    });
  });
});
