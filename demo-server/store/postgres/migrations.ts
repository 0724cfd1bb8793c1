import pg from 'pg';

/**
 * Versioned schema migrations for PostgreSQL, each applied in its own transaction and recorded
 * in `schema_migrations`. Never edit a shipped migration: add the next one.
 *
 * Version 1 is the whole schema as SQLite reached it at its version 7 (`../sqlite/migrations.ts`):
 * PostgreSQL support started there, so none of SQLite's history has to be replayed. Both hold the
 * same data under the same constraints, with these differences of type only:
 * - flags are `boolean` (SQLite: INTEGER 0/1 with CHECKs), times in ms `bigint`, PAN parts `bytea`;
 * - JSON columns are `json`, which keeps the text as written (key order included) and checks it;
 * - every text column compares byte-wise (`COLLATE "C"`, as SQLite does), so id pagination
 *   (`id < $1 ORDER BY id DESC`) is the same whatever the database's locale;
 * - `events.seq` makes SQLite's implicit rowid explicit: the order events were written in (ids
 *   order them only within one process);
 * - there is no `legacy_pans` table: it held the clear PANs SQLite migration 5 moved aside, and
 *   a PostgreSQL database never had any (PostgresStore.legacyPans is always empty).
 */
const T = 'text COLLATE "C"';

