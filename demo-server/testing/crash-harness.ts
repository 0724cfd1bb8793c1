import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TEST_KEYS } from '../config.js';
import { decodeFormat0, tdesEcbDecrypt } from '../payment-crypto/index.js';
import { pinPolicyViolation } from '../pins/policy.js';
import { rotateTransportKey } from '../pins/transport-keys.js';
import { testPan } from './cards.js';
import { type TestDatabase, postgresTestDatabase, sqliteTestDatabase } from './db-snapshot.js';
import { encryptPin } from './independent-jose.js';
import { terminal } from './terminal.js';
import { TEST_API_KEY, tempDataDir } from './platform.js';
import { type ReceivedWebhook, startReceiver } from './receiver.js';
import { ServerProcess, freePort } from './server-process.js';

/**
 * The crash harness (docs/store.md "kill -9 at any moment loses no committed state, no scheduled
 * transition, no webhook"; docs/store.md for several instances): the real server as child processes,
 * a mixed workload from parallel workers spread over the instances as a load balancer would,
 * SIGKILLs of one instance at random moments and its restart, and at the end a check of
 * everything any instance acknowledged, every scheduled transition, every event and every
 * issuer script, plus a search for the PINs in the logs, the database's bytes at rest and the
 * webhook bodies. On SQLite it is one instance on its DATA_DIR; on PostgreSQL, `instances` of
 * them on one database, sharing keys through configuration as docs/deployment.md requires.
 */
export interface CrashHarnessOptions {
  /** Card lifecycles to run at least (more run while kills are still due). */
  cards: number;
  /** Lifecycles in flight at once. */
  workers: number;
  /** SIGKILLs while the workload runs (a last one follows when it is done). */
  kills: number;
  /** How long the server stays up between kills, min and max. */
  uptimeMs: [number, number];
  seed?: number;
  log?: (line: string) => void;
  /** PostgreSQL (a URL whose search_path is `schema`); absent: SQLite in a temp DATA_DIR. */
  postgres?: { url: string; schema: string };
  /** Instances on the one database (PostgreSQL only; default 1). */
  instances?: number;
}

export interface CrashReport {
  seed: number;
  /** SIGKILLs the server came back from, the final one included. */
  killsSurvived: number;
  /** Instances that served the workload, and the kills each took. */
  instances: number;
  killsByInstance: number[];
  /** Acknowledged (2xx) operations, by kind. */
  acknowledged: Record<string, number>;
  /** Requests whose answer was lost to a kill: they may or may not have committed. */
  uncertain: number;
  /** Individual checks made at the end. */
  checks: number;
  cards: number;
  events: number;
  webhooksReceived: number;
  scripts: number;
  offlinePin: boolean;
  /** Secrets (PINs, widget tokens) searched for in logs, database files and webhook bodies. */
  secretsSearched: number;
  /** Acknowledged operations whose effect is missing. Must be empty. */
  lost: string[];
  /** Every other broken invariant. Must be empty. */
  problems: string[];
}

type Outcome =
  | { kind: 'ack'; status: number; body: any }
  | { kind: 'refused'; status: number; body: any }
  | { kind: 'fault'; status: number; body: any }
  | { kind: 'unsent' }
  | { kind: 'uncertain'; error: string };

const POLICIES = [
  { name: 'NOT_REQUIRED', product: { pin_issuance_policy: 'NOT_REQUIRED' }, setPin: true },
  { name: 'RANDOM', product: { pin_issuance_policy: 'RANDOM' }, setPin: false },
  { name: 'RANDOM+set', product: { pin_issuance_policy: 'RANDOM' }, setPin: true },
  { name: 'REQUIRED', product: { pin_issuance_policy: 'REQUIRED' }, setPin: true },
  {
    name: 'RANDOM+offline',
    product: { pin_issuance_policy: 'RANDOM', offline_pin: true },
    setPin: false,
  },
  {
    name: 'REQUIRED+offline(CCD)',
    product: { pin_issuance_policy: 'REQUIRED', offline_pin: true },
    setPin: true,
  },
  {
    name: 'REQUIRED+offline(VISA)',
    product: { pin_issuance_policy: 'REQUIRED', offline_pin: true, emv_profile: 'VISA' },
    setPin: true,
  },
  {
    name: 'REQUIRED+offline(MASTERCARD)',
    product: { pin_issuance_policy: 'REQUIRED', offline_pin: true, emv_profile: 'MASTERCARD' },
    setPin: true,
  },
  { name: 'VIRTUAL', product: { form: 'VIRTUAL' }, setPin: false },
] as const;
type Policy = (typeof POLICIES)[number];

