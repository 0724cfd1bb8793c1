import { createHash } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { panForms, testPan } from '../../testing/cards.js';
import { startTestPlatform, tempDataDir } from '../../testing/platform.js';
import { migrations } from './migrations.js';

/**
 * SQLite's migration 5, on a file an older version made: PANs were in clear then (PostgreSQL
 * never had them, so this is SQLite's alone). The rest of PANs at rest runs on both stores
 * (cards/pan-at-rest.test.ts).
 */
describe('legacy clear PANs (SQLite migration 5)', () => {
  it('migration 5 enciphers the clear PANs of an older database and leaves none behind', async () => {
    const dataDir = tempDataDir();
    const file = path.join(dataDir, 'pin-widgets.db');
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
        expect(platform.cards.panOf((await platform.store.read.getCard(`card_old${index}`))!)).toBe(
          pan,
        );
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
      expect(await platform.db.rows('SELECT * FROM legacy_pans')).toEqual([]);
      for (const { name, bytes } of await platform.db.images()) {
        for (const pan of pans) {
          for (const form of panForms(pan)) expect(bytes.includes(form), name).toBe(false);
        }
      }
    } finally {
      await platform.dispose();
    }
  });
});
