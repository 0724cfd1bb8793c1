import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type {
  AccountTokenKey,
  ApiKeyRecord,
  Card,
  CardFilter,
  CardPatch,
  CardProduct,
  ChipState,
  Delivery,
  DeliveryAttempt,
  EventRecord,
  IssuerScript,
  IssuerScriptPatch,
  Job,
  Lease,
  Page,
  PageQuery,
  Passkey,
  PinReveal,
  Repositories,
  SealedPan,
  Store,
  StoredPin,
  WebauthnChallenge,
  Webhook,
  WidgetToken,
} from '../types.js';
import {
  type Row,
  CARD_COLUMNS,
  ISSUER_SCRIPT_COLUMNS,
  byRunAt,
  accountTokenKeyColumns,
  apiKeyColumns,
  cardColumns,
  deliveryColumns,
  eventColumns,
  issuerScriptColumns,
  jobColumns,
  pinRevealColumns,
  productColumns,
  webhookColumns,
  widgetTokenColumns,
  toAccountTokenKey,
  toApiKey,
  toCard,
  chipStateColumns,
  passkeyColumns,
  toChipState,
  toPasskey,
  toWebauthnChallenge,
  upsertSql,
  webauthnChallengeColumns,
  toDelivery,
  toAttempt,
  toEvent,
  toIssuerScript,
  toJob,
  toProduct,
  toStoredPin,
  toWebhook,
  toWidgetToken,
} from '../rows.js';
import { migrate } from './migrations.js';

/** Anything that runs a query: the pool (autocommit) or one checked-out client (a transaction). */
interface Queryable {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult<Row>>;
}

/**
 * Type parsers for this store's connections only (never pg's global ones): `bigint` times and
 * counts as JS numbers (every one is a millisecond time or a count, far below 2^53), `json`
 * parsed (pg's default), `bytea` as Buffer (pg's default).
 */
export const pgTypes = new pg.TypeOverrides();
pgTypes.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

/**
 * SQLSTATEs after which the whole transaction is run again (it lost a race), and how many runs
 * each allows in all. A unique violation (23505) is also what READ COMMITTED reports when a
 * concurrent transaction committed the same key between this one's check and its insert (the race
 * SERIALIZABLE would report as 40001): run once more, the check sees the committed row and the
 * domain answers as SQLite would (PAN_ALREADY_ISSUED, the other instance's current signing key).
 * A second violation is a real duplicate, and is thrown.
 */
const ATTEMPTS: Readonly<Record<string, number>> = { '40001': 5, '40P01': 5, '23505': 2 };

/** The SQLSTATE of a driver error, also when domain code wrapped it (as `cause`). */
function sqlState(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof pg.DatabaseError) return e.code;
  }
  return undefined;
}

/**
 * A unique violation reads as SQLite's does ("UNIQUE constraint failed: …"), the error the store
 * contract promises (`insertCard`); the driver's error stays as `cause`, its SQLSTATE as `code`.
 */
export class UniqueConstraintError extends Error {
  override readonly name = 'UniqueConstraintError';
  readonly code = '23505';

  constructor(cause: pg.DatabaseError) {
    super(`UNIQUE constraint failed: ${cause.table ?? '?'} (${cause.constraint ?? '?'})`, {
      cause,
    });
  }
}

/**
 * PostgreSQL text cannot hold U+0000. A receiver's response excerpt is whatever it sent (already
 * decoded lossily, invalid UTF-8 as U+FFFD): a NUL in it becomes U+FFFD too, rather than failing
 * the attempt's record (the delivery would then be retried forever, never counted).
 */
const storableText = (text: string): string => text.replaceAll('\0', '\uFFFD');

/** `$1, $2, …, $n` */
const placeholders = (n: number, from = 1): string =>
  Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');

/** The repositories over one `Queryable`: the pool for reads, a client inside a transaction. */
class PostgresRepositories implements Repositories {
  constructor(private readonly db: Queryable) {}

  private async sql(text: string, values: unknown[] = []): Promise<pg.QueryResult<Row>> {
    try {
      return await this.db.query(text, values);
    } catch (error) {
      if (error instanceof pg.DatabaseError && error.code === '23505') {
        throw new UniqueConstraintError(error);
      }
      throw error;
    }
  }

  private async one(text: string, values: unknown[] = []): Promise<Row | undefined> {
    return (await this.sql(text, values)).rows[0];
  }

  private async all(text: string, values: unknown[] = []): Promise<Row[]> {
    return (await this.sql(text, values)).rows;
  }

