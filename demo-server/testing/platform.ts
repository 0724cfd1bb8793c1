import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPlatform, type Platform, type PlatformDeps } from '../app.js';
import { loadConfig } from '../config.js';
import { rotateTransportKey } from '../pins/transport-keys.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { type TestDatabase, postgresTestDatabase, sqliteTestDatabase } from './db-snapshot.js';
import { type TestSchema, createTestSchema, testPostgresUrl } from './postgres.js';

export const TEST_API_KEY = 'sk_test_0123456789abcdefghijklmnop';
/** Strict mode refuses TEST_API_KEY (it is not random): its tests get this generated one. */
export const STRICT_TEST_API_KEY = 'sk_live_zu0nJcGMtES1-Lvz3zElqgZpwvvQ71jvWZir43WIY9w';

/**
 * Everything strict mode (no DEMO_MODE) insists on, so a test can start strict. The
 * PIN-transport key file must exist: `strictEnv()` makes one in the test's DATA_DIR.
 */
export const PRODUCTION_SECRETS = {
  DEMO_MODE: '',
  PUBLIC_URL: 'https://pin.platform.example',
  FRAME_ANCESTORS: 'https://program.example',
  PIN_ENCRYPTION_KEY: 'AB'.repeat(32),
  PAN_ENCRYPTION_KEY: 'EF'.repeat(32),
  PAN_HASH_KEY: '5A'.repeat(32),
  CHIP_PIN_KEY: 'C1'.repeat(32),
  ZONE_PIN_KEY_AES: 'CD'.repeat(32),
  ZONE_PIN_KEY_TDES: '0123456789ABCDEFFEDCBA9876543210',
  // Double-length 3DES keys with distinct halves (K1 = K2 would be single DES: refused).
  IMK_AC: '11223344556677888877665544332211',
  IMK_SMI: '22334455667788999988776655443322',
  IMK_SMC: '33445566778899AAAA99887766554433',
} as const;

/**
 * The backend test platforms run on: SQLite in DATA_DIR, or (PIN_WIDGETS_TEST_STORE=postgres,
 * the `postgres` Vitest project) a fresh schema of the run's PostgreSQL cluster.
 */
export function testStoreKind(): Store['kind'] {
  const kind = process.env.PIN_WIDGETS_TEST_STORE ?? 'sqlite';
  if (kind !== 'sqlite' && kind !== 'postgres') {
    throw new Error(`PIN_WIDGETS_TEST_STORE must be sqlite or postgres, got "${kind}"`);
  }
  return kind;
}

/**
 * The schema of each DATA_DIR in use: a platform started again on the same DATA_DIR (a restart)
 * finds the database it left, as on SQLite. `dispose()` drops it.
 */
const schemas = new Map<string, TestSchema>();

async function testDatabaseUrl(dataDir: string): Promise<TestSchema> {
  let schema = schemas.get(dataDir);
  if (!schema) {
    const url = testPostgresUrl();
    if (!url) {
      throw new Error(
        'PIN_WIDGETS_TEST_STORE=postgres needs the test cluster: run the `postgres` Vitest project (vitest run --project postgres)',
      );
    }
    schema = await createTestSchema(url);
    schemas.set(dataDir, schema);
  }
  return schema;
}

export interface TestPlatform extends Platform {
  store: Store;
  /** The platform's database seen from outside (raw rows, snapshots, bytes at rest). */
  db: TestDatabase;
  dataDir: string;
  auth: { authorization: string };
  /** JSON request through the real HTTP stack (in-process inject). */
  call(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }>;
  dispose(): Promise<void>;
}

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pin-widgets-test-'));
}

/**
 * A platform on a fresh database (a SQLite file in a temp DATA_DIR, or a PostgreSQL schema of
 * its own: `testStoreKind()`), configured from `env` like the real one.
 */
export async function startTestPlatform(
  env: Record<string, string> = {},
  log: PlatformDeps['log'] = false,
  deps: Pick<PlatformDeps, 'resolveHost'> = {},
): Promise<TestPlatform> {
  const dataDir = env.DATA_DIR ?? tempDataDir();
  const strict = env.DEMO_MODE === '';
  const apiKey = env.API_KEY ?? (strict ? STRICT_TEST_API_KEY : TEST_API_KEY);
  const keysFile = path.join(dataDir, 'operator-pin-transport-keys.json');
  if (strict && !env.PIN_TRANSPORT_KEYS_FILE) await rotateTransportKey(keysFile, 0);
  const settings = loadConfig({
    DEMO_MODE: '1',
    ...(strict && !env.PIN_TRANSPORT_KEYS_FILE ? { PIN_TRANSPORT_KEYS_FILE: keysFile } : {}),
    ISSUANCE_DELAY_MS: '200',
    SCHEDULER_POLL_MS: '20',
    WEBHOOK_RETRY_BASE_MS: '20',
    WEBHOOK_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'silent',
    // In-process platforms keep JOSE on the test's thread; jwe-workers.test.ts runs the workers.
    CRYPTO_WORKERS: '0',
    ...env,
    DATA_DIR: dataDir,
    API_KEY: apiKey,
  });
  // After the configuration is known to be good, so a refused one leaves no schema behind.
  const schema = testStoreKind() === 'postgres' ? await testDatabaseUrl(dataDir) : undefined;
  const config = schema ? { ...settings, databaseUrl: schema.url } : settings;
  const store = await openStore(config);
  const db = schema
    ? postgresTestDatabase(schema.url, schema.name)
    : sqliteTestDatabase(path.join(dataDir, 'pin-widgets.db'));
  let platform: Platform;
  try {
    platform = await buildPlatform({ config, store, apiKey, log, ...deps });
  } catch (error) {
    await store.close();
    await db.close();
    throw error;
  }
  const auth = { authorization: `Bearer ${apiKey}` };
  return {
    ...platform,
    store,
    db,
    dataDir,
    auth,
    async call(method, url, body) {
      const response = await platform.app.inject({
        method: method as 'GET',
        url,
        headers: auth,
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return {
        status: response.statusCode,
        body: response.body === '' ? undefined : response.json(),
      };
    },
    async dispose() {
      await platform.close();
      await store.close();
      await db.close();
      if (schema) {
        schemas.delete(dataDir);
        await schema.drop();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
