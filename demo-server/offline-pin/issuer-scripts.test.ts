import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEST_KEYS } from '../config.js';
import { logSink } from '../testing/log-sink.js';
import { issueCard, mintToken, testPan, widgetCall } from '../testing/cards.js';
import { encryptPin } from '../testing/independent-jose.js';
import { PRODUCTION_SECRETS, type TestPlatform, startTestPlatform } from '../testing/platform.js';
import { type ReceivedWebhook, startReceiver } from '../testing/receiver.js';

/**
 * An EMV implementation written here with node:crypto only, apart from payment-crypto/, to check the
 * scripts the platform sends: Option A ICC master keys, secure-messaging session keys, the
 * ISO 9797-1 algorithm 3 MAC and the per-profile decipherment (EMV Book 2 A1.3/A1.4, README “Offline PIN”).
 */
const independent = {
  run(algorithm: 'des-ede-ecb' | 'des-ede-cbc', key: Buffer, data: Buffer, decrypt = false) {
    const iv = algorithm === 'des-ede-cbc' ? Buffer.alloc(8) : null;
    const c = (decrypt ? createDecipheriv : createCipheriv)(algorithm, key, iv);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(data), c.final()]);
  },
  xor: (a: Buffer, b: Buffer) => Buffer.from(a.map((byte, i) => byte ^ b[i]!)),
  /** Each byte's low bit makes its bit count odd (DES ignores it; the VIS PIN mask does not). */
  oddParity: (key: Buffer) =>
    Buffer.from(
      key.map((byte) => {
        const high = byte & 0xfe;
        const ones = high.toString(2).split('1').length - 1;
        return high | (ones % 2 === 0 ? 1 : 0);
      }),
    ),
  /** Option A: Y = rightmost 16 digits of PAN ‖ PSN; MK = 3DES(Y) ‖ 3DES(Y xor FF…). */
  iccMasterKey(imkHex: string, pan: string, psn: string) {
    const imk = Buffer.from(imkHex, 'hex');
    const y = Buffer.from((pan + psn).slice(-16).padStart(16, '0'), 'hex');
    const left = independent.run('des-ede-ecb', imk, y);
    const right = independent.run('des-ede-ecb', imk, independent.xor(y, Buffer.alloc(8, 0xff)));
    return independent.oddParity(Buffer.concat([left, right]));
  },
  /** CCD/Mastercard: common session key with R = ARQC; Visa: MK halves xor ATC / ~ATC. */
  sessionKey(profile: Profile, mk: Buffer, atc: Buffer, arqc: Buffer) {
    if (profile === 'VISA') {
      const notAtc = Buffer.from([~atc[0]! & 0xff, ~atc[1]! & 0xff]);
      return Buffer.concat([
        independent.xor(mk.subarray(0, 8), Buffer.concat([Buffer.alloc(6), atc])),
        independent.xor(mk.subarray(8), Buffer.concat([Buffer.alloc(6), notAtc])),
      ]);
    }
    const left = Buffer.from(arqc);
    left[2] = 0xf0;
    const right = Buffer.from(arqc);
    right[2] = 0x0f;
    return Buffer.concat([
      independent.run('des-ede-ecb', mk, left),
      independent.run('des-ede-ecb', mk, right),
    ]);
  },
  /**
   * MAC algorithm 3 written the other way round: single-DES CBC with K1 over every block but
   * the last, then 3DES (K1, K2, K1) of the last chained block, which equals DES_K1(DES⁻¹_K2(Hn)).
   */
  retailMac(key: Buffer, data: Buffer) {
    const padded = Buffer.concat([data, Buffer.from([0x80]), Buffer.alloc(7 - (data.length % 8))]);
    const k1 = key.subarray(0, 8);
    let chained = Buffer.alloc(8);
    for (let offset = 0; offset < padded.length - 8; offset += 8) {
      const block = independent.xor(chained, padded.subarray(offset, offset + 8));
      chained = independent.run('des-ede-ecb', Buffer.concat([k1, k1]), block);
    }
    return independent.run('des-ede-ecb', key, independent.xor(chained, padded.subarray(-8)));
  },
  /** `72 L 9F18 04 <id> 86 L <APDU>` → its parts. */
  parseTemplate(hex: string) {
    const template = Buffer.from(hex, 'hex');
    expect(template[0]).toBe(0x72);
    expect(template[1]).toBe(template.length - 2);
    expect(template.subarray(2, 5).toString('hex')).toBe('9f1804');
    expect(template[9]).toBe(0x86);
    expect(template[10]).toBe(template.length - 11);
    return {
      scriptId: template.subarray(5, 9).toString('hex').toUpperCase(),
      apdu: template.subarray(11),
    };
  },
  /** Checks the MAC over header ‖ ATC ‖ ARQC ‖ data, deciphers, and returns the PIN it carries. */
  openPinChange(
    profile: Profile,
    card: { pan: string; psn: string },
    txn: { atc: string; arqc: string },
    apdu: Buffer,
  ): string {
    const atc = Buffer.from(txn.atc, 'hex');
    const arqc = Buffer.from(txn.arqc, 'hex');
    expect(apdu.subarray(0, 4).toString('hex')).toBe('84240002');
    expect(apdu[4]).toBe(apdu.length - 5);
    const data = apdu.subarray(5, -8);
    const mac = apdu.subarray(-8);
    const key = (imk: string) =>
      independent.sessionKey(profile, independent.iccMasterKey(imk, card.pan, card.psn), atc, arqc);
    const macInput = Buffer.concat([apdu.subarray(0, 5), atc, arqc, data]);
    expect(independent.retailMac(key(TEST_KEYS.IMK_SMI), macInput).toString('hex')).toBe(
      mac.toString('hex'),
    );
    const skSmc = key(TEST_KEYS.IMK_SMC);
    let block: Buffer;
    if (profile === 'EMV_CCD') {
      // 3DES-CBC, zero IV, padding method 2 always: 8-byte block → 16 bytes.
      expect(data).toHaveLength(16);
      const clear = independent.run('des-ede-cbc', skSmc, data, true);
      expect(clear.subarray(8).toString('hex')).toBe('8000000000000000');
      block = clear.subarray(0, 8);
    } else if (profile === 'MASTERCARD') {
      // 3DES-CBC, zero IV, no padding for a whole block.
      expect(data).toHaveLength(8);
      block = independent.run('des-ede-cbc', skSmc, data, true);
    } else {
      // Visa: 3DES-ECB of pad(L ‖ VIS PIN block); VIS block = (N ‖ PIN ‖ F…) xor (0000 0000 ‖ MK-AC[4..7]).
      expect(data).toHaveLength(16);
      const clear = independent.run('des-ede-ecb', skSmc, data, true);
      expect(clear[0]).toBe(8);
      expect(clear.subarray(9).toString('hex')).toBe('80000000000000');
      const mkAc = independent.iccMasterKey(TEST_KEYS.IMK_AC, card.pan, card.psn);
      const mask = Buffer.concat([Buffer.alloc(4), mkAc.subarray(4, 8)]);
      const plain = independent.xor(clear.subarray(1, 9), mask);
      const length = plain[0]!;
      const digits = plain.subarray(1).toString('hex').toUpperCase();
      expect(digits.slice(length)).toMatch(/^F+$/);
      return digits.slice(0, length);
    }
    // ISO 9564-1 format 2: 2 ‖ N ‖ PIN ‖ F fill.
    const nibbles = block.toString('hex').toUpperCase();
    expect(nibbles[0]).toBe('2');
    const length = parseInt(nibbles[1]!, 16);
    expect(nibbles.slice(2 + length)).toMatch(/^F+$/);
    return nibbles.slice(2, 2 + length);
  },
};

