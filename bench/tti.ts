import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, type CDPSession, type Page, chromium } from '@playwright/test';
import { BenchPlatform } from './platform.js';
import { percentile } from './stats.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A network profile for CDP Network.emulateNetworkConditions (bytes per second, ms). */
export interface NetworkProfile {
  name: string;
  latency: number;
  downloadThroughput: number;
  uploadThroughput: number;
}

export const LOCALHOST: NetworkProfile = {
  name: 'localhost',
  latency: 0,
  downloadThroughput: -1,
  uploadThroughput: -1,
};
/** The slow 4G profile of README “Performance”: 150 ms RTT, 1.6 Mbps down, ~750 kbps up. */
export const SLOW_4G: NetworkProfile = {
  name: 'slow 4G',
  latency: 150,
  downloadThroughput: 200_000,
  uploadThroughput: 93_750,
};

export interface RequestTiming {
  name: string;
  startTime: number;
  responseEnd: number;
  transferSize: number;
}

export interface MountSample {
  ms: number;
  /** The iframe's document and every request it made before `load`, in its own time origin. */
  requests: RequestTiming[];
}

export interface TtiSeries {
  widget: string;
  profile: string;
  samples: number[];
  median: number;
  p95: number;
  /** Sequential round trips on the critical path before interactive (median sample). */
  roundTrips: number;
  /** That chain, request by request, for the report. */
  chain: string[];
  /** The deepest chain of dependent requests (it may overlap a longer download). */
  deepestChain: string[];
  bytes: number;
  /** Same run, same profile: a cross-origin iframe with a trivial platform document. */
  blankIframeMedian: number;
  /** Round trips × latency + bytes ÷ bandwidth: what the network alone costs. */
  networkFloor: number;
}

