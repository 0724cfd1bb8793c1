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