type Profile = 'EMV_CCD' | 'MASTERCARD' | 'VISA';
const PAN = testPan('400000123456785');
/** One card per PAN: a second card in a test needs its own. */
const OTHER_PAN = testPan('400000123456793');
const PSN = '01';

let platform: TestPlatform;
let jwks: { keys: object[] };
beforeEach(async () => {
  platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000' });
  jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
});
afterEach(async () => {
  await platform.dispose();
});

async function setPin(cardId: string, pin: string, extra: Record<string, unknown> = {}) {
  const token = await mintToken(platform, cardId, { widget_type: 'SET_PIN' });
  const set = await widgetCall(platform, 'POST', '/v1/widget/pin', token, {
    encrypted_pin: await encryptPin(jwks, pin, token),
    ...extra,
  });
  expect(set.status).toBe(200);
}

/** A REQUIRED offline-PIN card: PIN set, issued (chip personalized with it), activated. */
async function activeOfflineCard(product: Record<string, unknown> = {}, pin = '3850', pan = PAN) {
  const card = await issueCard(
    platform,
    { pin_issuance_policy: 'REQUIRED', offline_pin: true, ...product },
    { pan, pan_sequence_number: PSN, customer_id: 'cust_1' },
  );
  await setPin(card.id, pin);
  await platform.call('POST', `/v1/simulations/cards/${card.id}/advance`);
  await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
  return card;
}

