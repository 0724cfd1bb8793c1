import path from 'node:path';
import { PostgresStore } from './postgres/store.js';
import { SqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

/**
 * The store the configuration names (docs/store.md): PostgreSQL when DATABASE_URL is set (migrated
 * before it is returned), otherwise the embedded SQLite file in DATA_DIR.
 */
export async function openStore(config: {
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
}): Promise<Store> {
  if (config.databaseUrl !== undefined) {
    return PostgresStore.open({ connectionString: config.databaseUrl });
  }
  return SqliteStore.open(path.join(config.dataDir, 'pin-widgets.db'));
}
