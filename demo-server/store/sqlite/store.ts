import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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
import { PRIVATE_FILE_MODE, ensurePrivateDir, restrictFile } from '../../lib/private-files.js';
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

const int = (value: boolean): number => (value ? 1 : 0);
/** A value as SQLite stores it: a flag as 0/1, anything else as it is. */
const storable = (value: unknown): unknown => (typeof value === 'boolean' ? int(value) : value);

/** One SQLite connection's view of the repositories, with its prepared statements cached. */
class SqliteRepositories implements Repositories {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** A new row from its columns (store/rows.ts, shared with PostgreSQL): flags as 0/1. */
  private insert(table: string, row: Row): void {
    const columns = Object.keys(row);
    this.sql(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    ).run(...Object.values(row).map(storable));
  }

  /** Cursor pagination by id (ids are time-ordered): newest first, `starting_after` = last id seen. */
  private page<T>(
    table: string,
    where: [string, unknown][],
    query: PageQuery,
    map: (row: Row) => T,
  ): Page<T> {
    const clauses = where.map(([clause]) => clause);
    const params = where.map(([, value]) => value);
    if (query.startingAfter !== undefined) {
      clauses.push('id < ?');
      params.push(query.startingAfter);
    }
    const filter = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = this.sql(`SELECT * FROM ${table} ${filter} ORDER BY id DESC LIMIT ?`).all(
      ...params,
      query.limit + 1,
    ) as Row[];
    return { data: rows.slice(0, query.limit).map(map), hasMore: rows.length > query.limit };
  }

  async insertProduct(p: CardProduct): Promise<void> {
    this.insert('card_products', productColumns(p));
  }

  async getProduct(id: string): Promise<CardProduct | undefined> {
    const row = this.sql('SELECT * FROM card_products WHERE id = ?').get(id) as Row | undefined;
    return row && toProduct(row);
  }

  async listProducts(query: PageQuery): Promise<Page<CardProduct>> {
    return this.page('card_products', [], query, toProduct);
  }

  async insertCard(c: Card, panHash: string): Promise<void> {
    this.insert('cards', cardColumns(c, panHash));
  }

  async getCard(id: string): Promise<Card | undefined> {
    const row = this.sql('SELECT * FROM cards WHERE id = ?').get(id) as Row | undefined;
    return row && toCard(row);
  }

  /** The writer's transactions run one at a time (BEGIN IMMEDIATE): the row is already ours. */
  lockCard(id: string): Promise<Card | undefined> {
    return this.getCard(id);
  }

  async lockScope(): Promise<void> {}

  async panHashUsed(panHash: string): Promise<boolean> {
    return this.sql('SELECT 1 FROM cards WHERE pan_hash = ?').get(panHash) !== undefined;
  }

  async cardsWithPanNotUnderKey(keyId: string, limit: number): Promise<Card[]> {
    const rows = this.sql('SELECT * FROM cards WHERE pan_key_id != ? ORDER BY id LIMIT ?').all(
      keyId,
      limit,
    ) as Row[];
    return rows.map(toCard);
  }

  async updateCardPan(cardId: string, sealed: SealedPan, panHash?: string | null): Promise<void> {
    this.sql(
      `UPDATE cards SET pan_ciphertext = ?, pan_iv = ?, pan_tag = ?, pan_key_id = ?,
        pan_hash = CASE WHEN ? THEN ? ELSE pan_hash END WHERE id = ?`,
    ).run(
      sealed.ciphertext,
      sealed.iv,
      sealed.tag,
      sealed.keyId,
      int(panHash !== undefined),
      panHash ?? null,
      cardId,
    );
  }

  async legacyPans(limit: number): Promise<{ cardId: string; pan: string }[]> {
    const rows = this.sql('SELECT card_id, pan FROM legacy_pans ORDER BY card_id LIMIT ?').all(
      limit,
    ) as Row[];
    return rows.map((row) => ({ cardId: row.card_id as string, pan: row.pan as string }));
  }

  async deleteLegacyPan(cardId: string): Promise<void> {
    this.sql('DELETE FROM legacy_pans WHERE card_id = ?').run(cardId);
  }

