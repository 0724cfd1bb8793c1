import type { CryptoLimits } from './crypto-limits.js';
import type { Machine } from './machine.js';
import type { ScaleResult } from './scale.js';
import type { SizeEntry, SizeResult } from './size.js';
import type { StoreRun } from './stores.js';
import type { LoadLevel, ThroughputResult } from './throughput.js';
import type { TtiSeries } from './tti.js';

export interface BenchResults {
  machine: Machine;
  startedAt: Date;
  seconds: number;
  size: SizeResult;
  tti: TtiSeries[];
  crypto: CryptoLimits;
  throughput: ThroughputResult;
  /** Set PIN with the server unpinned: what this machine does with both cores. */
  bothCores: LoadLevel[];
  scale: ScaleResult;
  /** SQLite, PostgreSQL with one instance and with two (docs/store.md), same client, same run. */
  stores: StoreRun[];
}

/** The budgets README “Performance” holds, in one place. */
export const BUDGETS = {
  sdkCoreGzip: 3 * 1024,
  /** The classic-script build carries the elements too (docs/decisions.md, "SDK entries"). */
  sdkScriptTagGzip: 4 * 1024,
  widgetGzip: 100 * 1024,
  /** The named stack's floor (React 19 + react-dom + react-query + jose), per README “Performance”. */
  widgetStackFloorGzip: 88 * 1024,
  ttiLocalhostMs: 250,
  ttiSlow4gMs: 1500,
  roundTripsGoal: 2,
  setPinShareOfJweDecrypt: 0.7,
  scaleCards: 10_000,
} as const;

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (value: number) => `${value.toFixed(0)} ms`;
const perSec = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;
const pct = (value: number) => `${(value * 100).toFixed(0)} %`;
const verdict = (ok: boolean) => (ok ? '✅ pass' : '❌ miss');

type Row = [string, string, string, string, string];

