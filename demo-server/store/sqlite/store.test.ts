import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../testing/platform.js';
import type { CardProduct } from '../types.js';
import { migrations } from './migrations.js';
import { SqliteStore } from './store.js';

const product = (id: string): CardProduct => ({
  id,
  name: 'p',
  form: 'PHYSICAL',
  pinIssuancePolicy: 'NOT_REQUIRED',
  offlinePin: false,
  pinLength: 4,
  emvProfile: 'EMV_CCD',
  allowBearerWidgetTokens: false,
  pinTryLimit: 3,
  pinChangeRequiresCurrentPin: false,
  revealStepUp: 'NONE',
  createdTime: '2026-01-01T00:00:00.000Z',
});

let store: SqliteStore | undefined;
afterEach(() => store?.close());

function open() {
  const file = path.join(tempDataDir(), 'test.db');
  store = SqliteStore.open(file);
  return { store, file };
}

describe('SqliteStore', () => {
  it('applies every migration once, in WAL mode with foreign keys on', async () => {
    const { file } = open();
    await store!.close();
    store = SqliteStore.open(file); // second open: nothing to apply, nothing fails
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(migrations.at(-1)!.version);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
    await expect(
      store.transaction((tx) =>
        tx.insertJob({
          id: 'job_x',
          cardId: 'card_missing',
          kind: 'ISSUE_CARD',
          runAt: 0,
          status: 'PENDING',
          createdTime: '',
          finishedTime: null,
          claimToken: null,
          claimUntil: null,
        }),
      ),
    ).rejects.toThrow(/FOREIGN KEY/);
  });

  it('upgrades a version 8 database: rebuilt tables keep their rows and their references', async () => {
    const file = path.join(tempDataDir(), 'v8.db');
    const old = new Database(file);
    old.pragma('foreign_keys = ON');
    old.function('sha256_hex', { deterministic: true }, (_value: unknown) => null);
    for (const migration of migrations.filter((m) => m.version <= 8)) old.exec(migration.sql);
    old.pragma('user_version = 8');
    old.exec(`
      INSERT INTO card_products (id, name, form, pin_issuance_policy, offline_pin, pin_length,
        emv_profile, created_time) VALUES ('cp_1', 'p', 'PHYSICAL', 'REQUIRED', 0, 4, 'EMV_CCD', 't');
      INSERT INTO cards (id, account_id, card_product_id, form, pan_sequence_number, last_four,
        card_status, is_waiting_for_pin, fulfillment_status, is_pin_set, offline_pin_enabled,
        offline_pin_in_sync, created_time, last_modified_time)
        VALUES ('card_1', 'a', 'cp_1', 'PHYSICAL', '00', '1234', 'ACTIVE', 0, 'SHIPPED', 1, 0, 0, 't', 't');
      INSERT INTO widget_tokens (id, token_hash, card_id, widget_type, expires_at, created_time, api_key_id)
        VALUES ('wtk_1', 'h', 'card_1', 'REVEAL_PIN', 1, 't', 'key_1');
      INSERT INTO pin_reveals (id, card_id, token_id, revealed_at, account_id)
        VALUES ('rvl_1', 'card_1', 'wtk_1', 1, 'a');
    `);
    old.close();
    store = SqliteStore.open(file);
    expect(await store.read.getWidgetTokenByHash('h')).toMatchObject({
      id: 'wtk_1',
      widgetType: 'REVEAL_PIN',
      apiKeyId: 'key_1',
    });
    expect(await store.read.pinRevealTimes('card_1', 0)).toEqual([1]);
    expect((await store.read.getProduct('cp_1'))?.revealStepUp).toBe('NONE');
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('foreign_key_check')).toEqual([]);
    raw.close();
    // The live connection enforces them again.
    await expect(
      store.transaction((tx) =>
        tx.insertWebauthnChallenge({
          challenge: 'c',
          tokenId: 'wtk_missing',
          purpose: 'AUTHENTICATION',
          userHandle: null,
          expiresAt: 1,
          usedAt: null,
        }),
      ),
    ).rejects.toThrow(/FOREIGN KEY/);
  });

  it('a transaction that throws leaves nothing behind', async () => {
    open();
    await expect(
      store!.transaction(async (tx) => {
        await tx.insertProduct(product('cp_a'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store!.read.getProduct('cp_a')).toBeUndefined();
  });

  it('reads never see another transaction half done', async () => {
    open();
    let seenDuring: unknown = 'not read';
    await store!.transaction(async (tx) => {
      await tx.insertProduct(product('cp_b'));
      seenDuring = await store!.read.getProduct('cp_b');
    });
    expect(seenDuring).toBeUndefined();
    expect(await store!.read.getProduct('cp_b')).toMatchObject({ id: 'cp_b' });
  });

  it('queues concurrent transactions: each one sees the previous commit', async () => {
    open();
    await store!.transaction((tx) => tx.insertProduct(product('cp_c')));
    const claims = await Promise.all(
      Array.from({ length: 10 }, () =>
        store!.transaction(async (tx) => {
          const existing = await tx.getProduct('cp_counter');
          if (existing) return false;
          await tx.insertProduct(product('cp_counter'));
          return true;
        }),
      ),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
  });
});

/** Another connection to the file: it sees only what is committed. */
const committedIds = (file: string): string[] => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT id FROM card_products ORDER BY id').all() as { id: string }[]).map(
      (row) => row.id,
    );
  } finally {
    db.close();
  }
};

describe('SQLite group commit (docs/store.md)', () => {
  it('transactions that queue up together share one commit', async () => {
    const { store } = open();
    const before = { ...store.groupStats };
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.transaction((tx) => tx.insertProduct(product(`cp_${String(i).padStart(2, '0')}`))),
      ),
    );
    const commits = store.groupStats.commits - before.commits;
    expect(store.groupStats.transactions - before.transactions).toBe(20);
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThan(20);
  });

  it('a transaction is settled only after its group committed: another connection sees it', async () => {
    const { store, file } = open();
    const seen: string[][] = [];
    await Promise.all(
      ['cp_a', 'cp_b', 'cp_c'].map((id) =>
        store
          .transaction((tx) => tx.insertProduct(product(id)))
          .then(() => seen.push(committedIds(file))),
      ),
    );
    for (const ids of seen) expect(ids).toEqual(['cp_a', 'cp_b', 'cp_c']);
  });

  it('one that throws rolls back alone; the others in its group commit', async () => {
    const { store, file } = open();
    const results = await Promise.allSettled([
      store.transaction((tx) => tx.insertProduct(product('cp_1'))),
      store.transaction(async (tx) => {
        await tx.insertProduct(product('cp_2'));
        throw new Error('refused');
      }),
      // The same id again: a constraint error, inside the group, after cp_1 was written.
      store.transaction((tx) => tx.insertProduct(product('cp_1'))),
      store.transaction((tx) => tx.insertProduct(product('cp_3'))),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    expect(committedIds(file)).toEqual(['cp_1', 'cp_3']);
    expect(await store.read.getProduct('cp_2')).toBeUndefined();
  });

  it('a transaction that ends the whole SQLite transaction fails its group, and none is told it committed', async () => {
    const { store, file } = open();
    const writer = (store as unknown as { writer: Database.Database }).writer;
    const results = await Promise.allSettled([
      store.transaction((tx) => tx.insertProduct(product('cp_1'))),
      store.transaction(async (tx) => {
        await tx.insertProduct(product('cp_2'));
        // What SQLite does itself on a full disk or an I/O error: the transaction is gone.
        writer.exec('ROLLBACK');
        throw new Error('disk I/O error');
      }),
      store.transaction((tx) => tx.insertProduct(product('cp_3'))),
    ]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    // The group of the first two is lost as a whole; the next group starts afresh.
    expect(committedIds(file)).toEqual(['cp_3']);
    await store.transaction((tx) => tx.insertProduct(product('cp_4')));
    expect(committedIds(file)).toEqual(['cp_3', 'cp_4']);
  });

  it('a checkpoint runs between groups, never inside one', async () => {
    const { store, file } = open();
    await Promise.all([
      store.transaction((tx) => tx.insertProduct(product('cp_1'))),
      store.checkpoint(),
      store.transaction((tx) => tx.insertProduct(product('cp_2'))),
    ]);
    expect(committedIds(file)).toEqual(['cp_1', 'cp_2']);
  });
});