/** The bench's own card-program page, on another origin than the platform. */
const hostPage = (platformUrl: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bench host</title></head>
<body><div id="slot"></div>
<script type="module">
  const sdk = await import('${platformUrl}/sdk/pin-widgets.js');
  window.benchMount = (widget, token) => new Promise((resolve, reject) => {
    const started = performance.now();
    const mounted = sdk.mount('#slot', { widget, token });
    mounted.on('load', () => resolve(performance.now() - started));
    mounted.on('error', (error) => reject(new Error(JSON.stringify(error))));
  });
  // The floor: a cross-origin iframe with a trivial document from the platform.
  window.benchBlank = () => new Promise((resolve) => {
    const started = performance.now();
    const frame = document.createElement('iframe');
    frame.onload = () => resolve(performance.now() - started);
    frame.src = '${platformUrl}/healthz';
    document.body.appendChild(frame);
  });
  window.benchReady = true;
</script></body></html>`;

/**
 * Sequential round trips, from the iframe's Resource Timing: a request's chain is the longest
 * run of requests that each started only after the previous one had finished (the document,
 * then what it names, then what a script asks for). The critical path is the chain of the
 * response that came last (what `load` waited for); the deepest chain may be longer but hidden
 * under a bigger download.
 */
export function roundTrips(requests: readonly RequestTiming[]): {
  critical: string[];
  deepest: string[];
} {
  const sorted = [...requests].sort((a, b) => a.startTime - b.startTime);
  const best = new Map<RequestTiming, { depth: number; previous?: RequestTiming }>();
  for (const request of sorted) {
    let entry: { depth: number; previous?: RequestTiming } = { depth: 1 };
    for (const earlier of sorted) {
      const known = best.get(earlier);
      // 1 ms of slack: timings are rounded. Among equally deep predecessors, the one that
      // finished last is the one the request waited for.
      if (!known || earlier === request || earlier.responseEnd > request.startTime + 1) continue;
      const deeper = known.depth + 1 > entry.depth;
      const later =
        known.depth + 1 === entry.depth && earlier.responseEnd > (entry.previous?.responseEnd ?? 0);
      if (deeper || later) entry = { depth: known.depth + 1, previous: earlier };
    }
    best.set(request, entry);
  }
  const chainOf = (last: RequestTiming | undefined) => {
    const chain: string[] = [];
    for (let at = last; at; at = best.get(at)!.previous) chain.unshift(shortName(at.name));
    return chain;
  };
  const lastResponse = sorted.reduce<RequestTiming | undefined>(
    (last, request) => (!last || request.responseEnd > last.responseEnd ? request : last),
    undefined,
  );
  const deepest = sorted.reduce<RequestTiming | undefined>(
    (top, request) => (!top || best.get(request)!.depth > best.get(top)!.depth ? request : top),
    undefined,
  );
  return { critical: chainOf(lastResponse), deepest: chainOf(deepest) };
}

function shortName(url: string): string {
  const { pathname } = new URL(url);
  if (pathname.startsWith('/widgets/assets/')) return pathname.slice('/widgets/assets/'.length);
  return pathname;
}

/** Applies `profile` to the page and to every frame target it attaches (the widget's OOPIF). */
async function emulate(cdp: CDPSession, profile: NetworkProfile): Promise<void> {
  if (profile.latency === 0 && profile.downloadThroughput < 0) return;
  const conditions = {
    offline: false,
    latency: profile.latency,
    downloadThroughput: profile.downloadThroughput,
    uploadThroughput: profile.uploadThroughput,
  };
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', conditions);
  // The widget iframe is cross-site, so it is its own target (site isolation): attach to it
  // before it runs (waitForDebuggerOnStart) and give it the same conditions.
  let id = 0;
  cdp.on('Target.attachedToTarget', (event: any) => {
    const send = (method: string, params: object = {}) =>
      cdp.send('Target.sendMessageToTarget', {
        sessionId: event.sessionId,
        message: JSON.stringify({ id: ++id, method, params }),
      });
    void (async () => {
      await send('Network.enable');
      await send('Network.emulateNetworkConditions', conditions);
      await send('Runtime.runIfWaitingForDebugger');
    })();
  });
  await cdp.send('Target.setAutoAttach', {
    autoAttach: true,
    waitForDebuggerOnStart: true,
    flatten: false,
  });
}

/** Time to load a cross-origin iframe with a trivial document, cold cache, under `profile`. */
async function blankOnce(
  browser: Browser,
  hostOrigin: string,
  profile: NetworkProfile,
): Promise<number> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(hostOrigin);
    await page.waitForFunction(() => (window as any).benchReady === true);
    await emulate(await context.newCDPSession(page), profile);
    return await page.evaluate(() => (window as any).benchBlank() as Promise<number>);
  } finally {
    await context.close();
  }
}

async function mountOnce(
  browser: Browser,
  hostOrigin: string,
  widget: string,
  token: string,
  profile: NetworkProfile,
): Promise<MountSample> {
  // A new context each time: an empty HTTP cache, like a first visit.
  const context = await browser.newContext();
  try {
    const page: Page = await context.newPage();
    await page.goto(hostOrigin);
    await page.waitForFunction(() => (window as any).benchReady === true);
    await emulate(await context.newCDPSession(page), profile);
    const ms = await page.evaluate(
      ([name, secret]) => (window as any).benchMount(name, secret) as Promise<number>,
      [widget, token] as const,
    );
    const frame = page
      .frames()
      .find((candidate) => candidate.url().includes(`/widgets/${widget}/`));
    // Only what the frame asked for before it sent `load` (its User Timing mark, LOAD_MARK in
    // widgets/runtime/boot.tsx): what it fetches once usable (jose, for a submit or reveal to
    // come) is not on the path to `load`.
    const requests = frame
      ? await frame.evaluate((mark) => {
          const loaded = performance.getEntriesByName(mark)[0]?.startTime ?? Infinity;
          return [
            ...performance.getEntriesByType('navigation'),
            ...performance.getEntriesByType('resource'),
          ]
            .filter((entry) => entry.startTime <= loaded)
            .map((entry) => {
              const timing = entry as PerformanceResourceTiming;
              return {
                name: timing.name,
                startTime: timing.startTime,
                responseEnd: timing.responseEnd,
                transferSize: timing.transferSize,
              };
            });
        }, 'pin-widgets:load')
      : [];
    return { ms, requests };
  } finally {
    await context.close();
  }
}

export interface TtiOptions {
  mounts: number;
  widgets: readonly ('set-pin' | 'reveal-pin')[];
  profiles: readonly NetworkProfile[];
  log?: (line: string) => void;
}

/**
 * `mount()` → `load` in headless Chromium with a cold cache, the host page on another origin
 * than the platform (as a program's site is), on localhost and under emulated slow 4G.
 */
export async function measureTti(options: TtiOptions): Promise<TtiSeries[]> {
  const log = options.log ?? (() => undefined);
  // The host origin must be known before the platform starts (FRAME_ANCESTORS).
  let platformUrl = '';
  const html = () => hostPage(platformUrl);
  const server = http.createServer((_request, response) => {
    response
      .writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' })
      .end(html());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hostOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const platform = await BenchPlatform.start({
    FRAME_ANCESTORS: hostOrigin,
    ISSUANCE_DELAY_MS: '3600000',
    WIDGET_TOKEN_TTL_S: '3600',
  });
  platformUrl = platform.url;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    await platform.unsubscribeAll();
    const product = await platform.expect(201, 'POST', '/v1/card_products', {
      name: 'Bench debit',
      form: 'PHYSICAL',
      allow_bearer_widget_tokens: true,
    });
    const card = await platform.expect(201, 'POST', '/v1/cards', {
      card_product_id: product.id,
      account_id: 'acct_bench_tti',
    });
    const series: TtiSeries[] = [];
    for (const profile of options.profiles) {
      // Blank iframes and widgets in turn, so the machine's drift falls on floor and widget
      // alike. Round 0 is not measured: the server's and the browser's first-run costs.
      const blanks: number[] = [];
      const mounts = new Map(options.widgets.map((widget) => [widget, [] as MountSample[]]));
      for (let i = 0; i <= options.mounts; i++) {
        const ms = await blankOnce(browser, hostOrigin, profile);
        if (i > 0) blanks.push(ms);
        for (const widget of options.widgets) {
          const minted = await platform.expect(201, 'POST', `/v1/cards/${card.id}/widget_token`, {
            widget_type: widget === 'set-pin' ? 'SET_PIN' : 'REVEAL_PIN',
            origin: hostOrigin,
          });
          const sample = await mountOnce(browser, hostOrigin, widget, minted.widget_token, profile);
          if (i > 0) mounts.get(widget)!.push(sample);
        }
      }
      const blankIframeMedian = percentile(blanks, 50);
      log(
        `  blank cross-origin iframe, ${profile.name}: median ${blankIframeMedian.toFixed(0)} ms`,
      );
      for (const widget of options.widgets) {
        const samples = mounts.get(widget)!;
        const times = samples.map((sample) => sample.ms);
        const trips = samples.map((sample) => roundTrips(sample.requests));
        const typical = trips.sort((a, b) => a.critical.length - b.critical.length)[
          Math.floor(trips.length / 2)
        ]!;
        const bytes = percentile(
          samples.map((sample) => sample.requests.reduce((sum, r) => sum + r.transferSize, 0)),
          50,
        );
        const result: TtiSeries = {
          widget,
          profile: profile.name,
          samples: times,
          median: percentile(times, 50),
          p95: percentile(times, 95),
          roundTrips: typical.critical.length,
          chain: typical.critical,
          deepestChain: typical.deepest,
          bytes,
          blankIframeMedian,
          networkFloor:
            typical.critical.length * profile.latency +
            (profile.downloadThroughput > 0 ? (bytes / profile.downloadThroughput) * 1000 : 0),
        };
        log(
          `  ${widget} ${profile.name}: median ${result.median.toFixed(0)} ms, p95 ${result.p95.toFixed(0)} ms, ${result.roundTrips} round trips (${result.chain.join(' → ')}; deepest ${result.deepestChain.join(' → ')})`,
        );
        series.push(result);
      }
    }
    return series;
  } finally {
    await browser.close();
    await platform.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
