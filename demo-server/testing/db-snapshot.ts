import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { pgTypes } from '../store/postgres/store.js';

/** Every row of every table, in a stable order: what "no state change" is checked against. */
export type DatabaseSnapshot = Record<string, Record<string, unknown>[]>;

/**
 * Reads the committed state of a platform's SQLite file through its own read-only connection
 * (WAL: it sees exactly what was committed, never a half-done transaction). SQLite only, and
 * synchronous: the crash harness's reader. Tests that run on both backends use `TestDatabase`.
 */
export class DatabaseReader {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
  }

  tables(): string[] {
    return (
      this.db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .all() as { name: string }[]
    ).map((row) => row.name);
  }

  snapshot(): DatabaseSnapshot {
    const snapshot: DatabaseSnapshot = {};
    for (const table of this.tables()) {
      snapshot[table] = this.db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).all() as Record<
        string,
        unknown
      >[];
    }
    return snapshot;
  }

  rows<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[] {
    return this.db.prepare(sql).all(...params) as T[];
  }

  close(): void {
    this.db.close();
  }
}

/** An event as stored, its data parsed. */
export interface StoredEvent {
  id: string;
  type: string;
  data: Record<string, any>;
}

/**
 * A test's view of a platform's database from outside the platform, on either backend: the
 * committed rows (read as another process would), a few direct writes to stage states no API
 * reaches, and the bytes at rest. SQL passed to `rows`/`run` must be portable (SQLite and
 * PostgreSQL): `?` placeholders, no rowid. Flags read back as 0/1 on SQLite and booleans on
 * PostgreSQL; counts and times are numbers on both.
 */
export interface TestDatabase {
  readonly kind: 'sqlite' | 'postgres';
  /** The application's tables, by name. */
  tables(): Promise<string[]>;
  /** A table's column names, in order. */
  columns(table: string): Promise<string[]>;
  /** Every row of every table, each table in a stable order (SQLite rowid, PostgreSQL key). */
  snapshot(): Promise<DatabaseSnapshot>;
  rows<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** A write outside the platform (staging an expired token, …); returns the rows changed. */
  run(sql: string, ...params: unknown[]): Promise<number>;
  /** Events (all, or of one type) in the order they were written. */
  events(type?: string): Promise<StoredEvent[]>;
  /**
   * What a stolen disk or a backup would hold of this database, as named byte images. SQLite:
   * the database file and its journal (the WAL is always among them, or this throws: a search
   * that skipped it could not fail). PostgreSQL: after a CHECKPOINT, the files of every table,
   * index and TOAST relation of the platform's schema, when the cluster's data directory is
   * readable here, and always a plain-text dump of every row (TOAST may compress what the
   * relation files hold).
   */
  images(): Promise<{ name: string; bytes: Buffer }[]>;
  close(): Promise<void>;
}

/** The SQLite file of a platform: a read-only connection, and a writer opened on first `run`. */
export function sqliteTestDatabase(file: string): TestDatabase {
  let reader: DatabaseReader | undefined;
  let writer: Database.Database | undefined;
  const read = () => (reader ??= new DatabaseReader(file));
  return {
    kind: 'sqlite',
    async tables() {
      return read().tables();
    },
    async columns(table) {
      return read()
        .rows<{ name: string }>(`PRAGMA table_info("${table}")`)
        .map((column) => column.name);
    },
    async snapshot() {
      return read().snapshot();
    },
    async rows<T>(sql: string, ...params: unknown[]) {
      return read().rows<T>(sql, ...params);
    },
    async run(sql, ...params) {
      if (!writer) {
        writer = new Database(file, { fileMustExist: true });
        writer.pragma('busy_timeout = 5000');
      }
      return writer.prepare(sql).run(...params).changes;
    },
    async events(type) {
      const rows = read().rows<{ id: string; type: string; data: string }>(
        `SELECT id, type, data FROM events ${type === undefined ? '' : 'WHERE type = ?'} ORDER BY rowid`,
        ...(type === undefined ? [] : [type]),
      );
      return rows.map((row) => ({ ...row, data: JSON.parse(row.data) as Record<string, any> }));
    },
    async images() {
      const dir = path.dirname(file);
      const base = path.basename(file);
      const names = fs.readdirSync(dir).filter((name) => name.startsWith(base));
      if (!names.includes(`${base}-wal`)) {
        throw new Error(`${base}-wal is missing: the check would not cover the journal`);
      }
      return names.map((name) => ({ name, bytes: fs.readFileSync(path.join(dir, name)) }));
    },
    async close() {
      reader?.close();
      writer?.close();
    },
  };
}

/** `?` placeholders to PostgreSQL's `$1, $2, …` (outside quoted literals and identifiers). */
function numbered(sql: string): string {
  let n = 0;
  let quote: string | undefined;
  let out = '';
  for (const char of sql) {
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '?') {
      out += `$${++n}`;
      continue;
    }
    out += char;
  }
  return out;
}