async function sync(cardId: string, accountId = 'acct_1') {
  const token = (await platform.call('POST', `/v1/accounts/${accountId}/tokens`)).body.access_token;
  const response = await platform.app.inject({
    method: 'POST',
    url: `/pcicards/v1/pcicards/${cardId}/scripts/sync-offline-pin`,
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.statusCode).toBe(204);
}

function authorize(cardId: string, entryMode: string, extra: Record<string, unknown> = {}) {
  return platform.call('POST', '/v1/simulations/authorizations', {
    card_id: cardId,
    amount: 1250,
    entry_mode: entryMode,
    ...extra,
  });
}

const offlinePin = async (cardId: string) =>
  (await platform.call('GET', `/v1/cards/${cardId}`)).body.offline_pin;

/**
 * The card's CARD.ISSUER_SCRIPT.UPDATED event data in the order they were written (not by id:
 * ids only order events by millisecond, and one transaction writes several in the same one).
 */
async function scriptEvents(cardId: string): Promise<Record<string, any>[]> {
  const events = await platform.db.events('CARD.ISSUER_SCRIPT.UPDATED');
  return events.map((event) => event.data).filter((data) => data.card_id === cardId);
}

const steps = (events: Record<string, any>[]) =>
  events.map((e) => `${e.script_event_type}${e.reason ? `:${e.reason}` : ''}`);

describe('the script a contact-chip authorization carries', () => {
  it.each(['EMV_CCD', 'MASTERCARD', 'VISA'] as const)(
    '%s: not on contactless; on the next CHIP_CONTACT, verified and opened independently to the current PIN',
    async (profile) => {
      const card = await activeOfflineCard({ emv_profile: profile });
      expect(await offlinePin(card.id)).toEqual({
        enabled: true,
        in_sync: true,
        pending_script_id: null,
      });
      // A PIN change after issuance: the chip's copy is stale until a script is applied.
      await setPin(card.id, '7391', { sync_offline_pin: false });
      expect(await offlinePin(card.id)).toMatchObject({ in_sync: false, pending_script_id: null });
      await sync(card.id);
      const pending = (await offlinePin(card.id)).pending_script_id;
      expect(pending).toMatch(/^scr_/);

      const contactless = await authorize(card.id, 'CONTACTLESS');
      expect(contactless).toMatchObject({
        status: 200,
        body: { approved: true, atc: '0001', arqc: expect.stringMatching(/^[0-9A-F]{16}$/) },
      });
      expect(contactless.body).not.toHaveProperty('issuer_script_template');
      for (const mode of ['MAGSTRIPE', 'ECOMMERCE']) {
        const remote = await authorize(card.id, mode);
        expect(remote.body).toEqual({ approved: true, atc: null, arqc: null });
      }

      const contact = await authorize(card.id, 'CHIP_CONTACT');
      expect(contact.body).toMatchObject({ approved: true, atc: '0002' });
      const { scriptId, apdu } = independent.parseTemplate(contact.body.issuer_script_template);
      const pin = independent.openPinChange(profile, { pan: PAN, psn: PSN }, contact.body, apdu);
      expect(pin).toBe('7391');

      // What the issuer stored: the identifiers, the transaction data and the APDU, no PIN.
      const stored = await platform.store.read.getIssuerScript(pending);
      expect(stored).toMatchObject({
        status: 'SENT',
        scriptIdentifier: scriptId,
        atc: contact.body.atc,
        arqc: contact.body.arqc,
        commandApdu: apdu.toString('hex').toUpperCase(),
        requestedBy: 'SYNC_ENDPOINT',
      });

      // The chip applied it and reports so (9F5B) on its next authorization.
      expect(await offlinePin(card.id)).toMatchObject({
        in_sync: false,
        pending_script_id: pending,
      });
      const next = await authorize(card.id, 'CHIP_CONTACT');
      expect(next.body).toMatchObject({ approved: true, atc: '0003' });
      expect(next.body).not.toHaveProperty('issuer_script_template');
      expect(await offlinePin(card.id)).toEqual({
        enabled: true,
        in_sync: true,
        pending_script_id: null,
      });
      expect(steps(await scriptEvents(card.id))).toEqual([
        'script_created',
        'script_sent',
        'script_applied',
      ]);
      expect(await platform.store.read.getChipState(card.id)).toMatchObject({
        atc: 3,
        offlinePinOrigin: 'ISSUER_SCRIPT',
        offlinePinScriptIdentifier: scriptId,
        pendingScriptResults: '',
        lastScriptError: null,
      });
    },
  );

  it('uses a caller-supplied ATC and ARQC; the chip counts on from that ATC', async () => {
    const card = await activeOfflineCard({ emv_profile: 'VISA' });
    await sync(card.id);
    const atc = '1234';
    const arqc = '0123456789ABCDEF';
    const contact = await authorize(card.id, 'CHIP_CONTACT', { atc, arqc: arqc.toLowerCase() });
    expect(contact.body).toMatchObject({ approved: true, atc, arqc });
    const { apdu } = independent.parseTemplate(contact.body.issuer_script_template);
    expect(independent.openPinChange('VISA', { pan: PAN, psn: PSN }, { atc, arqc }, apdu)).toBe(
      '3850',
    );
    expect((await authorize(card.id, 'CONTACTLESS')).body.atc).toBe('1235');
    expect(steps(await scriptEvents(card.id)).at(-1)).toBe('script_applied');
  });

  it('is carried on a declined authorization too (EMV allows it); approval follows the status', async () => {
    const card = await activeOfflineCard();
    await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'SUSPENDED' });
    await sync(card.id);
    const declined = await authorize(card.id, 'CHIP_CONTACT');
    expect(declined.body).toMatchObject({
      approved: false,
      issuer_script_template: expect.stringMatching(/^72/),
    });
  });
});

