import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { InjectOptions } from 'fastify';
import { CompactEncrypt, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinPolicyViolation } from '../pins/policy.js';
import { testPan } from '../testing/cards.js';
import { dpopKey, encryptPin, ephemeralKey, sessionTagOf } from '../testing/independent-jose.js';
import { PRODUCTION_SECRETS, type TestPlatform, startTestPlatform } from '../testing/platform.js';
import { SoftwareAuthenticator } from '../testing/webauthn.js';
import { type ErrorCode, ErrorCodes } from './errors.js';
import { IMPLIED_ERRORS } from './openapi.js';

/**
 * `/openapi.json` as tools take it (SPEC §16): Redocly CLI finds no error and no warning in the
 * demo document or the strict one, every operation is named, tagged, secured and has examples,
 * and each status it documents lists codes that exist with that status. Then the document is
 * held to what the platform does: every request below is recorded, each error's code must be
 * one its operation documents, each success body must match its documented schema, and every
 * code a route lists for its own checks (not the ones its shape implies: bad-input.test.ts
 * observes those on every route) must have been answered by that route here.
 */

const PUBLIC_URL = 'http://localhost:4000';
const REDOCLY = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');
const CONFIG = fileURLToPath(new URL('../../redocly.yaml', import.meta.url));

type Operation = {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { example?: unknown; examples?: object }> };
  responses: Record<string, Response>;
};
type Response = {
  description: string;
  content?: Record<string, { schema: Schema; examples?: Record<string, { $ref: string }> }>;
};
type Schema = Record<string, any>;
type Document = {
  info: Record<string, unknown>;
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; examples: Record<string, { value: any }> };
};

interface Subject {
  platform: TestPlatform;
  doc: Document;
  /** Every (operation, code) an error answered, and every operation a success answered. */
  errors: Map<string, Set<string>>;
  successes: Set<string>;
}

let demo: Subject;
let strict: Subject;

async function subject(platform: TestPlatform): Promise<Subject> {
  // Built directly first: a route without operation() throws here with its name.
  await platform.app.ready();
  platform.app.swagger();
  const response = await platform.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(response.statusCode).toBe(200);
  return { platform, doc: response.json(), errors: new Map(), successes: new Set() };
}

beforeAll(async () => {
  demo = await subject(
    await startTestPlatform({
      PUBLIC_URL,
      ISSUANCE_DELAY_MS: '3600000',
      // A second refusal on one token is its last: TOO_MANY_ATTEMPTS is one request away.
      WIDGET_TOKEN_MAX_FAILURES: '2',
      REVEAL_LIMIT_PER_HOUR: '1',
    }),
  );
  strict = await subject(await startTestPlatform({ ...PRODUCTION_SECRETS }));
});
afterAll(async () => {
  await demo?.platform.dispose();
  await strict?.platform.dispose();
});

function operations(doc: Document): [string, Operation][] {
  return Object.entries(doc.paths).flatMap(([route, methods]) =>
    Object.entries(methods).map(([method, op]): [string, Operation] => [
      `${method.toUpperCase()} ${route}`,
      op,
    ]),
  );
}

/** The operation a request reached, as `METHOD /path/{param}`, or undefined. */
function operationOf(doc: Document, method: string, url: string): string | undefined {
  const pathname = url.split('?')[0]!;
  const route = Object.keys(doc.paths).find((template) =>
    new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(pathname),
  );
  if (route === undefined || !doc.paths[route]![method.toLowerCase()]) return undefined;
  return `${method.toUpperCase()} ${route}`;
}

const operation = (doc: Document, key: string) => {
  const [method, route] = key.split(' ') as [string, string];
  return doc.paths[route]![method.toLowerCase()]!;
};

const documentedCodes = (doc: Document, key: string, status: number): string[] =>
  operation(doc, key).responses[String(status)]?.content?.['application/json']?.schema.properties
    ?.code?.enum ?? [];

/** A schema of the document with its `$ref`s to components replaced by what they name. */
function resolved(doc: Document, schema: Schema): Schema {
  return JSON.parse(JSON.stringify(schema), (_key, value) =>
    value && typeof value.$ref === 'string'
      ? resolved(doc, doc.components.schemas[value.$ref.split('/').pop()]!)
      : value,
  );
}

const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));

/**
 * One request through the platform, recorded: an error must carry a code its operation lists
 * under that status; a success must match the operation's documented response.
 */
