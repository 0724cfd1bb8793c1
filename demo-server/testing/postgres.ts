import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { inject } from 'vitest';
import { pgTypes } from '../store/postgres/store.js';
import { freePort } from './server-process.js';

const run = promisify(execFile);

/**
 * A throwaway PostgreSQL cluster for the test run (docs/store.md: the suite starts its own, never a
 * system one): `initdb` into a fresh temp folder, trust authentication, listening on 127.0.0.1
 * only, on a free port, its socket in that folder. Durability is off (`fsync`, synchronous
 * commit, full-page writes): a crash loses a test database, nothing else.
 */
export interface TestCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, superuser, no password (trust). */
  url: string;
  /** The cluster's data directory (tests read relation files from it, as a stolen disk would). */
  dataDir: string;
  stop(): Promise<void>;
}

/** The newest `/usr/lib/postgresql/<major>/bin` (Debian's layout), else whatever PATH has. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  const majors = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((name) => fs.existsSync(path.join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors[0] !== undefined) return path.join(root, majors[0], 'bin');
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, 'initdb'))) return dir;
  }
  return undefined;
}

/**
 * PostgreSQL refuses to run as root: then the cluster belongs to, and runs as, the `postgres`
 * OS user (Debian's package creates it).
 */
function asClusterUser(): { uid: number; gid: number; wrap: (cmd: string[]) => string[] } {
  if (process.getuid?.() !== 0) {
    return { uid: -1, gid: -1, wrap: (cmd) => cmd };
  }
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
  let uid: number;
  let gid: number;
  try {
    [uid, gid] = [id('-u'), id('-g')];
  } catch {
    throw new Error(
      'The test PostgreSQL cannot run as root and there is no "postgres" user: install the Debian package (bash scripts/ensure-postgresql.sh) or run the tests as another user',
    );
  }
  return {
    uid,
    gid,
    wrap: (cmd) => ['runuser', '-u', 'postgres', '--', ...cmd],
  };
}

/** Runs in `cwd` (the cluster's folder): the cluster's user may not enter the caller's. */
async function exec(cmd: string[], cwd: string): Promise<void> {
  const [file, ...args] = cmd as [string, ...string[]];
  await run(file, args, { encoding: 'utf8', cwd });
}

export async function startTestCluster(): Promise<TestCluster> {
  const bin = postgresBinDir();
  if (!bin) {
    throw new Error(
      'PostgreSQL not found (no initdb under /usr/lib/postgresql/*/bin or on PATH): run `bash scripts/ensure-postgresql.sh`',
    );
  }
  const user = asClusterUser();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-widgets-pg-'));
  const dataDir = path.join(root, 'data');
  const log = path.join(root, 'postgres.log');
  if (user.uid >= 0) fs.chownSync(root, user.uid, user.gid);
  // When the run ends without its teardown (an uncaught error, Ctrl-C), the cluster goes too.
  const stopSync = () => {
    const [file, ...args] = user.wrap([
      path.join(bin, 'pg_ctl'),
      '-D',
      dataDir,
      'stop',
      '-m',
      'immediate',
    ]) as [string, ...string[]];
    try {
      if (fs.existsSync(path.join(dataDir, 'postmaster.pid'))) {
        execFileSync(file, args, { stdio: 'ignore', cwd: root });
      }
    } catch {
      // not running
    }
    fs.rmSync(root, { recursive: true, force: true });
  };
  try {
    await exec(
      user.wrap([
        path.join(bin, 'initdb'),
        '-D',
        dataDir,
        '-U',
        'postgres',
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]),
      root,
    );
    const settings = [
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${root}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      // Every test platform has its own pool, and test files run in parallel.
      'max_connections = 300',
      // The deadlock test waits this long for the server to pick a victim.
      `deadlock_timeout = '100ms'`,
      `log_min_messages = 'warning'`,
    ];
    fs.appendFileSync(path.join(dataDir, 'postgresql.conf'), `\n${settings.join('\n')}\n`);
    // A port taken between freePort() and the server's bind: try another.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        await exec(
          user.wrap([
            path.join(bin, 'pg_ctl'),
            '-D',
            dataDir,
            '-l',
            log,
            '-w',
            '-t',
            '60',
            '-o',
            `-p ${port}`,
            'start',
          ]),
          root,
        );
        process.once('exit', stopSync);
        return {
          url: `postgres://postgres@127.0.0.1:${port}/postgres`,
          dataDir,
          async stop() {
            process.off('exit', stopSync);
            await exec(
              user.wrap([path.join(bin, 'pg_ctl'), '-D', dataDir, 'stop', '-m', 'fast', '-w']),
              root,
            ).catch(() => undefined);
            fs.rmSync(root, { recursive: true, force: true });
          },
        };
      } catch (error) {
        if (attempt >= 3) {
          const output = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
          throw new Error(`the test PostgreSQL did not start:\n${output}`, { cause: error });
        }
      }
    }
  } catch (error) {
    stopSync();
    throw error;
  }
}

/** The run's test cluster (provided by testing/postgres-setup.ts), when there is one. */
export function testPostgresUrl(): string | undefined {
  return inject('postgresUrl');
}

/** One admin pool per test process, for creating and dropping schemas. */
let admin: { url: string; pool: pg.Pool } | undefined;

function adminPool(url: string): pg.Pool {
  if (admin?.url !== url) {
    const pool = new pg.Pool({ connectionString: url, max: 2, types: pgTypes });
    pool.on('error', () => undefined);
    admin = { url, pool };
  }
  return admin.pool;
}

export interface TestSchema {
  /** A fresh, empty schema (`t_<random>`): the PostgresStore of one test platform migrates it. */
  name: string;
  /**
   * The cluster's URL with this schema as every connection's search_path
   * (`?options=-c search_path=…`): a DATABASE_URL for this schema alone.
   */
  url: string;
  drop(): Promise<void>;
}

/** A schema of its own for one test platform or suite, dropped (with everything in it) after. */
export async function createTestSchema(url: string): Promise<TestSchema> {
  const name = `t_${randomBytes(8).toString('hex')}`;
  const pool = adminPool(url);
  await pool.query(`CREATE SCHEMA ${name}`);
  const scoped = new URL(url);
  scoped.searchParams.set('options', `-c search_path=${name}`);
  return {
    name,
    url: scoped.toString(),
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    },
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test cluster of the `postgres` project (testing/postgres-setup.ts); unset elsewhere. */
    postgresUrl: string;
  }
}
