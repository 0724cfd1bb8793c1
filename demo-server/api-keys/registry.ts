import { createHash, timingSafeEqual } from 'node:crypto';
import { SCOPES, type Scope, secretsEqual } from '../http/auth.js';
import { newId } from '../lib/ids.js';
import { generateApiKey } from '../secrets/api-key.js';
import type { ApiKeyRecord, Store } from '../store/types.js';

/** Who called: what request handlers see as `request.apiKey` (audit events record `id`). */
export interface CallerKey {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
}

/** The key of `API_KEY` (or `DATA_DIR/api_key`): an admin key with a stable id. */
export const BOOTSTRAP_KEY: CallerKey = { id: 'key_bootstrap', name: 'API_KEY', scopes: ['admin'] };

export interface ApiKeyListing {
  id: string;
  name: string;
  scopes: Scope[];
  created_time: string;
  revoked_time: string | null;
}

const hashOf = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Parses `cards,admin` into scopes; throws a message naming the known ones. */
export function parseScopes(text: string): Scope[] {
  const scopes = [...new Set(text.split(',').map((scope) => scope.trim()))];
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new RangeError(
      `Unknown scope "${unknown.join(',') || text}": use one or more of ${SCOPES.join(', ')}`,
    );
  }
  return scopes as Scope[];
}

function listing(record: ApiKeyRecord): ApiKeyListing {
  return {
    id: record.id,
    name: record.name,
    scopes: record.scopes as Scope[],
    created_time: record.createdTime,
    revoked_time: record.revokedTime,
  };
}

/**
 * The program's API keys: the bootstrap one from the environment, and scoped ones in the
 * database, stored as SHA-256 hashes only (a key is shown once, when it is created).
 */
export class ApiKeys {
  constructor(
    private readonly store: Store,
    private readonly bootstrapKey: string | undefined,
  ) {}

  /** The caller behind a presented key; undefined when it is unknown or revoked. */
  async authenticate(presented: string): Promise<CallerKey | undefined> {
    if (this.bootstrapKey !== undefined && secretsEqual(presented, this.bootstrapKey)) {
      return BOOTSTRAP_KEY;
    }
    const hash = hashOf(presented);
    const record = await this.store.read.getApiKeyByHash(hash);
    // The lookup is by hash, so its timing tells nothing about the key; compare anyway.
    if (!record || !timingSafeEqual(Buffer.from(record.keyHash), Buffer.from(hash))) {
      return undefined;
    }
    if (record.revokedTime !== null) return undefined;
    return { id: record.id, name: record.name, scopes: record.scopes as Scope[] };
  }

  /** A new key; the returned `key` is the only time it exists outside the caller's hands. */
  async create(
    name: string,
    scopes: readonly Scope[],
    now: number = Date.now(),
  ): Promise<ApiKeyListing & { key: string }> {
    if (name.trim() === '' || name.length > 200) {
      throw new RangeError('Give the key a name of 1–200 characters (--name)');
    }
    const key = generateApiKey();
    const record: ApiKeyRecord = {
      id: newId('key', now),
      name,
      keyHash: hashOf(key),
      scopes: [...new Set(scopes)],
      createdTime: new Date(now).toISOString(),
      revokedTime: null,
    };
    await this.store.transaction((tx) => tx.insertApiKey(record));
    return { ...listing(record), key };
  }

  async list(): Promise<ApiKeyListing[]> {
    return (await this.store.read.listApiKeys()).map(listing);
  }

  /** false when there is no such key, or it was revoked before. */
  async revoke(id: string, now: number = Date.now()): Promise<boolean> {
    return this.store.transaction((tx) => tx.revokeApiKey(id, new Date(now).toISOString()));
  }
}
