import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { measureCryptoLimits, meanLimits } from './crypto-limits.js';
import { describeMachine } from './machine.js';
import { ALL_CPUS, CLIENT_CPU, ROOT, SERVER_CPU, pinSelf } from './platform.js';
import { type BenchResults, renderReport } from './report.js';
import { measureScale } from './scale.js';
import { measureSizes } from './size.js';
import { measureStores } from './stores.js';
import { measureCoreScaling, measureThroughput } from './throughput.js';
import { LOCALHOST, SLOW_4G, measureTti } from './tti.js';

/**
 * `npm run bench` (after `npm run build`): size, time to interactive, throughput next to the
 * crypto limit, and scale; prints a Markdown table and writes it to bench/results.md.
 */
const prettierConfig = (await resolveConfig(path.join(ROOT, 'bench/results.md'))) ?? {};
const log = (line: string) => process.stderr.write(`${line}\n`);
const startedAt = new Date();
const started = performance.now();

execFileSync('bash', [path.join(ROOT, 'scripts/ensure-chromium.sh')], { stdio: 'inherit' });
const machine = describeMachine();

log('Size…');
const size = measureSizes();

log('Time to interactive (headless Chromium)…');
const tti = await measureTti({
  mounts: 20,
  widgets: ['set-pin', 'reveal-pin'],
  profiles: [LOCALHOST, SLOW_4G],
  log,
});

/** The crypto floors, on the server's core, with the server stopped. */
const cryptoLimits = async () => {
  pinSelf(SERVER_CPU);
  try {
    return await measureCryptoLimits();
  } finally {
    pinSelf(ALL_CPUS);
  }
};
log('Crypto limits (one core), before the loads…');
const cryptoBefore = await cryptoLimits();

log('Throughput (server on core 0, the load generator on core 1)…');
const throughput = await measureThroughput({
  levels: [1, 8, 32],
  requestsFor: (concurrency) => (concurrency === 1 ? 1500 : 4000),
  cards: 200,
  serverCpus: SERVER_CPU,
  clientCpus: CLIENT_CPU,
  log,
});

log('Crypto limits (one core), after the loads…');
const cryptoAfter = await cryptoLimits();
const crypto = meanLimits(cryptoBefore, cryptoAfter);

log('Set PIN on one core and on both, in turn (JOSE worker threads)…');
const coreScaling = await measureCoreScaling({
  concurrency: 32,
  requests: 4000,
  rounds: 3,
  cards: 200,
  workers: os.availableParallelism() - 1,
  log,
});

log('Scale: 10,000 cards…');
const scale = await measureScale({ cards: 10_000, issuanceDelayMs: 200, timeoutMs: 240_000, log });

log('Stores: SQLite, PostgreSQL ×1, PostgreSQL ×2…');
execFileSync('bash', [path.join(ROOT, 'scripts/ensure-postgresql.sh')], { stdio: 'inherit' });
const stores = await measureStores({
  setPinRequests: 3000,
  concurrency: 32,
  cards: 10_000,
  issuanceDelayMs: 200,
  timeoutMs: 300_000,
  log,
});

const results: BenchResults = {
  machine,
  startedAt,
  seconds: (performance.now() - started) / 1000,
  size,
  tti,
  crypto,
  cryptoRuns: [cryptoBefore, cryptoAfter],
  throughput,
  coreScaling,
  scale,
  stores,
};
// Formatted as the repository formats Markdown, so `prettier --check .` stays green.
const report = await format(renderReport(results), { parser: 'markdown', ...prettierConfig });
fs.writeFileSync(path.join(ROOT, 'bench/results.md'), report);
process.stdout.write(`${report}\n`);