/** One schema of the test cluster, read and written through a small pool of its own. */
export function postgresTestDatabase(url: string, schema: string): TestDatabase {
  const pool = new pg.Pool({
    connectionString: url,
    max: 2,
    types: pgTypes,
    options: `-c search_path=${schema}`,
  });
  pool.on('error', () => undefined);
  const query = async <T>(sql: string, params: unknown[] = []) =>
    (await pool.query(numbered(sql), params)).rows as T[];

  const tables = async () =>
    (
      await query<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables
         WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name`,
        [schema],
      )
    ).map((row) => row.name);

  const primaryKey = async (table: string) =>
    (
      await query<{ name: string }>(
        `SELECT a.attname AS name
         FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = ?::regclass AND i.indisprimary
         ORDER BY array_position(i.indkey, a.attnum)`,
        [`${schema}.${table}`],
      )
    ).map((row) => `"${row.name}"`);

  let snapshotSql: string | undefined;

  return {
    kind: 'postgres',
    tables,
    async columns(table) {
      return (
        await query<{ name: string }>(
          `SELECT column_name AS name FROM information_schema.columns
           WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position`,
          [schema, table],
        )
      ).map((row) => row.name);
    },
    async snapshot() {
      // One round trip for every table (bad-input takes two snapshots per case): each table's
      // rows as JSON, ordered by its primary key. The statement is built once, as the tables
      // do not change under a running platform.
      snapshotSql ??= await (async () => {
        const columns: string[] = [];
        for (const table of await tables()) {
          const key = await primaryKey(table);
          const order = key.length ? ` ORDER BY ${key.map((k) => `t.${k}`).join(', ')}` : '';
          columns.push(
            `(SELECT coalesce(json_agg(t${order}), '[]') FROM "${table}" t) AS "${table}"`,
          );
        }
        return `SELECT ${columns.join(', ')}`;
      })();
      const [row] = await query<DatabaseSnapshot>(snapshotSql);
      return row ?? {};
    },
    async rows<T>(sql: string, ...params: unknown[]) {
      return query<T>(sql, params);
    },
    async run(sql, ...params) {
      return (await pool.query(numbered(sql), params)).rowCount ?? 0;
    },
    async events(type) {
      return query<StoredEvent>(
        `SELECT id, type, data FROM events ${type === undefined ? '' : 'WHERE type = ?'} ORDER BY seq`,
        type === undefined ? [] : [type],
      );
    },
    async images() {
      const images: { name: string; bytes: Buffer }[] = [];
      const dump: string[] = [];
      for (const table of await tables()) {
        const rows = await query<{ row: string }>(`SELECT t::text AS row FROM "${table}" t`);
        dump.push(`-- ${table}`, ...rows.map((r) => r.row));
      }
      images.push({ name: `rows of ${schema}`, bytes: Buffer.from(dump.join('\n')) });
      let dir: string;
      try {
        // Both need a superuser: the suite's own cluster has one; a server given by URL may not.
        await pool.query('CHECKPOINT');
        [{ dir } = { dir: '' }] = await query<{ dir: string }>(
          `SELECT current_setting('data_directory') AS dir`,
        );
      } catch {
        return images;
      }
      if (!dir || !fs.existsSync(dir)) return images;
      // The schema's relations, their TOAST tables and the TOAST tables' indexes.
      const files = await query<{ name: string; file: string }>(
        `WITH own AS (
           SELECT c.oid, c.relname, c.reltoastrelid FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = ? AND c.relkind IN ('r', 'i', 'S')),
         toast AS (
           SELECT t.oid, own.relname || ' (TOAST)' AS relname FROM own
           JOIN pg_class t ON t.oid = own.reltoastrelid),
         toast_index AS (
           SELECT i.indexrelid AS oid, toast.relname || ' index' AS relname FROM toast
           JOIN pg_index i ON i.indrelid = toast.oid)
         SELECT relname AS name, pg_relation_filepath(oid) AS file FROM (
           SELECT oid, relname FROM own UNION ALL SELECT oid, relname FROM toast
           UNION ALL SELECT oid, relname FROM toast_index) relations
         WHERE pg_relation_filepath(oid) IS NOT NULL`,
        [schema],
      );
      for (const { name, file } of files) {
        // A relation over 1 GB continues in `<file>.1`, `<file>.2`, …
        for (let segment = 0; ; segment++) {
          const full = path.join(dir, segment === 0 ? file : `${file}.${segment}`);
          if (!fs.existsSync(full)) break;
          // An empty relation (no row ever written) has an empty file: nothing to search.
          if (fs.statSync(full).size === 0) continue;
          images.push({ name: `${name} (${file})`, bytes: fs.readFileSync(full) });
        }
      }
      return images;
    },
    async close() {
      await pool.end();
    },
  };
}
/**
 * What changed between two snapshots, one line per changed row (empty when nothing did).
 * `ignore` lists columns per table whose changes are expected (e.g. a token's failure counter).
 */
export function snapshotDiff(
  before: DatabaseSnapshot,
  after: DatabaseSnapshot,
  ignore: Record<string, readonly string[]> = {},
): string[] {
  const differences: string[] = [];
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const skip = new Set(ignore[table] ?? []);
    const strip = (row: Record<string, unknown>) =>
      JSON.stringify(Object.entries(row).filter(([column]) => !skip.has(column)));
    const was = (before[table] ?? []).map(strip);
    const now = (after[table] ?? []).map(strip);
    if (was.length !== now.length) {
      differences.push(`${table}: ${was.length} rows → ${now.length} rows`);
      continue;
    }
    now.forEach((row, index) => {
      if (row !== was[index]) differences.push(`${table}[${index}]: ${was[index]} → ${row}`);
    });
  }
  return differences;
}
