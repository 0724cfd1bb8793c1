import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * Versioned schema migrations, applied in order at start inside one transaction each.
 * `PRAGMA user_version` records the last applied version. Never edit a shipped migration:
 * add the next one.
 */
export const migrations: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE card_products (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        form TEXT NOT NULL CHECK (form IN ('PHYSICAL', 'VIRTUAL')),
        pin_issuance_policy TEXT CHECK (pin_issuance_policy IN ('NOT_REQUIRED', 'RANDOM', 'REQUIRED')),
        offline_pin INTEGER NOT NULL CHECK (offline_pin IN (0, 1)),
        pin_length INTEGER NOT NULL CHECK (pin_length BETWEEN 4 AND 12),
        emv_profile TEXT NOT NULL CHECK (emv_profile IN ('EMV_CCD', 'MASTERCARD', 'VISA')),
        created_time TEXT NOT NULL
      ) STRICT;

      CREATE TABLE cards (
        id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        customer_id TEXT,
        card_product_id TEXT NOT NULL REFERENCES card_products (id),
        form TEXT NOT NULL,
        pan TEXT NOT NULL,
        pan_sequence_number TEXT NOT NULL,
        last_four TEXT NOT NULL,
        card_status TEXT NOT NULL
          CHECK (card_status IN ('PENDING', 'UNACTIVATED', 'ACTIVE', 'SUSPENDED', 'TERMINATED')),
        status_reason TEXT,
        memo TEXT,
        is_waiting_for_pin INTEGER NOT NULL,
        fulfillment_status TEXT NOT NULL
          CHECK (fulfillment_status IN ('ORDERED', 'ISSUED', 'SHIPPED', 'DIGITALLY_PRESENTED')),
        is_pin_set INTEGER NOT NULL,
        timestamp_pin_set TEXT,
        offline_pin_enabled INTEGER NOT NULL,
        offline_pin_in_sync INTEGER NOT NULL,
        pending_script_id TEXT,
        created_time TEXT NOT NULL,
        last_modified_time TEXT NOT NULL
      ) STRICT;
      CREATE INDEX cards_by_account ON cards (account_id, id);
      CREATE INDEX cards_by_status ON cards (card_status, id);

      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        card_id TEXT NOT NULL REFERENCES cards (id),
        kind TEXT NOT NULL,
        run_at INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('PENDING', 'DONE', 'SKIPPED')),
        created_time TEXT NOT NULL,
        finished_time TEXT
      ) STRICT;
      CREATE INDEX jobs_due ON jobs (status, run_at);
      CREATE INDEX jobs_by_card ON jobs (card_id, status);

      CREATE TABLE events (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        created_time TEXT NOT NULL,
        data TEXT NOT NULL
      ) STRICT;
      CREATE INDEX events_by_type ON events (type, id);

      CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        enabled_events TEXT NOT NULL,
        is_enabled INTEGER NOT NULL,
        description TEXT,
        secret TEXT NOT NULL,
        previous_secret TEXT,
        previous_secret_expires_at INTEGER,
        created_time TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0
      ) STRICT;

      CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL REFERENCES events (id),
        webhook_id TEXT NOT NULL REFERENCES webhooks (id),
        status TEXT NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
        attempt_count INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        created_time TEXT NOT NULL
      ) STRICT;
      CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
      CREATE INDEX deliveries_by_event ON deliveries (event_id);

      CREATE TABLE delivery_attempts (
        id INTEGER PRIMARY KEY,
        delivery_id TEXT NOT NULL REFERENCES deliveries (id),
        webhook_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        attempt_number INTEGER NOT NULL,
        attempted_time TEXT NOT NULL,
        status_code INTEGER,
        error TEXT,
        duration_ms INTEGER NOT NULL,
        response_body TEXT
      ) STRICT;
      CREATE INDEX attempts_by_event ON delivery_attempts (event_id, id);
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE widget_tokens (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        card_id TEXT NOT NULL REFERENCES cards (id),
        widget_type TEXT NOT NULL CHECK (widget_type IN ('SET_PIN', 'REVEAL_PIN')),
        origin TEXT,
        jkt TEXT,
        expires_at INTEGER NOT NULL,
        consumed_at INTEGER,
        failures INTEGER NOT NULL DEFAULT 0,
        created_time TEXT NOT NULL
      ) STRICT;
      CREATE INDEX widget_tokens_by_card ON widget_tokens (card_id);

      CREATE TABLE pins (
        card_id TEXT PRIMARY KEY REFERENCES cards (id),
        pin_block TEXT NOT NULL,
        key_id TEXT NOT NULL,
        updated_time TEXT NOT NULL
      ) STRICT;
      CREATE INDEX pins_by_key ON pins (key_id);

      CREATE TABLE pin_reveals (
        id TEXT PRIMARY KEY,
        card_id TEXT NOT NULL REFERENCES cards (id),
        token_id TEXT NOT NULL REFERENCES widget_tokens (id),
        origin TEXT,
        revealed_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX pin_reveals_by_card ON pin_reveals (card_id, revealed_at);

      CREATE TABLE dpop_proofs (
        jti TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX dpop_proofs_expiry ON dpop_proofs (expires_at);
    `,
  },
  {
    version: 3,
    sql: `
      CREATE TABLE issuer_scripts (
        id TEXT PRIMARY KEY,
        script_identifier TEXT NOT NULL CHECK (length(script_identifier) = 8),
        card_id TEXT NOT NULL REFERENCES cards (id),
        script_type TEXT NOT NULL CHECK (script_type IN ('SYNC_PIN')),
        requested_by TEXT NOT NULL CHECK (requested_by IN ('SYNC_ENDPOINT', 'PIN_SET')),
        status TEXT NOT NULL
          CHECK (status IN ('CREATED', 'SENT', 'APPLIED', 'FAILED', 'CANCELED')),
        created_time TEXT NOT NULL,
        sent_time TEXT,
        finished_time TEXT,
        atc TEXT,
        arqc TEXT,
        command_apdu TEXT,
        pin_version TEXT,
        reason TEXT,
        UNIQUE (card_id, script_identifier)
      ) STRICT;
      CREATE INDEX issuer_scripts_by_card ON issuer_scripts (card_id, status, id);

      CREATE TABLE virtual_chips (
        card_id TEXT PRIMARY KEY REFERENCES cards (id),
        atc INTEGER NOT NULL CHECK (atc BETWEEN 0 AND 65535),
        offline_pin_origin TEXT NOT NULL
          CHECK (offline_pin_origin IN ('PERSONALIZATION', 'ISSUER_SCRIPT')),
        offline_pin_script_identifier TEXT,
        offline_pin_updated_time TEXT NOT NULL,
        pending_script_results TEXT NOT NULL DEFAULT '',
        last_script_error TEXT,
        created_time TEXT NOT NULL,
        updated_time TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    // DPoP by default (bearer widget tokens only for products that allow them), who minted each
    // token, and the per-account and platform-wide reveal quotas (README “PINs”).
    version: 4,
    sql: `
      ALTER TABLE card_products ADD COLUMN allow_bearer_widget_tokens INTEGER NOT NULL DEFAULT 0
        CHECK (allow_bearer_widget_tokens IN (0, 1));
      ALTER TABLE widget_tokens ADD COLUMN api_key_id TEXT;
      ALTER TABLE pin_reveals ADD COLUMN account_id TEXT;
      CREATE INDEX pin_reveals_by_account ON pin_reveals (account_id, revealed_at);
      CREATE INDEX pin_reveals_by_time ON pin_reveals (revealed_at);
    `,
  },
  {
    // PANs at rest (docs/decisions.md): the clear `pan` column goes. AES-GCM cannot run in SQL,
    // so clear PANs move to `legacy_pans`, which the platform empties at start, enciphering each
    // into its card (CardService.sealLegacyPans). A settled issuer script keeps only the hash of
    // its command, which carried an enciphered PIN.
    version: 5,
    sql: `
      CREATE TABLE legacy_pans (
        card_id TEXT PRIMARY KEY REFERENCES cards (id),
        pan TEXT NOT NULL
      ) STRICT;
      INSERT INTO legacy_pans (card_id, pan) SELECT id, pan FROM cards;
      ALTER TABLE cards DROP COLUMN pan;
      ALTER TABLE cards ADD COLUMN pan_ciphertext BLOB;
      ALTER TABLE cards ADD COLUMN pan_iv BLOB;
      ALTER TABLE cards ADD COLUMN pan_tag BLOB;
      ALTER TABLE cards ADD COLUMN pan_key_id TEXT;
      ALTER TABLE cards ADD COLUMN pan_hash TEXT;
      CREATE UNIQUE INDEX cards_by_pan_hash ON cards (pan_hash);
      CREATE INDEX cards_by_pan_key ON cards (pan_key_id);

      ALTER TABLE issuer_scripts ADD COLUMN command_apdu_sha256 TEXT;
      UPDATE issuer_scripts SET command_apdu_sha256 = sha256_hex(command_apdu), command_apdu = NULL
        WHERE status IN ('APPLIED', 'FAILED', 'CANCELED') AND command_apdu IS NOT NULL;
    `,
  },
  {
    version: 6,
    sql: `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE CHECK (length(key_hash) = 64),
        scopes TEXT NOT NULL,
        created_time TEXT NOT NULL,
        revoked_time TEXT
      ) STRICT;

      CREATE TABLE account_token_keys (
        kid TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        retires_at INTEGER
      ) STRICT;
      -- At most one current signing key, even when two instances start at once.
      CREATE UNIQUE INDEX account_token_keys_one_current
        ON account_token_keys ((retires_at IS NULL)) WHERE retires_at IS NULL;
    `,
  },
  {
    // Claims and leases carry the token of the worker that holds them (docs/store.md).
    version: 7,
    sql: `
      ALTER TABLE jobs ADD COLUMN claim_token TEXT;
      ALTER TABLE jobs ADD COLUMN claim_until INTEGER;
      ALTER TABLE deliveries ADD COLUMN lease_token TEXT;
    `,
  },
  {
    // The PIN at the point of sale (docs/point-of-sale.md): try limits and counters, the chip's
    // own enciphered PIN, and PIN UNBLOCK scripts. SQLite cannot alter a CHECK, so
    // issuer_scripts is rebuilt (no table references it).
    version: 8,
    sql: `
      ALTER TABLE card_products ADD COLUMN pin_try_limit INTEGER NOT NULL DEFAULT 3
        CHECK (pin_try_limit BETWEEN 1 AND 10);
      ALTER TABLE card_products ADD COLUMN pin_change_requires_current_pin INTEGER NOT NULL
        DEFAULT 0 CHECK (pin_change_requires_current_pin IN (0, 1));
      ALTER TABLE cards ADD COLUMN pin_tries_remaining INTEGER NOT NULL DEFAULT 3
        CHECK (pin_tries_remaining BETWEEN 0 AND 10);

      ALTER TABLE virtual_chips ADD COLUMN offline_pin_block TEXT;
      ALTER TABLE virtual_chips ADD COLUMN offline_pin_key_id TEXT;
      ALTER TABLE virtual_chips ADD COLUMN pin_try_counter INTEGER NOT NULL DEFAULT 3
        CHECK (pin_try_counter BETWEEN 0 AND 10);
      ALTER TABLE virtual_chips ADD COLUMN pin_try_limit INTEGER NOT NULL DEFAULT 3
        CHECK (pin_try_limit BETWEEN 1 AND 10);
      CREATE INDEX virtual_chips_by_pin_key ON virtual_chips (offline_pin_key_id);

      CREATE TABLE issuer_scripts_v8 (
        id TEXT PRIMARY KEY,
        script_identifier TEXT NOT NULL CHECK (length(script_identifier) = 8),
        card_id TEXT NOT NULL REFERENCES cards (id),
        script_type TEXT NOT NULL CHECK (script_type IN ('SYNC_PIN', 'UNBLOCK_PIN')),
        requested_by TEXT NOT NULL
          CHECK (requested_by IN ('SYNC_ENDPOINT', 'PIN_SET', 'PIN_UNBLOCK')),
        status TEXT NOT NULL
          CHECK (status IN ('CREATED', 'SENT', 'APPLIED', 'FAILED', 'CANCELED')),
        created_time TEXT NOT NULL,
        sent_time TEXT,
        finished_time TEXT,
        atc TEXT,
        arqc TEXT,
        command_apdu TEXT,
        pin_version TEXT,
        reason TEXT,
        command_apdu_sha256 TEXT,
        UNIQUE (card_id, script_identifier)
      ) STRICT;
      INSERT INTO issuer_scripts_v8 (id, script_identifier, card_id, script_type, requested_by,
        status, created_time, sent_time, finished_time, atc, arqc, command_apdu, pin_version,
        reason, command_apdu_sha256)
        SELECT id, script_identifier, card_id, script_type, requested_by, status, created_time,
          sent_time, finished_time, atc, arqc, command_apdu, pin_version, reason,
          command_apdu_sha256
        FROM issuer_scripts;
      DROP TABLE issuer_scripts;
      ALTER TABLE issuer_scripts_v8 RENAME TO issuer_scripts;
      CREATE INDEX issuer_scripts_by_card ON issuer_scripts (card_id, status, id);
    `,
  },
  {
    // Passkey step-up (docs/step-up.md): the product setting, ENROLL_PASSKEY widget tokens (a
    // CHECK, so widget_tokens is rebuilt: pin_reveals references it, which is why migrations
    // run with foreign keys off and checked before commit), passkeys and their challenges.
    version: 9,
    sql: `
      ALTER TABLE card_products ADD COLUMN reveal_step_up TEXT NOT NULL DEFAULT 'NONE'
        CHECK (reveal_step_up IN ('NONE', 'PASSKEY'));

      CREATE TABLE widget_tokens_v9 (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        card_id TEXT NOT NULL REFERENCES cards (id),
        widget_type TEXT NOT NULL
          CHECK (widget_type IN ('SET_PIN', 'REVEAL_PIN', 'ENROLL_PASSKEY')),
        origin TEXT,
        jkt TEXT,
        expires_at INTEGER NOT NULL,
        consumed_at INTEGER,
        failures INTEGER NOT NULL DEFAULT 0,
        created_time TEXT NOT NULL,
        api_key_id TEXT
      ) STRICT;
      INSERT INTO widget_tokens_v9 (id, token_hash, card_id, widget_type, origin, jkt, expires_at,
        consumed_at, failures, created_time, api_key_id)
        SELECT id, token_hash, card_id, widget_type, origin, jkt, expires_at, consumed_at,
          failures, created_time, api_key_id
        FROM widget_tokens;
      DROP TABLE widget_tokens;
      ALTER TABLE widget_tokens_v9 RENAME TO widget_tokens;
      CREATE INDEX widget_tokens_by_card ON widget_tokens (card_id);

      CREATE TABLE passkeys (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL,
        credential_id TEXT NOT NULL UNIQUE,
        public_key TEXT NOT NULL,
        user_handle TEXT NOT NULL,
        counter INTEGER NOT NULL CHECK (counter >= 0),
        transports TEXT NOT NULL,
        device_type TEXT NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
        backed_up INTEGER NOT NULL CHECK (backed_up IN (0, 1)),
        card_id TEXT NOT NULL REFERENCES cards (id),
        created_time TEXT NOT NULL,
        last_used_time TEXT
      ) STRICT;
      CREATE INDEX passkeys_by_customer ON passkeys (customer_id, id);

      CREATE TABLE webauthn_challenges (
        challenge TEXT PRIMARY KEY,
        token_id TEXT NOT NULL REFERENCES widget_tokens (id),
        purpose TEXT NOT NULL CHECK (purpose IN ('REGISTRATION', 'AUTHENTICATION')),
        user_handle TEXT,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      ) STRICT;
      CREATE INDEX webauthn_challenges_by_expiry ON webauthn_challenges (expires_at);
    `,
  },
];

export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  // For migration 5: SHA-256 of a hex string's bytes, as hex (SQLite has no hash function).
  db.function('sha256_hex', { deterministic: true }, (value: unknown) =>
    typeof value === 'string'
      ? createHash('sha256').update(Buffer.from(value, 'hex')).digest('hex')
      : null,
  );
  // A table rebuild (a changed CHECK) drops a table others reference: SQLite's procedure for it
  // (https://sqlite.org/lang_altertable.html#otheralter) runs with foreign keys off, and checks
  // them all before the migration commits. The pragma is a no-op inside a transaction.
  const enforced = db.pragma('foreign_keys', { simple: true }) === 1;
  db.pragma('foreign_keys = OFF');
  try {
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      db.transaction(() => {
        db.exec(migration.sql);
        const broken = db.pragma('foreign_key_check') as unknown[];
        if (broken.length > 0) {
          throw new Error(
            `migration ${migration.version} broke foreign keys: ${JSON.stringify(broken)}`,
          );
        }
        db.pragma(`user_version = ${migration.version}`);
      })();
    }
  } finally {
    if (enforced) db.pragma('foreign_keys = ON');
  }
  return migrations.at(-1)?.version ?? 0;
}
