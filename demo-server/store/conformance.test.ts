import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TestDatabase, postgresTestDatabase } from '../testing/db-snapshot.js';
import { createTestSchema, testPostgresUrl } from '../testing/postgres.js';
import { PostgresStore } from './postgres/store.js';
import { SqliteStore } from './sqlite/store.js';
import type {
  Card,
  CardProduct,
  Delivery,
  EventRecord,
  IssuerScript,
  Job,
  Lease,
  Passkey,
  Repositories,
  Store,
  Webhook,
  WidgetToken,
} from './types.js';

/**
 * The Store contract (docs/store.md), held against every backend there is: SQLite always,
 * PostgreSQL when the run has its test cluster (the `postgres` Vitest project). On PostgreSQL
 * the races are real: transactions on separate connections, one held open while another is
 * seen waiting for its lock in `pg_stat_activity`.
 */

interface Opened {
  store: Store;
  /** Resolves once a transaction of this store waits for a lock (PostgreSQL only). */
  lockWaiter(): Promise<void>;
  dispose(): Promise<void>;
}

interface Backend {
  name: Store['kind'];
  /** Transactions interleave (PostgreSQL); SQLite runs them one at a time. */
  concurrent: boolean;
  open(): Promise<Opened>;
}

const sqlite: Backend = {
  name: 'sqlite',
  concurrent: false,
  async open() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-widgets-conformance-'));
    const store = SqliteStore.open(path.join(dir, 'conformance.db'));
    return {
      store,
      lockWaiter: () => Promise.reject(new Error('SQLite transactions never wait on each other')),
      async dispose() {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

function postgres(url: string): Backend {
  return {
    name: 'postgres',
    concurrent: true,
    async open() {
      const schema = await createTestSchema(url);
      const store = await PostgresStore.open({
        connectionString: schema.url,
        applicationName: schema.name,
      });
      const db: TestDatabase = postgresTestDatabase(url, schema.name);
      let disposed = false;
      return {
        store,
        async lockWaiter() {
          while (!disposed) {
            const [row] = await db.rows<{ n: number }>(
              `SELECT count(*) AS n FROM pg_stat_activity
               WHERE application_name = ? AND wait_event_type = 'Lock'`,
              schema.name,
            );
            if (row!.n > 0) return;
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        },
        async dispose() {
          disposed = true;
          await store.close();
          await db.close();
          await schema.drop();
        },
      };
    },
  };
}

const url = testPostgresUrl();
const backends: Backend[] = [sqlite, ...(url ? [postgres(url)] : [])];

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z, in ms: times are real-sized numbers.
const iso = (ms: number) => new Date(ms).toISOString();

const product = (id: string, extra: Partial<CardProduct> = {}): CardProduct => ({
  id,
  name: `Product ${id}`,
  form: 'PHYSICAL',
  pinIssuancePolicy: 'REQUIRED',
  offlinePin: true,
  pinLength: 6,
  emvProfile: 'VISA',
  allowBearerWidgetTokens: false,
  pinTryLimit: 3,
  pinChangeRequiresCurrentPin: false,
  revealStepUp: 'NONE',
  createdTime: iso(T0),
  ...extra,
});

const card = (id: string, extra: Partial<Card> = {}): Card => ({
  id,
  accountId: 'acct_1',
  customerId: null,
  cardProductId: 'cp_1',
  form: 'PHYSICAL',
  sealedPan: {
    ciphertext: Buffer.from(`ciphertext of ${id}`),
    iv: Buffer.alloc(12, 7),
    tag: Buffer.alloc(16, 0xfe),
    keyId: 'pan_key_a',
  },
  panSequenceNumber: '00',
  lastFour: '1234',
  cardStatus: 'PENDING',
  statusReason: null,
  memo: null,
  isWaitingForPin: true,
  fulfillmentStatus: 'ORDERED',
  isPinSet: false,
  timestampPinSet: null,
  pinTriesRemaining: 3,
  offlinePinEnabled: true,
  offlinePinInSync: false,
  pendingScriptId: null,
  createdTime: iso(T0),
  lastModifiedTime: iso(T0),
  ...extra,
});

const job = (id: string, runAt: number, extra: Partial<Job> = {}): Job => ({
  id,
  cardId: 'card_1',
  kind: 'ISSUE_CARD',
  runAt,
  status: 'PENDING',
  createdTime: iso(T0),
  finishedTime: null,
  claimToken: null,
  claimUntil: null,
  ...extra,
});

const event = (id: string, type = 'CARD.UPDATED', data: Record<string, unknown> = {}) =>
  ({ id, type, createdTime: iso(T0), data: { id, ...data } }) satisfies EventRecord;

const webhook = (id: string, extra: Partial<Webhook> = {}): Webhook => ({
  id,
  url: `https://receiver.example/${id}`,
  enabledEvents: ['CARD.*'],
  isEnabled: true,
  description: null,
  secret: `whsec_${id}`,
  previousSecret: null,
  previousSecretExpiresAt: null,
  createdTime: iso(T0),
  deleted: false,
  ...extra,
});

const delivery = (id: string, nextAttemptAt: number, extra: Partial<Delivery> = {}): Delivery => ({
  id,
  eventId: 'evt_1',
  webhookId: 'wh_1',
  status: 'PENDING',
  attemptCount: 0,
  nextAttemptAt,
  createdTime: iso(T0),
  leaseToken: null,
  ...extra,
});

const widgetToken = (id: string, extra: Partial<WidgetToken> = {}): WidgetToken => ({
  id,
  tokenHash: `hash_${id}`.padEnd(64, '0'),
  cardId: 'card_1',
  widgetType: 'SET_PIN',
  origin: 'https://program.example',
  jkt: 'A'.repeat(43),
  apiKeyId: 'key_1',
  expiresAt: T0 + 300_000,
  consumedAt: null,
  failures: 0,
  createdTime: iso(T0),
  ...extra,
});

const script = (id: string, identifier: string, extra: Partial<IssuerScript> = {}) =>
  ({
    id,
    scriptIdentifier: identifier,
    cardId: 'card_1',
    scriptType: 'SYNC_PIN',
    requestedBy: 'SYNC_ENDPOINT',
    status: 'CREATED',
    createdTime: iso(T0),
    sentTime: null,
    finishedTime: null,
    atc: null,
    arqc: null,
    commandApdu: null,
    commandApduSha256: null,
    pinVersion: null,
    reason: null,
    ...extra,
  }) satisfies IssuerScript;

const lease = (token: string, now: number, until: number): Lease => ({ token, now, until });

/** A promise and its resolver: one step of a race, released by the test. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** Rejects when `promise` takes longer than `ms`: "never waited for" made checkable. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} waited (over ${ms} ms)`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe.each(backends)('Store conformance: $name', (backend) => {
  let opened: Opened;
  let store: Store;
  const tx = <T>(work: (tx: Repositories) => Promise<T>) => store.transaction(work);

  /** The product and the card most records hang on (foreign keys hold on both backends). */
  async function seedCard(id = 'card_1', extra: Partial<Card> = {}): Promise<Card> {
    const made = card(id, extra);
    await tx(async (t) => {
      if (!(await t.getProduct('cp_1'))) await t.insertProduct(product('cp_1'));
      await t.insertCard(made, `pan_hash_${id}`);
    });
    return made;
  }

  beforeEach(async () => {
    opened = await backend.open();
    store = opened.store;
  });
  afterEach(() => opened.dispose());

  describe('the store', () => {
    it(`is the ${backend.name} backend, answers ping, and refuses once closed`, async () => {
      expect(store.kind).toBe(backend.name);
      await expect(store.ping()).resolves.toBeUndefined();
      await store.checkpoint();
      await store.close();
      await expect(store.ping()).rejects.toThrow();
      await store.close(); // twice is harmless
    });
  });

  describe('round trips', () => {
    it('card products, with pagination newest first', async () => {
      const products = ['cp_a', 'cp_b', 'cp_c'].map((id, i) =>
        product(id, { pinIssuancePolicy: i === 0 ? null : 'RANDOM', offlinePin: i === 1 }),
      );
      await tx(async (t) => {
        for (const p of products) await t.insertProduct(p);
      });
      expect(await store.read.getProduct('cp_a')).toEqual(products[0]);
      expect(await store.read.getProduct('cp_b')).toEqual(products[1]);
      expect(await store.read.getProduct('cp_missing')).toBeUndefined();
      const first = await store.read.listProducts({ limit: 2 });
      expect(first).toEqual({ data: [products[2], products[1]], hasMore: true });
      const rest = await store.read.listProducts({ limit: 2, startingAfter: 'cp_b' });
      expect(rest).toEqual({ data: [products[0]], hasMore: false });
    });

    it('cards: every field, patches, filters and pagination', async () => {
      const a = await seedCard('card_a', { accountId: 'acct_x', customerId: 'cus_1' });
      const b = await seedCard('card_b', { cardStatus: 'ACTIVE', memo: 'ü — ☃' });
      const c = await seedCard('card_c', { accountId: 'acct_x', cardStatus: 'ACTIVE' });
      expect(await store.read.getCard('card_a')).toEqual(a);
      expect(await store.read.getCard('card_b')).toEqual(b);
      expect(await store.read.getCard('card_none')).toBeUndefined();

      await tx((t) =>
        t.updateCard(
          'card_a',
          {
            cardStatus: 'SUSPENDED',
            statusReason: 'LOST',
            isWaitingForPin: false,
            isPinSet: true,
            offlinePinInSync: true,
            timestampPinSet: iso(T0 + 1),
            pendingScriptId: 'scr_1',
            memo: null,
          },
          iso(T0 + 2),
        ),
      );
      expect(await store.read.getCard('card_a')).toEqual({
        ...a,
        cardStatus: 'SUSPENDED',
        statusReason: 'LOST',
        isWaitingForPin: false,
        isPinSet: true,
        offlinePinInSync: true,
        timestampPinSet: iso(T0 + 1),
        pendingScriptId: 'scr_1',
        lastModifiedTime: iso(T0 + 2),
      });

      const byAccount = await store.read.listCards({ limit: 10, accountId: 'acct_x' });
      expect(byAccount.data.map((x) => x.id)).toEqual(['card_c', 'card_a']);
      const active = await store.read.listCards({ limit: 10, cardStatus: 'ACTIVE' });
      expect(active.data.map((x) => x.id)).toEqual(['card_c', 'card_b']);
      const both = await store.read.listCards({
        limit: 10,
        accountId: 'acct_x',
        cardStatus: 'ACTIVE',
      });
      expect(both.data).toEqual([c]);
      const page = await store.read.listCards({ limit: 1, startingAfter: 'card_c' });
      expect(page).toMatchObject({ data: [{ id: 'card_b' }], hasMore: true });
      expect(await store.read.listCards({ limit: 5, startingAfter: 'card_a' })).toEqual({
        data: [],
        hasMore: false,
      });
      expect(await store.read.legacyPans(10)).toEqual([]);
    });

    it('the PAN: one card per hash, rotation queries and re-sealing', async () => {
      await seedCard('card_a');
      await seedCard('card_b');
      expect(await store.read.panHashUsed('pan_hash_card_a')).toBe(true);
      expect(await store.read.panHashUsed('pan_hash_other')).toBe(false);
      await expect(tx((t) => t.insertCard(card('card_dup'), 'pan_hash_card_a'))).rejects.toThrow(
        /UNIQUE/,
      );
      expect(await store.read.getCard('card_dup')).toBeUndefined();

      const resealed = {
        ciphertext: Buffer.from([0, 1, 2, 255]),
        iv: Buffer.alloc(12, 1),
        tag: Buffer.alloc(16, 2),
        keyId: 'pan_key_b',
      };
      await tx((t) => t.updateCardPan('card_a', resealed));
      expect((await store.read.getCard('card_a'))!.sealedPan).toEqual(resealed);
      // No hash given: the old one stays.
      expect(await store.read.panHashUsed('pan_hash_card_a')).toBe(true);
      await tx((t) => t.updateCardPan('card_a', resealed, 'pan_hash_new'));
      expect(await store.read.panHashUsed('pan_hash_card_a')).toBe(false);
      expect(await store.read.panHashUsed('pan_hash_new')).toBe(true);

      const notUnderB = await store.read.cardsWithPanNotUnderKey('pan_key_b', 10);
      expect(notUnderB.map((x) => x.id)).toEqual(['card_b']);
      expect(await store.read.cardsWithPanNotUnderKey('pan_key_c', 1)).toMatchObject([
        { id: 'card_a' },
      ]);
    });

    it('foreign keys hold: a job for no card is refused', async () => {
      await expect(
        tx((t) => t.insertJob(job('job_x', T0, { cardId: 'card_none' }))),
      ).rejects.toThrow(/FOREIGN KEY|foreign key/);
    });

    it('events: data kept exactly (key order, unicode), type filter and pagination', async () => {
      const data = { z: 1, a: { nested: [1, 'two', null, true] }, text: 'é\u2028"\\', n: 1.5 };
      const events = [
        event('evt_1', 'CARD.CREATED', data),
        event('evt_2', 'CARD.UPDATED'),
        event('evt_3', 'CARD.UPDATED'),
      ];
      await tx(async (t) => {
        for (const e of events) await t.insertEvent(e);
      });
      const got = await store.read.getEvent('evt_1');
      expect(got).toEqual(events[0]);
      expect(JSON.stringify(got!.data)).toBe(JSON.stringify(events[0]!.data));
      expect(await store.read.getEvent('evt_none')).toBeUndefined();
      expect(await store.read.listEvents({ limit: 10, type: 'CARD.UPDATED' })).toEqual({
        data: [events[2], events[1]],
        hasMore: false,
      });
      expect(await store.read.listEvents({ limit: 1, startingAfter: 'evt_3' })).toEqual({
        data: [events[1]],
        hasMore: true,
      });
    });

    it('webhooks: every field, updates, and deleted ones hidden', async () => {
      const a = webhook('wh_a', { description: 'ops', enabledEvents: ['*'] });
      const b = webhook('wh_b', { isEnabled: false });
      const c = webhook('wh_c');
      await tx(async (t) => {
        for (const w of [a, b, c]) await t.insertWebhook(w);
      });
      expect(await store.read.getWebhook('wh_a')).toEqual(a);
      expect((await store.read.enabledWebhooks()).map((w) => w.id)).toEqual(['wh_a', 'wh_c']);
      const rotated = {
        ...c,
        secret: 'whsec_new',
        previousSecret: c.secret,
        previousSecretExpiresAt: T0 + 86_400_000,
        enabledEvents: ['CARD.UPDATED', 'PIN.*'],
      };
      await tx((t) => t.updateWebhook(rotated));
      expect(await store.read.getWebhook('wh_c')).toEqual(rotated);
      await tx((t) => t.updateWebhook({ ...a, deleted: true }));
      expect(await store.read.getWebhook('wh_a')).toBeUndefined();
      expect((await store.read.enabledWebhooks()).map((w) => w.id)).toEqual(['wh_c']);
      expect(await store.read.listWebhooks({ limit: 1 })).toEqual({
        data: [rotated],
        hasMore: true,
      });
      expect(await store.read.listWebhooks({ limit: 5, startingAfter: 'wh_c' })).toEqual({
        data: [b],
        hasMore: false,
      });
    });

    it('deliveries and their attempts', async () => {
      await tx(async (t) => {
        await t.insertEvent(event('evt_1'));
        await t.insertWebhook(webhook('wh_1'));
        await t.insertWebhook(webhook('wh_2'));
        await t.insertDelivery(delivery('dlv_1', T0));
        await t.insertDelivery(delivery('dlv_2', T0, { webhookId: 'wh_2' }));
      });
      expect(await store.read.deliveriesForEvent('evt_1')).toEqual([
        delivery('dlv_1', T0),
        delivery('dlv_2', T0, { webhookId: 'wh_2' }),
      ]);
      const [leased] = await tx((t) => t.leaseDueDeliveries(lease('l1', T0, T0 + 5000), 1));
      expect(leased).toEqual(delivery('dlv_1', T0 + 5000, { leaseToken: 'l1' }));
      const attempt = {
        attemptNumber: 1,
        attemptedTime: iso(T0 + 10),
        statusCode: 500,
        error: null,
        durationMs: 1234,
        responseBody: 'oops ☃',
      };
      expect(
        await tx((t) =>
          t.finishDeliveryAttempt(
            'dlv_1',
            'l1',
            { status: 'PENDING', attemptCount: 1, nextAttemptAt: T0 + 60_000 },
            attempt,
          ),
        ),
      ).toBe(true);
      expect(await store.read.attemptsForEvent('evt_1')).toEqual([
        { ...attempt, deliveryId: 'dlv_1', webhookId: 'wh_1' },
      ]);
      expect((await store.read.deliveriesForEvent('evt_1'))[0]).toEqual(
        delivery('dlv_1', T0 + 60_000, { attemptCount: 1 }),
      );
    });

    it('an attempt’s response excerpt is recorded whatever the receiver sent, a NUL included', async () => {
      await tx(async (t) => {
        await t.insertEvent(event('evt_1'));
        await t.insertWebhook(webhook('wh_1'));
        await t.insertDelivery(delivery('dlv_1', T0));
      });
      await tx((t) => t.leaseDueDeliveries(lease('l1', T0, T0 + 5000), 1));
      const sent = 'ok\u0000\u0001 ☃ \uFFFD';
      const recorded = await tx((t) =>
        t.finishDeliveryAttempt(
          'dlv_1',
          'l1',
          { status: 'SUCCEEDED', attemptCount: 1, nextAttemptAt: T0 },
          {
            attemptNumber: 1,
            attemptedTime: iso(T0),
            statusCode: 200,
            error: null,
            durationMs: 3,
            responseBody: sent,
          },
        ),
      );
      expect(recorded).toBe(true);
      // PostgreSQL text holds no U+0000: there it reads back as U+FFFD, as undecodable bytes do.
      const kept = backend.name === 'postgres' ? sent.replace('\u0000', '\uFFFD') : sent;
      expect((await store.read.attemptsForEvent('evt_1'))[0]!.responseBody).toBe(kept);
    });

    it('widget tokens: lookup by hash, single use, failure count', async () => {
      await seedCard();
      const token = widgetToken('wt_1');
      const bearer = widgetToken('wt_2', { jkt: null, origin: null, apiKeyId: null });
      await tx(async (t) => {
        await t.insertWidgetToken(token);
        await t.insertWidgetToken(bearer);
      });
      expect(await store.read.getWidgetTokenByHash(token.tokenHash)).toEqual(token);
      expect(await store.read.getWidgetTokenByHash(bearer.tokenHash)).toEqual(bearer);
      expect(await store.read.getWidgetTokenByHash('no such hash')).toBeUndefined();
      expect(await tx((t) => t.consumeWidgetToken('wt_1', T0 + 5))).toBe(true);
      expect(await tx((t) => t.consumeWidgetToken('wt_1', T0 + 6))).toBe(false);
      expect((await store.read.getWidgetTokenByHash(token.tokenHash))!.consumedAt).toBe(T0 + 5);
      expect(await tx((t) => t.recordWidgetTokenFailure('wt_2'))).toBe(1);
      expect(await tx((t) => t.recordWidgetTokenFailure('wt_2'))).toBe(2);
      expect(await tx((t) => t.recordWidgetTokenFailure('wt_none'))).toBe(0);
      await expect(tx((t) => t.insertWidgetToken({ ...token, id: 'wt_3' }))).rejects.toThrow(
        /UNIQUE/,
      );
    });

    it('passkeys: per customer, by credential id, counter updates, removal', async () => {
      await seedCard();
      const passkey = (id: string, extra: Partial<Passkey> = {}): Passkey => ({
        id,
        customerId: 'cust_1',
        credentialId: `cred_${id}`,
        publicKey: 'pQECAyYgASFYIA',
        userHandle: 'handle_1',
        counter: 0,
        transports: ['internal', 'hybrid'],
        deviceType: 'multiDevice',
        backedUp: true,
        cardId: 'card_1',
        createdTime: iso(T0),
        lastUsedTime: null,
        ...extra,
      });
      await tx(async (t) => {
        await t.insertPasskey(passkey('pk_2', { customerId: 'cust_2', transports: [] }));
        await t.insertPasskey(passkey('pk_1', { deviceType: 'singleDevice', backedUp: false }));
        await t.insertPasskey(passkey('pk_3'));
      });
      expect((await store.read.listPasskeys('cust_1')).map((p) => p.id)).toEqual(['pk_1', 'pk_3']);
      expect(await store.read.getPasskeyByCredentialId('cred_pk_2')).toEqual(
        passkey('pk_2', { customerId: 'cust_2', transports: [] }),
      );
      await tx((t) => t.recordPasskeyUse('pk_3', 2 ** 32 - 1, iso(T0 + 9)));
      expect(await store.read.getPasskeyByCredentialId('cred_pk_3')).toMatchObject({
        counter: 2 ** 32 - 1,
        lastUsedTime: iso(T0 + 9),
      });
      await expect(
        tx((t) => t.insertPasskey(passkey('pk_4', { credentialId: 'cred_pk_1' }))),
      ).rejects.toThrow(/UNIQUE|unique/);
      expect((await tx((t) => t.deletePasskeys('cust_1', 'pk_3'))).map((p) => p.id)).toEqual([
        'pk_3',
      ]);
      expect(await tx((t) => t.deletePasskeys('cust_2', 'pk_1'))).toEqual([]);
      expect((await tx((t) => t.deletePasskeys('cust_1'))).map((p) => p.id)).toEqual(['pk_1']);
      expect(await store.read.listPasskeys('cust_1')).toEqual([]);
    });

    it('WebAuthn challenges: used once, by their token, for their purpose, before expiry', async () => {
      await seedCard();
      await tx(async (t) => {
        await t.insertWidgetToken(widgetToken('wt_1'));
        await t.insertWidgetToken(widgetToken('wt_2', { tokenHash: 'h2'.padEnd(64, '0') }));
        for (const [challenge, purpose] of [
          ['c1', 'AUTHENTICATION'],
          ['c2', 'REGISTRATION'],
        ] as const) {
          await t.insertWebauthnChallenge({
            challenge,
            tokenId: 'wt_1',
            purpose,
            userHandle: purpose === 'REGISTRATION' ? 'handle' : null,
            expiresAt: T0 + 60_000,
            usedAt: null,
          });
        }
      });
      const consume = (
        challenge: string,
        token: string,
        purpose: 'AUTHENTICATION' | 'REGISTRATION',
        now = T0,
      ) => tx((t) => t.consumeWebauthnChallenge(challenge, token, purpose, now));
      expect(await consume('c1', 'wt_2', 'AUTHENTICATION')).toBeUndefined();
      expect(await consume('c1', 'wt_1', 'REGISTRATION')).toBeUndefined();
      expect(await consume('c2', 'wt_1', 'REGISTRATION', T0 + 60_000)).toBeUndefined();
      expect(await consume('c2', 'wt_1', 'REGISTRATION', T0 + 59_999)).toEqual({
        challenge: 'c2',
        tokenId: 'wt_1',
        purpose: 'REGISTRATION',
        userHandle: 'handle',
        expiresAt: T0 + 60_000,
        usedAt: T0 + 59_999,
      });
      expect(await consume('c1', 'wt_1', 'AUTHENTICATION')).toMatchObject({ usedAt: T0 });
      expect(await consume('c1', 'wt_1', 'AUTHENTICATION')).toBeUndefined();
      expect(await consume('nope', 'wt_1', 'AUTHENTICATION')).toBeUndefined();
    });

    it('PINs: upsert, and the blocks not under a key, by card', async () => {
      await seedCard('card_a');
      await seedCard('card_b');
      const pin = {
        cardId: 'card_b',
        pinBlock: 'AB'.repeat(16),
        keyId: 'k1',
        updatedTime: iso(T0),
      };
      await tx(async (t) => {
        await t.upsertPin(pin);
        await t.upsertPin({ ...pin, cardId: 'card_a' });
      });
      expect(await store.read.getPin('card_b')).toEqual(pin);
      const replaced = { ...pin, pinBlock: 'CD'.repeat(16), keyId: 'k2', updatedTime: iso(T0 + 1) };
      await tx((t) => t.upsertPin(replaced));
      expect(await store.read.getPin('card_b')).toEqual(replaced);
      expect(await store.read.getPin('card_none')).toBeUndefined();
      expect((await store.read.pinsNotUnderKey('k2', 10)).map((p) => p.cardId)).toEqual(['card_a']);
      expect((await store.read.pinsNotUnderKey('k3', 1)).map((p) => p.cardId)).toEqual(['card_a']);
    });

    it('PIN reveals: per-card times and the account and platform windows', async () => {
      await seedCard('card_a', { accountId: 'acct_1' });
      await seedCard('card_b', { accountId: 'acct_2' });
      await tx(async (t) => {
        await t.insertWidgetToken(widgetToken('wt_1', { cardId: 'card_a' }));
        const times: [string, string, number][] = [
          ['card_a', 'acct_1', T0 + 30],
          ['card_a', 'acct_1', T0 + 10],
          ['card_b', 'acct_2', T0 + 20],
          ['card_a', 'acct_1', T0 + 40],
        ];
        for (const [i, [cardId, accountId, revealedAt]] of times.entries()) {
          await t.insertPinReveal({
            id: `rev_${i}`,
            cardId,
            accountId,
            tokenId: 'wt_1',
            origin: null,
            revealedAt,
          });
        }
      });
      expect(await store.read.pinRevealTimes('card_a', T0)).toEqual([T0 + 10, T0 + 30, T0 + 40]);
      expect(await store.read.pinRevealTimes('card_a', T0 + 10)).toEqual([T0 + 30, T0 + 40]);
      // Below the limit: no time to wait for.
      expect(await store.read.revealWindow(T0, 5)).toEqual({ count: 4, agesOut: null });
      // At or over it: the reveal that must age out before another is allowed.
      expect(await store.read.revealWindow(T0, 4)).toEqual({ count: 4, agesOut: T0 + 10 });
      expect(await store.read.revealWindow(T0, 2)).toEqual({ count: 4, agesOut: T0 + 30 });
      expect(await store.read.revealWindow(T0, 3, 'acct_1')).toEqual({
        count: 3,
        agesOut: T0 + 10,
      });
      expect(await store.read.revealWindow(T0 + 10, 2, 'acct_1')).toEqual({
        count: 2,
        agesOut: T0 + 30,
      });
      expect(await store.read.revealWindow(T0, 1, 'acct_3')).toEqual({ count: 0, agesOut: null });
    });

    it('DPoP proof ids: accepted once until they expire, then forgotten', async () => {
      const remember = (jti: string, expiresAt: number, now: number) =>
        tx((t) => t.rememberProofId(jti, expiresAt, now));
      expect(await remember('jti_1', T0 + 100, T0)).toBe(true);
      expect(await remember('jti_1', T0 + 200, T0 + 50)).toBe(false);
      expect(await remember('jti_2', T0 + 100, T0 + 50)).toBe(true);
      // Past its expiry the id is deleted, so it is new again.
      expect(await remember('jti_1', T0 + 300, T0 + 101)).toBe(true);
      expect(await remember('jti_1', T0 + 300, T0 + 102)).toBe(false);
    });

    it('issuer scripts: every field, open ones, identifiers unique per card, patches', async () => {
      await seedCard('card_1');
      await seedCard('card_2');
      const first = script('scr_1', '0000000A');
      const sent = script('scr_2', '0000000B', {
        status: 'SENT',
        requestedBy: 'PIN_SET',
        sentTime: iso(T0 + 1),
        atc: '0001',
        arqc: '0123456789ABCDEF',
        commandApdu: '8424000218' + 'AB'.repeat(24),
        pinVersion: iso(T0),
      });
      const done = script('scr_3', '0000000C', { status: 'APPLIED', finishedTime: iso(T0 + 2) });
      await tx(async (t) => {
        for (const x of [first, sent, done]) await t.insertIssuerScript(x);
        await t.insertIssuerScript(script('scr_4', '0000000A', { cardId: 'card_2' }));
      });
      expect(await store.read.getIssuerScript('scr_2')).toEqual(sent);
      expect(await store.read.getIssuerScript('scr_none')).toBeUndefined();
      expect((await store.read.openIssuerScripts('card_1')).map((x) => x.id)).toEqual([
        'scr_1',
        'scr_2',
      ]);
      expect(await store.read.issuerScriptIdentifierUsed('card_1', '0000000C')).toBe(true);
      expect(await store.read.issuerScriptIdentifierUsed('card_1', '0000000D')).toBe(false);
      await expect(tx((t) => t.insertIssuerScript(script('scr_5', '0000000B')))).rejects.toThrow(
        /UNIQUE/,
      );
      const settled = {
        status: 'APPLIED',
        finishedTime: iso(T0 + 3),
        commandApdu: null,
        commandApduSha256: 'f'.repeat(64),
        reason: 'ok',
      } as const;
      await tx(async (t) => {
        await t.updateIssuerScript('scr_2', settled);
        await t.updateIssuerScript('scr_1', {});
      });
      expect(await store.read.getIssuerScript('scr_2')).toEqual({ ...sent, ...settled });
      expect(await store.read.getIssuerScript('scr_1')).toEqual(first);
      expect((await store.read.openIssuerScripts('card_1')).map((x) => x.id)).toEqual(['scr_1']);
    });

    it('virtual chips: upsert keeps the creation time', async () => {
      await seedCard();
      const chip = {
        cardId: 'card_1',
        atc: 0,
        offlinePinBlock: 'AB'.repeat(16),
        offlinePinKeyId: 'chipkey1',
        pinTryCounter: 3,
        pinTryLimit: 3,
        offlinePinOrigin: 'PERSONALIZATION',
        offlinePinScriptIdentifier: null,
        offlinePinUpdatedTime: iso(T0),
        pendingScriptResults: '',
        lastScriptError: null,
        createdTime: iso(T0),
        updatedTime: iso(T0),
      } as const;
      await tx((t) => t.upsertChipState(chip));
      expect(await store.read.getChipState('card_1')).toEqual(chip);
      const next = {
        ...chip,
        atc: 65535,
        offlinePinBlock: 'CD'.repeat(16),
        pinTryCounter: 0,
        offlinePinOrigin: 'ISSUER_SCRIPT',
        offlinePinScriptIdentifier: '0000000A',
        pendingScriptResults: '200000000A',
        lastScriptError: 'BAD_MAC',
        createdTime: iso(T0 + 99),
        updatedTime: iso(T0 + 5),
      } as const;
      await tx((t) => t.upsertChipState(next));
      expect(await store.read.getChipState('card_1')).toEqual({ ...next, createdTime: iso(T0) });
      expect(await store.read.getChipState('card_none')).toBeUndefined();
    });

    it('API keys: by hash, oldest first, revoked once', async () => {
      const key = (id: string) => ({
        id,
        name: `key ${id}`,
        keyHash: id.padEnd(64, 'a'),
        scopes: ['cards', 'pins:reveal'],
        createdTime: iso(T0),
        revokedTime: null,
      });
      await tx(async (t) => {
        await t.insertApiKey(key('key_b'));
        await t.insertApiKey(key('key_a'));
      });
      expect(await store.read.getApiKeyByHash(key('key_b').keyHash)).toEqual(key('key_b'));
      expect(await store.read.getApiKeyByHash('b'.repeat(64))).toBeUndefined();
      expect((await store.read.listApiKeys()).map((k) => k.id)).toEqual(['key_a', 'key_b']);
      expect(await tx((t) => t.revokeApiKey('key_a', iso(T0 + 1)))).toBe(true);
      expect(await tx((t) => t.revokeApiKey('key_a', iso(T0 + 2)))).toBe(false);
      expect(await tx((t) => t.revokeApiKey('key_none', iso(T0 + 2)))).toBe(false);
      expect((await store.read.listApiKeys())[0]!.revokedTime).toBe(iso(T0 + 1));
      await expect(
        tx((t) => t.insertApiKey({ ...key('key_c'), keyHash: 'short' })),
      ).rejects.toThrow();
    });

    it('account-token keys: one current, retired ones verify until they retire', async () => {
      const key = (kid: string, createdAt: number, retiresAt: number | null) => ({
        kid,
        secret: `secret_${kid}`,
        createdAt,
        retiresAt,
      });
      await tx(async (t) => {
        await t.insertAccountTokenKey(key('atk_1', T0, T0 + 100));
        await t.insertAccountTokenKey(key('atk_2', T0 + 10, T0 + 200));
        await t.insertAccountTokenKey(key('atk_3', T0 + 20, null));
      });
      expect((await store.read.accountTokenKeys(T0 + 50)).map((k) => k.kid)).toEqual([
        'atk_3',
        'atk_2',
        'atk_1',
      ]);
      expect(await store.read.accountTokenKeys(T0 + 150)).toEqual([
        key('atk_3', T0 + 20, null),
        key('atk_2', T0 + 10, T0 + 200),
      ]);
      // The partial UNIQUE index: a second current key is refused.
      await expect(tx((t) => t.insertAccountTokenKey(key('atk_4', T0 + 30, null)))).rejects.toThrow(
        /UNIQUE/,
      );
      await tx(async (t) => {
        await t.retireCurrentAccountTokenKey(T0 + 300);
        await t.insertAccountTokenKey(key('atk_4', T0 + 30, null));
        await t.deleteRetiredAccountTokenKeys(T0 + 200);
      });
      expect((await store.read.accountTokenKeys(T0 + 150)).map((k) => k.kid)).toEqual([
        'atk_4',
        'atk_3',
      ]);
    });
  });

  describe('job claims', () => {
    beforeEach(async () => {
      await seedCard('card_1');
      await seedCard('card_2');
      await tx(async (t) => {
        await t.insertJob(job('job_a', T0 + 100));
        await t.insertJob(job('job_b', T0 + 50, { kind: 'SHIP_CARD' }));
        await t.insertJob(job('job_c', T0 + 5000, { cardId: 'card_2' }));
        await t.insertJob(job('job_d', T0, { status: 'DONE', finishedTime: iso(T0) }));
      });
    });

    it('claims due pending jobs oldest first, up to the limit, for the claim’s token', async () => {
      const claimed = await tx((t) => t.claimDueJobs(lease('c1', T0 + 200, T0 + 1200), 10));
      expect(claimed).toEqual([
        job('job_b', T0 + 50, { kind: 'SHIP_CARD', claimToken: 'c1', claimUntil: T0 + 1200 }),
        job('job_a', T0 + 100, { claimToken: 'c1', claimUntil: T0 + 1200 }),
      ]);
      await tx(async (t) => {
        await t.insertJob(job('job_e', T0 + 10));
        await t.insertJob(job('job_f', T0 + 20));
      });
      const limited = await tx((t) => t.claimDueJobs(lease('c2', T0 + 200, T0 + 1200), 1));
      expect(limited.map((j) => j.id)).toEqual(['job_e']);
    });

    it('a claimed job is not claimed again until its claim runs out', async () => {
      await tx((t) => t.claimDueJobs(lease('c1', T0 + 200, T0 + 1200), 10));
      expect(await tx((t) => t.claimDueJobs(lease('c2', T0 + 1199, T0 + 2000), 10))).toEqual([]);
      expect(await tx((t) => t.claimCardJobs('card_1', lease('c2', T0 + 1199, T0 + 2000)))).toEqual(
        [],
      );
      const again = await tx((t) => t.claimDueJobs(lease('c3', T0 + 1200, T0 + 2200), 10));
      expect(again.map((j) => [j.id, j.claimToken])).toEqual([
        ['job_b', 'c3'],
        ['job_a', 'c3'],
      ]);
    });

    it('finishJob: only under the token that holds it, and only once', async () => {
      await tx((t) => t.claimDueJobs(lease('c1', T0 + 200, T0 + 1200), 10));
      await tx((t) => t.claimDueJobs(lease('c2', T0 + 1300, T0 + 2300), 10));
      // c1's claim ran out and c2 took the job over: c1 may not finish it.
      expect(await tx((t) => t.finishJob('job_a', 'c1', 'DONE', iso(T0 + 1301)))).toBe(false);
      expect(await tx((t) => t.finishJob('job_a', 'c2', 'DONE', iso(T0 + 1302)))).toBe(true);
      expect(await tx((t) => t.finishJob('job_a', 'c2', 'SKIPPED', iso(T0 + 1303)))).toBe(false);
      expect(await tx((t) => t.finishJob('job_b', 'c2', 'SKIPPED', iso(T0 + 1304)))).toBe(true);
      // Finished jobs are never claimed again, even with their claim long over.
      expect(await tx((t) => t.claimDueJobs(lease('c3', T0 + 9000, T0 + 9999), 10))).toEqual([
        job('job_c', T0 + 5000, { cardId: 'card_2', claimToken: 'c3', claimUntil: T0 + 9999 }),
      ]);
      const card1 = await tx((t) => t.claimCardJobs('card_1', lease('c4', T0, T0 + 99_999)));
      expect(card1).toEqual([]);
    });

    it('claimCardJobs takes a card’s pending jobs whatever their time', async () => {
      const jobs = await tx((t) => t.claimCardJobs('card_2', lease('c1', T0, T0 + 1000)));
      expect(jobs).toEqual([
        job('job_c', T0 + 5000, { cardId: 'card_2', claimToken: 'c1', claimUntil: T0 + 1000 }),
      ]);
      const card1 = await tx((t) => t.claimCardJobs('card_1', lease('c2', T0, T0 + 1000)));
      expect(card1.map((j) => j.id)).toEqual(['job_b', 'job_a']);
      expect(await tx((t) => t.finishJob('job_c', 'c1', 'DONE', iso(T0)))).toBe(true);
    });

    it.runIf(backend.concurrent)(
      'SKIP LOCKED: a claimer never waits for, nor gets, the jobs another is claiming',
      async () => {
        await tx(async (t) => {
          await t.insertJob(job('job_e', T0 + 10, { cardId: 'card_2' }));
          await t.insertJob(job('job_f', T0 + 20, { cardId: 'card_2' }));
        });
        const now = T0 + 200;
        const release = gate();
        const firstClaimed = gate();
        let first: Job[] = [];
        const holder = tx(async (t) => {
          first = await t.claimDueJobs(lease('c1', now, now + 1000), 2);
          firstClaimed.open();
          await release.opened;
        });
        await firstClaimed.opened;
        let second: Job[];
        let card2: Job[];
        try {
          // The first claim is not committed: its rows are locked, not yet marked claimed.
          second = await within(
            tx((t) => t.claimDueJobs(lease('c2', now, now + 1000), 10)),
            5000,
            'the second claimer',
          );
          card2 = await within(
            tx((t) => t.claimCardJobs('card_2', lease('c3', now, now + 1000))),
            5000,
            'the card claimer',
          );
        } finally {
          release.open();
          await holder;
        }
        expect(first.map((j) => j.id)).toEqual(['job_e', 'job_f']);
        expect(second.map((j) => j.id)).toEqual(['job_b', 'job_a']);
        expect(card2.map((j) => j.id)).toEqual(['job_c']);
        // Once committed, the first claim holds: nobody gets those jobs before it runs out.
        expect(await tx((t) => t.claimDueJobs(lease('c4', now, now + 1000), 10))).toEqual([]);
      },
    );
  });

  describe('delivery leases', () => {
    beforeEach(async () => {
      await tx(async (t) => {
        await t.insertEvent(event('evt_1'));
        await t.insertWebhook(webhook('wh_1'));
        await t.insertDelivery(delivery('dlv_a', T0 + 100));
        await t.insertDelivery(delivery('dlv_b', T0 + 50));
        await t.insertDelivery(delivery('dlv_c', T0 + 5000));
        await t.insertDelivery(delivery('dlv_d', T0, { status: 'SUCCEEDED', attemptCount: 1 }));
      });
    });

    const outcome = { status: 'SUCCEEDED', attemptCount: 1, nextAttemptAt: T0 } as const;
    const attempt = (n: number) => ({
      attemptNumber: n,
      attemptedTime: iso(T0 + n),
      statusCode: 200,
      error: null,
      durationMs: 12,
      responseBody: null,
    });

    it('leases due pending deliveries oldest first, moving their next attempt to the lease’s end', async () => {
      const oldest = await tx((t) => t.leaseDueDeliveries(lease('l1', T0 + 200, T0 + 1200), 1));
      expect(oldest).toEqual([delivery('dlv_b', T0 + 1200, { leaseToken: 'l1' })]);
      const next = await tx((t) => t.leaseDueDeliveries(lease('l1', T0 + 200, T0 + 1200), 10));
      expect(next).toEqual([delivery('dlv_a', T0 + 1200, { leaseToken: 'l1' })]);
      // Not again while the lease runs; due again when it has run out (at least once).
      expect(await tx((t) => t.leaseDueDeliveries(lease('l2', T0 + 1199, T0 + 2000), 10))).toEqual(
        [],
      );
      const again = await tx((t) => t.leaseDueDeliveries(lease('l3', T0 + 1200, T0 + 2200), 1));
      expect(again).toHaveLength(1);
      expect(again[0]!.leaseToken).toBe('l3');
    });

    it('finishDeliveryAttempt under a stale token writes nothing', async () => {
      await tx((t) => t.leaseDueDeliveries(lease('l1', T0 + 200, T0 + 1200), 10));
      await tx((t) => t.leaseDueDeliveries(lease('l2', T0 + 1300, T0 + 2300), 10));
      const before = await store.read.deliveriesForEvent('evt_1');
      expect(await tx((t) => t.finishDeliveryAttempt('dlv_a', 'l1', outcome, attempt(1)))).toBe(
        false,
      );
      expect(await store.read.deliveriesForEvent('evt_1')).toEqual(before);
      expect(await store.read.attemptsForEvent('evt_1')).toEqual([]);

      expect(await tx((t) => t.finishDeliveryAttempt('dlv_a', 'l2', outcome, attempt(1)))).toBe(
        true,
      );
      expect(await tx((t) => t.finishDeliveryAttempt('dlv_a', 'l2', outcome, attempt(2)))).toBe(
        false,
      );
      expect(await store.read.attemptsForEvent('evt_1')).toEqual([
        { ...attempt(1), deliveryId: 'dlv_a', webhookId: 'wh_1' },
      ]);
      const [a] = (await store.read.deliveriesForEvent('evt_1')).filter((d) => d.id === 'dlv_a');
      expect(a).toEqual(delivery('dlv_a', T0, { status: 'SUCCEEDED', attemptCount: 1 }));
      // Settled: never leased again.
      const later = await tx((t) => t.leaseDueDeliveries(lease('l3', T0 + 9000, T0 + 9999), 10));
      expect(later.map((d) => d.id)).toEqual(['dlv_b', 'dlv_c']);
    });

    it.runIf(backend.concurrent)(
      'SKIP LOCKED: a second leaser never waits for, nor gets, the deliveries being leased',
      async () => {
        const now = T0 + 6000;
        const release = gate();
        const firstLeased = gate();
        let first: Delivery[] = [];
        const holder = tx(async (t) => {
          first = await t.leaseDueDeliveries(lease('l1', now, now + 1000), 2);
          firstLeased.open();
          await release.opened;
        });
        await firstLeased.opened;
        let second: Delivery[];
        try {
          second = await within(
            tx((t) => t.leaseDueDeliveries(lease('l2', now, now + 1000), 10)),
            5000,
            'the second leaser',
          );
        } finally {
          release.open();
          await holder;
        }
        expect(first.map((d) => d.id).sort()).toEqual(['dlv_a', 'dlv_b']);
        expect(second.map((d) => d.id)).toEqual(['dlv_c']);
      },
    );
  });

  describe('transactions', () => {
    it('one that throws leaves nothing behind, and its error comes out', async () => {
      await expect(
        tx(async (t) => {
          await t.insertProduct(product('cp_1'));
          await t.insertCard(card('card_1'), 'pan_hash_1');
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.read.getProduct('cp_1')).toBeUndefined();
      expect(await store.read.getCard('card_1')).toBeUndefined();
      // One whose statement failed rolls back its earlier writes too.
      await expect(
        tx(async (t) => {
          await t.insertProduct(product('cp_2'));
          await t.insertProduct(product('cp_2'));
        }),
      ).rejects.toThrow(/UNIQUE/);
      expect(await store.read.getProduct('cp_2')).toBeUndefined();
    });

    it('reads outside a transaction never see it half done', async () => {
      let seenDuring: unknown = 'not read';
      await tx(async (t) => {
        await t.insertProduct(product('cp_1'));
        seenDuring = await store.read.getProduct('cp_1');
        expect(await t.getProduct('cp_1')).toEqual(product('cp_1'));
      });
      expect(seenDuring).toBeUndefined();
      expect(await store.read.getProduct('cp_1')).toEqual(product('cp_1'));
    });

    it('single use holds under concurrency: one of ten consumers wins', async () => {
      await seedCard();
      await tx((t) => t.insertWidgetToken(widgetToken('wt_1')));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => tx((t) => t.consumeWidgetToken('wt_1', T0 + i))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const proofs = await Promise.all(
        Array.from({ length: 10 }, () => tx((t) => t.rememberProofId('jti_1', T0 + 100, T0))),
      );
      expect(proofs.filter(Boolean)).toHaveLength(1);
    });

    it.runIf(backend.concurrent)(
      'single use across connections: a racing consumer waits for the first, then loses',
      async () => {
        await seedCard();
        await tx((t) => t.insertWidgetToken(widgetToken('wt_1')));
        const release = gate();
        const consumed = gate();
        const first = tx(async (t) => {
          const won = await t.consumeWidgetToken('wt_1', T0 + 1);
          const fresh = await t.rememberProofId('jti_1', T0 + 100, T0);
          consumed.open();
          await release.opened;
          return [won, fresh];
        });
        await consumed.opened;
        const second = tx(async (t) => [
          await t.consumeWidgetToken('wt_1', T0 + 2),
          await t.rememberProofId('jti_1', T0 + 100, T0),
        ]);
        await Promise.race([opened.lockWaiter(), second]);
        release.open();
        expect(await first).toEqual([true, true]);
        expect(await second).toEqual([false, false]);
        expect(
          (await store.read.getWidgetTokenByHash(widgetToken('wt_1').tokenHash))!.consumedAt,
        ).toBe(T0 + 1);
      },
    );

    it('lockCard: a second transaction on the card waits until the first commits, then sees its change', async () => {
      await seedCard();
      const order: string[] = [];
      const release = gate();
      const locked = gate();
      const first = tx(async (t) => {
        const c = await t.lockCard('card_1');
        order.push(`first locked ${c!.memo}`);
        locked.open();
        await release.opened;
        await t.updateCard('card_1', { memo: 'by first' }, iso(T0 + 1));
        order.push('first commits');
      });
      await locked.opened;
      const second = tx(async (t) => {
        const c = await t.lockCard('card_1');
        order.push(`second locked ${c!.memo}`);
      });
      if (backend.concurrent) await Promise.race([opened.lockWaiter(), second]);
      else await tick();
      release.open();
      await Promise.all([first, second]);
      expect(order).toEqual(['first locked null', 'first commits', 'second locked by first']);
      expect(await tx((t) => t.lockCard('card_none'))).toBeUndefined();
    });

    it('lockScope: a second transaction on the scope waits until the first commits', async () => {
      const order: string[] = [];
      const release = gate();
      const locked = gate();
      const first = tx(async (t) => {
        await t.lockScope('reveals:account:acct_1');
        order.push('first locked');
        locked.open();
        await release.opened;
        await t.insertProduct(product('cp_first'));
        order.push('first commits');
      });
      await locked.opened;
      const second = tx(async (t) => {
        await t.lockScope('reveals:account:acct_1');
        order.push(`second locked, sees the first: ${!!(await t.getProduct('cp_first'))}`);
      });
      if (backend.concurrent) await Promise.race([opened.lockWaiter(), second]);
      else await tick();
      release.open();
      await Promise.all([first, second]);
      expect(order).toEqual([
        'first locked',
        'first commits',
        'second locked, sees the first: true',
      ]);
    });

    it.runIf(backend.concurrent)('lockScope: other scopes do not wait', async () => {
      const release = gate();
      const locked = gate();
      const first = tx(async (t) => {
        await t.lockScope('reveals:account:acct_1');
        locked.open();
        await release.opened;
      });
      await locked.opened;
      try {
        await within(
          tx((t) => t.lockScope('reveals:account:acct_2')),
          5000,
          'a transaction on another scope',
        );
        await within(
          tx((t) => t.lockCard('card_1')),
          5000,
          'a transaction on no scope',
        );
      } finally {
        release.open();
        await first;
      }
    });

    it.runIf(backend.concurrent)(
      'a transaction that loses a deadlock is run again from the start',
      async () => {
        await seedCard('card_a');
        await seedCard('card_b');
        let runs = 0;
        const bothLocked = { a: gate(), b: gate() };
        const crossing = (mine: 'a' | 'b', other: 'a' | 'b') =>
          tx(async (t) => {
            runs++;
            await t.lockCard(`card_${mine}`);
            bothLocked[mine].open();
            await bothLocked[other].opened;
            await t.lockCard(`card_${other}`);
            await t.updateCard(`card_${other}`, { memo: `by ${mine}` }, iso(T0));
            return mine;
          });
        const results = await Promise.all([crossing('a', 'b'), crossing('b', 'a')]);
        expect(results).toEqual(['a', 'b']);
        // Two first runs, one of which the server aborted (40P01), and its rerun.
        expect(runs).toBe(3);
        const memos = [
          (await store.read.getCard('card_a'))!.memo,
          (await store.read.getCard('card_b'))!.memo,
        ];
        expect(memos).toEqual(['by b', 'by a']);
      },
    );

    it.runIf(backend.concurrent)(
      'check-then-insert racing another transaction: the loser runs again and sees the winner',
      async () => {
        await seedCard('card_a');
        const checked = { first: gate(), second: gate() };
        let runs = 0;
        // Both check that the hash is free before either inserts: the second insert waits for
        // the first commit, violates the UNIQUE index, and its transaction is run again.
        const issue = (id: string, mine: 'first' | 'second', other: 'first' | 'second') =>
          tx(async (t) => {
            runs++;
            const used = await t.panHashUsed('pan_hash_new');
            checked[mine].open();
            await checked[other].opened;
            if (used) return 'PAN_ALREADY_ISSUED';
            await t.insertCard(card(id), 'pan_hash_new');
            return 'issued';
          });
        const results = await Promise.all([
          issue('card_1', 'first', 'second'),
          issue('card_2', 'second', 'first'),
        ]);
        expect(results.sort()).toEqual(['PAN_ALREADY_ISSUED', 'issued']);
        expect(runs).toBe(3);
        // A real duplicate (the check skipped) is thrown after one more run, not retried on.
        let duplicateRuns = 0;
        await expect(
          tx(async (t) => {
            duplicateRuns++;
            await t.insertCard(card('card_3'), 'pan_hash_new');
          }),
        ).rejects.toThrow(/UNIQUE/);
        expect(duplicateRuns).toBe(2);
      },
    );

    it.runIf(backend.name === 'postgres')(
      'a serialization failure (40001) is retried; other errors are not',
      async () => {
        const failure = (code: string) => {
          const error = new pg.DatabaseError('could not serialize access', 0, 'error');
          error.code = code;
          return error;
        };
        let runs = 0;
        const result = await tx(async (t) => {
          runs++;
          await t.insertProduct(product(`cp_${runs}`));
          if (runs < 3) throw new Error('wrapped', { cause: failure('40001') });
          return 'done';
        });
        expect([result, runs]).toEqual(['done', 3]);
        expect(await store.read.getProduct('cp_1')).toBeUndefined();
        expect(await store.read.getProduct('cp_3')).toEqual(product('cp_3'));
        let once = 0;
        await expect(
          tx(async () => {
            once++;
            throw failure('23514');
          }),
        ).rejects.toThrow('could not serialize');
        expect(once).toBe(1);
      },
    );
  });
});
