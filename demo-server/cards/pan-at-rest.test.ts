import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { symmetricKeyId } from '../lib/private-files.js';
import { migrations } from '../store/sqlite/migrations.js';
import type { Card } from '../store/types.js';
import { issueCard, testPan } from '../testing/cards.js';
import { DatabaseReader } from '../testing/db-snapshot.js';
import { type TestPlatform, startTestPlatform, tempDataDir } from '../testing/platform.js';

const DB = 'pin-widgets.db';

async function cardOf(platform: TestPlatform, id: string): Promise<Card> {
  const card = await platform.store.read.getCard(id);
  if (!card) throw new Error(`no card ${id}`);
  return card;
}

/** Every form a PAN could take in a file: ASCII digits, their hex (both cases), packed BCD. */
function panForms(pan: string): Buffer[] {
  const ascii = Buffer.from(pan, 'latin1');
  const forms = [
    ascii,
    Buffer.from(ascii.toString('hex'), 'latin1'),
    Buffer.from(ascii.toString('hex').toUpperCase(), 'latin1'),
  ];
  if (pan.length % 2 === 0) forms.push(Buffer.from(pan, 'hex'));
  return forms;
}

/** A byte copy of the database and its WAL, as a backup or a stolen disk would have it. */
function databaseBytes(dataDir: string): { name: string; bytes: Buffer }[] {
  const names = fs.readdirSync(dataDir).filter((name) => name.startsWith(DB));
  expect(names).toContain(`${DB}-wal`);
  return names.map((name) => ({ name, bytes: fs.readFileSync(path.join(dataDir, name)) }));
}

async function accountToken(platform: TestPlatform): Promise<string> {
  return (await platform.call('POST', '/v1/accounts/acct_1/tokens')).body.access_token as string;
}

/** A RANDOM offline-PIN card, issued (its PIN assigned) and active, synced through two taps. */
async function syncedCard(platform: TestPlatform, profile: string, pan?: string) {
  const card = await issueCard(
    platform,
    { pin_issuance_policy: 'RANDOM', offline_pin: true, pin_length: 12, emv_profile: profile },
    pan === undefined ? {} : { pan },
  );
  await platform.call('POST', `/v1/simulations/cards/${card.id}/advance`);
  await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
  const sync = await platform.app.inject({
    method: 'POST',
    url: `/pcicards/v1/pcicards/${card.id}/scripts/sync-offline-pin`,
    headers: { authorization: `Bearer ${await accountToken(platform)}` },
  });
  expect(sync.statusCode).toBe(204);
  const tap = () =>
    platform.call('POST', '/v1/simulations/authorizations', {
      card_id: card.id,
      amount: 100,
      entry_mode: 'CHIP_CONTACT',
    });
  const sent = await tap();
  expect(sent.body.issuer_script_template).toMatch(/^72/);
  await tap(); // reports the script's result: it settles
  return { id: card.id, template: sent.body.issuer_script_template as string };
}