/** mulberry32: a small seeded PRNG, so a failing run's choices can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The instances, one of them killed and restarted at a time by the chaos loop. A request goes to
 * a random instance that is up, as through a load balancer; callers wait while none is.
 */
class Chaos {
  kills = 0;
  readonly killsByInstance: number[];
  private readonly up: boolean[];
  private waiters: (() => void)[] = [];

  constructor(
    readonly servers: readonly ServerProcess[],
    private readonly random: () => number,
  ) {
    this.up = servers.map(() => false);
    this.killsByInstance = servers.map(() => 0);
  }

  /** Starts every instance that is down. */
  async startAll(): Promise<void> {
    await Promise.all(this.servers.map((_, index) => this.start(index)));
  }

  async start(index: number): Promise<void> {
    if (this.up[index]) return;
    await this.servers[index]!.start();
    this.up[index] = true;
    this.waiters.splice(0).forEach((wake) => wake());
  }

  /** SIGKILLs one instance that is up (a random one), or `index`; returns which. */
  async kill(index?: number): Promise<number> {
    const live = this.servers.map((_, i) => i).filter((i) => this.up[i]);
    const victim = index ?? live[Math.floor(this.random() * live.length)]!;
    this.up[victim] = false;
    await this.servers[victim]!.kill();
    this.kills++;
    this.killsByInstance[victim]!++;
    return victim;
  }

  async killAll(): Promise<void> {
    for (let i = 0; i < this.servers.length; i++) if (this.up[i]) await this.kill(i);
  }

