import type { CryptoLimits } from './crypto-limits.js';
import type { Machine } from './machine.js';
import type { ScaleResult } from './scale.js';
import type { SizeEntry, SizeResult } from './size.js';
import type { StoreRun } from './stores.js';
import { percentile } from './stats.js';
import type { CoreScaling, LoadLevel, ThroughputResult } from './throughput.js';
import type { TtiSeries } from './tti.js';

export interface BenchResults {
  machine: Machine;
  startedAt: Date;
  seconds: number;
  size: SizeResult;
  tti: TtiSeries[];
  /** The floors: the mean of `cryptoRuns`, measured before and after the one-core loads. */
  crypto: CryptoLimits;
  cryptoRuns: [CryptoLimits, CryptoLimits];
  throughput: ThroughputResult;
  /** Set PIN on one core and on both, the series loaded in turn (bench/throughput.ts). */
  coreScaling: CoreScaling;
  scale: ScaleResult;
  /** SQLite, PostgreSQL with one instance and with two (docs/store.md), same client, same run. */
  stores: StoreRun[];
}

/** The budgets README “Performance” holds (SPEC §12), in one place. */
export const BUDGETS = {
  sdkCoreGzip: 3 * 1024,
  /** The classic-script build carries the elements too (docs/decisions.md, "SDK entries"). */
  sdkScriptTagGzip: 4 * 1024,
  widgetGzip: 100 * 1024,
  /** The named stack's floor (React 19 + react-dom + react-query + jose), per README “Performance”. */
  widgetStackFloorGzip: 88 * 1024,
  /** `mount()` → `load` median over the same run's blank cross-origin iframe (localhost). */
  ttiOverBlankIframe: 2.0,
  /** `mount()` → `load` median over the same run's network floor (slow 4G). */
  ttiOverNetworkFloor: 1.2,
  roundTripsGoal: 2,
  /** Set PIN per core used over the same run's JWE decryptions per core. */
  setPinShareOfJweDecrypt: 0.7,
  /** Reveal per core used over the same run's reveal-answer encryptions per core. */
  revealShareOfJweEncrypt: 0.7,
  /** Set PIN with the server on both cores over the same run's one-core set PIN. */
  twoCoreSpeedup: 1.7,
  scaleCards: 10_000,
} as const;

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (value: number) => `${value.toFixed(0)} ms`;
const perSec = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;
const times = (value: number) => `${value.toFixed(2)}×`;
const verdict = (ok: boolean) => (ok ? '✅ pass' : '❌ miss');

/** Measure, result, the same run's floor, result ÷ floor, budget, verdict. */
type Row = [string, string, string, string, string, string];

