import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueCard, mintToken, testPan, widgetCall } from '../testing/cards.js';
import { encryptPin } from '../testing/independent-jose.js';
import { type TestPlatform, startTestPlatform } from '../testing/platform.js';
import { terminal } from '../testing/terminal.js';

/**
 * The PIN at the point of sale (docs/point-of-sale.md), checked as a terminal and an acquirer
 * would: PIN blocks built by testing/terminal.ts with node:crypto only, apart from payment-crypto/.
 */

const PAN = testPan('400000987654321');
const RIGHT = '3850';
const WRONG = '2961';

let platform: TestPlatform;
let jwks: { keys: object[] };
beforeEach(async () => {
  platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000' });
  jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
});
afterEach(async () => {
  await platform.dispose();
});

async function setPin(
  cardId: string,
  pin: string,
  payload?: Record<string, unknown>,
  body: Record<string, unknown> = {},
) {
  const token = await mintToken(platform, cardId, { widget_type: 'SET_PIN' });
  return widgetCall(platform, 'POST', '/v1/widget/pin', token, {
    encrypted_pin: await encryptPin(jwks, pin, token, {}, JSON.stringify(payload ?? { pin })),
    ...body,
  });
}

async function requestSync(cardId: string) {
  const token = (await platform.call('POST', '/v1/accounts/acct_1/tokens')).body.access_token;
  const response = await platform.app.inject({
    method: 'POST',
    url: `/pcicards/v1/pcicards/${cardId}/scripts/sync-offline-pin`,
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.statusCode).toBe(204);
}

/** A REQUIRED card (offline PIN unless told otherwise): PIN set, issued, activated. */
async function activeCard(product: Record<string, unknown> = {}, pin = RIGHT) {
  const card = await issueCard(
    platform,
    { pin_issuance_policy: 'REQUIRED', offline_pin: true, ...product },
    { pan: PAN },
  );
  expect((await setPin(card.id, pin)).status).toBe(200);
  await platform.call('POST', `/v1/simulations/cards/${card.id}/advance`);
  await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
  return card;
}

function authorize(cardId: string, extra: Record<string, unknown>) {
  return platform.call('POST', '/v1/simulations/authorizations', {
    card_id: cardId,
    amount: 4200,
    entry_mode: 'CHIP_CONTACT',
    ...extra,
  });
}

const online = (cardId: string, format: 'ISO_9564_0' | 'ISO_9564_4', pin: string) =>
  authorize(cardId, {
    pin_block: {
      format,
      block: format === 'ISO_9564_0' ? terminal.format0(pin, PAN) : terminal.format4(pin, PAN),
    },
  });

const offline = (cardId: string, pin: string) =>
  authorize(cardId, {
    cvm: 'OFFLINE_PIN',
    pin_block: { format: 'ISO_9564_4', block: terminal.format4(pin, PAN) },
  });

const getCard = async (cardId: string) => (await platform.call('GET', `/v1/cards/${cardId}`)).body;

async function cardUpdates(cardId: string) {
  const events = await platform.db.events('CARD.UPDATED');
  return events.map((event) => event.data).filter((data) => data.card.id === cardId);
}

describe('online PIN: an independent terminal’s format 0 and format 4 blocks', () => {
  it('the right PIN verifies in both formats; a product’s card starts with all its tries', async () => {
    const card = await activeCard({ pin_try_limit: 4 });
    expect(await getCard(card.id)).toMatchObject({ pin_status: 'OK', pin_tries_remaining: 4 });
    for (const format of ['ISO_9564_0', 'ISO_9564_4'] as const) {
      const answer = await online(card.id, format, RIGHT);
      expect(answer).toMatchObject({
        status: 200,
        body: {
          approved: true,
          pin_verification: 'VERIFIED',
          pin_tries_remaining: 4,
          pin_status: 'OK',
        },
      });
      expect(answer.body).not.toHaveProperty('decline_reason');
    }
  });

  it('three wrong PINs block the card; then the right one is refused; an unblock restores it', async () => {
    const card = await activeCard();
    const first = await online(card.id, 'ISO_9564_0', WRONG);
    expect(first.body).toMatchObject({
      approved: false,
      decline_reason: 'INCORRECT_PIN',
      pin_verification: 'INCORRECT',
      pin_tries_remaining: 2,
      pin_status: 'OK',
    });
    expect((await online(card.id, 'ISO_9564_4', '0000')).body).toMatchObject({
      decline_reason: 'INCORRECT_PIN',
      pin_tries_remaining: 1,
    });
    // The attempt that uses the last try: response code 75's meaning.
    expect((await online(card.id, 'ISO_9564_4', '3851')).body).toMatchObject({
      approved: false,
      decline_reason: 'PIN_TRIES_EXCEEDED',
      pin_verification: 'INCORRECT',
      pin_tries_remaining: 0,
      pin_status: 'BLOCKED',
    });
    const blocked = await cardUpdates(card.id);
    expect(blocked.at(-1)).toMatchObject({
      card: { pin_status: 'BLOCKED', pin_tries_remaining: 0 },
      changed_fields: { pin_status: 'OK', pin_tries_remaining: 1 },
    });

    for (const format of ['ISO_9564_0', 'ISO_9564_4'] as const) {
      expect((await online(card.id, format, RIGHT)).body).toMatchObject({
        approved: false,
        decline_reason: 'PIN_TRIES_EXCEEDED',
        pin_verification: 'BLOCKED',
        pin_tries_remaining: 0,
      });
    }
    // A blocked PIN blocks PIN transactions, not the card.
    const noPin = await authorize(card.id, { entry_mode: 'ECOMMERCE' });
    expect(noPin.body).toEqual({ approved: true, atc: null, arqc: null });

    const unblocked = await platform.call('POST', `/v1/cards/${card.id}/pin/unblock`);
    expect(unblocked).toMatchObject({
      status: 200,
      body: { id: card.id, pin_status: 'OK', pin_tries_remaining: 3 },
    });
    // The unblock's CARD.UPDATED, then the one of its chip's PIN UNBLOCK script.
    const [unblock, queued] = (await cardUpdates(card.id)).slice(-2);
    expect(unblock?.changed_fields).toEqual({ pin_status: 'BLOCKED', pin_tries_remaining: 0 });
    expect(queued?.changed_fields).toEqual({ 'offline_pin.pending_script_id': null });
    expect((await online(card.id, 'ISO_9564_0', RIGHT)).body).toMatchObject({
      approved: true,
      pin_verification: 'VERIFIED',
    });
  });

  it('a right PIN restores the tries the wrong ones used', async () => {
    const card = await activeCard();
    await online(card.id, 'ISO_9564_4', WRONG);
    await online(card.id, 'ISO_9564_0', WRONG);
    expect((await getCard(card.id)).pin_tries_remaining).toBe(1);
    expect((await online(card.id, 'ISO_9564_4', RIGHT)).body.pin_tries_remaining).toBe(3);
    expect((await cardUpdates(card.id)).at(-1)?.changed_fields).toEqual({ pin_tries_remaining: 1 });
  });

  it('no PIN yet: NOT_SET, declined, no try counted; not ACTIVE: declined before the PIN', async () => {
    const noPin = await issueCard(platform, { form: 'PHYSICAL' }, { pan: PAN });
    await platform.call('POST', `/v1/simulations/cards/${noPin.id}/advance`);
    await platform.call('PATCH', `/v1/cards/${noPin.id}`, { card_status: 'ACTIVE' });
    expect((await online(noPin.id, 'ISO_9564_4', RIGHT)).body).toMatchObject({
      approved: false,
      decline_reason: 'PIN_NOT_SET',
      pin_verification: 'NOT_SET',
      pin_status: 'NOT_SET',
      pin_tries_remaining: 3,
    });

    const other = testPan('400000987654339');
    const suspended = await issueCard(
      platform,
      { pin_issuance_policy: 'REQUIRED' },
      { pan: other },
    );
    await setPin(suspended.id, RIGHT);
    await platform.call('POST', `/v1/simulations/cards/${suspended.id}/advance`);
    const before = await getCard(suspended.id);
    const answer = await platform.call('POST', '/v1/simulations/authorizations', {
      card_id: suspended.id,
      amount: 1,
      entry_mode: 'CHIP_CONTACT',
      pin_block: { format: 'ISO_9564_0', block: terminal.format0(WRONG, other) },
    });
    expect(answer.body).toMatchObject({ approved: false, decline_reason: 'CARD_NOT_ACTIVE' });
    expect(answer.body).not.toHaveProperty('pin_verification');
    expect(await getCard(suspended.id)).toEqual(before);
  });

  it('a malformed block is a 400 that uses no try; so is one under another key', async () => {
    const card = await activeCard();
    const before = await platform.db.snapshot();
    const bad = [
      { format: 'ISO_9564_0', block: 'ZZ'.repeat(8) },
      { format: 'ISO_9564_0', block: terminal.format4(RIGHT, PAN) },
      { format: 'ISO_9564_4', block: terminal.format0(RIGHT, PAN) },
      { format: 'ISO_9564_4', block: terminal.format4(RIGHT, PAN, randomBytes(32)) },
    ];
    for (const pinBlock of bad) {
      const answer = await authorize(card.id, { pin_block: pinBlock });
      expect(answer, JSON.stringify(pinBlock)).toMatchObject({
        status: 400,
        body: { code: 'INVALID_PIN_BLOCK', field: 'pin_block.block' },
      });
    }
    for (const [extra, field] of [
      [{ cvm: 'ONLINE_PIN' }, 'pin_block'],
      [{ cvm: 'OFFLINE_PIN', entry_mode: 'CONTACTLESS', pin_block: bad[3] }, 'cvm'],
      [
        { cvm: 'OFFLINE_PIN', pin_block: { format: 'ISO_9564_0', block: '0'.repeat(16) } },
        'pin_block.format',
      ],
    ] as const) {
      expect((await authorize(card.id, extra)).body).toMatchObject({
        code: 'INVALID_FIELD',
        field,
      });
    }
    expect(await platform.db.snapshot()).toEqual(before);
  });

  it('concurrent wrong PINs use one try each, never more than were sent', async () => {
    const card = await activeCard({ pin_try_limit: 5 });
    const answers = await Promise.all(
      Array.from({ length: 3 }, () => online(card.id, 'ISO_9564_4', WRONG)),
    );
    expect(answers.map((a) => a.body.pin_tries_remaining).sort()).toEqual([2, 3, 4]);
    expect((await getCard(card.id)).pin_tries_remaining).toBe(2);
    const more = await Promise.all(
      Array.from({ length: 4 }, () => online(card.id, 'ISO_9564_0', WRONG)),
    );
    expect(more.map((a) => a.body.pin_verification).sort()).toEqual([
      'BLOCKED',
      'BLOCKED',
      'INCORRECT',
      'INCORRECT',
    ]);
    expect(await getCard(card.id)).toMatchObject({ pin_status: 'BLOCKED', pin_tries_remaining: 0 });
  });
});

describe('offline PIN: the virtual chip verifies its own copy', () => {
  it('after an online change the chip wants the old PIN until the script has applied', async () => {
    const card = await activeCard();
    // A change with no script: the chip keeps the PIN it was personalized with.
    const changed = await setPin(card.id, '7391', undefined, { sync_offline_pin: false });
    expect(changed.status).toBe(200);
    expect((await offline(card.id, '7391')).body).toMatchObject({
      approved: false,
      decline_reason: 'OFFLINE_PIN_INCORRECT',
      offline_pin_verification: 'INCORRECT',
      chip_pin_tries_remaining: 2,
    });
    const old = await offline(card.id, RIGHT);
    expect(old.body).toMatchObject({
      approved: true,
      offline_pin_verification: 'VERIFIED',
      chip_pin_tries_remaining: 3,
    });
    expect(old.body).not.toHaveProperty('pin_verification');
    expect(old.body).not.toHaveProperty('issuer_script_template');
    // The sync script goes out with the next contact-chip authorization, after its PIN check.
    await requestSync(card.id);
    const carrying = await offline(card.id, RIGHT);
    expect(carrying.body).toMatchObject({
      approved: true,
      offline_pin_verification: 'VERIFIED',
      issuer_script_template: expect.stringMatching(/^72/),
    });
    expect((await offline(card.id, '7391')).body).toMatchObject({
      approved: true,
      offline_pin_verification: 'VERIFIED',
    });
    expect((await offline(card.id, RIGHT)).body.offline_pin_verification).toBe('INCORRECT');
    // The chip's counter is its own: the online tries are untouched.
    expect((await getCard(card.id)).pin_tries_remaining).toBe(3);
  });

  it('the first contact-chip authorization after the change verifies the old PIN, refuses the new', async () => {
    const card = await activeCard();
    expect((await setPin(card.id, '7391')).status).toBe(200);
    const first = await offline(card.id, RIGHT);
    expect(first.body).toMatchObject({
      approved: true,
      offline_pin_verification: 'VERIFIED',
      issuer_script_template: expect.stringMatching(/^72/),
    });
    expect((await offline(card.id, RIGHT)).body.offline_pin_verification).toBe('INCORRECT');
    expect((await offline(card.id, '7391')).body.offline_pin_verification).toBe('VERIFIED');
    expect((await getCard(card.id)).offline_pin).toMatchObject({ in_sync: true });
  });

  it('three wrong offline PINs block the chip; the unblock script resets its counter', async () => {
    const card = await activeCard();
    for (const tries of [2, 1]) {
      expect((await offline(card.id, WRONG)).body).toMatchObject({
        decline_reason: 'OFFLINE_PIN_INCORRECT',
        chip_pin_tries_remaining: tries,
      });
    }
    expect((await offline(card.id, WRONG)).body).toMatchObject({
      decline_reason: 'OFFLINE_PIN_BLOCKED',
      offline_pin_verification: 'INCORRECT',
      chip_pin_tries_remaining: 0,
    });
    expect((await offline(card.id, RIGHT)).body).toMatchObject({
      approved: false,
      decline_reason: 'OFFLINE_PIN_BLOCKED',
      offline_pin_verification: 'BLOCKED',
    });

    const unblocked = await platform.call('POST', `/v1/cards/${card.id}/pin/unblock`);
    expect(unblocked.status).toBe(200);
    const scriptId = unblocked.body.offline_pin.pending_script_id;
    expect(scriptId).toMatch(/^scr_/);
    expect(await platform.store.read.getIssuerScript(scriptId)).toMatchObject({
      scriptType: 'UNBLOCK_PIN',
      requestedBy: 'PIN_UNBLOCK',
      status: 'CREATED',
    });
    // Scripts run after the PIN check: this one is still refused, and carries the unblock.
    const carrying = await offline(card.id, RIGHT);
    expect(carrying.body).toMatchObject({ offline_pin_verification: 'BLOCKED' });
    const template = Buffer.from(carrying.body.issuer_script_template, 'hex');
    const apdu = template.subarray(11);
    expect(apdu.subarray(0, 5).toString('hex')).toBe('8424000008');
    expect(apdu).toHaveLength(13);

    expect((await offline(card.id, RIGHT)).body).toMatchObject({
      approved: true,
      offline_pin_verification: 'VERIFIED',
      chip_pin_tries_remaining: 3,
    });
    const events = (await platform.db.events('CARD.ISSUER_SCRIPT.UPDATED'))
      .map((event) => event.data)
      .filter((data) => data.card_script_id === scriptId);
    expect(events.map((e) => [e.script_type, e.script_event_type])).toEqual([
      ['UNBLOCK_PIN', 'script_created'],
      ['UNBLOCK_PIN', 'script_sent'],
      ['UNBLOCK_PIN', 'script_applied'],
    ]);
  });

  it('OFFLINE_PIN on a card without offline PIN is refused', async () => {
    const card = await activeCard({ offline_pin: false });
    expect((await offline(card.id, RIGHT)).body).toMatchObject({
      code: 'OFFLINE_PIN_NOT_ENABLED',
      field: 'cvm',
    });
  });
});

describe('a change that needs the current PIN', () => {
  it('a wrong current PIN uses a try; a blocked PIN cannot change until unblocked', async () => {
    const card = await activeCard({ pin_change_requires_current_pin: true });
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const session = await widgetCall(platform, 'GET', '/v1/widget/session', token);
    expect(session.body.card).toMatchObject({ requires_current_pin: true, pin_status: 'OK' });

    expect((await setPin(card.id, '7391')).body).toMatchObject({
      code: 'CURRENT_PIN_REQUIRED',
      field: 'current_pin',
    });
    const wrong = await setPin(card.id, '7391', { pin: '7391', current_pin: WRONG });
    expect(wrong).toMatchObject({
      status: 400,
      body: { code: 'CURRENT_PIN_INCORRECT', field: 'current_pin', pin_tries_remaining: 2 },
    });
    expect((await getCard(card.id)).pin_tries_remaining).toBe(2);
    // The PIN did not change.
    expect((await online(card.id, 'ISO_9564_4', RIGHT)).body.pin_verification).toBe('VERIFIED');

    for (const tries of [2, 1, 0]) {
      const answer = await setPin(card.id, '7391', { pin: '7391', current_pin: WRONG });
      expect(answer.body).toMatchObject({ code: 'CURRENT_PIN_INCORRECT' });
      expect(answer.body.pin_tries_remaining).toBe(tries);
    }
    expect(await setPin(card.id, '7391', { pin: '7391', current_pin: RIGHT })).toMatchObject({
      status: 409,
      body: { code: 'PIN_BLOCKED' },
    });
    await platform.call('POST', `/v1/cards/${card.id}/pin/unblock`);
    expect((await setPin(card.id, '7391', { pin: '7391', current_pin: RIGHT })).status).toBe(200);
    expect((await online(card.id, 'ISO_9564_0', '7391')).body.pin_verification).toBe('VERIFIED');
  });

  it('a product without the rule: no current PIN asked, one sent is refused, a new PIN unblocks', async () => {
    const card = await activeCard();
    for (let i = 0; i < 3; i++) await online(card.id, 'ISO_9564_4', WRONG);
    expect((await getCard(card.id)).pin_status).toBe('BLOCKED');
    expect((await setPin(card.id, '7391', { pin: '7391', current_pin: RIGHT })).body).toMatchObject(
      {
        code: 'INVALID_PIN_PAYLOAD',
      },
    );
    expect((await setPin(card.id, '7391')).status).toBe(200);
    expect(await getCard(card.id)).toMatchObject({ pin_status: 'OK', pin_tries_remaining: 3 });
  });

  it('the first PIN of a card needs no current PIN', async () => {
    const card = await issueCard(
      platform,
      { pin_issuance_policy: 'REQUIRED', pin_change_requires_current_pin: true },
      { pan: PAN },
    );
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const session = await widgetCall(platform, 'GET', '/v1/widget/session', token);
    expect(session.body.card).toMatchObject({ requires_current_pin: false, pin_status: 'NOT_SET' });
    expect((await setPin(card.id, RIGHT)).status).toBe(200);
  });
});

describe('unblock', () => {
  it('refuses what has no PIN to unblock, and takes no body', async () => {
    const noPin = await issueCard(platform, { form: 'PHYSICAL' }, { pan: PAN });
    expect(await platform.call('POST', `/v1/cards/${noPin.id}/pin/unblock`)).toMatchObject({
      status: 409,
      body: { code: 'PIN_NOT_SET' },
    });
    const virtual = await issueCard(platform, { form: 'VIRTUAL' });
    expect((await platform.call('POST', `/v1/cards/${virtual.id}/pin/unblock`)).body.code).toBe(
      'CARD_IS_VIRTUAL',
    );
    expect(
      (await platform.call('POST', `/v1/cards/${noPin.id}/pin/unblock`, { tries: 3 })).body.code,
    ).toBe('UNKNOWN_FIELD');
    const unknown = `card_${'0'.repeat(26)}`;
    expect((await platform.call('POST', `/v1/cards/${unknown}/pin/unblock`)).status).toBe(404);
  });
});