  /** An instance that is up, chosen at random (waits while none is). */
  async pick(): Promise<ServerProcess> {
    for (;;) {
      const live = this.servers.filter((_, i) => this.up[i]);
      if (live.length > 0) return live[Math.floor(this.random() * live.length)]!;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Every instance's log, all runs. */
  get output(): string {
    return this.servers.map((server) => server.output).join('\n');
  }
}

/** A random 256-bit key, hex: the keys every instance of a PostgreSQL run shares. */
const sharedKey = () => randomBytes(32).toString('hex');

interface CardRecord {
  id: string;
  policy: Policy;
  pan: string;
  account: string;
  /** The PIN every set-PIN attempt (and retry) for the card used, in order of intent. */
  pins: string[];
  /** The status of the last acknowledged PATCH. */
  status?: string;
  syncsAcked: number;
  syncsTried: number;
  /** 9F18 identifiers of the scripts acknowledged authorizations carried. */
  scriptsReceived: string[];
  /** Wrong online PINs sent (retries of a lost answer included): no more tries may be used. */
  wrongPinsSent: number;
  /** After the last acknowledged PIN step: true once an answer said BLOCKED, false after an unblock. */
  pinBlocked?: boolean;
}

/** The products' `pin_try_limit`: the harness's products keep the default. */
const PIN_TRY_LIMIT = 3;

/** The report in one line, for the test's output (and the closing notes' figures). */
export function summarize(report: CrashReport): string {
  const acknowledged = Object.values(report.acknowledged).reduce((a, b) => a + b, 0);
  return (
    `seed ${report.seed}: ${report.instances} instance(s), ${report.killsSurvived} kills survived ` +
    `(by instance ${JSON.stringify(report.killsByInstance)}), ` +
    `${acknowledged} acknowledged operations ${JSON.stringify(report.acknowledged)}, ` +
    `${report.uncertain} answers lost to kills, ${report.cards} cards, ${report.events} events, ` +
    `${report.webhooksReceived} webhooks received, ${report.scripts} issuer scripts, ` +
    `${report.checks} checks, ${report.secretsSearched} secrets searched, ` +
    `${report.lost.length} lost, ${report.problems.length} problems`
  );
}

export async function runCrashHarness(options: CrashHarnessOptions): Promise<CrashReport> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = prng(seed);
  const log = options.log ?? (() => undefined);
  const instances = options.postgres ? (options.instances ?? 1) : 1;
  const dataDir = tempDataDir();
  const receiver = await startReceiver(() => (random() < 0.1 ? 500 : 200));
  const env: Record<string, string> = {
    API_KEY: TEST_API_KEY,
    ISSUANCE_DELAY_MS: '300',
    SCHEDULER_POLL_MS: '50',
    WEBHOOK_RETRY_BASE_MS: '50',
    WEBHOOK_RETRY_MAX_MS: '400',
    WEBHOOK_TIMEOUT_MS: '2000',
    WEBHOOK_MAX_ATTEMPTS: '40',
    LOG_LEVEL: 'info',
  };
  if (options.postgres) {
    // One database, so one set of keys for all instances: from configuration (docs/store.md).
    const transportKeys = path.join(dataDir, 'shared-pin-transport-keys.json');
    await rotateTransportKey(transportKeys, 0);
    Object.assign(env, {
      DATABASE_URL: options.postgres.url,
      PIN_ENCRYPTION_KEY: sharedKey(),
      PAN_ENCRYPTION_KEY: sharedKey(),
      PAN_HASH_KEY: sharedKey(),
      CHIP_PIN_KEY: sharedKey(),
      PIN_TRANSPORT_KEYS_FILE: transportKeys,
    });
  }
  const ports = await Promise.all(Array.from({ length: instances }, () => freePort()));
  // Behind a load balancer every instance serves one public URL (tokens name it as issuer).
  // The demo site is one process by design (docs/deployment.md): none beside several instances.
  if (instances > 1)
    Object.assign(env, { PUBLIC_URL: `http://localhost:${ports[0]}`, DEMO_SITE: '0' });
  const servers = ports.map(
    (port, i) =>
      // Each instance its own DATA_DIR: nothing may be shared through files.
      new ServerProcess(port, {
        ...env,
        DATA_DIR: instances === 1 ? dataDir : path.join(dataDir, `instance-${i}`),
      }),
  );
  const chaos = new Chaos(servers, random);
  const db: TestDatabase = options.postgres
    ? postgresTestDatabase(options.postgres.url, options.postgres.schema)
    : sqliteTestDatabase(path.join(dataDir, 'pin-widgets.db'));
  const report: CrashReport = {
    seed,
    instances,
    killsByInstance: chaos.killsByInstance,
    killsSurvived: 0,
    acknowledged: {},
    uncertain: 0,
    checks: 0,
    cards: 0,
    events: 0,
    webhooksReceived: 0,
    scripts: 0,
    offlinePin: false,
    secretsSearched: 0,
    lost: [],
    problems: [],
  };
  const secrets = new Set<string>();
  const cards: CardRecord[] = [];
  const problem = (text: string) => {
    report.problems.push(text);
    log(`PROBLEM ${text}`);
  };

  async function request(method: string, url: string, body?: unknown, auth = TEST_API_KEY) {
    const server = await chaos.pick();
    let response: Response;
    try {
      response = await fetch(`${server.url}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${auth}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      // Refused connections never reached the server: nothing can have committed.
      return code === 'ECONNREFUSED'
        ? ({ kind: 'unsent' } as const)
        : ({ kind: 'uncertain', error: String(code ?? error) } as const);
    }
    let parsed: unknown;
    try {
      const text = await response.text();
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch (error) {
      // The answer was cut off by a kill: the request may have committed.
      return { kind: 'uncertain', error: String(error) } as const;
    }
    const kind = response.ok ? 'ack' : response.status >= 500 ? 'fault' : 'refused';
    return { kind, status: response.status, body: parsed } as Outcome;
  }

  /**
   * One operation, retried until acknowledged: an answer lost to a kill is retried once the
   * server is back. `done` reads a refusal: true ends the retries (an expected refusal).
   */
  async function operation(
    name: string,
    attempt: () => Promise<Outcome>,
    done: (outcome: Outcome & { kind: 'refused' }) => boolean = () => false,
  ): Promise<Outcome & { kind: 'ack' | 'refused' }> {
    for (let tries = 0; tries < 60; tries++) {
      const outcome = await attempt();
      if (outcome.kind === 'ack') {
        if (!name.startsWith('read ')) {
          report.acknowledged[name] = (report.acknowledged[name] ?? 0) + 1;
        }
        return outcome;
      }
      if (outcome.kind === 'uncertain') report.uncertain++;
      if (outcome.kind === 'fault')
        problem(`${name}: ${outcome.status} ${JSON.stringify(outcome.body)}`);
      if (outcome.kind === 'refused') {
        if (done(outcome)) return outcome;
        if (outcome.status !== 409) {
          problem(`${name}: unexpected ${outcome.status} ${JSON.stringify(outcome.body)}`);
          return outcome;
        }
        await sleep(100);
      }
      if (outcome.kind === 'unsent' || outcome.kind === 'uncertain') await sleep(20);
    }
    throw new Error(`${name}: never acknowledged`);
  }

  /** The card a lost answer created: the account's card with this customer id. */
  async function createdEarlier(account: string, customer: string): Promise<string> {
    let cursor: string | null = null;
    do {
      const page: any = (
        await operation('read cards', () =>
          request(
            'GET',
            `/v1/cards?account_id=${account}&limit=100${cursor ? `&starting_after=${cursor}` : ''}`,
          ),
        )
      ).body;
      const found = page.data.find((c: any) => c.customer_id === customer);
      if (found) return found.id as string;
      cursor = page.next_cursor;
    } while (cursor);
    throw new Error(`${customer}: refused as PAN_ALREADY_ISSUED, yet no card of theirs exists`);
  }

  const cardNow = async (id: string) => {
    const outcome = await operation('read card', () => request('GET', `/v1/cards/${id}`));
    return outcome.body;
  };

  // ---- set-up (before the chaos starts) ------------------------------------------------------
  await chaos.startAll();
  const first = servers[0]!;
  const spec = (await (await fetch(`${first.url}/openapi.json`)).json()) as {
    paths: Record<string, unknown>;
  };
  report.offlinePin = [
    '/pcicards/v1/pcicards/{cardId}/scripts/sync-offline-pin',
    '/v1/accounts/{account_id}/tokens',
    '/v1/simulations/authorizations',
  ].every((route) => route in spec.paths);
  log(`offline-PIN endpoints ${report.offlinePin ? 'present' : 'absent: offline steps skipped'}`);
  const jwks = (await (await fetch(`${first.url}/v1/pin_keys`)).json()) as { keys: object[] };
  const webhook = await operation('create webhook', () =>
    request('POST', '/v1/webhooks', { url: receiver.url, enabled_events: ['*'] }),
  );
  const products = new Map<string, string>();
  for (const policy of POLICIES) {
    if (!report.offlinePin && 'offline_pin' in policy.product) continue;
    const created = await operation('create product', () =>
      request('POST', '/v1/card_products', {
        name: policy.name,
        form: 'PHYSICAL',
        ...(policy.name === 'VIRTUAL' ? {} : { pin_length: 12, allow_bearer_widget_tokens: true }),
        ...policy.product,
      }),
    );
    products.set(policy.name, created.body.id);
  }
  const policies = POLICIES.filter((policy) => products.has(policy.name));

  // ---- the workload ------------------------------------------------------------------------
  /** A 12-digit PIN the policy accepts for this card (its last four may not end it). */
  const newPin = (card: CardRecord) => {
    for (;;) {
      const pin = Array.from({ length: 12 }, () => Math.floor(random() * 10)).join('');
      if (/(\d)\1\1\1/.test(pin)) continue; // no four alike in a row: easy to tell apart
      if (pinPolicyViolation(pin, 12, card.pan.slice(-4)) === undefined) return pin;
    }
  };

  async function setPin(card: CardRecord, pin: string, sync?: boolean) {
    card.pins.push(pin);
    await operation('set PIN', async () => {
      const minted = await request('POST', `/v1/cards/${card.id}/widget_token`, {
        widget_type: 'SET_PIN',
      });
      if (minted.kind !== 'ack') return minted;
      report.acknowledged['mint widget token'] =
        (report.acknowledged['mint widget token'] ?? 0) + 1;
      const token = minted.body.widget_token as string;
      secrets.add(token);
      return request(
        'POST',
        '/v1/widget/pin',
        {
          encrypted_pin: await encryptPin(jwks, pin, token),
          ...(sync === undefined ? {} : { sync_offline_pin: sync }),
        },
        token,
      );
    });
    secrets.add(pin);
  }

  const status = async (card: CardRecord, to: string) => {
    await operation('change status', () =>
      request('PATCH', `/v1/cards/${card.id}`, { card_status: to, reason: 'crash harness' }),
    );
    card.status = to;
  };

  async function waitFor(card: CardRecord, test: (resource: any) => boolean) {
    for (let round = 0; round < 600; round++) {
      const resource = await cardNow(card.id);
      if (test(resource)) return resource;
      // Now and then ask for the scheduled jobs at once, racing the scheduler.
      if (round % 7 === 6) {
        await operation('advance', () =>
          request('POST', `/v1/simulations/cards/${card.id}/advance`),
        );
      }
      await sleep(80);
    }
    throw new Error(`${card.id} (${card.policy.name}): the awaited state never came`);
  }

  async function syncAndApply(card: CardRecord) {
    let token = '';
    card.syncsTried++;
    await operation('sync offline PIN', async () => {
      if (!token) {
        const minted = await request('POST', `/v1/accounts/${card.account}/tokens`);
        if (minted.kind !== 'ack') return minted;
        token = minted.body.access_token;
      }
      const outcome = await request(
        'POST',
        `/pcicards/v1/pcicards/${card.id}/scripts/sync-offline-pin`,
        undefined,
        token,
      );
      if (outcome.kind === 'uncertain') card.syncsTried++;
      return outcome;
    });
    card.syncsAcked++;
    await chipUntilInSync(card);
  }

  async function chipUntilInSync(card: CardRecord) {
    await waitFor(card, (c) => c.card_fulfillment_status !== 'ORDERED');
    for (let round = 0; round < 12; round++) {
      const authorized = await operation('chip authorization', () =>
        request('POST', '/v1/simulations/authorizations', {
          card_id: card.id,
          amount: 100 + round,
          entry_mode: 'CHIP_CONTACT',
        }),
      );
      const template = authorized.body?.issuer_script_template as string | undefined;
      // 72 L 9F18 04 <id> …: the script identifier is bytes 5..8 of the template.
      if (template)
        card.scriptsReceived.push(template.slice(template.indexOf('9F1804') + 6).slice(0, 8));
      const now = await cardNow(card.id);
      if (now.offline_pin?.in_sync) return;
    }
    problem(`${card.id}: the chip never got in sync`);
  }

  /**
   * Wrong online PINs until an acknowledged answer says the PIN is BLOCKED (a kill must never
   * lose that), then, half the time, the back office's unblock.
   */
  async function blockPin(card: CardRecord) {
    const wrong = newPin(card);
    for (let round = 0; round < 12 && !card.pinBlocked; round++) {
      const answer = await operation('wrong PIN', () => {
        card.wrongPinsSent++;
        return request('POST', '/v1/simulations/authorizations', {
          card_id: card.id,
          amount: 1,
          entry_mode: 'MAGSTRIPE',
          pin_block: { format: 'ISO_9564_0', block: terminal.format0(wrong, card.pan) },
        });
      });
      card.pinBlocked = answer.body?.pin_status === 'BLOCKED';
    }
    if (!card.pinBlocked) problem(`${card.id}: 12 wrong PINs never blocked it`);
    secrets.add(wrong);
    if (random() < 0.5) {
      await operation('unblock PIN', () => request('POST', `/v1/cards/${card.id}/pin/unblock`));
      card.pinBlocked = false;
    }
  }

  async function lifecycle(index: number) {
    const policy = policies[index % policies.length]!;
    // 4 ‖ the lifecycle number ‖ random digits: 15 digits, then the Luhn check digit.
    const digits = String(Math.floor(random() * 1e8)).padStart(8, '0');
    const pan = testPan(`4${String(index).padStart(6, '0')}${digits}`);
    const account = `acct_crash_${index % 5}`;
    // The customer id tags the lifecycle: an answer lost to a kill may hide a card that was
    // created, and its retry is then refused as PAN_ALREADY_ISSUED; the tag finds that card.
    const customer = `cust_crash_${index}`;
    const created = await operation(
      'create card',
      () =>
        request('POST', '/v1/cards', {
          card_product_id: products.get(policy.name),
          account_id: account,
          customer_id: customer,
          pan,
        }),
      (refused) => refused.body?.code === 'PAN_ALREADY_ISSUED',
    );
    const id: string =
      created.kind === 'ack' ? created.body.id : await createdEarlier(account, customer);
    const card: CardRecord = {
      id,
      policy,
      pan,
      account,
      pins: [],
      syncsAcked: 0,
      syncsTried: 0,
      scriptsReceived: [],
      wrongPinsSent: 0,
    };
    cards.push(card);
    if (policy.name === 'VIRTUAL') {
      await status(card, 'SUSPENDED');
      await status(card, 'ACTIVE');
      return;
    }
    if (policy.setPin) await setPin(card, newPin(card));
    await waitFor(card, (c) => c.card_status !== 'PENDING');
    await status(card, 'ACTIVE');
    const offline = 'offline_pin' in policy.product && report.offlinePin;
    if (offline) {
      await syncAndApply(card);
      await setPin(card, newPin(card), true);
      await chipUntilInSync(card);
    } else if (random() < 0.5) {
      await setPin(card, newPin(card));
    }
    await status(card, 'SUSPENDED');
    await status(card, 'ACTIVE');
    if (card.pins.length > 0 && random() < 0.5) await blockPin(card);
    if (random() < 0.3) await status(card, 'TERMINATED');
  }

  // ---- chaos: SIGKILL at random moments while the workers run ------------------------------
  let started = 0;
  let workloadDone = false;
  const chaosLoop = (async () => {
    while (chaos.kills < options.kills && !workloadDone) {
      const [min, max] = options.uptimeMs;
      await sleep(min + random() * (max - min));
      if (workloadDone) break;
      const victim = await chaos.kill();
      log(`SIGKILL #${chaos.kills} of instance ${victim} (${started} lifecycles started)`);
      await sleep(random() * 300);
      await chaos.start(victim);
    }
  })();
  const maxCards = options.cards * 6;
  const workers = Array.from({ length: options.workers }, async () => {
    while ((started < options.cards || chaos.kills < options.kills) && started < maxCards) {
      await lifecycle(started++);
    }
  });
  try {
    await Promise.all(workers);
  } finally {
    workloadDone = true;
    await chaosLoop;
  }
  if (chaos.kills < options.kills)
    problem(`only ${chaos.kills} of ${options.kills} kills happened`);
  log(`workload done: ${cards.length} lifecycles, ${chaos.kills} kills`);

  // ---- quiescence, then one more kill at rest (every instance) ------------------------------
  try {
    const quiet = async () =>
      (
        await db.rows<{ n: number }>(
          `SELECT (SELECT count(*) FROM jobs WHERE status = 'PENDING' AND run_at <= ?) +
                  (SELECT count(*) FROM deliveries WHERE status <> 'SUCCEEDED') AS n`,
          Date.now() + 1000,
        )
      )[0]!.n == 0;
    const deadline = Date.now() + 30_000;
    while (!(await quiet())) {
      if (Date.now() > deadline) {
        problem('jobs or webhook deliveries still pending 30 s after the workload');
        break;
      }
      await sleep(100);
    }
    const before = await snapshotCards(first.url);
    await chaos.killAll();
    log(`SIGKILL of every instance at rest (${chaos.kills} kills)`);

    // The PINs and widget tokens appear nowhere in the database's bytes at rest (SQLite: the
    // file and its WAL; PostgreSQL: the relation files and a dump of every row).
    const images = await db.images();
    for (const secret of secrets) {
      report.secretsSearched++;
      for (const { name, bytes } of images) {
        if (bytes.includes(secret, 0, 'latin1')) problem(`a secret is in ${name}`);
      }
    }

    await chaos.startAll();
    const after = await snapshotCards(first.url);
    report.checks++;
    if (JSON.stringify(after) !== JSON.stringify(before)) {
      report.lost.push('state read before the kill at rest differs from after the restart');
    }
    report.killsSurvived = chaos.kills;
    await verify({
      report,
      db,
      cards,
      receiver: receiver.received,
      webhookId: webhook.body.id,
    });

    // Nor in the logs of every run of every instance, nor in any webhook body.
    const output = chaos.output;
    if (!output.includes('/v1/widget/pin')) problem('the server logs show no PIN requests');
    for (const secret of [...secrets, TEST_API_KEY]) {
      if (output.includes(secret)) problem('a secret is in the server logs');
      if (receiver.received.some((w) => w.body.includes(secret)))
        problem('a secret is in a webhook');
    }
  } finally {
    await db.close();
    await Promise.all(servers.map((server) => server.stop()));
    await receiver.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return report;

  async function verify(context: {
    report: CrashReport;
    db: TestDatabase;
    cards: CardRecord[];
    receiver: ReceivedWebhook[];
    webhookId: string;
  }) {
    const { db } = context;
    /** A flag as stored: 0/1 on SQLite, a boolean on PostgreSQL. */
    const flag = (value: unknown) => value === 1 || value === true;
    const check = (ok: boolean, lostWhat: string | undefined, otherwise?: string) => {
      report.checks++;
      if (ok) return;
      if (lostWhat) report.lost.push(lostWhat);
      else problem(otherwise!);
    };
    if (db.kind === 'sqlite') {
      const integrity = await db.rows<{ integrity_check: string }>('PRAGMA integrity_check');
      check(
        integrity[0]?.integrity_check === 'ok',
        undefined,
        `integrity: ${JSON.stringify(integrity)}`,
      );
    }

    // By id: time order to the millisecond across instances, and creation order within one.
    const events = [...(await db.events())].sort((a, b) => (a.id < b.id ? -1 : 1));
    report.events = events.length;
    const eventsOf = (cardId: string) =>
      events.filter((e) => (e.data.card?.id ?? e.data.card_id) === cardId);
    const allCards = await db.rows<any>('SELECT * FROM cards ORDER BY id');
    report.cards = allCards.length;
    const productPolicy = new Map(
      (
        await db.rows<{ id: string; pin_issuance_policy: string | null }>(
          'SELECT id, pin_issuance_policy FROM card_products',
        )
      ).map((p) => [p.id, p.pin_issuance_policy]),
    );

    // Acknowledged operations: each one's effect is there.
    for (const [name, id] of [...products].map(([n, i]) => [`product ${n}`, i] as const)) {
      const rows = await db.rows('SELECT id FROM card_products WHERE id = ?', id);
      check(rows.length === 1, `${name} ${id}`);
    }
    check(
      (await db.rows('SELECT id FROM webhooks WHERE id = ?', context.webhookId)).length === 1,
      'webhook',
    );
    for (const token of secrets) {
      if (!token.startsWith('wt_')) continue;
      const hash = createHash('sha256').update(token).digest('hex');
      check(
        (await db.rows('SELECT id FROM widget_tokens WHERE token_hash = ?', hash)).length === 1,
        'a minted widget token',
      );
    }
    const tdesKey = Buffer.from(TEST_KEYS.ZONE_PIN_KEY_TDES, 'hex');
    for (const card of context.cards) {
      const row = allCards.find((c) => c.id === card.id);
      check(row !== undefined, `card ${card.id} (${card.policy.name})`);
      if (!row) continue;
      const created = eventsOf(card.id).filter((e) => e.type === 'CARD.CREATED');
      check(created.length === 1, undefined, `${card.id}: ${created.length} CARD.CREATED events`);
      if (card.status) {
        check(
          row.card_status === card.status,
          `${card.id}: status ${card.status} (is ${row.card_status})`,
        );
      }
      if (card.pins.length > 0) {
        check(flag(row.is_pin_set), `${card.id}: the PIN set`);
        if (row.card_status !== 'TERMINATED') {
          const exported = await request('GET', `/v1/cards/${card.id}/pin_block?format=ISO_9564_0`);
          const pin =
            exported.kind === 'ack'
              ? decodeFormat0(
                  tdesEcbDecrypt(tdesKey, Buffer.from(exported.body.pin_block, 'hex')),
                  card.pan,
                )
              : undefined;
          check(pin === card.pins.at(-1), `${card.id}: the last PIN set (stored PIN differs)`);
        }
      }
      if (card.pinBlocked !== undefined) {
        const tries = Number(row.pin_tries_remaining);
        check(
          tries === (card.pinBlocked ? 0 : PIN_TRY_LIMIT),
          `${card.id}: the acknowledged PIN ${card.pinBlocked ? 'BLOCKED' : 'unblock'} (${tries} tries left)`,
        );
        check(
          PIN_TRY_LIMIT - tries <= card.wrongPinsSent,
          undefined,
          `${card.id}: ${PIN_TRY_LIMIT - tries} tries used by ${card.wrongPinsSent} wrong PINs`,
        );
      }
      const scripts = await db.rows<{
        id: string;
        script_identifier: string;
        requested_by: string;
        status: string;
      }>(
        'SELECT id, script_identifier, requested_by, status FROM issuer_scripts WHERE card_id = ?',
        card.id,
      );
      const bySync = scripts.filter((s) => s.requested_by === 'SYNC_ENDPOINT').length;
      check(
        bySync >= card.syncsAcked,
        `${card.id}: ${card.syncsAcked} acknowledged syncs, ${bySync} scripts`,
      );
      check(
        bySync <= card.syncsTried,
        undefined,
        `${card.id}: ${bySync} sync scripts for ${card.syncsTried} requests`,
      );
      check(
        new Set(card.scriptsReceived).size === card.scriptsReceived.length,
        undefined,
        `${card.id}: one script delivered twice ${JSON.stringify(card.scriptsReceived)}`,
      );
      for (const identifier of card.scriptsReceived) {
        const script = scripts.find((s) => s.script_identifier === identifier);
        check(
          script !== undefined && ['SENT', 'APPLIED', 'FAILED'].includes(script.status),
          `${card.id}: delivered script ${identifier}`,
        );
      }
    }

    // Every card in the database (orphans of lost answers included): transitions and events.
    const jobs = await db.rows<{ card_id: string; kind: string; status: string }>(
      'SELECT card_id, kind, status FROM jobs',
    );
    const scripts = await db.rows<any>('SELECT * FROM issuer_scripts');
    report.scripts = scripts.length;
    for (const row of allCards) {
      const own = eventsOf(row.id);
      const updates = own.filter((e) => e.type === 'CARD.UPDATED');
      const policy = productPolicy.get(row.card_product_id);
      const fromPending = updates.filter((e) => e.data.changed_fields.card_status === 'PENDING');
      const expected =
        policy === 'RANDOM' || (policy === 'REQUIRED' && flag(row.is_pin_set)) ? 1 : 0;
      check(
        fromPending.length === expected,
        undefined,
        `${row.id} (${policy}): ${fromPending.length} PENDING → UNACTIVATED events, expected ${expected}`,
      );
      for (const [from, label] of [
        ['ORDERED', 'ISSUED'],
        ['ISSUED', 'SHIPPED'],
      ] as const) {
        const steps = updates.filter((e) => e.data.changed_fields.card_fulfillment_status === from);
        const past =
          row.fulfillment_status === label ||
          (label === 'ISSUED' && row.fulfillment_status === 'SHIPPED');
        check(
          steps.length === (past ? 1 : 0),
          undefined,
          `${row.id}: ${steps.length} ${from} → ${label} events`,
        );
      }
      const done = jobs
        .filter((j) => j.card_id === row.id && j.status === 'DONE')
        .map((j) => j.kind);
      check(
        new Set(done).size === done.length,
        undefined,
        `${row.id}: a job ran twice ${JSON.stringify(done)}`,
      );
      const overdue = jobs.filter((j) => j.card_id === row.id && j.status === 'PENDING');
      check(
        overdue.length === 0 || row.card_status === 'PENDING',
        undefined,
        `${row.id}: ${overdue.length} jobs never ran`,
      );
      // The events tell the card's story: the last one shows the card as it is.
      const last = (updates.at(-1) ?? own.find((e) => e.type === 'CARD.CREATED'))?.data.card;
      const resource = (await request('GET', `/v1/cards/${row.id}`)) as any;
      for (const field of [
        'card_status',
        'is_pin_set',
        'pin_status',
        'pin_tries_remaining',
        'card_fulfillment_status',
        'offline_pin',
      ]) {
        check(
          JSON.stringify(last?.[field]) === JSON.stringify(resource.body?.[field]),
          undefined,
          `${row.id}: ${field} is ${JSON.stringify(resource.body?.[field])}, last event says ${JSON.stringify(last?.[field])}`,
        );
      }
    }

    // Issuer scripts: created once, sent at most once, one ending that matches the row.
    for (const script of scripts) {
      const own = events.filter((e) => e.data.card_script_id === script.id);
      const count = (type: string) => own.filter((e) => e.data.script_event_type === type).length;
      check(
        count('script_created') === 1,
        undefined,
        `${script.id}: ${count('script_created')} script_created`,
      );
      check(
        count('script_sent') <= 1,
        undefined,
        `${script.id}: sent ${count('script_sent')} times`,
      );
      const endings = count('script_applied') + count('script_failed') + count('script_canceled');
      check(endings <= 1, undefined, `${script.id}: ${endings} endings`);
      const expectedEvent: Record<string, string> = {
        CREATED: 'script_created',
        SENT: 'script_sent',
        APPLIED: 'script_applied',
        FAILED: 'script_failed',
        CANCELED: 'script_canceled',
      };
      check(
        own.at(-1)?.data.script_event_type === expectedEvent[script.status],
        undefined,
        `${script.id}: status ${script.status}, last event ${own.at(-1)?.data.script_event_type}`,
      );
    }

    // Webhooks: every event reached the receiver at least once; none that was never committed.
    const received = new Set(context.receiver.map((w) => String(w.headers['webhook-id'])));
    report.webhooksReceived = context.receiver.length;
    // Read again: the checks above exported PIN blocks, and each export is an audit event too.
    const eventIds = new Set(
      (await db.rows<{ id: string }>('SELECT id FROM events')).map((e) => e.id),
    );
    for (const event of events)
      check(received.has(event.id), `webhook for event ${event.id} (${event.type})`);
    for (const id of received) {
      const webhook = context.receiver.find((w) => String(w.headers['webhook-id']) === id);
      check(
        eventIds.has(id),
        undefined,
        `a webhook for an event not in the log: ${id} (${webhook?.json.type}, ${JSON.stringify(webhook?.json.data).slice(0, 160)})`,
      );
    }
  }
}

/** Every card as the API shows it, to compare before and after a kill at rest. */
async function snapshotCards(url: string) {
  const all: unknown[] = [];
  let cursor: string | null = null;
  do {
    const response = await fetch(
      `${url}/v1/cards?limit=100${cursor ? `&starting_after=${cursor}` : ''}`,
      { headers: { authorization: `Bearer ${TEST_API_KEY}` } },
    );
    const page = (await response.json()) as { data: unknown[]; next_cursor: string | null };
    all.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return all;
}
