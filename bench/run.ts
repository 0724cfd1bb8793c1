import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { measureCryptoLimits } from './crypto-limits.js';
import { describeMachine } from './machine.js';
import { ALL_CPUS, ROOT, pinSelf } from './platform.js';
import { type BenchResults, renderReport } from './report.js';
import { measureScale } from './scale.js';
import { measureSizes } from './size.js';
import { measureStores } from './stores.js';
import { measureThroughput } from './throughput.js';
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

log('Crypto limits (one core)…');
pinSelf('1');
const crypto = await measureCryptoLimits();
pinSelf(ALL_CPUS);

log('Throughput (server on core 0, the load generator on core 1)…');
const throughput = await measureThroughput({
  levels: [1, 8, 32],
  requestsFor: (concurrency) => (concurrency === 1 ? 1500 : 4000),
  cards: 200,
  serverCpus: '0',
  clientCpus: '1',
  log,
});

log('Throughput, server on both cores (JOSE worker threads)…');
const workers = os.availableParallelism() - 1;
const bothCores = await measureThroughput({
  levels: [32],
  endpoints: ['setPin'],
  refusedFloor: false,
  requestsFor: () => 8000,
  cards: 200,
  env: { CRYPTO_WORKERS: String(workers) },
  log,
});

log('Throughput, server on one core with the same JOSE worker threads…');
const sameWorkersOneCore = await measureThroughput({
  levels: [32],
  endpoints: ['setPin'],
  refusedFloor: false,
  requestsFor: () => 4000,
  cards: 200,
  env: { CRYPTO_WORKERS: String(workers) },
  serverCpus: '0',
  clientCpus: '1',
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
  throughput,
  bothCores: { levels: bothCores.setPin, workers, oneCore: sameWorkersOneCore.setPin[0] },
  scale,
  stores,
};
// Formatted as the repository formats Markdown, so `prettier --check .` stays green.
const report = await format(renderReport(results), { parser: 'markdown', ...prettierConfig });
fs.writeFileSync(path.join(ROOT, 'bench/results.md'), report);
process.stdout.write(`${report}\n`);