describe('PANs at rest', () => {
  it('after a workload, no byte of the database or its WAL holds a PAN or a PIN', async () => {
    const platform = await startTestPlatform();
    try {
      const chosen = [testPan('400000123456785'), testPan('510000987654321')];
      const cards = [
        await syncedCard(platform, 'VISA', chosen[0]),
        await syncedCard(platform, 'MASTERCARD', chosen[1]),
        await syncedCard(platform, 'EMV_CCD'),
        await syncedCard(platform, 'VISA'),
      ];
      const virtual = await issueCard(platform, { form: 'VIRTUAL' });

      const secrets: string[] = [];
      for (const { id } of [...cards, virtual]) {
        const card = await cardOf(platform, id);
        const pan = platform.cards.panOf(card);
        expect(pan.slice(-4)).toBe(card.lastFour);
        secrets.push(pan);
        const pin = await platform.store.transaction((tx) => platform.pinRecords.current(tx, card));
        if (card.form === 'PHYSICAL') {
          expect(pin?.pin).toMatch(/^\d{12}$/);
          secrets.push(pin!.pin);
        }
      }
      expect([secrets[0], secrets[2]]).toEqual(chosen);

      for (const { name, bytes } of databaseBytes(platform.dataDir)) {
        expect(bytes.length, name).toBeGreaterThan(0);
        for (const secret of secrets) {
          for (const form of panForms(secret)) {
            expect(bytes.includes(form), `${name} holds ${form.toString('latin1')}`).toBe(false);
          }
        }
      }

      const db = new DatabaseReader(path.join(platform.dataDir, DB));
      try {
        const columns = db.rows<{ name: string }>('PRAGMA table_info(cards)').map((c) => c.name);
        expect(columns).not.toContain('pan');
        expect(columns).toEqual(expect.arrayContaining(['pan_ciphertext', 'pan_hash']));
        const keyIds = db.rows<{ pan_key_id: string }>('SELECT DISTINCT pan_key_id FROM cards');
        expect(keyIds).toEqual([{ pan_key_id: platform.cards.currentPanKeyId }]);
      } finally {
        db.close();
      }
    } finally {
      await platform.dispose();
    }
  });

  it('a PAN is issued once: the same caller-chosen PAN again is a 409 PAN_ALREADY_ISSUED', async () => {
    const platform = await startTestPlatform();
    try {
      const pan = testPan('400000555555555');
      const first = await issueCard(platform, {}, { pan });
      const again = await platform.call('POST', '/v1/cards', {
        card_product_id: first.card_product_id,
        account_id: 'acct_2',
        pan,
      });
      expect(again).toMatchObject({
        status: 409,
        body: { code: 'PAN_ALREADY_ISSUED', field: 'pan' },
      });
      expect((await platform.call('GET', '/v1/cards?limit=10')).body.data).toHaveLength(1);
      // The constraint holds under the service too: the store refuses a second row with the hash.
      const card = await cardOf(platform, first.id);
      const copy: Card = { ...card, id: 'card_copy' };
      const hash = createHash('sha256').update('unused').digest('hex');
      await platform.store.transaction((tx) => tx.insertCard(copy, hash));
      await expect(
        platform.store.transaction((tx) => tx.insertCard({ ...copy, id: 'card_copy2' }, hash)),
      ).rejects.toThrow(/UNIQUE/);
    } finally {
      await platform.dispose();
    }
  });

  it('the PAN ciphertext is bound to its card: moved onto another card it does not open', async () => {
    const platform = await startTestPlatform();
    try {
      const a = await cardOf(platform, (await issueCard(platform, {})).id);
      const b = await cardOf(platform, (await issueCard(platform, {})).id);
      expect(platform.cards.panOf(a)).not.toBe(platform.cards.panOf(b));
      expect(() => platform.cards.panOf({ id: b.id, sealedPan: a.sealedPan })).toThrow(
        /does not decipher/,
      );
    } finally {
      await platform.dispose();
    }
  });

  it('rotation: reencrypt moves every PAN to the new key; the old key id is gone', async () => {
    const dataDir = tempDataDir();
    const oldKey = 'A1'.repeat(32);
    const newKey = 'B2'.repeat(32);
    const first = await startTestPlatform({ DATA_DIR: dataDir, PAN_ENCRYPTION_KEY: oldKey });
    const ids = [
      (await issueCard(first, { pin_issuance_policy: 'RANDOM' })).id,
      (await issueCard(first, {}, { pan: testPan('400000777777777') })).id,
    ];
    for (const id of ids) await first.call('POST', `/v1/simulations/cards/${id}/advance`);
    const pans = await Promise.all(
      ids.map(async (id) => first.cards.panOf(await cardOf(first, id))),
    );
    await first.close();
    await first.store.close();

    const second = await startTestPlatform({
      DATA_DIR: dataDir,
      PAN_ENCRYPTION_KEY: newKey,
      PAN_ENCRYPTION_KEY_PREVIOUS: oldKey,
    });
    try {
      const oldId = symmetricKeyId(Buffer.from(oldKey, 'hex'));
      const newId = symmetricKeyId(Buffer.from(newKey, 'hex'));
      expect(second.cards.currentPanKeyId).toBe(newId);
      expect((await cardOf(second, ids[0]!)).sealedPan.keyId).toBe(oldId);
      expect(await second.cards.reencryptPans()).toBe(2);
      expect(await second.cards.reencryptPans()).toBe(0);
      for (const [index, id] of ids.entries()) {
        const card = await cardOf(second, id);
        expect(card.sealedPan.keyId).toBe(newId);
        expect(second.cards.panOf(card)).toBe(pans[index]);
      }
      // The PIN path still works on the re-enciphered PAN (format 4 needs it).
      expect(
        (await second.call('GET', `/v1/cards/${ids[0]}/pin_block?format=ISO_9564_4`)).status,
      ).toBe(200);
      const db = new DatabaseReader(path.join(dataDir, DB));
      try {
        expect(db.rows('SELECT id FROM cards WHERE pan_key_id = ?', oldId)).toEqual([]);
      } finally {
        db.close();
      }
    } finally {
      await second.dispose();
    }
  });

  it('migration 5 enciphers the clear PANs of an older database and leaves none behind', async () => {
    const dataDir = tempDataDir();
    const file = path.join(dataDir, DB);
    const pans = [testPan('400000111111111'), testPan('400000222222222')];
    const raw = new Database(file);
    raw.pragma('journal_mode = WAL');
    for (const migration of migrations.filter((m) => m.version < 5)) raw.exec(migration.sql);
    raw.pragma('user_version = 4');
    raw.exec(`INSERT INTO card_products (id, name, form, pin_issuance_policy, offline_pin,
      pin_length, emv_profile, created_time) VALUES ('cp_old', 'p', 'PHYSICAL', 'NOT_REQUIRED',
      0, 4, 'EMV_CCD', '2026-01-01T00:00:00.000Z')`);
    const insert = raw.prepare(`INSERT INTO cards (id, account_id, card_product_id, form, pan,
      pan_sequence_number, last_four, card_status, is_waiting_for_pin, fulfillment_status,
      is_pin_set, offline_pin_enabled, offline_pin_in_sync, created_time, last_modified_time)
      VALUES (?, 'acct_1', 'cp_old', 'PHYSICAL', ?, '00', ?, 'ACTIVE', 0, 'SHIPPED', 0, 0, 0,
      '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`);
    pans.forEach((pan, index) => insert.run(`card_old${index}`, pan, pan.slice(-4)));
    const apdu = '8424000218' + 'AB'.repeat(24);
    raw.exec(`INSERT INTO issuer_scripts (id, script_identifier, card_id, script_type,
      requested_by, status, created_time, command_apdu) VALUES ('scr_old', '0000000A',
      'card_old0', 'SYNC_PIN', 'SYNC_ENDPOINT', 'APPLIED', '2026-01-01T00:00:00.000Z',
      '${apdu}')`);
    raw.close();

    const platform = await startTestPlatform({ DATA_DIR: dataDir });
    try {
      for (const [index, pan] of pans.entries()) {
        expect(platform.cards.panOf(await cardOf(platform, `card_old${index}`))).toBe(pan);
      }
      const again = await platform.call('POST', '/v1/cards', {
        card_product_id: 'cp_old',
        account_id: 'acct_1',
        pan: pans[0],
      });
      expect(again.body.code).toBe('PAN_ALREADY_ISSUED');
      const script = await platform.store.read.getIssuerScript('scr_old');
      expect(script).toMatchObject({
        commandApdu: null,
        commandApduSha256: createHash('sha256').update(Buffer.from(apdu, 'hex')).digest('hex'),
      });
      const db = new DatabaseReader(file);
      try {
        expect(db.rows('SELECT * FROM legacy_pans')).toEqual([]);
      } finally {
        db.close();
      }
      for (const { name, bytes } of databaseBytes(dataDir)) {
        for (const pan of pans) {
          for (const form of panForms(pan)) expect(bytes.includes(form), name).toBe(false);
        }
      }
    } finally {
      await platform.dispose();
    }
  });
});