describe('events', () => {
  it('script_created → script_sent → script_applied arrive as signed webhooks, in order; the card ends in sync', async () => {
    const receiver = await startReceiver();
    try {
      platform.startWorkers();
      const subscribed = await platform.call('POST', '/v1/webhooks', {
        url: receiver.url,
        enabled_events: ['CARD.ISSUER_SCRIPT.UPDATED', 'CARD.UPDATED'],
      });
      const secret = subscribed.body.secret as string;
      const card = await activeOfflineCard();
      const scripts = (all: ReceivedWebhook[]) =>
        all.filter((w) => w.json.type === 'CARD.ISSUER_SCRIPT.UPDATED');

      // A PIN change with sync_offline_pin (the default for offline-PIN cards) queues the script.
      await setPin(card.id, '7391');
      await receiver.waitFor((all) => scripts(all).length === 1);
      expect((await authorize(card.id, 'CHIP_CONTACT')).body.issuer_script_template).toBeDefined();
      await receiver.waitFor((all) => scripts(all).length === 2);
      await authorize(card.id, 'CHIP_CONTACT');
      const received = scripts(await receiver.waitFor((all) => scripts(all).length === 3));

      const verified = received.map(
        (webhook) =>
          new StandardWebhook(secret).verify(webhook.body, {
            'webhook-id': webhook.headers['webhook-id'] as string,
            'webhook-timestamp': webhook.headers['webhook-timestamp'] as string,
            'webhook-signature': webhook.headers['webhook-signature'] as string,
          }) as { type: string; timestamp: string; data: Record<string, unknown> },
      );
      const base = {
        account_id: 'acct_1',
        card_id: card.id,
        customer_id: 'cust_1',
        card_script_id: expect.stringMatching(/^scr_/),
        script_type: 'SYNC_PIN',
      };
      expect(verified.map((v) => v.data)).toEqual([
        { ...base, script_event_type: 'script_created' },
        { ...base, script_event_type: 'script_sent' },
        { ...base, script_event_type: 'script_applied', status: 'SUCCESS' },
      ]);
      expect(new Set(verified.map((v) => v.data.card_script_id)).size).toBe(1);
      expect(verified.map((v) => v.timestamp)).toEqual(verified.map((v) => v.timestamp).sort());

      // The card's offline_pin fields followed, each change a CARD.UPDATED with prior values.
      const scriptId = verified[0]!.data.card_script_id;
      const offlineChanges = (all: ReceivedWebhook[]) =>
        all
          .filter((w) => w.json.type === 'CARD.UPDATED')
          .map((w) => w.json.data.changed_fields as Record<string, unknown>)
          .filter((fields) => Object.keys(fields).some((f) => f.startsWith('offline_pin.')));
      const changes = offlineChanges(
        await receiver.waitFor((all) => offlineChanges(all).length === 3),
      );
      expect(changes).toEqual(
        expect.arrayContaining([
          // Issuance personalized the chip with the PIN.
          { card_fulfillment_status: 'ORDERED', 'offline_pin.in_sync': false },
          // The PIN changed and a script was queued.
          { 'offline_pin.in_sync': true, 'offline_pin.pending_script_id': null },
          // The chip applied it.
          { 'offline_pin.in_sync': false, 'offline_pin.pending_script_id': scriptId },
        ]),
      );
      expect(await offlinePin(card.id)).toEqual({
        enabled: true,
        in_sync: true,
        pending_script_id: null,
      });
    } finally {
      await receiver.close();
    }
  });

  it('a newer sync cancels a script not sent yet (script_canceled); the newest is delivered', async () => {
    const card = await activeOfflineCard();
    await sync(card.id);
    const first = (await offlinePin(card.id)).pending_script_id;
    await sync(card.id);
    const second = (await offlinePin(card.id)).pending_script_id;
    expect(second).not.toBe(first);
    // A PIN change with sync replaces it again.
    await setPin(card.id, '7391');
    const third = (await offlinePin(card.id)).pending_script_id;
    const events = await scriptEvents(card.id);
    expect(steps(events)).toEqual([
      'script_created',
      'script_canceled:REPLACED',
      'script_created',
      'script_canceled:REPLACED',
      'script_created',
    ]);
    expect(events.map((e) => e.card_script_id)).toEqual([first, first, second, second, third]);
    expect(await platform.store.read.getIssuerScript(first)).toMatchObject({
      status: 'CANCELED',
      reason: 'REPLACED',
      commandApdu: null,
    });

    const contact = await authorize(card.id, 'CHIP_CONTACT');
    const { scriptId, apdu } = independent.parseTemplate(contact.body.issuer_script_template);
    expect((await platform.store.read.getIssuerScript(third))?.scriptIdentifier).toBe(scriptId);
    expect(independent.openPinChange('EMV_CCD', { pan: PAN, psn: PSN }, contact.body, apdu)).toBe(
      '7391',
    );
  });

  it('a sync while a script is out for delivery queues another; both settle in turn', async () => {
    const card = await activeOfflineCard();
    await sync(card.id);
    const sent = await authorize(card.id, 'CHIP_CONTACT');
    expect(sent.body.issuer_script_template).toBeDefined();
    await sync(card.id);
    const next = await authorize(card.id, 'CHIP_CONTACT');
    expect(next.body.issuer_script_template).toBeDefined();
    await authorize(card.id, 'CONTACTLESS');
    expect(steps(await scriptEvents(card.id))).toEqual([
      'script_created',
      'script_sent',
      'script_created',
      'script_applied',
      'script_sent',
      'script_applied',
    ]);
    expect(await offlinePin(card.id)).toMatchObject({ in_sync: true, pending_script_id: null });
  });

  it('a script built before a newer PIN is applied but leaves the card out of sync', async () => {
    const card = await activeOfflineCard();
    await sync(card.id);
    await authorize(card.id, 'CHIP_CONTACT');
    await setPin(card.id, '7391', { sync_offline_pin: false });
    await authorize(card.id, 'CONTACTLESS');
    expect(steps(await scriptEvents(card.id)).at(-1)).toBe('script_applied');
    expect(await offlinePin(card.id)).toEqual({
      enabled: true,
      in_sync: false,
      pending_script_id: null,
    });
  });
});

