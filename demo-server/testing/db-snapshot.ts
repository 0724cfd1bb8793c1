import Database from 'better-sqlite3';

/** Every row of every table, in rowid order: what "no state change" is checked against. */
export type DatabaseSnapshot = Record<string, Record<string, unknown>[]>;

/**
 * Reads the committed state of a platform's SQLite file through its own read-only connection
 * (WAL: it sees exactly what was committed, never a half-done transaction).
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