async function send(on: Subject, request: InjectOptions) {
  const response = await on.platform.app.inject(request);
  const method = String(request.method ?? 'GET');
  const url = String(request.url);
  const key = operationOf(on.doc, method, url);
  const where = `${method} ${url} → ${response.statusCode} ${response.body.slice(0, 300)}`;
  expect(key, `${where}: no operation in the document`).toBeDefined();
  const body = response.body === '' ? undefined : response.json();
  if (response.statusCode >= 400) {
    expect(documentedCodes(on.doc, key!, response.statusCode), where).toContain(body.code);
    on.errors.set(key!, (on.errors.get(key!) ?? new Set()).add(body.code));
  } else {
    const documented = operation(on.doc, key!).responses[String(response.statusCode)];
    expect(documented, `${where}: the status is not documented`).toBeDefined();
    const schema = documented!.content?.['application/json']?.schema;
    if (schema === undefined) expect(body, where).toBeUndefined();
    else {
      const validate = ajv.compile(resolved(on.doc, schema));
      expect(validate(body), `${where}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    on.successes.add(key!);
  }
  return { status: response.statusCode, headers: response.headers, body };
}

const json = { 'content-type': 'application/json' };
const withBody = (body: unknown) =>
  body === undefined ? {} : { headers: json, payload: JSON.stringify(body) };

const api = (on: Subject, method: string, url: string, body?: unknown) => {
  const request = withBody(body);
  return send(on, {
    method: method as 'GET',
    url,
    ...request,
    headers: { ...on.platform.auth, ...request.headers },
  });
};

const widget = (token: string, method: string, url: string, body?: unknown, extra = {}) => {
  const request = withBody(body);
  return send(demo, {
    method: method as 'GET',
    url,
    ...request,
    headers: { authorization: `Bearer ${token}`, ...request.headers, ...extra },
  });
};

async function expectCode(
  answer: Promise<{ status: number; body: any; headers: Record<string, unknown> }>,
  code: ErrorCode,
  details: Record<string, unknown> = {},
) {
  const { status, body, headers } = await answer;
  expect({ status, body }).toMatchObject({ status: ErrorCodes[code], body: { code, ...details } });
  return { body, headers };
}

const UNKNOWN = {
  card: `card_${'0'.repeat(26)}`,
  product: `cp_${'0'.repeat(26)}`,
  webhook: `wh_${'0'.repeat(26)}`,
  event: `evt_${'0'.repeat(26)}`,
  passkey: `pk_${'0'.repeat(26)}`,
};
const ACCOUNT = 'acct_openapi';
const PIN = '7392';

// ---------------------------------------------------------------------------------------------

describe('Redocly CLI lints /openapi.json', () => {
  const lint = (doc: Document) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-widgets-openapi-'));
    const file = path.join(dir, 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(doc));
    try {
      const run = spawnSync(
        process.execPath,
        [REDOCLY, 'lint', file, '--config', CONFIG, '--format', 'json'],
        {
          encoding: 'utf8',
          timeout: 60_000,
          env: {
            ...process.env,
            REDOCLY_TELEMETRY: 'off',
            REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
          },
        },
      );
      // Redocly prints its banners to stderr; the report is stdout's JSON.
      const report = JSON.parse(run.stdout) as {
        totals: { errors: number; warnings: number };
        problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
      };
      return {
        totals: report.totals,
        problems: report.problems.map(
          (p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`,
        ),
      };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  it('the DEMO_MODE document: no error, no warning', () => {
    const { totals, problems } = lint(demo.doc);
    expect(problems).toEqual([]);
    expect(totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 60_000);

  it('the strict document: no error, no warning', () => {
    const { totals, problems } = lint(strict.doc);
    expect(problems).toEqual([]);
    expect(totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 60_000);

  it('fails a document that breaks a rule (the lint is really run)', () => {
    const broken = structuredClone(demo.doc);
    delete operation(broken, 'POST /v1/cards').operationId;
    (broken.components.schemas.Card!.examples as any[])[0].card_status = 'LOST';
    const { problems } = lint(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^operation-operationId at #\/paths\/~1v1~1cards\/post/),
        expect.stringMatching(/^no-invalid-schema-examples at #\/components\/schemas\/Card/),
      ]),
    );
  }, 60_000);
});

describe('every operation', () => {
  it('has a stable camelCase operationId, a summary, one declared tag and its security', () => {
    for (const { doc } of [demo, strict]) {
      const tags = new Set(doc.tags.map((tag) => tag.name));
      const ids = new Set<string>();
      for (const [key, op] of operations(doc)) {
        // The processor-compatible route keeps the processor's own id (offline-pin/routes.ts).
        if (op.operationId !== 'post-v1-sync-offline-pin') {
          expect(op.operationId, key).toMatch(/^[a-z][a-zA-Z]+$/);
        }
        expect(ids.has(op.operationId!), `${key}: ${op.operationId} twice`).toBe(false);
        ids.add(op.operationId!);
        expect(op.summary, key).toBeTruthy();
        expect(op.tags, key).toHaveLength(1);
        expect(tags.has(op.tags![0]!), key).toBe(true);
        expect(Array.isArray(op.security), `${key}: security (explicitly [] when public)`).toBe(
          true,
        );
      }
    }
    expect(operation(demo.doc, 'GET /v1/pin_keys').security).toEqual([]);
    expect(operation(demo.doc, 'POST /v1/card_products').security).toEqual([{ apiKey: ['admin'] }]);
  });

  it('has an example of every request body and of the main resources it returns', () => {
    for (const [key, op] of operations(demo.doc)) {
      const media = op.requestBody?.content['application/json'];
      if (media) expect(media.example ?? media.examples, key).toBeDefined();
    }
    for (const name of ['CardProduct', 'Card', 'WidgetToken', 'Webhook', 'Event']) {
      expect(demo.doc.components.schemas[name]?.examples, name).toHaveLength(1);
    }
    expect(demo.doc.info.license).toMatchObject({ name: expect.any(String) });
  });

  it('documents each error status with codes of that status, in its schema, description and examples', () => {
    for (const { doc } of [demo, strict]) {
      for (const [key, op] of operations(doc)) {
        const statuses = Object.keys(op.responses).map(Number);
        expect(
          statuses.some((status) => status < 300),
          `${key}: a success`,
        ).toBe(true);
        expect(
          statuses.some((status) => status >= 400 && status < 500),
          `${key}: a 4xx`,
        ).toBe(true);
        expect(statuses, `${key}: a fault is documented everywhere`).toContain(500);
        for (const status of statuses.filter((s) => s >= 400)) {
          const where = `${key} ${status}`;
          const response = op.responses[String(status)]!;
          const media = response.content!['application/json']!;
          const codes = documentedCodes(doc, key, status) as ErrorCode[];
          expect(codes.length, where).toBeGreaterThan(0);
          for (const code of codes) expect(ErrorCodes[code], `${where} ${code}`).toBe(status);
          const described = [...response.description.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]);
          expect(described, where).toEqual(codes);
          expect(Object.keys(media.examples ?? {}), where).toEqual(codes);
          for (const [code, example] of Object.entries(media.examples!)) {
            const name = example.$ref.replace('#/components/examples/', '');
            expect(doc.components.examples[name]?.value.code, where).toBe(code);
          }
        }
      }
    }
  });

  it('lists each mode’s own codes only in that mode’s document', () => {
    const all = (doc: Document) =>
      new Set(
        operations(doc).flatMap(([key, op]) =>
          Object.keys(op.responses).flatMap((status) => documentedCodes(doc, key, Number(status))),
        ),
      );
    expect(all(demo.doc)).toContain('MISDIRECTED_REQUEST');
    expect(all(demo.doc)).not.toContain('TEST_ONLY_FIELD');
    expect(all(strict.doc)).not.toContain('MISDIRECTED_REQUEST');
    expect(all(strict.doc)).toContain('TEST_ONLY_FIELD');
    expect(all(strict.doc)).toContain('WEBHOOK_URL_FORBIDDEN');
    expect(Object.keys(strict.doc.paths).some((route) => route.includes('simulations'))).toBe(
      false,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The document against the platform: every route, its successes and its own refusals.

describe('what the platform answers is what the document says', () => {
  let jwks: { keys: { kid: string; [k: string]: unknown }[] };
  const products: Record<string, string> = {};
  const cards: Record<string, { id: string; last_four: string }> = {};

  async function product(name: string, fields: Record<string, unknown>) {
    const created = await api(demo, 'POST', '/v1/card_products', {
      name,
      form: 'PHYSICAL',
      ...(fields.form === 'VIRTUAL' ? {} : { allow_bearer_widget_tokens: true }),
      ...fields,
    });
    expect(created.status).toBe(201);
    products[name] = created.body.id;
  }

  async function card(name: string, productName: string, fields: Record<string, unknown> = {}) {
    const created = await api(demo, 'POST', '/v1/cards', {
      card_product_id: products[productName],
      account_id: ACCOUNT,
      ...fields,
    });
    expect(created.status).toBe(201);
    cards[name] = created.body;
    return created.body.id as string;
  }

  const token = async (cardName: string, fields: Record<string, unknown>) => {
    const minted = await api(demo, 'POST', `/v1/cards/${cards[cardName]!.id}/widget_token`, fields);
    expect(minted.status).toBe(201);
    return minted.body.widget_token as string;
  };

  const setPin = async (cardName: string, payload: Record<string, unknown>, as?: string) => {
    const t = as ?? (await token(cardName, { widget_type: 'SET_PIN' }));
    return widget(t, 'POST', '/v1/widget/pin', {
      encrypted_pin: await encryptPin(jwks, String(payload.pin), t, {}, JSON.stringify(payload)),
    });
  };

  const activate = async (cardName: string) => {
    const id = cards[cardName]!.id;
    expect((await api(demo, 'POST', `/v1/simulations/cards/${id}/advance`)).status).toBe(200);
    const patched = await api(demo, 'PATCH', `/v1/cards/${id}`, { card_status: 'ACTIVE' });
    expect(patched.status).toBe(200);
  };

  const revealWith = async (t: string, extra: Record<string, unknown> = {}) =>
    widget(t, 'POST', '/v1/widget/pin/reveal', {
      public_key: (await ephemeralKey()).publicJwk,
      ...extra,
    });

  /** A DPoP-bound widget session (ENROLL_PASSKEY tokens are always bound). */
  async function boundSession(cardName: string, widgetType: string) {
    const key = await dpopKey();
    const t = await token(cardName, { widget_type: widgetType, jkt: key.jkt });
    return async (method: string, url: string, body?: unknown) =>
      widget(t, method, url, body, {
        authorization: `DPoP ${t}`,
        dpop: await key.proof(method, `${PUBLIC_URL}${url}`, t),
      });
  }

  const ceremony = (challenge: string) => ({ challenge, origin: PUBLIC_URL, rpId: 'localhost' });

  beforeAll(async () => {
    jwks = (await send(demo, { method: 'GET', url: '/v1/pin_keys' })).body;
    await product('offline', { pin_issuance_policy: 'REQUIRED', offline_pin: true });
    await product('plain', {});
    await product('virtual', { form: 'VIRTUAL' });
    await product('current pin', {
      pin_issuance_policy: 'REQUIRED',
      pin_change_requires_current_pin: true,
      pin_try_limit: 2,
    });
    await product('passkey', { pin_issuance_policy: 'REQUIRED', reveal_step_up: 'PASSKEY' });
    await product('dpop only', {
      pin_issuance_policy: 'REQUIRED',
      allow_bearer_widget_tokens: false,
    });
    // A PAN whose last four digits are an acceptable PIN: PIN_MATCHES_CARD_NUMBER is then the
    // only rule such a PIN breaks.
    const pan = testPan('400000555566739');
    expect(pinPolicyViolation(pan.slice(-4), 4, '0000')).toBeUndefined();
    await card('active', 'offline', { pan, customer_id: 'cust_openapi' });
    await card('pending', 'offline');
    await card('plain', 'plain');
    await card('virtual', 'virtual');
    await card('terminated', 'offline');
    await card('current pin', 'current pin');
    // Chosen PANs: a generated one ends in PIN once in 10,000 cards, and the PIN is then refused.
    for (const [name, body, customer] of [
      ['passkey', '400000555566812', 'cust_passkey'],
      ['no passkey', '400000555566820', 'cust_without'],
    ] as const) {
      const chosen = testPan(body);
      expect(chosen.endsWith(PIN)).toBe(false);
      await card(name, 'passkey', { pan: chosen, customer_id: customer });
    }
    await card('dpop only', 'dpop only');
    expect((await setPin('active', { pin: PIN })).status).toBe(200);
    await activate('active');
    for (const name of ['passkey', 'no passkey']) {
      const set = await setPin(name, { pin: PIN });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      await activate(name);
    }
    const terminated = cards.terminated!.id;
    await api(demo, 'PATCH', `/v1/cards/${terminated}`, { card_status: 'TERMINATED' });
  });

  it('card products and cards', async () => {
    const { active, pending, terminated } = cards;
    await api(demo, 'GET', '/v1/card_products?limit=2');
    await api(demo, 'GET', `/v1/card_products/${products.offline}`);
    await api(demo, 'GET', `/v1/cards?account_id=${ACCOUNT}&card_status=ACTIVE`);
    await api(demo, 'GET', `/v1/cards/${active!.id}`);
    await api(demo, 'PATCH', `/v1/cards/${pending!.id}`, { memo: 'documented' });
    await expectCode(
      api(demo, 'POST', '/v1/card_products', { name: 'x', form: 'PHYSICAL', offline_pin: true }),
      'OFFLINE_PIN_REQUIRES_PIN_POLICY',
    );
    await expectCode(
      api(demo, 'POST', '/v1/card_products', {
        name: 'x',
        form: 'VIRTUAL',
        pin_issuance_policy: 'RANDOM',
      }),
      'VIRTUAL_PRODUCT_HAS_NO_PIN_POLICY',
    );
    await expectCode(api(demo, 'GET', `/v1/card_products/${UNKNOWN.product}`), 'NOT_FOUND');
    await expectCode(
      api(demo, 'POST', '/v1/cards', { card_product_id: UNKNOWN.product, account_id: ACCOUNT }),
      'CARD_PRODUCT_NOT_FOUND',
    );
    const pan = testPan('400000555566747');
    await card('first with a pan', 'plain', { pan });
    await expectCode(
      api(demo, 'POST', '/v1/cards', {
        card_product_id: products.plain,
        account_id: ACCOUNT,
        pan,
      }),
      'PAN_ALREADY_ISSUED',
    );
    await expectCode(api(demo, 'GET', `/v1/cards/${UNKNOWN.card}`), 'NOT_FOUND');
    await expectCode(api(demo, 'PATCH', `/v1/cards/${UNKNOWN.card}`, { memo: 'x' }), 'NOT_FOUND');
    await expectCode(
      api(demo, 'PATCH', `/v1/cards/${terminated!.id}`, { card_status: 'ACTIVE' }),
      'INVALID_STATUS_TRANSITION',
      { current_status: 'TERMINATED', requested_status: 'ACTIVE' },
    );
    await expectCode(
      api(demo, 'POST', `/v1/simulations/cards/${UNKNOWN.card}/advance`),
      'NOT_FOUND',
    );
    // A detail field survives the reply: the document adds no serializer to the route.
    const cardsKey = (await demo.platform.apiKeys.create('cardholder backend', ['cards'])).key;
    await expectCode(
      send(demo, {
        method: 'POST',
        url: '/v1/card_products',
        headers: { authorization: `Bearer ${cardsKey}`, ...json },
        payload: JSON.stringify({ name: 'x', form: 'PHYSICAL' }),
      }),
      'INSUFFICIENT_SCOPE',
      { required_scope: 'admin' },
    );
  });

  it('widget tokens, PIN export and unblock', async () => {
    const { active, pending, virtual, terminated, plain } = cards;
    const mint = (id: string, body: unknown) =>
      api(demo, 'POST', `/v1/cards/${id}/widget_token`, body);
    await expectCode(mint(UNKNOWN.card, { widget_type: 'SET_PIN' }), 'NOT_FOUND');
    await expectCode(mint(virtual!.id, { widget_type: 'SET_PIN' }), 'CARD_IS_VIRTUAL');
    await expectCode(mint(terminated!.id, { widget_type: 'SET_PIN' }), 'CARD_TERMINATED');
    await expectCode(
      mint(cards['dpop only']!.id, { widget_type: 'SET_PIN' }),
      'DPOP_BINDING_REQUIRED',
    );
    await expectCode(
      mint(pending!.id, { widget_type: 'ENROLL_PASSKEY', jkt: 'A'.repeat(43) }),
      'CARD_HAS_NO_CUSTOMER',
    );
    for (const [url, method] of [
      ['pin_block?format=ISO_9564_0', 'GET'],
      ['pin/unblock', 'POST'],
    ] as const) {
      await expectCode(api(demo, method, `/v1/cards/${UNKNOWN.card}/${url}`), 'NOT_FOUND');
      await expectCode(api(demo, method, `/v1/cards/${virtual!.id}/${url}`), 'CARD_IS_VIRTUAL');
      await expectCode(api(demo, method, `/v1/cards/${terminated!.id}/${url}`), 'CARD_TERMINATED');
      await expectCode(api(demo, method, `/v1/cards/${plain!.id}/${url}`), 'PIN_NOT_SET');
    }
    await api(demo, 'GET', `/v1/cards/${active!.id}/pin_block?format=ISO_9564_4`);
    await api(demo, 'GET', `/v1/cards/${active!.id}/pin_block?format=ISO_9564_0`);
  });

  it('set PIN: every refusal the route lists, and a detail field that survives the reply', async () => {
    const setToken = () => token('pending', { widget_type: 'SET_PIN' });
    await widget(await setToken(), 'GET', '/v1/widget/session');
    const reveal = await token('active', { widget_type: 'REVEAL_PIN' });
    await expectCode(
      widget(reveal, 'POST', '/v1/widget/pin', { encrypted_pin: 'a.b.c.d.e' }),
      'WIDGET_TOKEN_WRONG_TYPE',
    );
    await expectCode(
      widget(await setToken(), 'POST', '/v1/widget/pin', { encrypted_pin: 'a.b.c.d.e' }),
      'PIN_DECRYPTION_FAILED',
    );
    const t1 = await setToken();
    await expectCode(
      widget(t1, 'POST', '/v1/widget/pin', {
        encrypted_pin: await encryptPin(jwks, PIN, `${t1}-another`),
      }),
      'SESSION_MISMATCH',
    );
    const t2 = await setToken();
    const unknownKid = await new CompactEncrypt(new TextEncoder().encode(`{"pin":"${PIN}"}`))
      .setProtectedHeader({
        alg: 'ECDH-ES',
        enc: 'A256GCM',
        kid: 'not-a-key',
        wst: sessionTagOf(t2),
      })
      .encrypt(await importJWK({ ...jwks.keys[0], alg: 'ECDH-ES' }, 'ECDH-ES'));
    await expectCode(
      widget(t2, 'POST', '/v1/widget/pin', { encrypted_pin: unknownKid }),
      'UNKNOWN_KEY_ID',
    );
    await expectCode(setPin('pending', { digits: PIN }), 'INVALID_PIN_PAYLOAD');
    await expectCode(setPin('pending', { pin: '73a2' }), 'PIN_NOT_DIGITS');
    await expectCode(setPin('pending', { pin: '739' }), 'PIN_WRONG_LENGTH');
    await expectCode(setPin('active', { pin: cards.active!.last_four }), 'PIN_MATCHES_CARD_NUMBER');
    const twice = await setToken();
    await expectCode(setPin('pending', { pin: '1111' }, twice), 'PIN_TOO_WEAK');
    await expectCode(setPin('pending', { pin: '1111' }, twice), 'TOO_MANY_ATTEMPTS');
    await card('terminated later', 'offline');
    const doomed = await token('terminated later', { widget_type: 'SET_PIN' });
    await api(demo, 'PATCH', `/v1/cards/${cards['terminated later']!.id}`, {
      card_status: 'TERMINATED',
    });
    await expectCode(setPin('terminated later', { pin: PIN }, doomed), 'CARD_TERMINATED');

    // The current-PIN rule: required, wrong (a try each, with the tries left), then blocked.
    expect((await setPin('current pin', { pin: PIN })).status).toBe(200);
    await expectCode(setPin('current pin', { pin: '4826' }), 'CURRENT_PIN_REQUIRED');
    await expectCode(
      setPin('current pin', { pin: '4826', current_pin: '0000' }),
      'CURRENT_PIN_INCORRECT',
      { field: 'current_pin', pin_tries_remaining: 1 },
    );
    await expectCode(
      setPin('current pin', { pin: '4826', current_pin: '0000' }),
      'CURRENT_PIN_INCORRECT',
      { pin_tries_remaining: 0 },
    );
    await expectCode(setPin('current pin', { pin: '4826', current_pin: PIN }), 'PIN_BLOCKED');
    const unblocked = await api(demo, 'POST', `/v1/cards/${cards['current pin']!.id}/pin/unblock`);
    expect(unblocked.body).toMatchObject({ pin_status: 'OK', pin_tries_remaining: 2 });
  });

  it('reveal: every refusal the route lists, RATE_LIMITED with retry_after and Retry-After', async () => {
    const setToken = await token('active', { widget_type: 'SET_PIN' });
    await expectCode(revealWith(setToken), 'WIDGET_TOKEN_WRONG_TYPE');
    const zero = 'A'.repeat(43);
    await expectCode(
      revealWith(await token('active', { widget_type: 'REVEAL_PIN' }), {
        public_key: { kty: 'EC', crv: 'P-256', x: zero, y: zero },
      }),
      'INVALID_PUBLIC_KEY',
    );
    // PENDING → UNACTIVATED once issued: a PIN, but not an ACTIVE card.
    await card('unactivated', 'offline');
    expect((await setPin('unactivated', { pin: PIN })).status).toBe(200);
    await api(demo, 'POST', `/v1/simulations/cards/${cards.unactivated!.id}/advance`);
    await expectCode(
      revealWith(await token('unactivated', { widget_type: 'REVEAL_PIN' })),
      'CARD_NOT_ACTIVE',
      { card_status: 'UNACTIVATED' },
    );
    await card('active without pin', 'plain');
    await activate('active without pin');
    await expectCode(
      revealWith(await token('active without pin', { widget_type: 'REVEAL_PIN' })),
      'PIN_NOT_SET',
    );
    await card('terminated after mint', 'offline');
    const doomed = await token('terminated after mint', { widget_type: 'REVEAL_PIN' });
    await api(demo, 'PATCH', `/v1/cards/${cards['terminated after mint']!.id}`, {
      card_status: 'TERMINATED',
    });
    await expectCode(revealWith(doomed), 'CARD_TERMINATED');

    expect((await revealWith(await token('active', { widget_type: 'REVEAL_PIN' }))).status).toBe(
      200,
    );
    const { body, headers } = await expectCode(
      revealWith(await token('active', { widget_type: 'REVEAL_PIN' })),
      'RATE_LIMITED',
      { quota: 'card' },
    );
    expect(body.retry_after).toBeGreaterThan(0);
    expect(headers['retry-after']).toBe(String(body.retry_after));
  });

  it('passkeys: enrollment, step-up and the customer’s passkeys', async () => {
    const setToken = await token('passkey', { widget_type: 'SET_PIN' });
    for (const url of [
      '/v1/widget/passkeys/registration_options',
      '/v1/widget/pin/reveal/challenge',
    ]) {
      await expectCode(widget(setToken, 'POST', url), 'WIDGET_TOKEN_WRONG_TYPE');
    }
    await expectCode(
      widget(setToken, 'POST', '/v1/widget/passkeys', {
        credential: new SoftwareAuthenticator().register(ceremony('A'.repeat(43)), 'B'.repeat(43)),
      }),
      'WIDGET_TOKEN_WRONG_TYPE',
    );
    const noPasskey = await token('no passkey', { widget_type: 'REVEAL_PIN' });
    await expectCode(
      widget(noPasskey, 'POST', '/v1/widget/pin/reveal/challenge'),
      'PASSKEY_NOT_ENROLLED',
    );
    await expectCode(revealWith(noPasskey), 'PASSKEY_NOT_ENROLLED');

    // Enrollment: a response to no challenge fails (a try), the second failure closes it.
    const failing = await boundSession('passkey', 'ENROLL_PASSKEY');
    const stray = new SoftwareAuthenticator().register(ceremony('A'.repeat(43)), 'B'.repeat(43));
    await expectCode(
      failing('POST', '/v1/widget/passkeys', { credential: stray }),
      'PASSKEY_REGISTRATION_FAILED',
    );
    await expectCode(
      failing('POST', '/v1/widget/passkeys', { credential: stray }),
      'TOO_MANY_ATTEMPTS',
    );
    const authenticator = new SoftwareAuthenticator();
    const enrollOnce = async () => {
      const session = await boundSession('passkey', 'ENROLL_PASSKEY');
      const options = await session('POST', '/v1/widget/passkeys/registration_options');
      const credential = authenticator.register(
        ceremony(options.body.challenge),
        options.body.user.id,
      );
      return session('POST', '/v1/widget/passkeys', { credential });
    };
    const enrolled = await enrollOnce();
    expect(enrolled.status).toBe(201);
    await expectCode(enrollOnce(), 'PASSKEY_ALREADY_ENROLLED');

    // Step-up: none, a bad one (a try), a second bad one (closed), then a good one.
    await expectCode(
      revealWith(await token('passkey', { widget_type: 'REVEAL_PIN' })),
      'STEP_UP_REQUIRED',
    );
    const bad = await token('passkey', { widget_type: 'REVEAL_PIN' });
    await widget(bad, 'POST', '/v1/widget/pin/reveal/challenge');
    const garbage = authenticator.assert(ceremony('C'.repeat(43)));
    await expectCode(revealWith(bad, { assertion: garbage }), 'STEP_UP_FAILED');
    await expectCode(revealWith(bad, { assertion: garbage }), 'TOO_MANY_ATTEMPTS');
    const good = await token('passkey', { widget_type: 'REVEAL_PIN' });
    const challenge = await widget(good, 'POST', '/v1/widget/pin/reveal/challenge');
    const assertion = authenticator.assert(ceremony(challenge.body.challenge));
    expect((await revealWith(good, { assertion })).status).toBe(200);

    const customer = '/v1/customers/cust_passkey/passkeys';
    expect((await api(demo, 'GET', customer)).body.data).toHaveLength(1);
    await expectCode(api(demo, 'DELETE', `${customer}/${UNKNOWN.passkey}`), 'NOT_FOUND');
    expect((await api(demo, 'DELETE', `${customer}/${enrolled.body.id}`)).status).toBe(204);
    expect((await api(demo, 'DELETE', customer)).body).toEqual({ deleted: 0 });
  });

  it('webhooks and events', async () => {
    const created = await api(demo, 'POST', '/v1/webhooks', {
      url: 'http://127.0.0.1:9/never-delivered',
      enabled_events: ['CARD.*'],
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await api(demo, 'GET', '/v1/webhooks');
    await api(demo, 'GET', `/v1/webhooks/${id}`);
    await api(demo, 'PATCH', `/v1/webhooks/${id}`, { description: 'documented' });
    await api(demo, 'POST', `/v1/webhooks/${id}/rotate_secret`, { overlap_seconds: 0 });
    const events = await api(demo, 'GET', '/v1/events?limit=5&type=CARD.CREATED');
    const event = events.body.data[0].id;
    await api(demo, 'GET', `/v1/events/${event}`);
    await api(demo, 'POST', `/v1/events/${event}/redeliver`, { webhook_id: id });
    for (const [method, url, body] of [
      ['GET', `/v1/webhooks/${UNKNOWN.webhook}`, undefined],
      ['PATCH', `/v1/webhooks/${UNKNOWN.webhook}`, { is_enabled: false }],
      ['DELETE', `/v1/webhooks/${UNKNOWN.webhook}`, undefined],
      ['POST', `/v1/webhooks/${UNKNOWN.webhook}/rotate_secret`, {}],
      ['GET', `/v1/events/${UNKNOWN.event}`, undefined],
      ['POST', `/v1/events/${UNKNOWN.event}/redeliver`, {}],
    ] as const) {
      await expectCode(api(demo, method, url, body), 'NOT_FOUND');
    }
    await api(demo, 'DELETE', `/v1/webhooks/${id}`);
  });

  it('account tokens and the processor’s sync endpoint', async () => {
    const issued = await api(demo, 'POST', `/v1/accounts/${ACCOUNT}/tokens`);
    const other = await api(demo, 'POST', '/v1/accounts/acct_someone_else/tokens');
    const sync = (cardId: string, token: string, request: Partial<InjectOptions> = {}) =>
      send(demo, {
        method: 'POST',
        url: `/pcicards/v1/pcicards/${cardId}/scripts/sync-offline-pin`,
        ...request,
        headers: { authorization: `Bearer ${token}`, ...(request.headers as object) },
      });
    const mine = issued.body.access_token;
    await expectCode(sync(UNKNOWN.card, mine), 'NOT_FOUND');
    await expectCode(sync(cards.active!.id, other.body.access_token), 'CARD_NOT_IN_ACCOUNT');
    await expectCode(sync(cards.virtual!.id, mine), 'CARD_IS_VIRTUAL');
    await expectCode(sync(cards.terminated!.id, mine), 'CARD_TERMINATED');
    await expectCode(sync(cards.plain!.id, mine), 'OFFLINE_PIN_NOT_ENABLED');
    await card('offline without pin', 'offline');
    await expectCode(sync(cards['offline without pin']!.id, mine), 'NO_PIN_TO_SYNC');
    await expectCode(
      sync(cards.active!.id, mine, { headers: json, payload: '{}' }),
      'BODY_NOT_ALLOWED',
    );
    await expectCode(
      sync(cards.active!.id, mine, { headers: json, payload: 'x'.repeat(64 * 1024) }),
      'PAYLOAD_TOO_LARGE',
    );
    expect((await sync(cards.active!.id, mine)).status).toBe(204);
  });

  it('simulations: authorizations and the PIN pad', async () => {
    const authorize = (body: Record<string, unknown>) =>
      api(demo, 'POST', '/v1/simulations/authorizations', { amount: 100, ...body });
    const block = { format: 'ISO_9564_4', block: 'A'.repeat(32) };
    await authorize({ card_id: cards.active!.id, entry_mode: 'ECOMMERCE' });
    await authorize({ card_id: cards.active!.id, entry_mode: 'CHIP_CONTACT' });
    await expectCode(authorize({ card_id: UNKNOWN.card, entry_mode: 'ECOMMERCE' }), 'NOT_FOUND');
    await expectCode(
      authorize({ card_id: cards.virtual!.id, entry_mode: 'CHIP_CONTACT' }),
      'CARD_IS_VIRTUAL',
    );
    await expectCode(
      authorize({ card_id: cards.pending!.id, entry_mode: 'CHIP_CONTACT' }),
      'CARD_NOT_ISSUED',
      { card_fulfillment_status: 'ORDERED' },
    );
    await api(demo, 'POST', `/v1/simulations/cards/${cards.plain!.id}/advance`);
    await expectCode(
      authorize({
        card_id: cards.plain!.id,
        entry_mode: 'CHIP_CONTACT',
        pin_block: block,
        cvm: 'OFFLINE_PIN',
      }),
      'OFFLINE_PIN_NOT_ENABLED',
    );
    await expectCode(
      authorize({
        card_id: cards.active!.id,
        entry_mode: 'CHIP_CONTACT',
        pin_block: { ...block, block: 'AB' },
      }),
      'INVALID_PIN_BLOCK',
    );

    const active = cards.active!.id;
    const now = () => Math.floor(Date.now() / 1000);
    const pad = (header: Record<string, unknown> = {}, payload = JSON.stringify({ pin: PIN })) =>
      encryptPin(jwks, PIN, '', { wst: undefined, card: active, iat: now(), ...header }, payload);
    const translate = (fields: Record<string, unknown>) =>
      api(demo, 'POST', '/v1/simulations/pin_pad/pin_block', {
        card_id: active,
        format: 'ISO_9564_0',
        ...fields,
      });
    await translate({ encrypted_pin: await pad() });
    await expectCode(translate({ card_id: UNKNOWN.card, encrypted_pin: await pad() }), 'NOT_FOUND');
    await expectCode(translate({ encrypted_pin: 'a.b.c.d.e' }), 'PIN_DECRYPTION_FAILED');
    const unknownKid = await new CompactEncrypt(new TextEncoder().encode(`{"pin":"${PIN}"}`))
      .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'not-a-key', card: active })
      .encrypt(await importJWK({ ...jwks.keys[0], alg: 'ECDH-ES' }, 'ECDH-ES'));
    await expectCode(translate({ encrypted_pin: unknownKid }), 'UNKNOWN_KEY_ID');
    await expectCode(
      translate({ encrypted_pin: await pad({ card: cards.pending!.id }) }),
      'PIN_PAD_CARD_MISMATCH',
    );
    await expectCode(
      translate({ encrypted_pin: await pad({ iat: now() - 600 }) }),
      'PIN_PAD_ENTRY_EXPIRED',
    );
    await expectCode(
      translate({ encrypted_pin: await pad({}, '{"digits":"1"}') }),
      'INVALID_PIN_PAYLOAD',
    );
  });

  it('strict mode: the codes only it answers', async () => {
    await expectCode(
      api(strict, 'POST', '/v1/cards', {
        card_product_id: UNKNOWN.product,
        account_id: ACCOUNT,
        pan: testPan('400000555566754'),
      }),
      'TEST_ONLY_FIELD',
    );
    await expectCode(
      api(strict, 'POST', '/v1/webhooks', {
        url: 'http://program.example/',
        enabled_events: ['*'],
      }),
      'WEBHOOK_URL_FORBIDDEN',
    );
    await expectCode(
      api(strict, 'PATCH', `/v1/webhooks/${UNKNOWN.webhook}`, { url: 'http://program.example/' }),
      'WEBHOOK_URL_FORBIDDEN',
    );
  });

  it('every operation answered a documented success, and every code a route lists for its own checks', () => {
    const implied = new Set<string>(Object.values(IMPLIED_ERRORS).flat());
    const unanswered = (on: Subject, only?: (key: string, code: string) => boolean) =>
      operations(on.doc).flatMap(([key, op]) =>
        Object.keys(op.responses)
          .flatMap((status) => documentedCodes(on.doc, key, Number(status)))
          .filter((code) => !implied.has(code) && (only?.(key, code) ?? true))
          .filter((code) => !on.errors.get(key)?.has(code))
          .map((code) => `${key} ${code}`),
      );
    expect(
      operations(demo.doc)
        .map(([key]) => key)
        .filter((key) => !demo.successes.has(key)),
    ).toEqual([]);
    expect(unanswered(demo)).toEqual([]);
    // The strict document's own codes (those the demo's lacks) were answered by the strict platform.
    const inDemo = (key: string, code: string) =>
      operations(demo.doc).some(
        ([demoKey, op]) =>
          demoKey === key &&
          Object.keys(op.responses).some((s) =>
            documentedCodes(demo.doc, key, Number(s)).includes(code),
          ),
      );
    expect(unanswered(strict, (key, code) => !inDemo(key, code))).toEqual([]);
  });
});
