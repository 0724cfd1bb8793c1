import { createHash, generateKeyPairSync } from 'node:crypto';
import { CompactEncrypt, type JWK, importJWK } from 'jose';
import { runLoad } from './load-client.js';
import { ALL_CPUS, BenchPlatform, CLIENT_CPU, SERVER_CPU, pinSelf, pool } from './platform.js';
import { percentile } from './stats.js';

export interface LoadLevel {
  concurrency: number;
  requests: number;
  ok: number;
  failed: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU time / wall time during the run: how many cores the server used. */
  serverCores: number;
  /** The same for the load generator (this process). */
  clientCores: number;
  /** First request sent and last answer, on the monotonic clock in µs (a CPU profile's time). */
  windowUs: [number, number];
}

export interface ThroughputResult {
  setPin: LoadLevel[];
  reveal: LoadLevel[];
  /**
   * The same set-PIN request with an unknown token: HTTP, JSON parsing, schema validation and
   * one token lookup, then a 401. The floor of the work around the crypto.
   */
  refused: LoadLevel | undefined;
}

export interface ThroughputOptions {
  levels: readonly number[];
  /** Requests per level, per concurrency (more connections need more requests to settle). */
  requestsFor: (concurrency: number) => number;
  cards: number;
  /**
   * Requests of each endpoint sent at 8 in flight before its first measured level, not measured
   * (default 1,000): the JIT compiles the route's code in them, on V8's own threads, and that
   * one-off cost would otherwise land on the first level alone.
   */
  warmUpRequests?: number;
  /** Also measure the refused-request floor (default true). */
  refusedFloor?: boolean;
  /** Which endpoints to load (default both). */
  endpoints?: readonly ('setPin' | 'reveal')[];
  env?: Record<string, string>;
  /** Pin the server to these CPUs (taskset list, e.g. "0"); the load generator gets the rest. */
  serverCpus?: string;
  clientCpus?: string;
  log?: (line: string) => void;
}

const sessionTag = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * What the widget sends to set a PIN, for one token: `{ encrypted_pin }`, a JWE to the
 * platform's published key with that token's `wst`. Made before a timed run, never in it.
 */
export async function setPinBody(platform: BenchPlatform) {
  const jwks = await platform.expect(200, 'GET', '/v1/pin_keys');
  const platformJwk = jwks.keys[0] as JWK & { kid: string };
  const platformKey = await importJWK(platformJwk, 'ECDH-ES');
  const encoder = new TextEncoder();
  return async (token: string, pin: string): Promise<string> =>
    JSON.stringify({
      encrypted_pin: await new CompactEncrypt(encoder.encode(JSON.stringify({ pin })))
        .setProtectedHeader({
          alg: 'ECDH-ES',
          enc: 'A256GCM',
          kid: platformJwk.kid,
          wst: sessionTag(token),
        })
        .encrypt(platformKey),
    });
}

/** Mints `count` single-use widget tokens, round-robin over `cards`, through the API. */
async function mintTokens(
  platform: BenchPlatform,
  cards: readonly string[],
  type: 'SET_PIN' | 'REVEAL_PIN',
  count: number,
): Promise<{ cardId: string; token: string }[]> {
  return pool(Array.from({ length: count }), 16, async (_, index) => {
    const cardId = cards[index % cards.length]!;
    const minted = await platform.expect(201, 'POST', `/v1/cards/${cardId}/widget_token`, {
      widget_type: type,
    });
    return { cardId, token: minted.widget_token as string };
  });
}

/** PINs that pass the policy: never weak, never a bench card’s last four (those are 000x). */
function pinFor(index: number): string {
  const candidates = ['3850', '7291', '4619', '5082', '9317', '2746'];
  return candidates[index % candidates.length]!;
}

/** Set-PIN or reveal requests, each with its own single-use token. */
type Queue = { token: string; body: string }[];

/**
 * Loads one endpoint with a pre-built queue of bodies and tokens (each request consumes its own
 * single-use token), and measures the server's CPU while it runs.
 */
async function load(
  platform: BenchPlatform,
  path: string,
  concurrency: number,
  queue: Queue,
  expectedStatus = 200,
): Promise<LoadLevel> {
  const cpuBefore = platform.cpuMs();
  const run = await runLoad(
    { host: '127.0.0.1', port: platform.port },
    concurrency,
    queue.map(({ token, body }) => ({
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    })),
  );
  const cpuMs = platform.cpuMs() - cpuBefore;
  const ok = run.statuses.get(expectedStatus) ?? 0;
  return {
    concurrency,
    requests: queue.length,
    ok,
    failed: queue.length - ok,
    rps: ok / (run.wallMs / 1000),
    p50Ms: Math.round(percentile(run.latenciesMs, 50)),
    p99Ms: Math.round(percentile(run.latenciesMs, 99)),
    serverCores: cpuMs / run.wallMs,
    clientCores: run.clientCores,
    windowUs: run.windowUs,
  };
}