describe('failures', () => {
  it('a script tampered with on its way to the chip fails its MAC and ends script_failed', async () => {
    const card = await activeOfflineCard();
    platform.offlinePin.simulator!.interceptScripts((template) => {
      template[template.length - 1]! ^= 0x01;
      return template;
    });
    await sync(card.id);
    const contact = await authorize(card.id, 'CHIP_CONTACT');
    // The issuer's response still carries the genuine script.
    const { apdu } = independent.parseTemplate(contact.body.issuer_script_template);
    expect(independent.openPinChange('EMV_CCD', { pan: PAN, psn: PSN }, contact.body, apdu)).toBe(
      '3850',
    );
    await authorize(card.id, 'CONTACTLESS');
    const events = await scriptEvents(card.id);
    expect(events.at(-1)).toMatchObject({
      script_event_type: 'script_failed',
      status: 'FAILURE',
      reason: 'SCRIPT_PROCESSING_FAILED',
    });
    expect(await offlinePin(card.id)).toEqual({
      enabled: true,
      in_sync: true,
      pending_script_id: null,
    });
    expect(await platform.store.read.getChipState(card.id)).toMatchObject({
      offlinePinOrigin: 'PERSONALIZATION',
      lastScriptError: 'BAD_MAC',
    });
  });

  it('Issuer Script Results supplied by the caller are used instead of the chip’s', async () => {
    const card = await activeOfflineCard();
    await setPin(card.id, '7391', { sync_offline_pin: false });
    const outcomes: [(id: string) => string, string][] = [
      [(id) => `9F5B0511${id}`, 'script_failed:SCRIPT_PROCESSING_FAILED'],
      [(id) => `00${id}`, 'script_failed:SCRIPT_NOT_PERFORMED'],
      [() => '9F5B00', 'script_failed:SCRIPT_RESULT_MISSING'],
      [
        (id) => `20${id.slice(0, 6)}${id.slice(6) === 'FF' ? '00' : 'FF'}`,
        'script_failed:SCRIPT_RESULT_MISSING',
      ],
      [(id) => `9F5B0A2000000000${'20'}${id}`, 'script_applied'],
    ];
    for (const [results, expected] of outcomes) {
      await sync(card.id);
      const contact = await authorize(card.id, 'CHIP_CONTACT');
      const { scriptId } = independent.parseTemplate(contact.body.issuer_script_template);
      const reported = await authorize(card.id, 'CHIP_CONTACT', {
        issuer_script_results: results(scriptId),
      });
      expect(reported.status).toBe(200);
      expect(steps(await scriptEvents(card.id)).at(-1), results(scriptId)).toBe(expected);
      expect((await offlinePin(card.id)).in_sync).toBe(expected === 'script_applied');
    }
  });

  it('refuses malformed Issuer Script Results and chip data on a remote authorization', async () => {
    const card = await activeOfflineCard();
    const cases: [Record<string, unknown>, string][] = [
      [
        { entry_mode: 'CHIP_CONTACT', issuer_script_results: '9F5B03AABBCC' },
        'issuer_script_results',
      ],
      [
        { entry_mode: 'CHIP_CONTACT', issuer_script_results: '3000000001' },
        'issuer_script_results',
      ],
      [{ entry_mode: 'CHIP_CONTACT', atc: '12' }, 'atc'],
      [{ entry_mode: 'CHIP_CONTACT', arqc: 'XYZ' }, 'arqc'],
      [{ entry_mode: 'MAGSTRIPE', atc: '0001' }, 'atc'],
      [{ entry_mode: 'ECOMMERCE', issuer_script_results: '2000000001' }, 'issuer_script_results'],
      [{ entry_mode: 'TAP' }, 'entry_mode'],
      [{ entry_mode: 'CHIP_CONTACT', amount: -1 }, 'amount'],
    ];
    for (const [body, field] of cases) {
      const response = await platform.call('POST', '/v1/simulations/authorizations', {
        card_id: card.id,
        amount: 100,
        ...body,
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toMatchObject({ code: 'INVALID_FIELD', field });
    }
    const extra = await authorize(card.id, 'CHIP_CONTACT', { offline_pin: '1234' });
    expect(extra.body).toMatchObject({ code: 'UNKNOWN_FIELD', field: 'offline_pin' });
  });
});

describe('the virtual chip and the card’s in_sync', () => {
  it('a PIN set before issuance is in sync once issued; a RANDOM card too; nothing is queued', async () => {
    const required = await issueCard(
      platform,
      { pin_issuance_policy: 'REQUIRED', offline_pin: true },
      { pan: PAN },
    );
    await setPin(required.id, '3850');
    await setPin(required.id, '7391'); // still not issued: the chip will get this one
    expect(await offlinePin(required.id)).toMatchObject({
      in_sync: false,
      pending_script_id: null,
    });
    await platform.call('POST', `/v1/simulations/cards/${required.id}/advance`);
    expect(await offlinePin(required.id)).toMatchObject({ in_sync: true, pending_script_id: null });

    const random = await issueCard(
      platform,
      { pin_issuance_policy: 'RANDOM', offline_pin: true },
      { pan: OTHER_PAN },
    );
    await platform.call('POST', `/v1/simulations/cards/${random.id}/advance`);
    expect(await offlinePin(random.id)).toMatchObject({ in_sync: true, pending_script_id: null });
    expect(await scriptEvents(required.id)).toEqual([]);
    expect(await scriptEvents(random.id)).toEqual([]);
  });

  it('a PIN change after issuance: out of sync; queued unless sync_offline_pin is false', async () => {
    const card = await activeOfflineCard();
    await setPin(card.id, '7391', { sync_offline_pin: false });
    expect(await offlinePin(card.id)).toMatchObject({ in_sync: false, pending_script_id: null });
    expect(await scriptEvents(card.id)).toEqual([]);
    await setPin(card.id, '4729');
    const pending = (await offlinePin(card.id)).pending_script_id;
    expect(pending).toMatch(/^scr_/);
    expect((await platform.store.read.getIssuerScript(pending))?.requestedBy).toBe('PIN_SET');
  });

  it('cards without a chip to read: virtual (400), not issued yet (409), unknown (404)', async () => {
    const virtual = await issueCard(platform, { form: 'VIRTUAL' });
    expect((await authorize(virtual.id, 'CHIP_CONTACT')).body).toMatchObject({
      code: 'CARD_IS_VIRTUAL',
    });
    expect((await authorize(virtual.id, 'ECOMMERCE')).body).toEqual({
      approved: true,
      atc: null,
      arqc: null,
    });
    const ordered = await issueCard(
      platform,
      { pin_issuance_policy: 'REQUIRED', offline_pin: true },
      { pan: PAN },
    );
    const unissued = await authorize(ordered.id, 'CONTACTLESS');
    expect(unissued).toMatchObject({
      status: 409,
      body: { code: 'CARD_NOT_ISSUED', card_fulfillment_status: 'ORDERED' },
    });
    const unknown = await authorize('card_00000000000000000000000000', 'CHIP_CONTACT');
    expect(unknown).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
  });

  it('a terminated card is declined and gets no script', async () => {
    const card = await activeOfflineCard();
    await sync(card.id);
    await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'TERMINATED' });
    const response = await authorize(card.id, 'CHIP_CONTACT');
    expect(response.body).toEqual({
      approved: false,
      decline_reason: 'CARD_NOT_ACTIVE',
      atc: '0001',
      arqc: expect.stringMatching(/^[0-9A-F]{16}$/),
    });
  });

  it('the chip’s state survives a restart', async () => {
    const card = await activeOfflineCard();
    await sync(card.id);
    await authorize(card.id, 'CHIP_CONTACT');
    const { dataDir } = platform;
    await platform.close();
    await platform.store.close();
    platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000', DATA_DIR: dataDir });
    const next = await authorize(card.id, 'CONTACTLESS');
    expect(next.body.atc).toBe('0002');
    expect(steps(await scriptEvents(card.id)).at(-1)).toBe('script_applied');
  });

  it('there are no simulations in production', async () => {
    const production = await startTestPlatform({ ...PRODUCTION_SECRETS });
    try {
      const response = await production.call('POST', '/v1/simulations/authorizations', {
        card_id: 'card_00000000000000000000000000',
        amount: 1,
        entry_mode: 'CHIP_CONTACT',
      });
      expect(response).toMatchObject({ status: 404, body: { code: 'ROUTE_NOT_FOUND' } });
    } finally {
      await production.dispose();
    }
  });
});

