import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BenchPlatform, pool } from './platform.js';

export interface ScaleResult {
  cards: number;
  cardsPerSec: number;
  transitions: number;
  transitionsPerSec: number;
  webhooks: number;
  webhooksPerSec: number;
  /** From the first card created to the last webhook received. */
  totalSeconds: number;
  peakRssBytes: number;
  issuanceDelayMs: number;
}

export interface ScaleOptions {
  cards: number;
  issuanceDelayMs: number;
  timeoutMs: number;
  log?: (line: string) => void;
}

/** A webhook receiver that answers 200 at once and notes when each delivery arrived. */
async function startReceiver() {
  const arrivals: number[] = [];
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      arrivals.push(performance.now());
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`,
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Issues `cards` RANDOM-policy cards through the API, each with its scheduled transitions
 * (random PIN + UNACTIVATED, ISSUED, SHIPPED), with a webhook subscription delivering every
 * event to a local receiver; measures creation, transition and delivery rates and the server's
 * peak memory (its own process).
 */
export async function measureScale(options: ScaleOptions): Promise<ScaleResult> {
  const log = options.log ?? (() => undefined);
  const receiver = await startReceiver();
  const platform = await BenchPlatform.start({
    ISSUANCE_DELAY_MS: String(options.issuanceDelayMs),
    SCHEDULER_POLL_MS: '50',
    WEBHOOK_RETRY_BASE_MS: '1000',
  });
  // The server's own database, read-only, to count finished jobs without adding API load.
  let db: Database.Database | undefined;
  try {
    await platform.unsubscribeAll();
    await platform.expect(201, 'POST', '/v1/webhooks', {
      url: receiver.url,
      enabled_events: ['CARD.*'],
      is_enabled: true,
      description: 'bench receiver',
    });
    const product = await platform.expect(201, 'POST', '/v1/card_products', {
      name: 'Bench scale',
      form: 'PHYSICAL',
      pin_issuance_policy: 'RANDOM',
    });
    db = new Database(path.join(platform.dataDir, 'pin-widgets.db'), { readonly: true });
    const jobsDone = db.prepare(`SELECT count(*) AS n FROM jobs WHERE status = 'DONE'`);

    const started = performance.now();
    await pool(Array.from({ length: options.cards }), 16, (_, index) =>
      platform.expect(201, 'POST', '/v1/cards', {
        card_product_id: product.id,
        account_id: `acct_scale_${index % 1000}`,
      }),
    );
    const created = performance.now();
    const cardsPerSec = options.cards / ((created - started) / 1000);
    log(`  ${options.cards} cards created: ${cardsPerSec.toFixed(0)}/s`);

    // Three transitions per card; one CARD.CREATED and three CARD.UPDATED webhooks.
    const transitions = options.cards * 3;
    const webhooks = options.cards * 4;
    const deadline = started + options.timeoutMs;
    let transitionsDoneAt = 0;
    while (performance.now() < deadline) {
      const done = (jobsDone.get() as { n: number }).n;
      if (!transitionsDoneAt && done >= transitions) transitionsDoneAt = performance.now();
      if (transitionsDoneAt && receiver.arrivals.length >= webhooks) break;
      await wait(100);
    }
    if (!transitionsDoneAt || receiver.arrivals.length < webhooks) {
      throw new Error(
        `scale: not finished in ${options.timeoutMs} ms (${(jobsDone.get() as { n: number }).n}/${transitions} transitions, ${receiver.arrivals.length}/${webhooks} webhooks)`,
      );
    }
    // The first job is due issuanceDelayMs after the first card: transitions run from then on.
    const firstJobDue = started + options.issuanceDelayMs;
    const transitionsPerSec = transitions / ((transitionsDoneAt - firstJobDue) / 1000);
    const lastWebhook = receiver.arrivals.at(-1)!;
    const webhooksPerSec = webhooks / ((lastWebhook - receiver.arrivals[0]!) / 1000);
    log(
      `  ${transitions} transitions: ${transitionsPerSec.toFixed(0)}/s; ${webhooks} webhooks: ${webhooksPerSec.toFixed(0)}/s`,
    );
    return {
      cards: options.cards,
      cardsPerSec,
      transitions,
      transitionsPerSec,
      webhooks,
      webhooksPerSec,
      totalSeconds: (lastWebhook - started) / 1000,
      peakRssBytes: platform.peakRss(),
      issuanceDelayMs: options.issuanceDelayMs,
    };
  } finally {
    db?.close();
    await platform.stop();
    await receiver.close();
  }
}