  async updateCard(id: string, patch: CardPatch, modifiedTime: string): Promise<void> {
    const entries = Object.entries(patch) as [keyof CardPatch, unknown][];
    const sets = entries.map(([key]) => `${CARD_COLUMNS[key]} = ?`);
    const values = entries.map(([, value]) => storable(value));
    this.sql(`UPDATE cards SET ${[...sets, 'last_modified_time = ?'].join(', ')} WHERE id = ?`).run(
      ...values,
      modifiedTime,
      id,
    );
  }

  async listCards(filter: CardFilter): Promise<Page<Card>> {
    const where: [string, unknown][] = [];
    if (filter.accountId !== undefined) where.push(['account_id = ?', filter.accountId]);
    if (filter.cardStatus !== undefined) where.push(['card_status = ?', filter.cardStatus]);
    return this.page('cards', where, filter, toCard);
  }

  async insertJob(j: Job): Promise<void> {
    this.insert('jobs', jobColumns(j));
  }

  async claimDueJobs(lease: Lease, limit: number): Promise<Job[]> {
    const rows = this.sql(
      `UPDATE jobs SET claim_token = ?, claim_until = ?
       WHERE id IN (SELECT id FROM jobs WHERE status = 'PENDING' AND run_at <= ?
                      AND (claim_until IS NULL OR claim_until <= ?)
                    ORDER BY run_at, id LIMIT ?)
       RETURNING *`,
    ).all(lease.token, lease.until, lease.now, lease.now, limit) as Row[];
    return rows.map(toJob).sort(byRunAt);
  }

  async claimCardJobs(cardId: string, lease: Lease): Promise<Job[]> {
    const rows = this.sql(
      `UPDATE jobs SET claim_token = ?, claim_until = ?
       WHERE card_id = ? AND status = 'PENDING' AND (claim_until IS NULL OR claim_until <= ?)
       RETURNING *`,
    ).all(lease.token, lease.until, cardId, lease.now) as Row[];
    return rows.map(toJob).sort(byRunAt);
  }

  async finishJob(
    id: string,
    token: string,
    status: 'DONE' | 'SKIPPED',
    time: string,
  ): Promise<boolean> {
    const result = this.sql(
      `UPDATE jobs SET status = ?, finished_time = ?, claim_token = NULL, claim_until = NULL
       WHERE id = ? AND status = 'PENDING' AND claim_token = ?`,
    ).run(status, time, id, token);
    return result.changes === 1;
  }

  async insertEvent(e: EventRecord): Promise<void> {
    this.insert('events', eventColumns(e));
  }

  async getEvent(id: string): Promise<EventRecord | undefined> {
    const row = this.sql('SELECT * FROM events WHERE id = ?').get(id) as Row | undefined;
    return row && toEvent(row);
  }

  async listEvents(query: PageQuery & { type?: string | undefined }): Promise<Page<EventRecord>> {
    const where: [string, unknown][] = query.type === undefined ? [] : [['type = ?', query.type]];
    return this.page('events', where, query, toEvent);
  }

  async insertWebhook(w: Webhook): Promise<void> {
    this.insert('webhooks', webhookColumns(w));
  }

  async getWebhook(id: string): Promise<Webhook | undefined> {
    const row = this.sql('SELECT * FROM webhooks WHERE id = ? AND deleted = 0').get(id) as
      Row | undefined;
    return row && toWebhook(row);
  }

  async listWebhooks(query: PageQuery): Promise<Page<Webhook>> {
    return this.page('webhooks', [['deleted = ?', 0]], query, toWebhook);
  }

  async enabledWebhooks(): Promise<Webhook[]> {
    const rows = this.sql(
      'SELECT * FROM webhooks WHERE is_enabled = 1 AND deleted = 0 ORDER BY id',
    ).all() as Row[];
    return rows.map(toWebhook);
  }

  async updateWebhook(w: Webhook): Promise<void> {
    this.sql(
      `UPDATE webhooks SET url = ?, enabled_events = ?, is_enabled = ?, description = ?, secret = ?,
        previous_secret = ?, previous_secret_expires_at = ?, deleted = ? WHERE id = ?`,
    ).run(
      w.url,
      JSON.stringify(w.enabledEvents),
      int(w.isEnabled),
      w.description,
      w.secret,
      w.previousSecret,
      w.previousSecretExpiresAt,
      int(w.deleted),
      w.id,
    );
  }

  async insertDelivery(d: Delivery): Promise<void> {
    this.insert('deliveries', deliveryColumns(d));
  }