describe('the PIN appears nowhere', () => {
  it('not in issuer_scripts, virtual_chips, events, webhooks, responses or logs', async () => {
    const PIN = '957316284039';
    const NEW_PIN = '584019273645';
    const sink = logSink();
    await platform.dispose();
    platform = await startTestPlatform(
      { ISSUANCE_DELAY_MS: '3600000' },
      { level: 'trace', stream: sink.stream },
    );
    jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
    const receiver = await startReceiver();
    try {
      platform.startWorkers();
      await platform.call('POST', '/v1/webhooks', { url: receiver.url, enabled_events: ['*'] });
      const responses: unknown[] = [];
      const pans = { EMV_CCD: PAN, MASTERCARD: testPan('510000123456785'), VISA: OTHER_PAN };
      for (const profile of ['EMV_CCD', 'MASTERCARD', 'VISA'] as const) {
        const pan = pans[profile];
        const card = await activeOfflineCard({ emv_profile: profile, pin_length: 12 }, PIN, pan);
        await setPin(card.id, NEW_PIN);
        await sync(card.id);
        const contact = await authorize(card.id, 'CHIP_CONTACT');
        const { apdu } = independent.parseTemplate(contact.body.issuer_script_template);
        expect(independent.openPinChange(profile, { pan, psn: PSN }, contact.body, apdu)).toBe(
          NEW_PIN,
        );
        responses.push(contact.body, (await authorize(card.id, 'CHIP_CONTACT')).body);
        expect((await offlinePin(card.id)).in_sync).toBe(true);
      }
      await receiver.waitFor(
        (all) => all.filter((w) => w.json.data.script_event_type === 'script_applied').length === 3,
      );

      // The database as a stolen disk would hold it (SQLite: the file and its WAL).
      const images = await platform.db.images();
      const haystacks = [
        ...images.map((image) => image.bytes.toString('latin1')),
        JSON.stringify(responses),
        JSON.stringify(receiver.received.map((w) => w.body)),
        JSON.stringify((await platform.call('GET', '/v1/events?limit=100')).body),
        sink.text(),
      ];
      expect(sink.text()).toContain('/v1/simulations/authorizations');
      for (const text of haystacks) {
        for (const pin of [PIN, NEW_PIN]) {
          expect(text).not.toContain(pin);
          // Nor a clear format 2 block of it (2C ‖ PIN), upper or lower case.
          expect(text.toUpperCase()).not.toContain(`2C${pin}`);
        }
      }
    } finally {
      await receiver.close();
    }
  });
});
