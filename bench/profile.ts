import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLIENT_CPU, SERVER_CPU } from './platform.js';
import { measureThroughput } from './throughput.js';

/**
 * `npm run bench:profile`: the set-PIN and reveal loads of the bench (server on core 0, 32 in
 * flight) under the V8 CPU profiler, cut to the load's own window, and the frames where the
 * server's main thread spent its busy time: the share of each layer and the top self-time
 * frames. The profiler slows what it measures: the shares travel, the rates do not.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a sample's time belongs: the first layer that any frame of its stack is in. */
const LAYERS: [string, RegExp][] = [
  ['jose (JWE)', /node_modules\/jose\//],
  ['SQLite store', /store\/sqlite\/|better-sqlite3/],
  ['PIN blocks (ISO 9564, PAN)', /payment-crypto|pins\/at-rest|pan-vault/],
  ['platform code', /demo-server\//],
  ['HTTP (Fastify, node:http)', /fastify|find-my-way|avvio|pino|_http_|node:net|streams/],
];

const frameName = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*node_modules\//, '').replace(/^.*\/(demo-server|bench)\//, '$1/');
  return `${functionName || '(anonymous)'} ${where}${where ? `:${lineNumber + 1}` : ''}`.trim();
};

export function summarize(profile: CpuProfile, window: [number, number], top = 15): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const layers = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((sample, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (at < window[0] || at > window[1]) return;
    const leaf = byId.get(sample)!;
    // Shares are of the time the server's thread was busy: waiting is not its cost.
    if (leaf.callFrame.functionName === '(idle)') return;
    total += delta;
    self.set(frameName(leaf), (self.get(frameName(leaf)) ?? 0) + delta);
    const urls: string[] = [];
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      urls.push(byId.get(id)!.callFrame.url);
    }
    const layer =
      LAYERS.find(([, pattern]) => urls.some((url) => pattern.test(url)))?.[0] ??
      (['(garbage collector)', '(program)'].includes(leaf.callFrame.functionName)
        ? leaf.callFrame.functionName
        : 'node internals');
    layers.set(layer, (layers.get(layer) ?? 0) + delta);
  });
  const share = (value: number) => `${((value / total) * 100).toFixed(1)} %`;
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return [
    '| Layer | Share of busy samples |',
    '| --- | --- |',
    ...sorted(layers).map(([layer, time]) => `| ${layer} | ${share(time)} |`),
    '',
    '| Self time | Frame |',
    '| --- | --- |',
    ...sorted(self)
      .slice(0, top)
      .map(([frame, time]) => `| ${share(time)} | \`${frame}\` |`),
  ].join('\n');
}

async function profiled(endpoint: 'setPin' | 'reveal'): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-widgets-profile-'));
  try {
    process.env.BENCH_SERVER_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${dir}`;
    const result = await measureThroughput({
      levels: [32],
      endpoints: endpoint === 'reveal' ? ['setPin', 'reveal'] : ['setPin'],
      refusedFloor: false,
      requestsFor: () => 4000,
      cards: 200,
      serverCpus: SERVER_CPU,
      clientCpus: CLIENT_CPU,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    const level = result[endpoint][0]!;
    // The server's main thread (the largest profile; a worker thread writes its own).
    const file = fs
      .readdirSync(dir)
      .map((name) => path.join(dir, name))
      .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]!;
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
    return [
      `### ${endpoint === 'setPin' ? 'Set PIN' : 'Reveal PIN'}, 32 concurrent, server on one core (profiled: ${Math.round(level.rps)}/s)`,
      '',
      summarize(profile, level.windowUs),
    ].join('\n');
  } finally {
    delete process.env.BENCH_SERVER_NODE_ARGS;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sections = [await profiled('setPin'), await profiled('reveal')];
  process.stdout.write(`${sections.join('\n\n')}\n`);
}