function table(header: Row, rows: Row[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function sizeRow(entry: SizeEntry, budget: number | undefined, limit: string): Row {
  return [
    entry.name,
    `${kb(entry.gzip)} gzip · ${kb(entry.brotli)} br · ${kb(entry.raw)} raw`,
    budget === undefined ? '—' : `≤ ${kb(budget)} gzip`,
    limit,
    budget === undefined ? '—' : verdict(entry.gzip <= budget),
  ];
}

/** Set-PIN requests per second per server core, over the same run's JWE decryptions per core. */
export function setPinShare(level: LoadLevel, crypto: CryptoLimits): number {
  return level.rps / Math.max(level.serverCores, 0.01) / crypto.jweDecryptPerSec;
}

function loadRows(
  name: string,
  levels: readonly LoadLevel[],
  crypto: CryptoLimits,
  limitPerCore: number,
  limitName: string,
  budget: boolean,
): Row[] {
  return levels.map((level) => {
    const perCore = level.rps / Math.max(level.serverCores, 0.01);
    const share = perCore / limitPerCore;
    const ecdhShare = perCore / crypto.ecdhPerSec;
    return [
      `${name}, ${level.concurrency} concurrent`,
      `${perSec(level.rps)} · p50 ${level.p50Ms} ms · p99 ${level.p99Ms} ms · server ${level.serverCores.toFixed(2)} cores (${(1e6 / perCore).toFixed(0)} µs CPU/request)${level.failed ? ` · ${level.failed} failed` : ''}`,
      budget ? `≥ ${pct(BUDGETS.setPinShareOfJweDecrypt)} of JWE decrypt/core` : '—',
      `${pct(share)} of ${limitName} (${perSec(limitPerCore)}/core) · ${pct(ecdhShare)} of raw ECDH`,
      budget ? verdict(share >= BUDGETS.setPinShareOfJweDecrypt && level.failed === 0) : '—',
    ];
  });
}

export function renderReport(results: BenchResults): string {
  const { machine, size, tti, crypto, throughput, bothCores, scale } = results;
  const header: Row = [
    'Measure',
    'Result',
    'Budget (README “Performance”)',
    'Limit (same run)',
    '',
  ];
  const rows: Row[] = [
    sizeRow(size.sdk[0]!, BUDGETS.sdkCoreGzip, '—'),
    sizeRow(size.sdk[1]!, BUDGETS.sdkScriptTagGzip, 'one script tag: core and elements'),
    sizeRow(size.sdk[2]!, undefined, 'imports the core beside it'),
    sizeRow(size.sdk[3]!, undefined, 'React itself not counted (peer)'),
    ...size.widgets.map((entry) =>
      sizeRow(entry, BUDGETS.widgetGzip, `stack floor ${kb(BUDGETS.widgetStackFloorGzip)} gzip`),
    ),
  ];
  for (const series of tti) {
    const budget = series.profile === 'localhost' ? BUDGETS.ttiLocalhostMs : BUDGETS.ttiSlow4gMs;
    rows.push([
      `\`mount()\` → \`load\`, ${series.widget}, ${series.profile} (cold cache, n=${series.samples.length})`,
      `median ${ms(series.median)} · p95 ${ms(series.p95)} · ${kb(series.bytes)} transferred`,
      `median ≤ ${ms(budget)}`,
      `blank cross-origin iframe ${ms(series.blankIframeMedian)}${series.networkFloor > 0 ? ` · network floor ${ms(series.networkFloor)}` : ''}`,
      verdict(series.median <= budget),
    ]);
  }
  // Round trips matter where they cost latency; on loopback the arrival order is the CPU's.
  for (const trips of tti.filter(
    (series) => series.widget === 'set-pin' && series.profile !== 'localhost',
  )) {
    rows.push([
      `Sequential round trips before interactive, set-pin, ${trips.profile}`,
      `${trips.roundTrips} on the critical path: ${trips.chain.join(' → ')}`,
      `goal ${BUDGETS.roundTripsGoal}`,
      `deepest chain ${trips.deepestChain.length}: ${trips.deepestChain.join(' → ')} (the token comes by postMessage, after a script runs)`,
      verdict(trips.roundTrips <= BUDGETS.roundTripsGoal),
    ]);
  }
  rows.push(
    ...loadRows('Set PIN', throughput.setPin, crypto, crypto.jweDecryptPerSec, 'JWE decrypt', true),
    ...loadRows(
      'Set PIN, server unpinned (both cores)',
      bothCores,
      crypto,
      crypto.jweDecryptPerSec,
      'JWE decrypt',
      true,
    ),
    ...loadRows(
      'Reveal PIN',
      throughput.reveal,
      crypto,
      crypto.jweEncryptPerSec,
      'JWE encrypt',
      false,
    ),
  );
  const refused = throughput.refused;
  if (refused) {
    const perCore = refused.rps / Math.max(refused.serverCores, 0.01);
    rows.push([
      'Set PIN refused at the token check, 8 concurrent (HTTP + JSON + validation + 1 lookup)',
      `${perSec(refused.rps)} · p50 ${refused.p50Ms} ms · server ${refused.serverCores.toFixed(2)} cores`,
      '—',
      `${perSec(perCore)}/core = ${(1e6 / perCore).toFixed(0)} µs of CPU per request, vs ${(1e6 / crypto.jweDecryptPerSec).toFixed(0)} µs per JWE decrypt`,
      '—',
    ]);
  }
  const best = throughput.setPin.reduce<LoadLevel | undefined>(
    (top, level) => (!top || setPinShare(level, crypto) > setPinShare(top, crypto) ? level : top),
    undefined,
  );
  rows.push(
    [
      'Crypto limit, one core: JWE decrypt (jose, ECDH-ES + A256GCM)',
      perSec(crypto.jweDecryptPerSec),
      '—',
      `raw ECDH P-256 ${perSec(crypto.ecdhPerSec)} (diffieHellman) · ${perSec(crypto.ecdhComputeSecretPerSec)} (computeSecret)`,
      '—',
    ],
    [
      'Crypto limit, one core: JWE encrypt (reveal answer)',
      perSec(crypto.jweEncryptPerSec),
      '—',
      `AES-256-GCM ${perSec(crypto.aesGcmSmallPerSec)} small messages · ${(crypto.aesGcmBytesPerSec / 1e9).toFixed(2)} GB/s bulk`,
      '—',
    ],
    [
      `Issue ${scale.cards.toLocaleString('en-US')} cards (RANDOM, ${scale.issuanceDelayMs} ms delay) + webhooks`,
      `${perSec(scale.cardsPerSec)} cards · ${perSec(scale.transitionsPerSec)} transitions · ${perSec(scale.webhooksPerSec)} webhooks delivered · ${scale.totalSeconds.toFixed(1)} s in all`,
      `${BUDGETS.scaleCards.toLocaleString('en-US')} cards with scheduled transitions`,
      `server peak RSS ${(scale.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      verdict(scale.cards >= BUDGETS.scaleCards),
    ],
  );

  const floor = results.stores.find((run) => run.backend === 'sqlite');
  const ratio = (value: number, of: number | undefined) =>
    of === undefined ? '—' : `${(value / of).toFixed(2)}×`;
  const storesTable = [
    '| Store | Set PIN | vs SQLite | Issue cards | Transitions | vs SQLite |',
    '| --- | --- | --- | --- | --- | --- |',
    ...results.stores.map(
      (run) =>
        `| ${run.label} | ${perSec(run.setPin.rps)} (p50 ${ms(run.setPin.p50Ms)}, p99 ${ms(run.setPin.p99Ms)}) | ${ratio(run.setPin.rps, floor?.setPin.rps)} | ${run.issuance.cards.toLocaleString('en-US')} at ${perSec(run.issuance.cardsPerSec)} | ${perSec(run.issuance.transitionsPerSec)} | ${ratio(run.issuance.transitionsPerSec, floor?.issuance.transitionsPerSec)} |`,
    ),
  ].join('\n');

  const lines = [
    '# PIN Widgets: performance',
    '',
    `Measured by \`npm run bench\` on ${results.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC in ${results.seconds.toFixed(0)} s.`,
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGiB.toFixed(0)} GiB RAM, ${machine.os}; Node ${machine.node}; ${machine.chromium}. Load average at start: ${machine.loadAverage}.`,
    '',
    table(header, rows),
    '',
    '## Stores: SQLite, PostgreSQL ×1, PostgreSQL ×2',
    '',
    storesTable,
    '',
    'How it is measured:',
    '',
    '- **Size**: each file compressed on its own with node:zlib (gzip -9, brotli 11), as the platform serves it (precompressed). A widget counts its document’s script, modulepreload and stylesheet links and every chunk they import statically; lazy chunks (webcrypto-shim, other locales) are not counted.',
    '- **Time to interactive**: a host page on another origin (`127.0.0.1`) imports the ESM SDK from the platform (`localhost`) and mounts with a plain widget token minted through the API; one new browser context per mount (cold HTTP cache); slow 4G is CDP `Network.emulateNetworkConditions` (150 ms latency, 200,000 B/s down, 93,750 B/s up) on the page and on the widget’s own (cross-site) frame target. Round trips come from the iframe’s Resource Timing: a chain is a run of requests each started after the previous one ended; the critical path is the chain of the last response before `load` (shown for slow 4G, where round trips cost latency), the deepest chain may be longer but overlapped by the bundle’s download. The blank cross-origin iframe (a trivial platform document, same browser, same profile) is the floor any iframe widget pays.',
    `- **Throughput**: the real server in its own process pinned to one core (taskset), autocannon in the bench process on the other; every set PIN consumes its own single-use token with its own JWE (\`wst\` of that token), all minted and encrypted before the timed run; no webhook subscription during the run. “Per core” divides by the server’s measured CPU time. The crypto limits are measured in the same run with the bench process pinned to one core. Best set-PIN share: ${best ? `${pct(setPinShare(best, crypto))} at ${best.concurrency} concurrent` : 'n/a'}.`,
    '- **Stores**: the same bench client (this process, fetch over keep-alive, 32 set-PIN requests in flight, round-robin over the instances) against SQLite in DATA_DIR, one instance on PostgreSQL 15, and two instances on one PostgreSQL database; the PostgreSQL cluster is a throwaway one the bench starts (fsync off, as in the tests). Issuance creates RANDOM cards 16 at a time and counts finished jobs in the database until every card has its three transitions. Nothing is pinned: the instances, PostgreSQL and the client share this machine’s cores, so a second instance adds contention rather than capacity here; the ratios are to the SQLite row of the same run.',
    '- **Scale**: the server as a child process with its own DATA_DIR; cards created through the API 16 at a time while the scheduler runs their transitions and the dispatcher delivers every `CARD.*` event to a local receiver; peak RSS is the kernel’s high-water mark (VmHWM) of the server process.',
    '',
  ];
  return lines.join('\n');
}