function table(header: Row, rows: Row[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function sizeRow(entry: SizeEntry, budget: number | undefined, floor: string): Row {
  return [
    entry.name,
    `${kb(entry.gzip)} gzip · ${kb(entry.brotli)} br · ${kb(entry.raw)} raw`,
    floor,
    '—',
    budget === undefined ? '—' : `≤ ${kb(budget)} gzip`,
    budget === undefined ? '—' : verdict(entry.gzip <= budget),
  ];
}

/** Requests per second per core the server used. */
const perCore = (level: LoadLevel) => level.rps / Math.max(level.serverCores, 0.01);

/** The load whose rate is the series' median (the series are short: 3 rounds). */
function median(levels: readonly LoadLevel[]): LoadLevel {
  const rate = percentile(
    levels.map((level) => level.rps),
    50,
  );
  return levels.find((level) => level.rps === rate)!;
}

const rates = (levels: readonly LoadLevel[]) =>
  levels.map((level) => Math.round(level.rps).toLocaleString('en-US')).join(', ');

/** Both cores over one core: the budget's row, and the same server pinned to one core. */
function coreScalingRows(scaling: CoreScaling, crypto: CryptoLimits): Row[] {
  const both = median(scaling.bothCores);
  const one = median(scaling.oneCore);
  const same = median(scaling.oneCoreSameWorkers);
  const workers = `${scaling.workers} JOSE worker thread${scaling.workers === 1 ? '' : 's'}`;
  const failed = [...scaling.bothCores, ...scaling.oneCore].some((level) => level.failed > 0);
  const speedup = both.rps / one.rps;
  return [
    [
      `Set PIN, ${scaling.concurrency} concurrent, server on both cores (${workers}), median of ${scaling.bothCores.length} rounds`,
      `${perSec(both.rps)} (rounds: ${rates(scaling.bothCores)}) · p50 ${both.p50Ms} ms · p99 ${both.p99Ms} ms · server ${both.serverCores.toFixed(2)} cores, load generator ${both.clientCores.toFixed(2)} · ${times(setPinShare(both, crypto))} of JWE decrypt per core`,
      `the default server on one core, loaded in turn with it: ${perSec(one.rps)} (rounds: ${rates(scaling.oneCore)})`,
      times(speedup),
      `≥ ${times(BUDGETS.twoCoreSpeedup)}`,
      verdict(speedup >= BUDGETS.twoCoreSpeedup && !failed),
    ],
    [
      `Set PIN, ${scaling.concurrency} concurrent, both cores ÷ the same server (${workers}) pinned to one core`,
      perSec(both.rps),
      `one core, same worker threads: ${perSec(same.rps)} (rounds: ${rates(scaling.oneCoreSameWorkers)})`,
      times(both.rps / same.rps),
      '—',
      '—',
    ],
  ];
}

/** Set-PIN requests per second per server core, over the same run's JWE decryptions per core. */
export function setPinShare(level: LoadLevel, crypto: CryptoLimits): number {
  return perCore(level) / crypto.jweDecryptPerSec;
}

function loadRows(
  name: string,
  levels: readonly LoadLevel[],
  floorPerCore: number,
  floorName: string,
  budget: number,
): Row[] {
  return levels.map((level) => {
    const share = perCore(level) / floorPerCore;
    return [
      `${name}, ${level.concurrency} concurrent, server on one core`,
      `${perSec(level.rps)} · p50 ${level.p50Ms} ms · p99 ${level.p99Ms} ms · ${level.serverCores.toFixed(2)} cores · ${(1e6 / perCore(level)).toFixed(0)} µs CPU/request${level.failed ? ` · ${level.failed} failed` : ''}`,
      `${floorName} ${perSec(floorPerCore)}/core (${(1e6 / floorPerCore).toFixed(0)} µs)`,
      times(share),
      `≥ ${times(budget)} per core`,
      verdict(share >= budget && level.failed === 0),
    ];
  });
}

export function renderReport(results: BenchResults): string {
  const { machine, size, tti, crypto, cryptoRuns, throughput, coreScaling, scale } = results;
  const header: Row = [
    'Measure',
    'Result',
    'Floor (same run)',
    'Ratio',
    'Budget (README “Performance”)',
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
    const slow = series.profile !== 'localhost';
    const floor = slow ? series.networkFloor : series.blankIframeMedian;
    const budget = slow ? BUDGETS.ttiOverNetworkFloor : BUDGETS.ttiOverBlankIframe;
    const ratio = series.median / floor;
    rows.push([
      `\`mount()\` → \`load\`, ${series.widget}, ${series.profile} (cold cache, n=${series.samples.length})`,
      `median ${ms(series.median)} · p95 ${ms(series.p95)} · ${kb(series.bytes)} transferred`,
      slow
        ? `network floor ${ms(series.networkFloor)} (blank cross-origin iframe ${ms(series.blankIframeMedian)})`
        : `blank cross-origin iframe ${ms(series.blankIframeMedian)}`,
      times(ratio),
      `median ≤ ${times(budget)}`,
      verdict(ratio <= budget),
    ]);
  }
  // Round trips matter where they cost latency; on loopback the arrival order is the CPU's.
  for (const trips of tti.filter(
    (series) => series.widget === 'set-pin' && series.profile !== 'localhost',
  )) {
    rows.push([
      `Sequential round trips before interactive, set-pin, ${trips.profile}`,
      `${trips.roundTrips} on the critical path: ${trips.chain.join(' → ')}`,
      `deepest chain ${trips.deepestChain.length}: ${trips.deepestChain.join(' → ')}`,
      '—',
      `goal ${BUDGETS.roundTripsGoal}`,
      verdict(trips.roundTrips <= BUDGETS.roundTripsGoal),
    ]);
  }
  rows.push(
    ...loadRows(
      'Set PIN',
      throughput.setPin,
      crypto.jweDecryptPerSec,
      'JWE decrypt',
      BUDGETS.setPinShareOfJweDecrypt,
    ),
  );
  rows.push(...coreScalingRows(coreScaling, crypto));
  rows.push(
    ...loadRows(
      'Reveal PIN',
      throughput.reveal,
      crypto.jweEncryptPerSec,
      'reveal-answer JWE encrypt',
      BUDGETS.revealShareOfJweEncrypt,
    ),
  );
  const refused = throughput.refused;
  if (refused) {
    rows.push([
      'Set PIN refused at the token check, 8 concurrent (HTTP + JSON + validation + 1 lookup)',
      `${perSec(refused.rps)} · ${(1e6 / perCore(refused)).toFixed(0)} µs CPU/request`,
      `JWE decrypt ${(1e6 / crypto.jweDecryptPerSec).toFixed(0)} µs`,
      `${times(crypto.jweDecryptPerSec / perCore(refused))} of its cost`,
      '—',
      '—',
    ]);
  }
  rows.push(
    [
      'Crypto floor, one core: JWE decrypt (jose, ECDH-ES + A256GCM, a new ephemeral key each)',
      `${perSec(crypto.jweDecryptPerSec)} (mean of ${perSec(cryptoRuns[0].jweDecryptPerSec)} before the loads and ${perSec(cryptoRuns[1].jweDecryptPerSec)} after)`,
      `raw ECDH P-256 ${perSec(crypto.ecdhPerSec)} (diffieHellman) · ${perSec(crypto.ecdhComputeSecretPerSec)} (computeSecret)`,
      `${times(crypto.jweDecryptPerSec / crypto.ecdhPerSec)} of raw ECDH`,
      '—',
      '—',
    ],
    [
      'Crypto floor, one core: the same JWE decrypt on the JOSE workers’ SubtleCrypto (pins/sync-subtle.ts)',
      perSec(crypto.jweDecryptWorkerPerSec),
      `on Node’s WebCrypto (the floor above): ${perSec(crypto.jweDecryptPerSec)}`,
      times(crypto.jweDecryptWorkerPerSec / crypto.jweDecryptPerSec),
      '—',
      '—',
    ],
    [
      'Crypto floor, one core: reveal-answer JWE encrypt (the widget’s JWK imported, jose CompactEncrypt)',
      `${perSec(crypto.jweEncryptPerSec)} (mean of ${perSec(cryptoRuns[0].jweEncryptPerSec)} and ${perSec(cryptoRuns[1].jweEncryptPerSec)})`,
      `jose CompactEncrypt to one imported key ${perSec(crypto.jweEncryptSameKeyPerSec)} · AES-256-GCM ${perSec(crypto.aesGcmSmallPerSec)} small messages · ${(crypto.aesGcmBytesPerSec / 1e9).toFixed(2)} GB/s bulk`,
      `${times(crypto.jweEncryptPerSec / crypto.jweEncryptSameKeyPerSec)} of the same-key rate`,
      '—',
      '—',
    ],
    [
      `Issue ${scale.cards.toLocaleString('en-US')} cards (RANDOM, ${scale.issuanceDelayMs} ms delay) + webhooks`,
      `${perSec(scale.cardsPerSec)} cards · ${perSec(scale.transitionsPerSec)} transitions · ${perSec(scale.webhooksPerSec)} webhooks delivered · ${scale.totalSeconds.toFixed(1)} s in all`,
      `server peak RSS ${(scale.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      '—',
      `${BUDGETS.scaleCards.toLocaleString('en-US')} cards with scheduled transitions`,
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
    '- **Throughput**: the real server in its own process pinned to one core (taskset), the load generator (bench/load-client.ts: keep-alive sockets, requests serialized before the run, a few µs of CPU each) in the bench process on the other; every set PIN consumes its own single-use token with its own JWE (`wst` of that token), all minted and encrypted before the timed run; no webhook subscription during the run. Before each endpoint’s first level, 1,000 unmeasured requests at 8 in flight, so the JIT’s one-off compilation lands on no level. “Per core” divides by the server’s measured CPU time (all its threads). The floors are measured in the same run, with no server running, by the bench process pinned to the server’s own core (this VM’s two cores differ by several per cent): jose decrypting set-PIN JWEs, and a reveal answer’s crypto as the server does it (the widget’s public JWK imported, then jose CompactEncrypt to it). **Both cores**: the same set-PIN load with the server unpinned and its JOSE worker threads on (`CRYPTO_WORKERS`, default one fewer than the cores); the load generator shares the two cores with it. The ratio is to the one-core row at the same concurrency.',
    '- **Stores**: the same bench client (this process, fetch over keep-alive, 32 set-PIN requests in flight, round-robin over the instances) against SQLite in DATA_DIR, one instance on PostgreSQL 15, and two instances on one PostgreSQL database; the PostgreSQL cluster is a throwaway one the bench starts (fsync off, as in the tests). Issuance creates RANDOM cards 16 at a time and counts finished jobs in the database until every card has its three transitions. Nothing is pinned: the instances, PostgreSQL and the client share this machine’s cores, so a second instance adds contention rather than capacity here; the ratios are to the SQLite row of the same run.',
    '- **Scale**: the server as a child process with its own DATA_DIR; cards created through the API 16 at a time while the scheduler runs their transitions and the dispatcher delivers every `CARD.*` event to a local receiver; peak RSS is the kernel’s high-water mark (VmHWM) of the server process.',
    '',
  ];
  return lines.join('\n');
}
