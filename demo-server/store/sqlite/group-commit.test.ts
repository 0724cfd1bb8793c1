import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../testing/platform.js';
import type { CardProduct } from '../types.js';
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
  const file = path.join(tempDataDir(), 'group.db');
  store = SqliteStore.open(file);
  return { store, file };
}

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
