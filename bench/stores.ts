import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { rotateTransportKey } from '../demo-server/pins/transport-keys.js';
import { startTestCluster } from '../demo-server/testing/postgres.js';
import { BenchPlatform, freePort, pool } from './platform.js';
import { percentile } from './stats.js';
import { setPinBody } from './throughput.js';

/** One backend set-up: SQLite (one process), or PostgreSQL with one or more instances. */
export interface StoreRun {
  label: string;
  backend: 'sqlite' | 'postgres';
  instances: number;
  setPin: { requests: number; ok: number; rps: number; p50Ms: number; p99Ms: number };
  issuance: {
    cards: number;
    cardsPerSec: number;
    transitions: number;
    transitionsPerSec: number;
    seconds: number;
  };
}

export interface StoresOptions {
  setPinRequests: number;
  concurrency: number;
  cards: number;
  issuanceDelayMs: number;
  timeoutMs: number;
  log?: (line: string) => void;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Set-PIN throughput and 10,000-card issuance on each backend (docs/store.md): SQLite, PostgreSQL
 * with one instance, and with two instances on one database behind a round-robin client. The
 * same client (this process, plain HTTP/1.1 keep-alive) drives all three, so the rows compare.
 * On this 2-core machine the instances, PostgreSQL and the client share the two cores.
 */
export async function measureStores(options: StoresOptions): Promise<StoreRun[]> {
  const log = options.log ?? (() => undefined);
  const cluster = await startTestCluster();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-widgets-bench-stores-'));
  try {
    const runs: StoreRun[] = [];
    const setups = [
      { label: 'SQLite', backend: 'sqlite', instances: 1 },
      { label: 'PostgreSQL ×1', backend: 'postgres', instances: 1 },
      { label: 'PostgreSQL ×2', backend: 'postgres', instances: 2 },
    ] as const;
    for (const [index, setup] of setups.entries()) {
      log(`  ${setup.label}…`);
      let databaseUrl: string | undefined;
      if (setup.backend === 'postgres') {
        const name = `bench_${index}`;
        const admin = new pg.Client({ connectionString: cluster.url });
        await admin.connect();
        await admin.query(`CREATE DATABASE ${name}`);
        await admin.end();
        const url = new URL(cluster.url);
        url.pathname = `/${name}`;
        databaseUrl = url.toString();
      }
      runs.push(await measureOne(setup, databaseUrl, work, options, log));
    }
    return runs;
  } finally {
    await cluster.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function measureOne(
  setup: { label: string; backend: 'sqlite' | 'postgres'; instances: number },
  databaseUrl: string | undefined,
  work: string,
  options: StoresOptions,
  log: (line: string) => void,
): Promise<StoreRun> {
  const transportKeys = path.join(work, `${setup.label.replace(/\W+/g, '-')}-keys.json`);
  await rotateTransportKey(transportKeys, 0);
  const ports = await Promise.all(Array.from({ length: setup.instances }, () => freePort()));
  // The keys every instance shares (docs/deployment.md), and one public URL for all of them.
  const env: Record<string, string> = {
    ISSUANCE_DELAY_MS: String(options.issuanceDelayMs),
    SCHEDULER_POLL_MS: '50',
    WIDGET_TOKEN_TTL_S: '3600',
    DEMO_SITE: '0',
    PUBLIC_URL: `http://localhost:${ports[0]}`,
    PIN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    PAN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    PAN_HASH_KEY: randomBytes(32).toString('hex'),
    CHIP_PIN_KEY: randomBytes(32).toString('hex'),
    PIN_TRANSPORT_KEYS_FILE: transportKeys,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
  const instances: BenchPlatform[] = [];
  try {
    // One after the other: the first migrates the database, the next finds it done.
    for (const port of ports) instances.push(await BenchPlatform.start(env, { port }));
    const first = instances[0]!;
    let turn = 0;
    const next = () => instances[turn++ % instances.length]!;

    // ---- set PIN: each request its own single-use token, round-robin over the instances ----
    const product = await first.expect(201, 'POST', '/v1/card_products', {
      name: 'Bench stores',
      form: 'PHYSICAL',
      pin_issuance_policy: 'NOT_REQUIRED',
      allow_bearer_widget_tokens: true,
    });
    const cards = await pool(Array.from({ length: 200 }), 8, async (_, i) => {
      const card = await next().expect(201, 'POST', '/v1/cards', {
        card_product_id: product.id,
        account_id: `acct_stores_${i}`,
      });
      return card.id as string;
    });
    const bodyFor = await setPinBody(first);
    const queue = await pool(Array.from({ length: options.setPinRequests }), 16, async (_, i) => {
      const minted = await next().expect(
        201,
        'POST',
        `/v1/cards/${cards[i % cards.length]}/widget_token`,
        {
          widget_type: 'SET_PIN',
        },
      );
      const token = minted.widget_token as string;
      return { token, body: await bodyFor(token, '3850') };
    });
    const latencies: number[] = [];
    let ok = 0;
    const started = performance.now();
    await pool(queue, options.concurrency, async (item, i) => {
      const target = instances[i % instances.length]!;
      const sent = performance.now();
      const response = await fetch(`${target.loopbackUrl}/v1/widget/pin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${item.token}` },
        body: item.body,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - sent);
      if (response.status === 200) ok++;
    });
    const seconds = (performance.now() - started) / 1000;
    const setPin = {
      requests: queue.length,
      ok,
      rps: ok / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    };
    log(`    set PIN: ${setPin.rps.toFixed(0)}/s (${ok}/${queue.length} ok)`);

    // ---- issuance: RANDOM cards, each with three scheduled transitions ----------------------
    const random = await first.expect(201, 'POST', '/v1/card_products', {
      name: 'Bench stores scale',
      form: 'PHYSICAL',
      pin_issuance_policy: 'RANDOM',
    });
    const doneJobs = await jobCounter(setup.backend, databaseUrl, first);
    const before = await doneJobs.count();
    const issueStarted = performance.now();
    await pool(Array.from({ length: options.cards }), 16, (_, i) =>
      next().expect(201, 'POST', '/v1/cards', {
        card_product_id: random.id,
        account_id: `acct_stores_scale_${i % 1000}`,
      }),
    );
    const created = performance.now();
    const transitions = options.cards * 3;
    const deadline = issueStarted + options.timeoutMs;
    let finished = 0;
    while (performance.now() < deadline) {
      if ((await doneJobs.count()) - before >= transitions) {
        finished = performance.now();
        break;
      }
      await wait(100);
    }
    await doneJobs.close();
    if (!finished)
      throw new Error(`${setup.label}: transitions not done in ${options.timeoutMs} ms`);
    const firstDue = issueStarted + options.issuanceDelayMs;
    const issuance = {
      cards: options.cards,
      cardsPerSec: options.cards / ((created - issueStarted) / 1000),
      transitions,
      transitionsPerSec: transitions / ((finished - firstDue) / 1000),
      seconds: (finished - issueStarted) / 1000,
    };
    log(
      `    ${options.cards} cards: ${issuance.cardsPerSec.toFixed(0)}/s created, ${issuance.transitionsPerSec.toFixed(0)} transitions/s`,
    );
    return { ...setup, setPin, issuance };
  } finally {
    await Promise.all(instances.map((instance) => instance.stop()));
  }
}

/** Finished jobs, counted in the database itself (no API load while the scheduler runs). */
async function jobCounter(
  backend: 'sqlite' | 'postgres',
  databaseUrl: string | undefined,
  first: BenchPlatform,
) {
  const sql = `SELECT count(*) AS n FROM jobs WHERE status = 'DONE'`;
  if (backend === 'sqlite') {
    const db = new Database(path.join(first.dataDir, 'pin-widgets.db'), { readonly: true });
    const statement = db.prepare(sql);
    return {
      count: async () => (statement.get() as { n: number }).n,
      close: async () => db.close(),
    };
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return {
    count: async () => Number((await client.query<{ n: string }>(sql)).rows[0]!.n),
    close: () => client.end(),
  };
}