export const migrations: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE card_products (
        id ${T} PRIMARY KEY,
        name ${T} NOT NULL,
        form ${T} NOT NULL CHECK (form IN ('PHYSICAL', 'VIRTUAL')),
        pin_issuance_policy ${T}
          CHECK (pin_issuance_policy IN ('NOT_REQUIRED', 'RANDOM', 'REQUIRED')),
        offline_pin boolean NOT NULL,
        pin_length integer NOT NULL CHECK (pin_length BETWEEN 4 AND 12),
        emv_profile ${T} NOT NULL CHECK (emv_profile IN ('EMV_CCD', 'MASTERCARD', 'VISA')),
        created_time ${T} NOT NULL,
        allow_bearer_widget_tokens boolean NOT NULL DEFAULT false
      );

      CREATE TABLE cards (
        id ${T} PRIMARY KEY,
        account_id ${T} NOT NULL,
        customer_id ${T},
        card_product_id ${T} NOT NULL REFERENCES card_products (id),
        form ${T} NOT NULL,
        pan_sequence_number ${T} NOT NULL,
        last_four ${T} NOT NULL,
        card_status ${T} NOT NULL
          CHECK (card_status IN ('PENDING', 'UNACTIVATED', 'ACTIVE', 'SUSPENDED', 'TERMINATED')),
        status_reason ${T},
        memo ${T},
        is_waiting_for_pin boolean NOT NULL,
        fulfillment_status ${T} NOT NULL
          CHECK (fulfillment_status IN ('ORDERED', 'ISSUED', 'SHIPPED', 'DIGITALLY_PRESENTED')),
        is_pin_set boolean NOT NULL,
        timestamp_pin_set ${T},
        offline_pin_enabled boolean NOT NULL,
        offline_pin_in_sync boolean NOT NULL,
        pending_script_id ${T},
        created_time ${T} NOT NULL,
        last_modified_time ${T} NOT NULL,
        -- NOT NULL here: SQLite allows NULL only for rows waiting in legacy_pans.
        pan_ciphertext bytea NOT NULL,
        pan_iv bytea NOT NULL,
        pan_tag bytea NOT NULL,
        pan_key_id ${T} NOT NULL,
        pan_hash ${T}
      );
      CREATE INDEX cards_by_account ON cards (account_id, id);
      CREATE INDEX cards_by_status ON cards (card_status, id);
      CREATE UNIQUE INDEX cards_by_pan_hash ON cards (pan_hash);
      CREATE INDEX cards_by_pan_key ON cards (pan_key_id);

      CREATE TABLE jobs (
        id ${T} PRIMARY KEY,
        card_id ${T} NOT NULL REFERENCES cards (id),
        kind ${T} NOT NULL,
        run_at bigint NOT NULL,
        status ${T} NOT NULL CHECK (status IN ('PENDING', 'DONE', 'SKIPPED')),
        created_time ${T} NOT NULL,
        finished_time ${T},
        claim_token ${T},
        claim_until bigint
      );
      CREATE INDEX jobs_due ON jobs (status, run_at);
      CREATE INDEX jobs_by_card ON jobs (card_id, status);

      CREATE TABLE events (
        id ${T} PRIMARY KEY,
        type ${T} NOT NULL,
        created_time ${T} NOT NULL,
        data json NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE
      );
      CREATE INDEX events_by_type ON events (type, id);

      CREATE TABLE webhooks (
        id ${T} PRIMARY KEY,
        url ${T} NOT NULL,
        enabled_events json NOT NULL,
        is_enabled boolean NOT NULL,
        description ${T},
        secret ${T} NOT NULL,
        previous_secret ${T},
        previous_secret_expires_at bigint,
        created_time ${T} NOT NULL,
        deleted boolean NOT NULL DEFAULT false
      );

      CREATE TABLE deliveries (
        id ${T} PRIMARY KEY,
        event_id ${T} NOT NULL REFERENCES events (id),
        webhook_id ${T} NOT NULL REFERENCES webhooks (id),
        status ${T} NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
        attempt_count integer NOT NULL,
        next_attempt_at bigint NOT NULL,
        created_time ${T} NOT NULL,
        lease_token ${T}
      );
      CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
      CREATE INDEX deliveries_by_event ON deliveries (event_id);

      CREATE TABLE delivery_attempts (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        delivery_id ${T} NOT NULL REFERENCES deliveries (id),
        webhook_id ${T} NOT NULL,
        event_id ${T} NOT NULL,
        attempt_number integer NOT NULL,
        attempted_time ${T} NOT NULL,
        status_code integer,
        error ${T},
        duration_ms bigint NOT NULL,
        response_body ${T}
      );
      CREATE INDEX attempts_by_event ON delivery_attempts (event_id, id);

      CREATE TABLE widget_tokens (
        id ${T} PRIMARY KEY,
        token_hash ${T} NOT NULL UNIQUE,
        card_id ${T} NOT NULL REFERENCES cards (id),
        widget_type ${T} NOT NULL CHECK (widget_type IN ('SET_PIN', 'REVEAL_PIN')),
        origin ${T},
        jkt ${T},
        expires_at bigint NOT NULL,
        consumed_at bigint,
        failures integer NOT NULL DEFAULT 0,
        created_time ${T} NOT NULL,
        api_key_id ${T}
      );
      CREATE INDEX widget_tokens_by_card ON widget_tokens (card_id);

      CREATE TABLE pins (
        card_id ${T} PRIMARY KEY REFERENCES cards (id),
        pin_block ${T} NOT NULL,
        key_id ${T} NOT NULL,
        updated_time ${T} NOT NULL
      );
      CREATE INDEX pins_by_key ON pins (key_id);

      CREATE TABLE pin_reveals (
        id ${T} PRIMARY KEY,
        card_id ${T} NOT NULL REFERENCES cards (id),
        token_id ${T} NOT NULL REFERENCES widget_tokens (id),
        origin ${T},
        revealed_at bigint NOT NULL,
        account_id ${T}
      );
      CREATE INDEX pin_reveals_by_card ON pin_reveals (card_id, revealed_at);
      CREATE INDEX pin_reveals_by_account ON pin_reveals (account_id, revealed_at);
      CREATE INDEX pin_reveals_by_time ON pin_reveals (revealed_at);

      CREATE TABLE dpop_proofs (
        jti ${T} PRIMARY KEY,
        expires_at bigint NOT NULL
      );
      CREATE INDEX dpop_proofs_expiry ON dpop_proofs (expires_at);

      CREATE TABLE issuer_scripts (
        id ${T} PRIMARY KEY,
        script_identifier ${T} NOT NULL CHECK (length(script_identifier) = 8),
        card_id ${T} NOT NULL REFERENCES cards (id),
        script_type ${T} NOT NULL CHECK (script_type IN ('SYNC_PIN')),
        requested_by ${T} NOT NULL CHECK (requested_by IN ('SYNC_ENDPOINT', 'PIN_SET')),
        status ${T} NOT NULL
          CHECK (status IN ('CREATED', 'SENT', 'APPLIED', 'FAILED', 'CANCELED')),
        created_time ${T} NOT NULL,
        sent_time ${T},
        finished_time ${T},
        atc ${T},
        arqc ${T},
        command_apdu ${T},
        pin_version ${T},
        reason ${T},
        command_apdu_sha256 ${T},
        UNIQUE (card_id, script_identifier)
      );
      CREATE INDEX issuer_scripts_by_card ON issuer_scripts (card_id, status, id);

      CREATE TABLE virtual_chips (
        card_id ${T} PRIMARY KEY REFERENCES cards (id),
        atc integer NOT NULL CHECK (atc BETWEEN 0 AND 65535),
        offline_pin_origin ${T} NOT NULL
          CHECK (offline_pin_origin IN ('PERSONALIZATION', 'ISSUER_SCRIPT')),
        offline_pin_script_identifier ${T},
        offline_pin_updated_time ${T} NOT NULL,
        pending_script_results ${T} NOT NULL DEFAULT '',
        last_script_error ${T},
        created_time ${T} NOT NULL,
        updated_time ${T} NOT NULL
      );

      CREATE TABLE api_keys (
        id ${T} PRIMARY KEY,
        name ${T} NOT NULL,
        key_hash ${T} NOT NULL UNIQUE CHECK (length(key_hash) = 64),
        scopes json NOT NULL,
        created_time ${T} NOT NULL,
        revoked_time ${T}
      );

      CREATE TABLE account_token_keys (
        kid ${T} PRIMARY KEY,
        secret ${T} NOT NULL,
        created_at bigint NOT NULL,
        retires_at bigint
      );
      -- At most one current signing key, even when two instances start at once.
      CREATE UNIQUE INDEX account_token_keys_one_current
        ON account_token_keys ((retires_at IS NULL)) WHERE retires_at IS NULL;
    `,
  },
  {
    // SQLite's version 8: the PIN at the point of sale (docs/point-of-sale.md).
    version: 2,
    sql: `
      ALTER TABLE card_products
        ADD COLUMN pin_try_limit integer NOT NULL DEFAULT 3
          CHECK (pin_try_limit BETWEEN 1 AND 10),
        ADD COLUMN pin_change_requires_current_pin boolean NOT NULL DEFAULT false;
      ALTER TABLE cards ADD COLUMN pin_tries_remaining integer NOT NULL DEFAULT 3
        CHECK (pin_tries_remaining BETWEEN 0 AND 10);

      ALTER TABLE virtual_chips
        ADD COLUMN offline_pin_block ${T},
        ADD COLUMN offline_pin_key_id ${T},
        ADD COLUMN pin_try_counter integer NOT NULL DEFAULT 3
          CHECK (pin_try_counter BETWEEN 0 AND 10),
        ADD COLUMN pin_try_limit integer NOT NULL DEFAULT 3 CHECK (pin_try_limit BETWEEN 1 AND 10);
      CREATE INDEX virtual_chips_by_pin_key ON virtual_chips (offline_pin_key_id);

      ALTER TABLE issuer_scripts
        DROP CONSTRAINT issuer_scripts_script_type_check,
        DROP CONSTRAINT issuer_scripts_requested_by_check,
        ADD CONSTRAINT issuer_scripts_script_type_check
          CHECK (script_type IN ('SYNC_PIN', 'UNBLOCK_PIN')),
        ADD CONSTRAINT issuer_scripts_requested_by_check
          CHECK (requested_by IN ('SYNC_ENDPOINT', 'PIN_SET', 'PIN_UNBLOCK'));
    `,
  },
  {
    // SQLite's version 9: passkey step-up (docs/step-up.md).
    version: 3,
    sql: `
      ALTER TABLE card_products ADD COLUMN reveal_step_up ${T} NOT NULL DEFAULT 'NONE'
        CHECK (reveal_step_up IN ('NONE', 'PASSKEY'));
      ALTER TABLE widget_tokens
        DROP CONSTRAINT widget_tokens_widget_type_check,
        ADD CONSTRAINT widget_tokens_widget_type_check
          CHECK (widget_type IN ('SET_PIN', 'REVEAL_PIN', 'ENROLL_PASSKEY'));

      CREATE TABLE passkeys (
        id ${T} PRIMARY KEY,
        customer_id ${T} NOT NULL,
        credential_id ${T} NOT NULL UNIQUE,
        public_key ${T} NOT NULL,
        user_handle ${T} NOT NULL,
        counter bigint NOT NULL CHECK (counter >= 0),
        transports json NOT NULL,
        device_type ${T} NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
        backed_up boolean NOT NULL,
        card_id ${T} NOT NULL REFERENCES cards (id),
        created_time ${T} NOT NULL,
        last_used_time ${T}
      );
      CREATE INDEX passkeys_by_customer ON passkeys (customer_id, id);

      CREATE TABLE webauthn_challenges (
        challenge ${T} PRIMARY KEY,
        token_id ${T} NOT NULL REFERENCES widget_tokens (id),
        purpose ${T} NOT NULL CHECK (purpose IN ('REGISTRATION', 'AUTHENTICATION')),
        user_handle ${T},
        expires_at bigint NOT NULL,
        used_at bigint
      );
      CREATE INDEX webauthn_challenges_by_expiry ON webauthn_challenges (expires_at);
    `,
  },
];

/**
 * Brings the schema to the latest version and returns that version: `schema` (created when
 * missing) or, without one, the first schema on the connection's search_path. Only one process
 * migrates a schema at a time (a session-level advisory lock on its name, held across the
 * per-migration transactions and released even when one fails): instances starting together
 * wait for the first, then find nothing left to do.
 */
export async function migrate(client: pg.ClientBase, schema?: string): Promise<number> {
  const lock = `hashtextextended('pin-widgets:migrate:' || coalesce($1, current_schema(), ''), 0)`;
  await client.query(`SELECT pg_advisory_lock(${lock})`, [schema ?? null]);
  try {
    if (schema !== undefined) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
    }
    const { rows } = await client.query<{ schema: string | null }>(
      'SELECT current_schema() AS schema',
    );
    if (!rows[0]?.schema) {
      throw new Error(
        'PostgreSQL: no schema on the search_path exists (create it, or give the store a schema)',
      );
    }
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = await client.query<{ version: number }>(
      'SELECT coalesce(max(version), 0) AS version FROM schema_migrations',
    );
    const current = applied.rows[0]?.version ?? 0;
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [
          migration.version,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${lock})`, [schema ?? null]);
  }
  return migrations.at(-1)?.version ?? 0;
}