  async deliveriesForEvent(eventId: string): Promise<Delivery[]> {
    const rows = this.sql('SELECT * FROM deliveries WHERE event_id = ? ORDER BY id').all(
      eventId,
    ) as Row[];
    return rows.map(toDelivery);
  }

  async leaseDueDeliveries(lease: Lease, limit: number): Promise<Delivery[]> {
    // Read then lease, in the writer's transaction (one at a time): oldest due first, as promised.
    const due = this.sql(
      `SELECT id FROM deliveries WHERE status = 'PENDING' AND next_attempt_at <= ?
       ORDER BY next_attempt_at, id LIMIT ?`,
    ).all(lease.now, limit) as Row[];
    const leaseOne = this.sql(
      'UPDATE deliveries SET next_attempt_at = ?, lease_token = ? WHERE id = ? RETURNING *',
    );
    return due.map((row) => toDelivery(leaseOne.get(lease.until, lease.token, row.id) as Row));
  }

  async finishDeliveryAttempt(
    id: string,
    token: string,
    patch: Pick<Delivery, 'status' | 'attemptCount' | 'nextAttemptAt'>,
    a: Omit<DeliveryAttempt, 'deliveryId' | 'webhookId'>,
  ): Promise<boolean> {
    const row = this.sql(
      `UPDATE deliveries SET status = ?, attempt_count = ?, next_attempt_at = ?, lease_token = NULL
       WHERE id = ? AND lease_token = ? RETURNING webhook_id, event_id`,
    ).get(patch.status, patch.attemptCount, patch.nextAttemptAt, id, token) as Row | undefined;
    if (!row) return false;
    this.sql(
      `INSERT INTO delivery_attempts (delivery_id, webhook_id, event_id, attempt_number,
        attempted_time, status_code, error, duration_ms, response_body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      row.webhook_id,
      row.event_id,
      a.attemptNumber,
      a.attemptedTime,
      a.statusCode,
      a.error,
      a.durationMs,
      a.responseBody,
    );
    return true;
  }

  async attemptsForEvent(eventId: string): Promise<DeliveryAttempt[]> {
    const rows = this.sql('SELECT * FROM delivery_attempts WHERE event_id = ? ORDER BY id').all(
      eventId,
    ) as Row[];
    return rows.map(toAttempt);
  }

  async insertWidgetToken(t: WidgetToken): Promise<void> {
    this.insert('widget_tokens', widgetTokenColumns(t));
  }

  async getWidgetTokenByHash(tokenHash: string): Promise<WidgetToken | undefined> {
    const row = this.sql('SELECT * FROM widget_tokens WHERE token_hash = ?').get(tokenHash) as
      Row | undefined;
    return row && toWidgetToken(row);
  }

  async consumeWidgetToken(id: string, now: number): Promise<boolean> {
    const result = this.sql(
      'UPDATE widget_tokens SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL',
    ).run(now, id);
    return result.changes === 1;
  }

  async recordWidgetTokenFailure(id: string): Promise<number> {
    const row = this.sql(
      'UPDATE widget_tokens SET failures = failures + 1 WHERE id = ? RETURNING failures',
    ).get(id) as Row | undefined;
    return (row?.failures as number | undefined) ?? 0;
  }

  async upsertPin(p: StoredPin): Promise<void> {
    this.sql(
      `INSERT INTO pins (card_id, pin_block, key_id, updated_time) VALUES (?, ?, ?, ?)
       ON CONFLICT (card_id) DO UPDATE SET pin_block = excluded.pin_block,
         key_id = excluded.key_id, updated_time = excluded.updated_time`,
    ).run(p.cardId, p.pinBlock, p.keyId, p.updatedTime);
  }

  async getPin(cardId: string): Promise<StoredPin | undefined> {
    const row = this.sql('SELECT * FROM pins WHERE card_id = ?').get(cardId) as Row | undefined;
    return row && toStoredPin(row);
  }

  async pinsNotUnderKey(keyId: string, limit: number): Promise<StoredPin[]> {
    const rows = this.sql('SELECT * FROM pins WHERE key_id != ? ORDER BY card_id LIMIT ?').all(
      keyId,
      limit,
    ) as Row[];
    return rows.map(toStoredPin);
  }

  async insertPasskey(p: Passkey): Promise<void> {
    this.insert('passkeys', passkeyColumns(p));
  }

  async listPasskeys(customerId: string): Promise<Passkey[]> {
    const rows = this.sql('SELECT * FROM passkeys WHERE customer_id = ? ORDER BY id').all(
      customerId,
    ) as Row[];
    return rows.map(toPasskey);
  }

  async getPasskeyByCredentialId(credentialId: string): Promise<Passkey | undefined> {
    const row = this.sql('SELECT * FROM passkeys WHERE credential_id = ?').get(credentialId) as
      Row | undefined;
    return row && toPasskey(row);
  }

  async recordPasskeyUse(id: string, counter: number, time: string): Promise<void> {
    this.sql('UPDATE passkeys SET counter = ?, last_used_time = ? WHERE id = ?').run(
      counter,
      time,
      id,
    );
  }

  async deletePasskeys(customerId: string, id?: string): Promise<Passkey[]> {
    const rows = this.sql(
      `DELETE FROM passkeys WHERE customer_id = ? AND (? IS NULL OR id = ?) RETURNING *`,
    ).all(customerId, id ?? null, id ?? null) as Row[];
    return rows.map(toPasskey).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async insertWebauthnChallenge(c: WebauthnChallenge): Promise<void> {
    this.insert('webauthn_challenges', webauthnChallengeColumns(c));
  }

  async consumeWebauthnChallenge(
    challenge: string,
    tokenId: string,
    purpose: WebauthnChallenge['purpose'],
    now: number,
  ): Promise<WebauthnChallenge | undefined> {
    const row = this.sql(
      `UPDATE webauthn_challenges SET used_at = ? WHERE challenge = ? AND token_id = ?
        AND purpose = ? AND used_at IS NULL AND expires_at > ? RETURNING *`,
    ).get(now, challenge, tokenId, purpose, now) as Row | undefined;
    return row && toWebauthnChallenge(row);
  }

  async insertPinReveal(r: PinReveal): Promise<void> {
    this.insert('pin_reveals', pinRevealColumns(r));
  }

  async revealWindow(
    since: number,
    limit: number,
    accountId?: string,
  ): Promise<{ count: number; agesOut: number | null }> {
    const scope = accountId === undefined ? '' : 'account_id = ? AND ';
    const args = accountId === undefined ? [since] : [accountId, since];
    const { count } = this.sql(
      `SELECT count(*) AS count FROM pin_reveals WHERE ${scope}revealed_at > ?`,
    ).get(...args) as { count: number };
    if (count < limit) return { count, agesOut: null };
    const row = this.sql(
      `SELECT revealed_at FROM pin_reveals WHERE ${scope}revealed_at > ?
        ORDER BY revealed_at LIMIT 1 OFFSET ?`,
    ).get(...args, count - limit) as Row;
    return { count, agesOut: row.revealed_at as number };
  }

  async pinRevealTimes(cardId: string, since: number): Promise<number[]> {
    const rows = this.sql(
      'SELECT revealed_at FROM pin_reveals WHERE card_id = ? AND revealed_at > ? ORDER BY revealed_at',
    ).all(cardId, since) as Row[];
    return rows.map((row) => row.revealed_at as number);
  }

  async rememberProofId(jti: string, expiresAt: number, now: number): Promise<boolean> {
    this.sql('DELETE FROM dpop_proofs WHERE expires_at < ?').run(now);
    const result = this.sql(
      'INSERT OR IGNORE INTO dpop_proofs (jti, expires_at) VALUES (?, ?)',
    ).run(jti, expiresAt);
    return result.changes === 1;
  }

  async insertIssuerScript(x: IssuerScript): Promise<void> {
    this.insert('issuer_scripts', issuerScriptColumns(x));
  }

  async getIssuerScript(id: string): Promise<IssuerScript | undefined> {
    const row = this.sql('SELECT * FROM issuer_scripts WHERE id = ?').get(id) as Row | undefined;
    return row && toIssuerScript(row);
  }

  async openIssuerScripts(cardId: string): Promise<IssuerScript[]> {
    const rows = this.sql(
      `SELECT * FROM issuer_scripts WHERE card_id = ? AND status IN ('CREATED', 'SENT')
       ORDER BY id`,
    ).all(cardId) as Row[];
    return rows.map(toIssuerScript);
  }

  async issuerScriptIdentifierUsed(cardId: string, scriptIdentifier: string): Promise<boolean> {
    return (
      this.sql('SELECT 1 FROM issuer_scripts WHERE card_id = ? AND script_identifier = ?').get(
        cardId,
        scriptIdentifier,
      ) !== undefined
    );
  }

  async updateIssuerScript(id: string, patch: IssuerScriptPatch): Promise<void> {
    const entries = Object.entries(patch) as [keyof IssuerScriptPatch, unknown][];
    if (entries.length === 0) return;
    const sets = entries.map(([key]) => `${ISSUER_SCRIPT_COLUMNS[key]} = ?`);
    this.sql(`UPDATE issuer_scripts SET ${sets.join(', ')} WHERE id = ?`).run(
      ...entries.map(([, value]) => value),
      id,
    );
  }

  async getChipState(cardId: string): Promise<ChipState | undefined> {
    const row = this.sql('SELECT * FROM virtual_chips WHERE card_id = ?').get(cardId) as
      Row | undefined;
    return row && toChipState(row);
  }

  async upsertChipState(c: ChipState): Promise<void> {
    const row = chipStateColumns(c);
    this.sql(upsertSql('virtual_chips', row, 'card_id', () => '?')).run(
      ...Object.values(row).map(storable),
    );
  }

  async chipsWithPinNotUnderKey(keyId: string, limit: number): Promise<ChipState[]> {
    const rows = this.sql(
      `SELECT * FROM virtual_chips WHERE offline_pin_key_id != ? ORDER BY card_id LIMIT ?`,
    ).all(keyId, limit) as Row[];
    return rows.map(toChipState);
  }

  async insertApiKey(k: ApiKeyRecord): Promise<void> {
    this.insert('api_keys', apiKeyColumns(k));
  }

  async getApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.sql('SELECT * FROM api_keys WHERE key_hash = ?').get(keyHash) as
      Row | undefined;
    return row && toApiKey(row);
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (this.sql('SELECT * FROM api_keys ORDER BY id').all() as Row[]).map(toApiKey);
  }

  async revokeApiKey(id: string, time: string): Promise<boolean> {
    const result = this.sql(
      'UPDATE api_keys SET revoked_time = ? WHERE id = ? AND revoked_time IS NULL',
    ).run(time, id);
    return result.changes === 1;
  }

  async insertAccountTokenKey(k: AccountTokenKey): Promise<void> {
    this.insert('account_token_keys', accountTokenKeyColumns(k));
  }

  async accountTokenKeys(now: number): Promise<AccountTokenKey[]> {
    const rows = this.sql(
      `SELECT * FROM account_token_keys WHERE retires_at IS NULL OR retires_at > ?
       ORDER BY retires_at IS NOT NULL, created_at DESC`,
    ).all(now) as Row[];
    return rows.map(toAccountTokenKey);
  }

  async retireCurrentAccountTokenKey(retiresAt: number): Promise<void> {
    this.sql('UPDATE account_token_keys SET retires_at = ? WHERE retires_at IS NULL').run(
      retiresAt,
    );
  }

  async deleteRetiredAccountTokenKeys(now: number): Promise<void> {
    this.sql('DELETE FROM account_token_keys WHERE retires_at <= ?').run(now);
  }
}

function configure(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  // NORMAL is durable against a process crash (kill -9) in WAL mode; only an OS crash or power
  // loss can drop the last transactions. FULL would fsync every commit.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // Deleted or overwritten content (a settled script's APDU, a legacy PAN, an old PIN block) is
  // zeroed in the file rather than left in free pages.
  db.pragma('secure_delete = ON');
}

/** A transaction waiting for the writer, settled only once its group has committed. */
interface QueuedTransaction {
  /** A checkpoint is a writer turn of its own, between groups. */
  kind: 'transaction' | 'checkpoint';
  work: (tx: Repositories) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** At most this many transactions share one commit (docs/store.md, "Group commit"). */
const MAX_GROUP = 64;

/**
 * The SQLite store: one writer connection and one reader connection that sees only committed
 * data (WAL snapshot), so a read never observes another request's half-done transaction.
 *
 * Writes are group-committed (docs/store.md, "Group commit"): SQLite has one writer, so
 * transactions run one at a time anyway; those that queue up while one runs share its
 * `BEGIN IMMEDIATE … COMMIT`, each inside its own savepoint. A transaction that throws rolls
 * back to its savepoint and leaves the others alone. None is settled before the group's COMMIT
 * has returned: what a caller is told is committed is committed, and a crash before the commit
 * loses only transactions nobody was told about.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly read: Repositories;
  private readonly writes: Repositories;
  private readonly pending: QueuedTransaction[] = [];
  private draining: Promise<void> | undefined;
  private readonly control: Record<
    'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo',
    Database.Statement
  >;
  /** Transactions per commit since the store opened: how much the grouping saves. */
  readonly groupStats = { commits: 0, transactions: 0 };

  private constructor(
    private readonly writer: Database.Database,
    private readonly reader: Database.Database,
  ) {
    this.read = new SqliteRepositories(reader);
    this.writes = new SqliteRepositories(writer);
    this.control = {
      begin: writer.prepare('BEGIN IMMEDIATE'),
      commit: writer.prepare('COMMIT'),
      rollback: writer.prepare('ROLLBACK'),
      savepoint: writer.prepare('SAVEPOINT tx'),
      release: writer.prepare('RELEASE tx'),
      rollbackTo: writer.prepare('ROLLBACK TO tx'),
    };
  }

  static open(file: string): SqliteStore {
    ensurePrivateDir(path.dirname(file));
    // Created 0600 before SQLite opens it: its -wal and -shm files take the database's mode.
    fs.closeSync(fs.openSync(file, 'a', PRIVATE_FILE_MODE));
    for (const suffix of ['', '-wal', '-shm']) restrictFile(file + suffix);
    const writer = new Database(file);
    configure(writer);
    migrate(writer);
    const reader = new Database(file, { readonly: true });
    reader.pragma('busy_timeout = 5000');
    reader.pragma('secure_delete = ON');
    for (const suffix of ['-wal', '-shm']) restrictFile(file + suffix);
    return new SqliteStore(writer, reader);
  }

  checkpoint(): Promise<void> {
    // Not inside a group: the checkpoint runs between commits, as its own writer turn.
    return this.enqueue('checkpoint', async () => {
      this.writer.pragma('wal_checkpoint(TRUNCATE)');
    });
  }

  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
    return this.enqueue('transaction', work);
  }

  private enqueue<T>(
    kind: QueuedTransaction['kind'],
    work: (tx: Repositories) => Promise<T>,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ kind, work, resolve: resolve as (value: unknown) => void, reject });
      // Started on the next microtask: `draining` is set before the drain can ever clear it.
      this.draining ??= Promise.resolve().then(() => this.drain());
    });
  }

  /** Runs the queue as groups of transactions, one commit each, until it is empty. */
  private async drain(): Promise<void> {
    // Cleared in the same turn as the queue is found empty, so no enqueue can slip between.
    for (;;) {
      if (this.pending.length === 0) {
        this.draining = undefined;
        return;
      }
      const first = this.pending[0]!;
      if (first.kind === 'checkpoint') {
        this.pending.shift();
        await first.work(this.writes).then(first.resolve, first.reject);
      } else {
        await this.runGroup();
      }
    }
  }

  private async runGroup(): Promise<void> {
    const settled: (() => void)[] = [];
    const members: QueuedTransaction[] = [];
    this.control.begin.run();
    try {
      while (members.length < MAX_GROUP) {
        // Before committing, one turn of the event loop: requests whose I/O finished in it
        // (a decrypted PIN, a parsed body) join this group instead of waiting for the next.
        if (this.pending.length === 0) await new Promise((resolve) => setImmediate(resolve));
        if (this.pending.length === 0 || this.pending[0]!.kind === 'checkpoint') break;
        const member = this.pending.shift()!;
        members.push(member);
        this.control.savepoint.run();
        try {
          const value = await member.work(this.writes);
          this.control.release.run();
          settled.push(() => member.resolve(value));
        } catch (error) {
          // Some SQLite errors (disk full, I/O) end the whole transaction: then nobody in the
          // group committed, and the group fails below.
          if (!this.writer.inTransaction) throw error;
          this.control.rollbackTo.run();
          this.control.release.run();
          settled.push(() => member.reject(error));
        }
      }
      this.control.commit.run();
    } catch (error) {
      if (this.writer.inTransaction) this.control.rollback.run();
      for (const member of members) member.reject(error);
      return;
    }
    this.groupStats.commits++;
    this.groupStats.transactions += members.length;
    for (const settle of settled) settle();
  }

  async ping(): Promise<void> {
    this.reader.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    while (this.draining) await this.draining;
    this.reader.close();
    this.writer.close();
  }
}
