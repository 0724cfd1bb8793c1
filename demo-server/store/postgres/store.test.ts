import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config.js';
import { createTestSchema, testPostgresUrl } from '../../testing/postgres.js';
import { openStore } from '../open.js';
import type { Store } from '../types.js';
import { migrations } from './migrations.js';
import { PostgresStore } from './store.js';

/**
 * What is PostgreSQL's own beyond the shared contract (conformance.test.ts): selecting it,
 * migrating under a lock, and one schema per deployment (or per test platform).
 */

describe('DATABASE_URL', () => {
  // Every key an instance shares with the others on the database (docs/deployment.md).
  const keysFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pin-widgets-keys-')), 'k.json');
  fs.writeFileSync(keysFile, '{}');
  const shared = {
    API_KEY: 'sk_test_0123456789abcdefghijklmnop',
    PIN_ENCRYPTION_KEY: 'AB'.repeat(32),
    PAN_ENCRYPTION_KEY: 'CD'.repeat(32),
    PAN_HASH_KEY: 'EF'.repeat(32),
    CHIP_PIN_KEY: 'C1'.repeat(32),
    PIN_TRANSPORT_KEYS_FILE: keysFile,
  };
  const config = (url: string | undefined, env: Record<string, string> = shared) =>
    loadConfig({ DEMO_MODE: '1', ...env, DATABASE_URL: url });

  it('selects PostgreSQL with a postgres:// or postgresql:// URL; unset or empty keeps SQLite', () => {
    for (const url of [
      'postgres://app:secret@db.internal:5432/pin_widgets',
      'postgresql://app@localhost/pin_widgets?sslmode=require',
      'postgresql:///pin_widgets?host=/var/run/postgresql',
    ]) {
      expect(config(url).databaseUrl).toBe(url);
    }
    expect(config(undefined).databaseUrl).toBeUndefined();
    expect(config('').databaseUrl).toBeUndefined();
  });

  it('needs every shared key from configuration, even in DEMO_MODE: none is generated per instance', () => {
    const url = 'postgres://app@db.internal/pin_widgets';
    for (const name of Object.keys(shared) as (keyof typeof shared)[]) {
      const { [name]: _missing, ...rest } = shared;
      expect(() => config(url, rest)).toThrow(new RegExp(`${name} must .*DATABASE_URL`));
    }
    const gone = { ...shared, PIN_TRANSPORT_KEYS_FILE: `${keysFile}.missing` };
    expect(() => config(url, gone)).toThrow(/PIN_TRANSPORT_KEYS_FILE must name an existing/);
    // Without DATABASE_URL, the demo still generates them in DATA_DIR.
    expect(config(undefined, {}).databaseUrl).toBeUndefined();
  });

  it('refuses anything else, without echoing it (it may hold the password)', () => {
    for (const url of [
      'mysql://app:hunter2@db/pin',
      'file:/data/hunter2.db',
      'hunter2',
      'http://hunter2@db',
    ]) {
      expect(() => config(url)).toThrow(ConfigError);
      expect(() => config(url)).toThrow(/DATABASE_URL must be a PostgreSQL URL/);
      expect(() => config(url)).not.toThrow(/hunter2/);
    }
  });
});

const url = testPostgresUrl();

describe.runIf(url)('PostgresStore', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function dropLater(schema: string) {
    const admin = new pg.Pool({ connectionString: url, max: 1 });
    cleanup.push(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    });
    return admin;
  }

  const closeLater = <S extends Store>(store: S): S => {
    cleanup.push(() => store.close());
    return store;
  };

  it('instances starting together create the schema and migrate it once', async () => {
    const schema = `t_${randomBytes(8).toString('hex')}`;
    const admin = await dropLater(schema);
    const stores = await Promise.all(
      Array.from({ length: 4 }, () =>
        PostgresStore.open({ connectionString: url!, schema }).then(closeLater),
      ),
    );
    const applied = await admin.query(`SELECT version FROM ${schema}.schema_migrations`);
    expect(applied.rows).toEqual(migrations.map(({ version }) => ({ version })));
    // Started again: nothing left to apply, nothing fails, the data is there.
    await stores[0]!.transaction((tx) =>
      tx.insertEvent({ id: 'evt_1', type: 'T', createdTime: 't', data: {} }),
    );
    const again = closeLater(await PostgresStore.open({ connectionString: url!, schema }));
    expect(await again.read.getEvent('evt_1')).toMatchObject({ id: 'evt_1' });
    expect((await admin.query(`SELECT version FROM ${schema}.schema_migrations`)).rowCount).toBe(
      migrations.length,
    );
  });

  it('each schema is a database of its own', async () => {
    const [a, b] = await Promise.all([createTestSchema(url!), createTestSchema(url!)]);
    cleanup.push(
      () => a!.drop(),
      () => b!.drop(),
    );
    // The schema travels in the URL (`options=-c search_path=…`), as DATABASE_URL can carry it.
    const storeA = closeLater(await PostgresStore.open({ connectionString: a!.url }));
    const storeB = closeLater(await PostgresStore.open({ connectionString: b!.url }));
    await storeA.transaction((tx) =>
      tx.insertEvent({ id: 'evt_a', type: 'T', createdTime: 't', data: {} }),
    );
    expect(await storeA.read.getEvent('evt_a')).toMatchObject({ id: 'evt_a' });
    expect(await storeB.read.getEvent('evt_a')).toBeUndefined();
  });

  it('refuses to start on a search_path with no schema, and on a bad schema name', async () => {
    const missing = new URL(url!);
    missing.searchParams.set('options', '-c search_path=t_does_not_exist');
    await expect(PostgresStore.open({ connectionString: missing.toString() })).rejects.toThrow(
      /no schema on the search_path exists/,
    );
    await expect(
      PostgresStore.open({ connectionString: url!, schema: 'Robert"; DROP' }),
    ).rejects.toThrow(/must be a lower-case SQL identifier/);
  });

  it('openStore: DATABASE_URL selects PostgreSQL, none the SQLite file in DATA_DIR', async () => {
    const schema = await createTestSchema(url!);
    cleanup.push(() => schema.drop());
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-widgets-open-'));
    cleanup.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const postgres = closeLater(await openStore({ dataDir, databaseUrl: schema.url }));
    expect(postgres.kind).toBe('postgres');
    expect(fs.readdirSync(dataDir)).toEqual([]);
    const sqlite = closeLater(await openStore({ dataDir }));
    expect(sqlite.kind).toBe('sqlite');
    expect(fs.readdirSync(dataDir)).toContain('pin-widgets.db');
  });
});
