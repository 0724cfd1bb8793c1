import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { symmetricKeyId } from '../lib/private-files.js';
import type { Card } from '../store/types.js';
import { issueCard, panForms, testPan } from '../testing/cards.js';
import { type TestPlatform, startTestPlatform, tempDataDir } from '../testing/platform.js';

async function cardOf(platform: TestPlatform, id: string): Promise<Card> {
  const card = await platform.store.read.getCard(id);
  if (!card) throw new Error(`no card ${id}`);
  return card;
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

describe('PANs at rest (on both stores)', () => {
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

      // What a backup or a stolen disk holds: SQLite's file and WAL, PostgreSQL's relation files.
      for (const { name, bytes } of await platform.db.images()) {
        expect(bytes.length, name).toBeGreaterThan(0);
        for (const secret of secrets) {
          for (const form of panForms(secret)) {
            expect(bytes.includes(form), `${name} holds ${form.toString('latin1')}`).toBe(false);
          }
        }
      }

      const columns = await platform.db.columns('cards');
      expect(columns).not.toContain('pan');
      expect(columns).toEqual(expect.arrayContaining(['pan_ciphertext', 'pan_hash']));
      const keyIds = await platform.db.rows<{ pan_key_id: string }>(
        'SELECT DISTINCT pan_key_id FROM cards',
      );
      expect(keyIds).toEqual([{ pan_key_id: platform.cards.currentPanKeyId }]);
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
      expect(await second.db.rows('SELECT id FROM cards WHERE pan_key_id = ?', oldId)).toEqual([]);
    } finally {
      await second.dispose();
    }
  });
});