/** The platform's settings for a load: no quota, expiry or issuance may be what it measures. */
const LOAD_ENV = {
  ISSUANCE_DELAY_MS: '3600000',
  WIDGET_TOKEN_TTL_S: '3600',
  REVEAL_LIMIT_PER_HOUR: '10000',
  // The bench reveals thousands of times in minutes.
  REVEAL_LIMIT_PER_ACCOUNT_PER_HOUR: '100000',
  REVEAL_LIMIT_TOTAL_PER_HOUR: '10000000',
};

/** `count` ACTIVE cards on a bearer-token product, one account each, with no webhooks. */
async function activeCards(platform: BenchPlatform, count: number): Promise<string[]> {
  await platform.unsubscribeAll();
  const product = await platform.expect(201, 'POST', '/v1/card_products', {
    name: 'Bench debit',
    form: 'PHYSICAL',
    pin_issuance_policy: 'NOT_REQUIRED',
    allow_bearer_widget_tokens: true,
  });
  return pool(Array.from({ length: count }), 8, async (_, index) => {
    const body15 = `4000001${String(index).padStart(7, '0')}0`.slice(0, 15);
    const card = await platform.expect(201, 'POST', '/v1/cards', {
      card_product_id: product.id,
      account_id: `acct_bench_${index}`,
      pan: withLuhn(body15),
    });
    await platform.expect(200, 'PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
    return card.id as string;
  });
}

/** Makes set-PIN queues: each request with its own minted token and its own JWE. */
async function setPinQueueFor(platform: BenchPlatform, cards: readonly string[]) {
  const bodyFor = await setPinBody(platform);
  return async (count: number) => {
    const tokens = await mintTokens(platform, cards, 'SET_PIN', count);
    return Promise.all(
      tokens.map(async ({ token }, index) => ({
        token,
        body: await bodyFor(token, pinFor(index)),
      })),
    );
  };
}

export interface CoreScaling {
  concurrency: number;
  workers: number;
  /** One load per round each, in turn, so the machine's drift falls on all three alike. */
  oneCore: LoadLevel[];
  oneCoreSameWorkers: LoadLevel[];
  bothCores: LoadLevel[];
}

/**
 * What the second core adds to set PIN. Two servers run side by side, each idle while the
 * other is loaded: the default one pinned to core 0 (no JOSE worker there), and one with
 * `workers` JOSE worker threads. Each round loads the first, then the second pinned to core 0
 * (all its threads), then the second on both cores, with the load generator beside it. A
 * machine whose speed drifts from minute to minute (this VM's does, by ±20 %) moves all three
 * series alike; the medians are what the report compares.
 */
export async function measureCoreScaling(options: {
  concurrency: number;
  requests: number;
  rounds: number;
  cards: number;
  workers: number;
  log?: (line: string) => void;
}): Promise<CoreScaling> {
  const log = options.log ?? (() => undefined);
  const inline = await BenchPlatform.start(LOAD_ENV, { cpus: SERVER_CPU });
  const workers = await BenchPlatform.start({
    ...LOAD_ENV,
    CRYPTO_WORKERS: String(options.workers),
  });
  const result: CoreScaling = {
    concurrency: options.concurrency,
    workers: options.workers,
    oneCore: [],
    oneCoreSameWorkers: [],
    bothCores: [],
  };
  try {
    const count = options.requests + options.concurrency;
    const queues = await Promise.all(
      [inline, workers].map(async (platform) => {
        const next = await setPinQueueFor(platform, await activeCards(platform, options.cards));
        // First a short unmeasured load (the JIT's and SQLite's first-run costs), then the
        // rounds: the workers' server is loaded twice per round, on one core and on both.
        const rounds = [await next(Math.ceil(count / 4))];
        const perRound = platform === inline ? 1 : 2;
        for (let i = 0; i < options.rounds * perRound; i++) rounds.push(await next(count));
        return rounds;
      }),
    );
    const [[inlineWarmUp, ...inlineQueues], [workersWarmUp, ...workerQueues]] = queues as [
      Queue[],
      Queue[],
    ];
    await load(inline, '/v1/widget/pin', options.concurrency, inlineWarmUp!);
    await load(workers, '/v1/widget/pin', options.concurrency, workersWarmUp!);
    const run = async (
      platform: BenchPlatform,
      queue: Queue,
      series: LoadLevel[],
      label: string,
      oneCore: boolean,
    ) => {
      if (oneCore) pinSelf(CLIENT_CPU);
      try {
        const level = await load(platform, '/v1/widget/pin', options.concurrency, queue);
        series.push(level);
        log(
          `  ${label}: ${level.rps.toFixed(0)}/s, server ${level.serverCores.toFixed(2)} cores, ${level.failed} failed`,
        );
      } finally {
        if (oneCore) pinSelf(ALL_CPUS);
      }
    };
    for (let round = 0; round < options.rounds; round++) {
      log(`  round ${round + 1} of ${options.rounds}`);
      await run(inline, inlineQueues[round]!, result.oneCore, 'one core, default', true);
      workers.pin(SERVER_CPU);
      try {
        await run(
          workers,
          workerQueues[2 * round]!,
          result.oneCoreSameWorkers,
          'one core, same workers',
          true,
        );
      } finally {
        workers.pin(ALL_CPUS);
      }
      await run(workers, workerQueues[2 * round + 1]!, result.bothCores, 'both cores', false);
    }
    return result;
  } finally {
    await Promise.all([inline.stop(), workers.stop()]);
  }
}

/**
 * Set-PIN and reveal throughput and latency of the real server (its own process) over loopback,
 * at several concurrency levels, driven by bench/load-client.ts in this process.
 */
export async function measureThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const log = options.log ?? (() => undefined);
  const platform = await BenchPlatform.start(
    { ...LOAD_ENV, ...options.env },
    options.serverCpus === undefined ? {} : { cpus: options.serverCpus },
  );
  if (options.clientCpus !== undefined) pinSelf(options.clientCpus);
  try {
    const cards = await activeCards(platform, options.cards);
    const setPinQueue = await setPinQueueFor(platform, cards);

    const endpoints = options.endpoints ?? ['setPin', 'reveal'];
    const warmUp = options.warmUpRequests ?? 1000;
    const setPin: LoadLevel[] = [];
    if (endpoints.includes('setPin') && warmUp > 0) {
      await load(platform, '/v1/widget/pin', 8, await setPinQueue(warmUp));
    }
    for (const concurrency of endpoints.includes('setPin') ? options.levels : []) {
      const queue = await setPinQueue(options.requestsFor(concurrency) + concurrency);
      const level = await load(platform, '/v1/widget/pin', concurrency, queue);
      log(
        `  set PIN   c=${concurrency}: ${level.rps.toFixed(0)}/s, p50 ${level.p50Ms} ms, p99 ${level.p99Ms} ms, ${level.failed} failed, server ${level.serverCores.toFixed(2)} cores, client ${level.clientCores.toFixed(2)}`,
      );
      setPin.push(level);
    }

    let refused: LoadLevel | undefined;
    if (endpoints.includes('setPin') && options.refusedFloor !== false) {
      const body = JSON.stringify({ encrypted_pin: 'e'.repeat(400) });
      const count = options.requestsFor(8) + 8;
      const queue = Array.from({ length: count }, (_, index) => ({
        token: `wt_unknown_${index}`,
        body,
      }));
      refused = await load(platform, '/v1/widget/pin', 8, queue, 401);
      log(
        `  refused   c=8: ${refused.rps.toFixed(0)}/s, server ${refused.serverCores.toFixed(2)} cores`,
      );
    }

    const revealKeys = Array.from({ length: 16 }, () => {
      const { kty, crv, x, y } = generateKeyPairSync('ec', {
        namedCurve: 'P-256',
      }).publicKey.export({ format: 'jwk' }) as Record<string, string>;
      return { kty, crv, x, y };
    });
    const revealQueue = async (count: number) =>
      (await mintTokens(platform, cards, 'REVEAL_PIN', count)).map(({ token }, index) => ({
        token,
        body: JSON.stringify({ public_key: revealKeys[index % revealKeys.length] }),
      }));
    const reveal: LoadLevel[] = [];
    if (endpoints.includes('reveal') && warmUp > 0) {
      await load(platform, '/v1/widget/pin/reveal', 8, await revealQueue(warmUp));
    }
    for (const concurrency of endpoints.includes('reveal') ? options.levels : []) {
      const queue = await revealQueue(options.requestsFor(concurrency) + concurrency);
      const level = await load(platform, '/v1/widget/pin/reveal', concurrency, queue);
      log(
        `  reveal    c=${concurrency}: ${level.rps.toFixed(0)}/s, p50 ${level.p50Ms} ms, p99 ${level.p99Ms} ms, ${level.failed} failed, server ${level.serverCores.toFixed(2)} cores`,
      );
      reveal.push(level);
    }
    return { setPin, reveal, refused };
  } finally {
    if (options.clientCpus !== undefined) pinSelf(ALL_CPUS);
    await platform.stop();
  }
}

function withLuhn(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let digit = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return body + String((10 - (sum % 10)) % 10);
}