  private async insert(table: string, row: Record<string, unknown>): Promise<void> {
    const columns = Object.keys(row);
    await this.sql(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders(columns.length)})`,
      Object.values(row),
    );
  }

  /** Cursor pagination by id (ids are time-ordered): newest first, `starting_after` = last id seen. */
  private async page<T>(
    table: string,
    where: [string, unknown][],
    query: PageQuery,
    map: (row: Row) => T,
  ): Promise<Page<T>> {
    const clauses: string[] = [];
    const params: unknown[] = [];
    for (const [column, value] of where) {
      params.push(value);
      clauses.push(`${column} = $${params.length}`);
    }
    if (query.startingAfter !== undefined) {
      params.push(query.startingAfter);
      clauses.push(`id < $${params.length}`);
    }
    params.push(query.limit + 1);
    const filter = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = await this.all(
      `SELECT * FROM ${table} ${filter} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return { data: rows.slice(0, query.limit).map(map), hasMore: rows.length > query.limit };
  }

  async insertProduct(p: CardProduct): Promise<void> {
    await this.insert('card_products', productColumns(p));
  }

  async getProduct(id: string): Promise<CardProduct | undefined> {
    const row = await this.one('SELECT * FROM card_products WHERE id = $1', [id]);
    return row && toProduct(row);
  }

  listProducts(query: PageQuery): Promise<Page<CardProduct>> {
    return this.page('card_products', [], query, toProduct);
  }

  async insertCard(c: Card, panHash: string): Promise<void> {
    await this.insert('cards', cardColumns(c, panHash));
  }

  async getCard(id: string): Promise<Card | undefined> {
    const row = await this.one('SELECT * FROM cards WHERE id = $1', [id]);
    return row && toCard(row);
  }

  async lockCard(id: string): Promise<Card | undefined> {
    const row = await this.one('SELECT * FROM cards WHERE id = $1 FOR UPDATE', [id]);
    return row && toCard(row);
  }

  /** Held until the transaction ends; 64-bit hash, so two scopes sharing a lock is negligible. */
  async lockScope(scope: string): Promise<void> {
    await this.sql('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [scope]);
  }

  async panHashUsed(panHash: string): Promise<boolean> {
    return (await this.one('SELECT 1 FROM cards WHERE pan_hash = $1', [panHash])) !== undefined;
  }

  async cardsWithPanNotUnderKey(keyId: string, limit: number): Promise<Card[]> {
    const rows = await this.all('SELECT * FROM cards WHERE pan_key_id <> $1 ORDER BY id LIMIT $2', [
      keyId,
      limit,
    ]);
    return rows.map(toCard);
  }

  async updateCardPan(cardId: string, sealed: SealedPan, panHash?: string | null): Promise<void> {
    await this.sql(
      `UPDATE cards SET pan_ciphertext = $1, pan_iv = $2, pan_tag = $3, pan_key_id = $4,
        pan_hash = CASE WHEN $5::boolean THEN $6::text ELSE pan_hash END WHERE id = $7`,
      [
        sealed.ciphertext,
        sealed.iv,
        sealed.tag,
        sealed.keyId,
        panHash !== undefined,
        panHash ?? null,
        cardId,
      ],
    );
  }

  /**
   * SQLite keeps the clear PANs of databases older than its migration 5 here until they are
   * enciphered at start. A PostgreSQL database began with enciphered PANs: there are none, and
   * no table that could hold one.
   */
  async legacyPans(): Promise<{ cardId: string; pan: string }[]> {
    return [];
  }

  async deleteLegacyPan(): Promise<void> {}

  async updateCard(id: string, patch: CardPatch, modifiedTime: string): Promise<void> {
    const entries = Object.entries(patch) as [keyof CardPatch, unknown][];
    const sets = entries.map(([key], i) => `${CARD_COLUMNS[key]} = $${i + 1}`);
    const n = entries.length;
    await this.sql(
      `UPDATE cards SET ${[...sets, `last_modified_time = $${n + 1}`].join(', ')} WHERE id = $${n + 2}`,
      [...entries.map(([, value]) => value), modifiedTime, id],
    );
  }

  listCards(filter: CardFilter): Promise<Page<Card>> {
    const where: [string, unknown][] = [];
    if (filter.accountId !== undefined) where.push(['account_id', filter.accountId]);
    if (filter.cardStatus !== undefined) where.push(['card_status', filter.cardStatus]);
    return this.page('cards', where, filter, toCard);
  }

  async insertJob(j: Job): Promise<void> {
    await this.insert('jobs', jobColumns(j));
  }

  async claimDueJobs(lease: Lease, limit: number): Promise<Job[]> {
    const rows = await this.all(
      `UPDATE jobs SET claim_token = $1, claim_until = $2
       WHERE id IN (SELECT id FROM jobs WHERE status = 'PENDING' AND run_at <= $3
                      AND (claim_until IS NULL OR claim_until <= $3)
                    ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [lease.token, lease.until, lease.now, limit],
    );
    return rows.map(toJob).sort(byRunAt);
  }

  async claimCardJobs(cardId: string, lease: Lease): Promise<Job[]> {
    const rows = await this.all(
      `UPDATE jobs SET claim_token = $1, claim_until = $2
       WHERE id IN (SELECT id FROM jobs WHERE card_id = $3 AND status = 'PENDING'
                      AND (claim_until IS NULL OR claim_until <= $4)
                    FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [lease.token, lease.until, cardId, lease.now],
    );
    return rows.map(toJob).sort(byRunAt);
  }

  async finishJob(
    id: string,
    token: string,
    status: 'DONE' | 'SKIPPED',
    time: string,
  ): Promise<boolean> {
    const result = await this.sql(
      `UPDATE jobs SET status = $1, finished_time = $2, claim_token = NULL, claim_until = NULL
       WHERE id = $3 AND status = 'PENDING' AND claim_token = $4`,
      [status, time, id, token],
    );
    return result.rowCount === 1;
  }

  async insertEvent(e: EventRecord): Promise<void> {
    await this.insert('events', eventColumns(e));
  }

  async getEvent(id: string): Promise<EventRecord | undefined> {
    const row = await this.one('SELECT * FROM events WHERE id = $1', [id]);
    return row && toEvent(row);
  }

  listEvents(query: PageQuery & { type?: string | undefined }): Promise<Page<EventRecord>> {
    const where: [string, unknown][] = query.type === undefined ? [] : [['type', query.type]];
    return this.page('events', where, query, toEvent);
  }

  async insertWebhook(w: Webhook): Promise<void> {
    await this.insert('webhooks', webhookColumns(w));
  }

  async getWebhook(id: string): Promise<Webhook | undefined> {
    const row = await this.one('SELECT * FROM webhooks WHERE id = $1 AND NOT deleted', [id]);
    return row && toWebhook(row);
  }

  listWebhooks(query: PageQuery): Promise<Page<Webhook>> {
    return this.page('webhooks', [['deleted', false]], query, toWebhook);
  }

  async enabledWebhooks(): Promise<Webhook[]> {
    const rows = await this.all(
      'SELECT * FROM webhooks WHERE is_enabled AND NOT deleted ORDER BY id',
    );
    return rows.map(toWebhook);
  }

  async updateWebhook(w: Webhook): Promise<void> {
    await this.sql(
      `UPDATE webhooks SET url = $1, enabled_events = $2, is_enabled = $3, description = $4,
        secret = $5, previous_secret = $6, previous_secret_expires_at = $7, deleted = $8
       WHERE id = $9`,
      [
        w.url,
        JSON.stringify(w.enabledEvents),
        w.isEnabled,
        w.description,
        w.secret,
        w.previousSecret,
        w.previousSecretExpiresAt,
        w.deleted,
        w.id,
      ],
    );
  }

  async insertDelivery(d: Delivery): Promise<void> {
    await this.insert('deliveries', deliveryColumns(d));
  }

  async deliveriesForEvent(eventId: string): Promise<Delivery[]> {
    const rows = await this.all('SELECT * FROM deliveries WHERE event_id = $1 ORDER BY id', [
      eventId,
    ]);
    return rows.map(toDelivery);
  }

  async leaseDueDeliveries(lease: Lease, limit: number): Promise<Delivery[]> {
    // Sorted by the due time they had: RETURNING shows the new one (the lease's end).
    const rows = await this.all(
      `WITH due AS (
         SELECT id, next_attempt_at AS due_at FROM deliveries
         WHERE status = 'PENDING' AND next_attempt_at <= $3
         ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
       UPDATE deliveries SET next_attempt_at = $1, lease_token = $2
       FROM due WHERE deliveries.id = due.id
       RETURNING deliveries.*, due.due_at`,
      [lease.until, lease.token, lease.now, limit],
    );
    rows.sort((a, b) => {
      const byDue = (a.due_at as number) - (b.due_at as number);
      return byDue || ((a.id as string) < (b.id as string) ? -1 : 1);
    });
    return rows.map(toDelivery);
  }

  async finishDeliveryAttempt(
    id: string,
    token: string,
    patch: Pick<Delivery, 'status' | 'attemptCount' | 'nextAttemptAt'>,
    a: Omit<DeliveryAttempt, 'deliveryId' | 'webhookId'>,
  ): Promise<boolean> {
    const row = await this.one(
      `UPDATE deliveries SET status = $1, attempt_count = $2, next_attempt_at = $3,
         lease_token = NULL
       WHERE id = $4 AND lease_token = $5 RETURNING webhook_id, event_id`,
      [patch.status, patch.attemptCount, patch.nextAttemptAt, id, token],
    );
    if (!row) return false;
    await this.insert('delivery_attempts', {
      delivery_id: id,
      webhook_id: row.webhook_id,
      event_id: row.event_id,
      attempt_number: a.attemptNumber,
      attempted_time: a.attemptedTime,
      status_code: a.statusCode,
      error: a.error && storableText(a.error),
      duration_ms: a.durationMs,
      response_body: a.responseBody && storableText(a.responseBody),
    });
    return true;
  }

  async attemptsForEvent(eventId: string): Promise<DeliveryAttempt[]> {
    const rows = await this.all('SELECT * FROM delivery_attempts WHERE event_id = $1 ORDER BY id', [
      eventId,
    ]);
    return rows.map(toAttempt);
  }

  async insertWidgetToken(t: WidgetToken): Promise<void> {
    await this.insert('widget_tokens', widgetTokenColumns(t));
  }

  async getWidgetTokenByHash(tokenHash: string): Promise<WidgetToken | undefined> {
    const row = await this.one('SELECT * FROM widget_tokens WHERE token_hash = $1', [tokenHash]);
    return row && toWidgetToken(row);
  }

  /** A racing consumer waits for the row, then finds `consumed_at` set: exactly one wins. */
  async consumeWidgetToken(id: string, now: number): Promise<boolean> {
    const result = await this.sql(
      'UPDATE widget_tokens SET consumed_at = $1 WHERE id = $2 AND consumed_at IS NULL',
      [now, id],
    );
    return result.rowCount === 1;
  }

  async recordWidgetTokenFailure(id: string): Promise<number> {
    const row = await this.one(
      'UPDATE widget_tokens SET failures = failures + 1 WHERE id = $1 RETURNING failures',
      [id],
    );
    return (row?.failures as number | undefined) ?? 0;
  }

  async upsertPin(p: StoredPin): Promise<void> {
    await this.sql(
      `INSERT INTO pins (card_id, pin_block, key_id, updated_time) VALUES ($1, $2, $3, $4)
       ON CONFLICT (card_id) DO UPDATE SET pin_block = excluded.pin_block,
         key_id = excluded.key_id, updated_time = excluded.updated_time`,
      [p.cardId, p.pinBlock, p.keyId, p.updatedTime],
    );
  }

  async getPin(cardId: string): Promise<StoredPin | undefined> {
    const row = await this.one('SELECT * FROM pins WHERE card_id = $1', [cardId]);
    return row && toStoredPin(row);
  }

  async pinsNotUnderKey(keyId: string, limit: number): Promise<StoredPin[]> {
    const rows = await this.all('SELECT * FROM pins WHERE key_id <> $1 ORDER BY card_id LIMIT $2', [
      keyId,
      limit,
    ]);
    return rows.map(toStoredPin);
  }

  async insertPasskey(p: Passkey): Promise<void> {
    await this.insert('passkeys', passkeyColumns(p));
  }

  async listPasskeys(customerId: string): Promise<Passkey[]> {
    const rows = await this.all('SELECT * FROM passkeys WHERE customer_id = $1 ORDER BY id', [
      customerId,
    ]);
    return rows.map(toPasskey);
  }

  async getPasskeyByCredentialId(credentialId: string): Promise<Passkey | undefined> {
    const row = await this.one('SELECT * FROM passkeys WHERE credential_id = $1', [credentialId]);
    return row && toPasskey(row);
  }

  async recordPasskeyUse(id: string, counter: number, time: string): Promise<void> {
    await this.sql('UPDATE passkeys SET counter = $1, last_used_time = $2 WHERE id = $3', [
      counter,
      time,
      id,
    ]);
  }

  async deletePasskeys(customerId: string, id?: string): Promise<Passkey[]> {
    const rows = await this.all(
      `DELETE FROM passkeys WHERE customer_id = $1 AND ($2::text IS NULL OR id = $2) RETURNING *`,
      [customerId, id ?? null],
    );
    return rows.map(toPasskey).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async insertWebauthnChallenge(c: WebauthnChallenge): Promise<void> {
    await this.insert('webauthn_challenges', webauthnChallengeColumns(c));
  }

  async consumeWebauthnChallenge(
    challenge: string,
    tokenId: string,
    purpose: WebauthnChallenge['purpose'],
    now: number,
  ): Promise<WebauthnChallenge | undefined> {
    const row = await this.one(
      `UPDATE webauthn_challenges SET used_at = $1 WHERE challenge = $2 AND token_id = $3
        AND purpose = $4 AND used_at IS NULL AND expires_at > $1 RETURNING *`,
      [now, challenge, tokenId, purpose],
    );
    return row && toWebauthnChallenge(row);
  }

  async insertPinReveal(r: PinReveal): Promise<void> {
    await this.insert('pin_reveals', pinRevealColumns(r));
  }

  async revealWindow(
    since: number,
    limit: number,
    accountId?: string,
  ): Promise<{ count: number; agesOut: number | null }> {
    const scope = accountId === undefined ? '' : 'account_id = $2 AND ';
    const args = accountId === undefined ? [since] : [since, accountId];
    const counted = await this.one(
      `SELECT count(*) AS count FROM pin_reveals WHERE ${scope}revealed_at > $1`,
      args,
    );
    const count = counted?.count as number;
    if (count < limit) return { count, agesOut: null };
    const row = await this.one(
      `SELECT revealed_at FROM pin_reveals WHERE ${scope}revealed_at > $1
        ORDER BY revealed_at LIMIT 1 OFFSET $${args.length + 1}`,
      [...args, count - limit],
    );
    return { count, agesOut: row?.revealed_at as number };
  }

  async pinRevealTimes(cardId: string, since: number): Promise<number[]> {
    const rows = await this.all(
      `SELECT revealed_at FROM pin_reveals WHERE card_id = $1 AND revealed_at > $2
       ORDER BY revealed_at`,
      [cardId, since],
    );
    return rows.map((row) => row.revealed_at as number);
  }

  /** A racing insert of the same id waits for the first to commit, then does nothing: false. */
  async rememberProofId(jti: string, expiresAt: number, now: number): Promise<boolean> {
    // Runs first in a set PIN's or reveal's own transaction: rows another transaction is
    // deleting are skipped, not waited for until it commits (the next one takes them).
    await this.sql(
      `DELETE FROM dpop_proofs WHERE jti IN
        (SELECT jti FROM dpop_proofs WHERE expires_at < $1 FOR UPDATE SKIP LOCKED)`,
      [now],
    );
    const result = await this.sql(
      'INSERT INTO dpop_proofs (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING',
      [jti, expiresAt],
    );
    return result.rowCount === 1;
  }

  async insertIssuerScript(x: IssuerScript): Promise<void> {
    await this.insert('issuer_scripts', issuerScriptColumns(x));
  }

  async getIssuerScript(id: string): Promise<IssuerScript | undefined> {
    const row = await this.one('SELECT * FROM issuer_scripts WHERE id = $1', [id]);
    return row && toIssuerScript(row);
  }

  async openIssuerScripts(cardId: string): Promise<IssuerScript[]> {
    const rows = await this.all(
      `SELECT * FROM issuer_scripts WHERE card_id = $1 AND status IN ('CREATED', 'SENT')
       ORDER BY id`,
      [cardId],
    );
    return rows.map(toIssuerScript);
  }

  async issuerScriptIdentifierUsed(cardId: string, scriptIdentifier: string): Promise<boolean> {
    const row = await this.one(
      'SELECT 1 FROM issuer_scripts WHERE card_id = $1 AND script_identifier = $2',
      [cardId, scriptIdentifier],
    );
    return row !== undefined;
  }

  async updateIssuerScript(id: string, patch: IssuerScriptPatch): Promise<void> {
    const entries = Object.entries(patch) as [keyof IssuerScriptPatch, unknown][];
    if (entries.length === 0) return;
    const sets = entries.map(([key], i) => `${ISSUER_SCRIPT_COLUMNS[key]} = $${i + 1}`);
    await this.sql(
      `UPDATE issuer_scripts SET ${sets.join(', ')} WHERE id = $${entries.length + 1}`,
      [...entries.map(([, value]) => value), id],
    );
  }

  async getChipState(cardId: string): Promise<ChipState | undefined> {
    const row = await this.one('SELECT * FROM virtual_chips WHERE card_id = $1', [cardId]);
    return row && toChipState(row);
  }

  async upsertChipState(c: ChipState): Promise<void> {
    const row = chipStateColumns(c);
    await this.sql(
      upsertSql('virtual_chips', row, 'card_id', (index) => `$${index}`),
      Object.values(row),
    );
  }

  async chipsWithPinNotUnderKey(keyId: string, limit: number): Promise<ChipState[]> {
    const rows = await this.all(
      `SELECT * FROM virtual_chips WHERE offline_pin_key_id != $1 ORDER BY card_id LIMIT $2`,
      [keyId, limit],
    );
    return rows.map(toChipState);
  }

  async insertApiKey(k: ApiKeyRecord): Promise<void> {
    await this.insert('api_keys', apiKeyColumns(k));
  }

  async getApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.one('SELECT * FROM api_keys WHERE key_hash = $1', [keyHash]);
    return row && toApiKey(row);
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (await this.all('SELECT * FROM api_keys ORDER BY id')).map(toApiKey);
  }

  async revokeApiKey(id: string, time: string): Promise<boolean> {
    const result = await this.sql(
      'UPDATE api_keys SET revoked_time = $1 WHERE id = $2 AND revoked_time IS NULL',
      [time, id],
    );
    return result.rowCount === 1;
  }

  async insertAccountTokenKey(k: AccountTokenKey): Promise<void> {
    await this.insert('account_token_keys', accountTokenKeyColumns(k));
  }

  async accountTokenKeys(now: number): Promise<AccountTokenKey[]> {
    const rows = await this.all(
      `SELECT * FROM account_token_keys WHERE retires_at IS NULL OR retires_at > $1
       ORDER BY retires_at IS NOT NULL, created_at DESC`,
      [now],
    );
    return rows.map(toAccountTokenKey);
  }

  async retireCurrentAccountTokenKey(retiresAt: number): Promise<void> {
    await this.sql('UPDATE account_token_keys SET retires_at = $1 WHERE retires_at IS NULL', [
      retiresAt,
    ]);
  }

  async deleteRetiredAccountTokenKeys(now: number): Promise<void> {
    await this.sql('DELETE FROM account_token_keys WHERE retires_at <= $1', [now]);
  }
}

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (DATABASE_URL). */
  connectionString: string;
  /**
   * The schema the tables live in (default: the server's search_path, normally `public`);
   * created when missing. Every connection of the pool has it as its search_path.
   */
  schema?: string | undefined;
  /** Connections in the pool (default 10). */
  max?: number | undefined;
  /** Shown in `pg_stat_activity` (default `pin-widgets`). */
  applicationName?: string | undefined;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The PostgreSQL store: a pool of connections shared by any number of instances. Transactions
 * are READ COMMITTED; what the contract needs beyond that is taken explicitly: row locks
 * (`lockCard`), advisory locks (`lockScope`), `SKIP LOCKED` claims, and single-statement
 * conditional updates for single use (widget tokens, DPoP proof ids).
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly read: Repositories;
  private closed: Promise<void> | undefined;

  private constructor(private readonly pool: pg.Pool) {
    this.read = new PostgresRepositories(pool);
  }

  /** Connects, creates the schema when one is named and missing, and migrates it. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const { schema } = options;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw new Error(`PostgreSQL schema "${schema}" must be a lower-case SQL identifier`);
    }
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      // A request waiting this long for a connection fails rather than hangs.
      connectionTimeoutMillis: 10_000,
      application_name: options.applicationName ?? 'pin-widgets',
      types: pgTypes,
      ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    });
    // An idle client whose connection drops must not crash the process; the next query
    // checks out another one.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        await migrate(client, schema);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresStore(pool);
  }

  async transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(work);
      } catch (error) {
        if (attempt >= (ATTEMPTS[sqlState(error) ?? ''] ?? 1)) throw error;
        // Jittered, growing: the transactions that collided should not collide again.
        await sleep(Math.random() * 10 * 2 ** attempt);
      }
    }
  }

  private async once<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      try {
        const result = await work(new PostgresRepositories(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection is gone: the server rolled back; the pool must not reuse it.
          broken = rollbackError as Error;
        }
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  /** Nothing to do: PostgreSQL's WAL is the server's to manage. */
  async checkpoint(): Promise<void> {}

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  close(): Promise<void> {
    this.closed ??= this.pool.end();
    return this.closed;
  }
}
