import { createHash } from 'node:crypto';
import Ajv from 'ajv';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { CompactEncrypt, SignJWT, UnsecuredJWT, importJWK } from 'jose';
import nodeJose from 'node-jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCard, mintToken, testPan, widgetCall } from '../testing/cards.js';
import { type TestDatabase, snapshotDiff } from '../testing/db-snapshot.js';
import { dpopKey, encryptPin, ephemeralKey } from '../testing/independent-jose.js';
import { TEST_API_KEY, type TestPlatform, startTestPlatform } from '../testing/platform.js';
import { SoftwareAuthenticator } from '../testing/webauthn.js';
import { type ErrorCode, ErrorCodes } from './errors.js';

/**
 * Bad input to every route of the OpenAPI document: a generated corpus (fast-check) and
 * hand-picked cases. Every answer must be a 4xx JSON error with a stable code whose status is
 * the code's, the database must be byte-for-byte what it was (a widget token's failure counter
 * aside: counting refusals is the designed rate limit), and the server must still work after.
 */

const PIN = '7392';
const PAN = testPan('400000123456785');
const SESSION = '/v1/widget/session';
const SET_PIN = '/v1/widget/pin';
const REVEAL = '/v1/widget/pin/reveal';
const PUBLIC_URL = 'http://localhost:4000';
const api = { authorization: `Bearer ${TEST_API_KEY}` };
const json = { 'content-type': 'application/json' };

let platform: TestPlatform;
let db: TestDatabase;
let jwks: { keys: { kid: string; [k: string]: unknown }[] };
let spec: { paths: Record<string, Record<string, any>> };
const tally = { generated: 0, handPicked: 0 };

/** The fixtures every case aims at: real ids, so a refusal is never just "no such thing". */
const world = {
  productId: '',
  pendingCard: '',
  activeCard: '',
  activeAccount: 'acct_bad_input',
  plainCard: '',
  virtualCard: '',
  terminatedCard: '',
  orderedCard: '',
  webhookId: '',
  eventId: '',
  accountToken: '',
  /** A card with a customer: passkeys are the customer's. */
  customerCard: '',
  customer: 'cust_bad_input',
};

/** A well-formed (not verifiable) registration: what the enrollment widget posts. */
const credential = new SoftwareAuthenticator().register(
  { challenge: 'A'.repeat(43), origin: 'https://pin.platform.example', rpId: 'localhost' },
  'B'.repeat(43),
);

beforeAll(async () => {
  platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000' });
  db = platform.db;
  jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
  spec = (await platform.app.inject({ method: 'GET', url: '/openapi.json' })).json();

  const pending = await issueCard(platform, { pin_issuance_policy: 'REQUIRED', offline_pin: true });
  world.pendingCard = pending.id;
  world.productId = pending.card_product_id as string;
  const active = await issueCard(
    platform,
    { pin_issuance_policy: 'REQUIRED', offline_pin: true },
    { pan: PAN, account_id: world.activeAccount },
  );
  world.activeCard = active.id;
  const token = await mintToken(platform, active.id, { widget_type: 'SET_PIN' });
  const set = await widgetCall(platform, 'POST', SET_PIN, token, {
    encrypted_pin: await encryptPin(jwks, PIN, token),
  });
  expect(set.status).toBe(200);
  await platform.call('POST', `/v1/simulations/cards/${active.id}/advance`);
  expect(
    (await platform.call('PATCH', `/v1/cards/${active.id}`, { card_status: 'ACTIVE' })).status,
  ).toBe(200);
  world.plainCard = (await issueCard(platform, {}, { account_id: world.activeAccount })).id;
  world.orderedCard = (await issueCard(platform, { pin_issuance_policy: 'RANDOM' })).id;
  world.virtualCard = (await issueCard(platform, { form: 'VIRTUAL' })).id;
  world.customerCard = (
    await issueCard(platform, { pin_issuance_policy: 'REQUIRED' }, { customer_id: world.customer })
  ).id;
  const terminated = await issueCard(platform, {});
  await platform.call('PATCH', `/v1/cards/${terminated.id}`, { card_status: 'TERMINATED' });
  world.terminatedCard = terminated.id;
  const webhook = await platform.call('POST', '/v1/webhooks', {
    url: 'http://127.0.0.1:9/never-delivered',
    enabled_events: ['*'],
  });
  world.webhookId = webhook.body.id;
  world.eventId = (await platform.call('GET', '/v1/events?limit=1')).body.data[0].id;
  world.accountToken = (
    await platform.call('POST', `/v1/accounts/${world.activeAccount}/tokens`)
  ).body.access_token;
});

afterAll(async () => {
  console.info(
    `bad-input corpus: ${tally.generated} generated + ${tally.handPicked} hand-picked = ` +
      `${tally.generated + tally.handPicked} cases, every one refused with no state change`,
  );
  await platform?.dispose();
});

// ---------------------------------------------------------------------------------------------
// The invariant every case is held to.

interface Attempt {
  label: string;
  request: InjectOptions;
  /** When given, the code must be one of these. */
  codes?: readonly ErrorCode[];
}

const CODES = new Set(Object.keys(ErrorCodes));

/** The codes each operation answered (`METHOD /path/{param}`): all must be documented by it. */
const answered = new Map<string, Set<ErrorCode>>();

/**
 * The OpenAPI operation a request reached, or undefined (no route: ROUTE_NOT_FOUND). The path is
 * the one the server sees: a generated path parameter of `.` or `..` is a dot segment, which the
 * URL parser removes (RFC 3986 §5.2.4), so `/v1/simulations/cards/../advance` reaches no route.
 */
function operationOf(method: string, url: string): string | undefined {
  const { pathname } = new URL(url, 'http://localhost');
  const route = Object.keys(spec.paths).find((template) =>
    new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(pathname),
  );
  return route !== undefined && spec.paths[route]![method.toLowerCase()]
    ? `${method.toUpperCase()} ${route}`
    : undefined;
}

async function expectRefused(attempt: Attempt, counter: 'generated' | 'handPicked') {
  const before = await db.snapshot();
  const response = await platform.app.inject(attempt.request);
  const after = await db.snapshot();
  const url = String(attempt.request.url);
  const where = `${attempt.label}: ${attempt.request.method} ${url.slice(0, 120)} → ${response.statusCode} ${response.body.slice(0, 300)}`;
  expect(response.statusCode, where).toBeGreaterThanOrEqual(400);
  expect(response.statusCode, where).toBeLessThan(500);
  expect(response.headers['content-type'], where).toMatch(/^application\/json/);
  const body = JSON.parse(response.body) as { code: ErrorCode; message: unknown };
  expect(CODES.has(body.code), where).toBe(true);
  expect(ErrorCodes[body.code], where).toBe(response.statusCode);
  expect(typeof body.message, where).toBe('string');
  expect(response.body, where).not.toMatch(/\bat .+:\d+:\d+|node_modules|SqliteError/);
  if (attempt.codes) expect(attempt.codes, where).toContain(body.code);
  const operation = operationOf(String(attempt.request.method ?? 'GET'), url);
  if (operation) answered.set(operation, (answered.get(operation) ?? new Set()).add(body.code));
  expect(snapshotDiff(before, after, { widget_tokens: ['failures'] }), where).toEqual([]);
  // The one designed change: a refusal after authentication counts against the widget token.
  const failures = (s: typeof before) =>
    (s.widget_tokens ?? []).reduce((sum, row) => sum + Number(row.failures), 0);
  const allowed = url.startsWith('/v1/widget/') ? 1 : 0;
  expect(failures(after) - failures(before), where).toBeLessThanOrEqual(allowed);
  tally[counter]++;
  return body.code;
}

// ---------------------------------------------------------------------------------------------
// The routes, read from the OpenAPI document.

interface Operation {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  pathParams: { name: string; schema: Record<string, unknown> }[];
  queryParams: { name: string; schema: Record<string, unknown>; required: boolean }[];
  body?: Record<string, unknown>;
  auth: 'apiKey' | 'widgetToken' | 'accountToken' | 'none';
}

function operations(): Operation[] {
  const found: Operation[] = [];
  for (const [route, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries<any>(methods)) {
      const params: any[] = op.parameters ?? [];
      const scheme = Object.keys(op.security?.[0] ?? {})[0];
      found.push({
        method: method.toUpperCase() as Operation['method'],
        path: route,
        pathParams: params.filter((p) => p.in === 'path'),
        queryParams: params
          .filter((p) => p.in === 'query')
          .map((p) => ({ ...p, required: Boolean(p.required) })),
        body: op.requestBody?.content?.['application/json']?.schema,
        auth:
          scheme === 'apiKey'
            ? 'apiKey'
            : scheme === 'widgetToken' || scheme === 'dpop'
              ? 'widgetToken'
              : scheme === 'accountToken'
                ? 'accountToken'
                : 'none',
      });
    }
  }
  return found;
}

const key = (op: Pick<Operation, 'method' | 'path'>) => `${op.method} ${op.path}`;

/** A valid body per route: generated cases break exactly one thing about it. */
function validBody(op: Operation): Record<string, unknown> | undefined {
  const bodies: Record<string, Record<string, unknown>> = {
    'POST /v1/card_products': { name: 'P', form: 'PHYSICAL', pin_issuance_policy: 'RANDOM' },
    'POST /v1/cards': { card_product_id: world.productId, account_id: 'acct_2' },
    'PATCH /v1/cards/{id}': { card_status: 'SUSPENDED', reason: 'lost' },
    'POST /v1/cards/{id}/widget_token': { widget_type: 'SET_PIN' },
    'POST /v1/webhooks': { url: 'https://example.com/hook', enabled_events: ['CARD.*'] },
    'PATCH /v1/webhooks/{id}': { is_enabled: false },
    'POST /v1/webhooks/{id}/rotate_secret': { overlap_seconds: 60 },
    'POST /v1/events/{id}/redeliver': { webhook_id: world.webhookId },
    [`POST ${SET_PIN}`]: { encrypted_pin: 'a.b.c.d.e' },
    [`POST ${REVEAL}`]: {
      public_key: { kty: 'EC', crv: 'P-256', x: 'x'.repeat(43), y: 'y'.repeat(43) },
    },
    'POST /v1/simulations/authorizations': {
      card_id: world.activeCard,
      amount: 100,
      entry_mode: 'CHIP_CONTACT',
    },
    'POST /v1/widget/passkeys': { credential },
    'POST /v1/simulations/pin_pad/pin_block': {
      card_id: world.activeCard,
      encrypted_pin: 'a.b.c.d.e',
      format: 'ISO_9564_4',
    },
  };
  return bodies[key(op)];
}

/** Real ids for path parameters, by the prefix their pattern asks for. */
function pathValue(op: Operation, name: string, schema: Record<string, unknown>): string {
  const prefix = /^\^([a-z]+)_/.exec(String(schema.pattern ?? ''))?.[1];
  const byPrefix: Record<string, string> = {
    cp: world.productId,
    card: world.activeCard,
    wh: world.webhookId,
    evt: world.eventId,
  };
  if (prefix && byPrefix[prefix]) return byPrefix[prefix];
  if (name === 'account_id') return world.activeAccount;
  if (name === 'customer_id') return world.customer;
  if (prefix === 'pk') return `pk_${'0'.repeat(26)}`;
  if (name === 'cardId') return world.activeCard;
  throw new Error(`${key(op)}: no fixture for path parameter "${name}": add one`);
}

function urlOf(op: Operation, overrides: Record<string, string> = {}, query = ''): string {
  let url = op.path;
  for (const param of op.pathParams) {
    const value = overrides[param.name] ?? pathValue(op, param.name, param.schema);
    url = url.replace(`{${param.name}}`, encodeURIComponent(value));
  }
  const required = op.queryParams.filter((q) => q.required);
  const defaults = required.map(
    (q) => `${q.name}=${(q.schema.enum as string[] | undefined)?.[0] ?? 'ISO_9564_4'}`,
  );
  const search = [...defaults, query].filter(Boolean).join('&');
  return search ? `${url}?${search}` : url;
}

/** Valid credentials for the route; a widget route gets a fresh token (refusals count). */
async function credentials(op: Operation): Promise<Record<string, string>> {
  switch (op.auth) {
    case 'apiKey':
      return api;
    case 'accountToken':
      return { authorization: `Bearer ${world.accountToken}` };
    case 'widgetToken': {
      if (op.path.startsWith('/v1/widget/passkeys')) {
        // Always DPoP-bound: a bearer use is refused like any other bad credential.
        const token = await mintToken(platform, world.customerCard, {
          widget_type: 'ENROLL_PASSKEY',
          jkt: 'A'.repeat(43),
        });
        return { authorization: `Bearer ${token}` };
      }
      const reveal = op.path.startsWith(REVEAL);
      const token = await mintToken(platform, reveal ? world.activeCard : world.pendingCard, {
        widget_type: reveal ? 'REVEAL_PIN' : 'SET_PIN',
      });
      return { authorization: `Bearer ${token}` };
    }
    case 'none':
      return {};
  }
}

const bodyValidators = new Map<string, (value: unknown) => boolean>();
const ajv = new Ajv({ strict: false, coerceTypes: false, allErrors: false });
function bodyIsValid(op: Operation, value: unknown): boolean {
  if (!op.body) return value === undefined || JSON.stringify(value) === '{}';
  let validate = bodyValidators.get(key(op));
  if (!validate) {
    const compiled = ajv.compile(op.body);
    validate = (v: unknown) => compiled(v);
    bodyValidators.set(key(op), validate);
  }
  return validate(value);
}

const takesBody = (op: Operation) => op.method !== 'GET';

/** Whether a path or query value passes its schema the way the server reads text (coerced). */
const textAjv = new Ajv({ strict: false, coerceTypes: true });
const textValidators = new Map<Record<string, unknown>, (holder: object) => boolean>();
function textIsValid(schema: Record<string, unknown>, value: string): boolean {
  let validate = textValidators.get(schema);
  if (!validate) {
    const compiled = textAjv.compile({ type: 'object', properties: { value: schema } });
    validate = (holder: object) => compiled(holder);
    textValidators.set(schema, validate);
  }
  return validate({ value });
}

// ---------------------------------------------------------------------------------------------
// The generated corpus.

type Mutation =
  | { kind: 'garbageBody'; value: unknown }
  | { kind: 'unknownField'; field: string; value: unknown }
  | { kind: 'missingField'; index: number }
  | { kind: 'wrongValue'; index: number; value: unknown }
  | { kind: 'badPathParam'; value: string }
  | { kind: 'unknownQuery'; name: string; value: string }
  | { kind: 'badQueryValue'; value: string }
  | { kind: 'badAuth'; header: string | undefined }
  | { kind: 'badContentType'; contentType: string }
  | { kind: 'rawBytes'; bytes: Uint8Array };

const printable = fc.string({
  unit: fc.constantFrom(...' !#$%&()*+,-./0123456789:;<=>?@ABCXYZ[]^_`abcxyz{|}~'.split('')),
  maxLength: 60,
});
const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const anyJson = fc.jsonValue({ maxDepth: 3 });
const BAD_CONTENT_TYPES = [
  'text/plain',
  'text/html',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'application/jsonp',
  'application/json-patch+json',
  'application/problem+json',
  'application/json; charset=utf-16',
  'application/json; charset=iso-8859-1',
  'application/json;charset="latin1"',
  'image/png',
  '*/*',
  'application',
  'json',
  ';',
];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  anyJson.map((value) => ({ kind: 'garbageBody' as const, value })),
  fc.record({
    kind: fc.constant('unknownField' as const),
    field: fc.string({ minLength: 1, maxLength: 20 }),
    value: anyJson,
  }),
  fc.record({ kind: fc.constant('missingField' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('wrongValue' as const), index: fc.nat(), value: anyJson }),
  fc.oneof(anyText, printable).map((value) => ({ kind: 'badPathParam' as const, value })),
  fc.record({
    kind: fc.constant('unknownQuery' as const),
    name: fc.stringMatching(/^[a-z_[\]]{1,12}$/),
    value: printable,
  }),
  fc
    .oneof(fc.constantFrom('0', '-1', '101', '1.5', 'abc', '', '1e3', 'ISO_9564_3'), printable)
    .map((value) => ({ kind: 'badQueryValue' as const, value })),
  fc
    .oneof(
      fc.constant(undefined),
      printable,
      printable.map((s) => `Bearer ${s}`),
      printable.map((s) => `DPoP ${s}`),
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        `Basic ${Buffer.from(`user:${TEST_API_KEY}`).toString('base64')}`,
        `Bearer ${TEST_API_KEY}x`,
        `Bearer ${TEST_API_KEY.toUpperCase()}`,
        `Bearer ${TEST_API_KEY.slice(0, -1)}`,
        `Token ${TEST_API_KEY}`,
        `Bearer ${'A'.repeat(8192)}`,
      ),
    )
    .map((header) => ({ kind: 'badAuth' as const, header })),
  fc
    .constantFrom(...BAD_CONTENT_TYPES)
    .map((contentType) => ({ kind: 'badContentType' as const, contentType })),
  fc.uint8Array({ maxLength: 96 }).map((bytes) => ({ kind: 'rawBytes' as const, bytes })),
);

/** The request a mutation makes of a route, or undefined when it does not apply to it. */
async function mutate(op: Operation, m: Mutation): Promise<InjectOptions | undefined> {
  const valid = validBody(op);
  const base = async (
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<InjectOptions> => ({
    method: op.method,
    url: urlOf(op),
    headers: { ...(await credentials(op)), ...(body === undefined ? {} : json), ...headers },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  const required = (op.body?.required as string[] | undefined) ?? [];
  const properties = Object.keys((op.body?.properties as object | undefined) ?? {});
  switch (m.kind) {
    case 'garbageBody':
      if (!takesBody(op) || bodyIsValid(op, m.value)) return undefined;
      return base(m.value);
    case 'unknownField':
      if (!takesBody(op) || properties.includes(m.field)) return undefined;
      return base({ ...valid, [m.field]: m.value });
    case 'missingField': {
      if (!valid || required.length === 0) return undefined;
      const { [required[m.index % required.length]!]: _gone, ...rest } = valid;
      return base(rest);
    }
    case 'wrongValue': {
      if (!valid || properties.length === 0) return undefined;
      const changed = { ...valid, [properties[m.index % properties.length]!]: m.value };
      return bodyIsValid(op, changed) ? undefined : base(changed);
    }
    case 'badPathParam': {
      const param = op.pathParams[0];
      if (!param || m.value === pathValue(op, param.name, param.schema)) return undefined;
      // Any well-formed account or customer id is a valid request (tokens are minted for any
      // account; any customer may have passkeys, or none).
      if (['account_id', 'customer_id'].includes(param.name) && textIsValid(param.schema, m.value))
        return undefined;
      let url: string;
      try {
        url = urlOf(op, { [param.name]: m.value });
      } catch {
        return undefined; // a lone surrogate cannot be percent-encoded: no URL to send
      }
      return { ...(await base(valid)), url };
    }
    case 'unknownQuery': {
      if (op.queryParams.some((q) => q.name === m.name)) return undefined;
      const query = `${encodeURIComponent(m.name)}=${encodeURIComponent(m.value)}`;
      return { ...(await base(valid)), url: urlOf(op, {}, query) };
    }
    case 'badQueryValue': {
      const param = op.queryParams[0];
      if (!param) return undefined;
      if (textIsValid(param.schema, m.value)) return undefined;
      const url = urlOf(op).replace(/\?.*$/, '');
      return { ...(await base(valid)), url: `${url}?${param.name}=${encodeURIComponent(m.value)}` };
    }
    case 'badAuth': {
      if (op.auth === 'none') return undefined;
      const request = await base(valid);
      const headers = { ...(request.headers as Record<string, string>) };
      if (m.header === undefined) delete headers.authorization;
      else headers.authorization = m.header;
      return { ...request, headers };
    }
    case 'badContentType':
      if (!op.body) return undefined;
      return base(valid, { 'content-type': m.contentType });
    case 'rawBytes': {
      if (!takesBody(op)) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(m.bytes));
      } catch {
        parsed = Symbol('not JSON');
      }
      if (m.bytes.length === 0 ? !op.body : bodyIsValid(op, parsed)) return undefined;
      return { ...(await base(undefined, json)), payload: Buffer.from(m.bytes) };
    }
  }
}

describe('a generated corpus of bad requests against every route in /openapi.json', () => {
  it('covers every route the OpenAPI document lists, with a fixture for each', () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThanOrEqual(25);
    for (const op of ops) {
      if (op.body)
        expect(validBody(op), `${key(op)}: add a valid body to validBody()`).toBeDefined();
      for (const param of op.pathParams)
        expect(pathValue(op, param.name, param.schema)).toBeTruthy();
    }
  });

  it('every generated request is refused: 4xx JSON, a stable code, no state change', async () => {
    const ops = operations();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ops), mutation, async (op, m) => {
        const request = await mutate(op, m);
        if (!request) return;
        await expectRefused({ label: `${m.kind}`, request }, 'generated');
      }),
      { numRuns: 4000 },
    );
    expect(tally.generated).toBeGreaterThan(2000);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// Hand-picked cases.

async function refuse(label: string, request: InjectOptions, codes?: readonly ErrorCode[]) {
  return expectRefused({ label, request, ...(codes ? { codes } : {}) }, 'handPicked');
}

const post = (url: string, payload: string | Buffer, headers: Record<string, string> = json) => ({
  method: 'POST' as const,
  url,
  headers: { ...api, ...headers },
  payload,
});

describe('hand-picked transport-level bad input', () => {
  it('huge bodies are 413 on every route that takes a body', async () => {
    for (const op of operations().filter(takesBody)) {
      const auth = await credentials(op);
      for (const size of [16 * 1024 + 1, 1024 * 1024]) {
        const payload = JSON.stringify({ name: 'x'.repeat(size) });
        await refuse(
          `${size} bytes`,
          { method: op.method, url: urlOf(op), headers: { ...auth, ...json }, payload },
          op.auth === 'accountToken'
            ? ['PAYLOAD_TOO_LARGE', 'BODY_NOT_ALLOWED']
            : ['PAYLOAD_TOO_LARGE'],
        );
      }
    }
  });

  it('bytes that are not UTF-8, lone surrogates, U+0000, other charsets and codings are refused', async () => {
    const utf8 = (...parts: (string | number[])[]) =>
      Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    const product = (name: string | number[]) => utf8('{"name":"', name, '","form":"PHYSICAL"}');
    const cases: [string, Buffer, Record<string, string>, ErrorCode][] = [
      ['invalid byte 0xFF', product([0xff]), json, 'MALFORMED_JSON'],
      ['bare continuation byte', product([0x80]), json, 'MALFORMED_JSON'],
      ['overlong "/" (C0 AF)', product([0xc0, 0xaf]), json, 'MALFORMED_JSON'],
      ['UTF-8-encoded surrogate (ED A0 80)', product([0xed, 0xa0, 0x80]), json, 'MALFORMED_JSON'],
      ['code point above U+10FFFF', product([0xf4, 0x90, 0x80, 0x80]), json, 'MALFORMED_JSON'],
      ['truncated 3-byte sequence', product([0xe2, 0x82]), json, 'MALFORMED_JSON'],
      [
        'UTF-16LE body',
        Buffer.from('{"name":"x","form":"PHYSICAL"}', 'utf16le'),
        json,
        'MALFORMED_JSON',
      ],
      ['lone high surrogate escape', product('\\ud800'), json, 'MALFORMED_JSON'],
      ['lone low surrogate escape', product('\\udc00x'), json, 'MALFORMED_JSON'],
      // PostgreSQL text cannot hold it; both backends refuse it before it reaches either.
      ['U+0000 escape in a value', product('a\\u0000b'), json, 'MALFORMED_JSON'],
      [
        'lone surrogate in a key',
        utf8('{"name":"x","form":"PHYSICAL","\\ud834":1}'),
        json,
        'MALFORMED_JSON',
      ],
      [
        'charset=utf-16',
        product('x'),
        { 'content-type': 'application/json; charset=utf-16' },
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'charset=latin1',
        product('x'),
        { 'content-type': 'application/json;charset=latin1' },
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'Content-Encoding: gzip (not gzipped)',
        product('x'),
        { ...json, 'content-encoding': 'gzip' },
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'Content-Encoding: br',
        product('x'),
        { ...json, 'content-encoding': 'br' },
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        '8000-deep array',
        Buffer.from('['.repeat(8000) + ']'.repeat(8000)),
        json,
        'INVALID_REQUEST',
      ],
      [
        '2000-deep object',
        Buffer.from('{"a":'.repeat(2000) + '1' + '}'.repeat(2000)),
        json,
        'MISSING_FIELD',
      ],
      ['unterminated deep array', Buffer.from('['.repeat(12000)), json, 'MALFORMED_JSON'],
      [
        '__proto__ key',
        utf8('{"__proto__":{"x":1},"name":"x","form":"PHYSICAL"}'),
        json,
        'MALFORMED_JSON',
      ],
      [
        'constructor.prototype',
        utf8('{"constructor":{"prototype":{"x":1}},"name":"x","form":"PHYSICAL"}'),
        json,
        'MALFORMED_JSON',
      ],
      [
        '1e400 (Infinity)',
        utf8('{"name":"x","form":"PHYSICAL","pin_length":1e400}'),
        json,
        'INVALID_FIELD',
      ],
      [
        'pin_length as a string',
        utf8('{"name":"x","form":"PHYSICAL","pin_length":"6"}'),
        json,
        'INVALID_FIELD',
      ],
      ['NUL byte raw in a string', product([0x00]), json, 'MALFORMED_JSON'],
      ['trailing garbage', utf8('{"name":"x","form":"PHYSICAL"} x'), json, 'MALFORMED_JSON'],
      ['two JSON documents', utf8('{"name":"x","form":"PHYSICAL"}{}'), json, 'MALFORMED_JSON'],
      ['single quotes', utf8("{'name':'x','form':'PHYSICAL'}"), json, 'MALFORMED_JSON'],
      ['empty body with a JSON type', Buffer.alloc(0), json, 'MALFORMED_JSON'],
      ['JSON null', utf8('null'), json, 'INVALID_REQUEST'],
      ['JSON array', utf8('[{"name":"x","form":"PHYSICAL"}]'), json, 'INVALID_REQUEST'],
      ['JSON string', utf8('"PHYSICAL"'), json, 'INVALID_REQUEST'],
      [
        'form-encoded',
        utf8('name=x&form=PHYSICAL'),
        { 'content-type': 'application/x-www-form-urlencoded' },
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['no content type', utf8('{"name":"x","form":"PHYSICAL"}'), {}, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [label, payload, headers, code] of cases) {
      await refuse(label, post('/v1/card_products', payload, headers), [code]);
    }
    // A Content-Length that lies about the body.
    await refuse('Content-Length shorter than the body', {
      ...post('/v1/card_products', '{"name":"x","form":"PHYSICAL"}'),
      headers: { ...api, ...json, 'content-length': '5' },
    });
  });

  it('malformed URLs, ids and query strings are 4xx in the error shape', async () => {
    const cases: [string, string, string, ErrorCode[]][] = [
      ['GET', '/v1/cards/%ff', 'invalid percent-encoding', ['INVALID_REQUEST']],
      ['GET', '/v1/cards/%E0%A4%A', 'truncated percent-encoding', ['INVALID_REQUEST']],
      ['PATCH', '/v1/cards/%c0%af', 'overlong UTF-8 in the path', ['INVALID_REQUEST']],
      ['GET', `/v1/cards/card_${'a'.repeat(300)}`, 'over-long id', ['INVALID_REQUEST']],
      [
        'POST',
        `/pcicards/v1/pcicards/${'9'.repeat(300)}/scripts/sync-offline-pin`,
        'over-long card id',
        ['INVALID_REQUEST'],
      ],
      ['GET', "/v1/cards/card_'%20OR%201=1--", 'SQL in the id', ['INVALID_FIELD']],
      [
        'GET',
        '/v1/cards/card_01aaaaaaaaaaaaaaaaaaaaaaaa',
        'unknown id of the right shape',
        ['NOT_FOUND'],
      ],
      ['GET', `/v1/card_products/${world.activeCard}`, 'an id of another kind', ['INVALID_FIELD']],
      ['GET', '/v1/cards?limit=1&limit=2', 'a repeated parameter', ['INVALID_FIELD']],
      ['GET', '/v1/cards?card_status=active', 'lower-case status', ['INVALID_FIELD']],
      ['GET', '/v1/events?type[]=CARD.CREATED', 'array syntax', ['UNKNOWN_FIELD']],
      [
        'GET',
        `/v1/cards/${world.activeCard}?expand=pan`,
        'a query on a route without one',
        ['UNKNOWN_FIELD'],
      ],
      [
        'GET',
        `/v1/cards/${world.activeCard}/pin_block`,
        'a missing required format',
        ['MISSING_FIELD'],
      ],
      [
        'GET',
        `/v1/cards/${world.activeCard}/pin_block?format=ISO_9564_1`,
        'an unsupported format',
        ['INVALID_FIELD'],
      ],
      ['PUT', '/v1/cards', 'an unknown method', ['ROUTE_NOT_FOUND']],
      ['DELETE', `/v1/cards/${world.activeCard}`, 'a method the route lacks', ['ROUTE_NOT_FOUND']],
      ['GET', '/v1/card_products/', 'a trailing slash', ['ROUTE_NOT_FOUND', 'INVALID_FIELD']],
      // A card id of `..` is a dot segment: the path is /v1/simulations/advance, which no route has.
      ['POST', '/v1/simulations/cards/../advance', 'a dot-segment card id', ['ROUTE_NOT_FOUND']],
    ];
    for (const [method, url, label, codes] of cases) {
      await refuse(label, { method: method as 'GET', url, headers: api }, codes);
    }
    // A query parameter on a POST would be ignored before: now it is refused with the body unread.
    await refuse(
      'unknown query parameter on a create',
      post('/v1/card_products?dry_run=true', JSON.stringify({ name: 'x', form: 'PHYSICAL' })),
      ['UNKNOWN_FIELD'],
    );
    // Bodies sent to routes that take none are refused, not ignored.
    await refuse(
      'a body on advance',
      post(`/v1/simulations/cards/${world.orderedCard}/advance`, '{"force":true}'),
      ['UNKNOWN_FIELD'],
    );
    await refuse(
      'a body on delete',
      {
        method: 'DELETE',
        url: `/v1/webhooks/${world.webhookId}`,
        headers: { ...api, ...json },
        payload: '[]',
      },
      ['INVALID_REQUEST'],
    );
  });

  it('API-key routes refuse every credential that is not the key', async () => {
    const headers: (string | undefined)[] = [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `Bearer  ${TEST_API_KEY}x`,
      `${TEST_API_KEY}`,
      `Basic ${Buffer.from(`:${TEST_API_KEY}`).toString('base64')}`,
      `Bearer ${TEST_API_KEY.slice(1)}`,
      `Bearer ${world.accountToken}`,
      `Bearer ${TEST_API_KEY}\u0000`,
      `Bearer ${'k'.repeat(20_000)}`,
    ];
    for (const header of headers) {
      await refuse(
        `authorization ${JSON.stringify(header?.slice(0, 40))}`,
        {
          method: 'POST',
          url: '/v1/card_products',
          headers: { ...json, ...(header === undefined ? {} : { authorization: header }) },
          payload: JSON.stringify({ name: 'x', form: 'PHYSICAL' }),
        },
        ['UNAUTHORIZED'],
      );
    }
  });

  it('domain refusals: state conflicts, unknown references, invalid combinations', async () => {
    const cases: [string, 'POST' | 'PATCH', string, unknown, ErrorCode][] = [
      [
        'activate a PENDING card',
        'PATCH',
        `/v1/cards/${world.pendingCard}`,
        { card_status: 'ACTIVE' },
        'INVALID_STATUS_TRANSITION',
      ],
      [
        'revive a TERMINATED card',
        'PATCH',
        `/v1/cards/${world.terminatedCard}`,
        { card_status: 'ACTIVE' },
        'INVALID_STATUS_TRANSITION',
      ],
      [
        'back to PENDING',
        'PATCH',
        `/v1/cards/${world.activeCard}`,
        { card_status: 'PENDING' },
        'INVALID_STATUS_TRANSITION',
      ],
      [
        'a card on an unknown product',
        'POST',
        '/v1/cards',
        { card_product_id: 'cp_nope', account_id: 'a' },
        'CARD_PRODUCT_NOT_FOUND',
      ],
      [
        'a PAN that fails Luhn',
        'POST',
        '/v1/cards',
        { card_product_id: world.productId, account_id: 'a', pan: '4000001234567890' },
        'INVALID_FIELD',
      ],
      [
        'offline PIN without a PIN policy',
        'POST',
        '/v1/card_products',
        { name: 'x', form: 'PHYSICAL', offline_pin: true },
        'OFFLINE_PIN_REQUIRES_PIN_POLICY',
      ],
      [
        'a PIN policy on a virtual product',
        'POST',
        '/v1/card_products',
        { name: 'x', form: 'VIRTUAL', pin_issuance_policy: 'RANDOM' },
        'VIRTUAL_PRODUCT_HAS_NO_PIN_POLICY',
      ],
      [
        'pin_length 13',
        'POST',
        '/v1/card_products',
        { name: 'x', form: 'PHYSICAL', pin_length: 13 },
        'INVALID_FIELD',
      ],
      [
        'a widget token for a virtual card',
        'POST',
        `/v1/cards/${world.virtualCard}/widget_token`,
        { widget_type: 'SET_PIN' },
        'CARD_IS_VIRTUAL',
      ],
      [
        'a widget token for a terminated card',
        'POST',
        `/v1/cards/${world.terminatedCard}/widget_token`,
        { widget_type: 'SET_PIN' },
        'CARD_TERMINATED',
      ],
      [
        'an origin with a path',
        'POST',
        `/v1/cards/${world.pendingCard}/widget_token`,
        { widget_type: 'SET_PIN', origin: 'https://a.example/x' },
        'INVALID_FIELD',
      ],
      [
        'a javascript: origin',
        'POST',
        `/v1/cards/${world.pendingCard}/widget_token`,
        { widget_type: 'SET_PIN', origin: 'javascript:alert(1)' },
        'INVALID_FIELD',
      ],
      [
        'a jkt that is not a thumbprint',
        'POST',
        `/v1/cards/${world.pendingCard}/widget_token`,
        { widget_type: 'SET_PIN', jkt: 'x' },
        'INVALID_FIELD',
      ],
      [
        'a javascript: webhook',
        'POST',
        '/v1/webhooks',
        { url: 'javascript:alert(1)', enabled_events: ['*'] },
        'INVALID_FIELD',
      ],
      [
        'a webhook with credentials',
        'POST',
        '/v1/webhooks',
        { url: 'https://u:p@example.com/', enabled_events: ['*'] },
        'INVALID_FIELD',
      ],
      [
        'a relative webhook URL',
        'POST',
        '/v1/webhooks',
        { url: '/hook', enabled_events: ['*'] },
        'INVALID_FIELD',
      ],
      [
        'an unknown event type',
        'POST',
        '/v1/webhooks',
        { url: 'https://example.com/', enabled_events: ['CARD.DELETED'] },
        'INVALID_FIELD',
      ],
      [
        'no event types',
        'POST',
        '/v1/webhooks',
        { url: 'https://example.com/', enabled_events: [] },
        'INVALID_FIELD',
      ],
      [
        'redeliver to an unknown webhook',
        'POST',
        `/v1/events/${world.eventId}/redeliver`,
        { webhook_id: 'wh_nope' },
        'NOT_FOUND',
      ],
      [
        'a negative overlap',
        'POST',
        `/v1/webhooks/${world.webhookId}/rotate_secret`,
        { overlap_seconds: -1 },
        'INVALID_FIELD',
      ],
      [
        'authorize an unknown card',
        'POST',
        '/v1/simulations/authorizations',
        { card_id: 'card_nope', amount: 1, entry_mode: 'CHIP_CONTACT' },
        'NOT_FOUND',
      ],
      [
        'chip data with a magstripe read',
        'POST',
        '/v1/simulations/authorizations',
        { card_id: world.activeCard, amount: 1, entry_mode: 'MAGSTRIPE', atc: '0001' },
        'INVALID_FIELD',
      ],
      [
        'malformed script results',
        'POST',
        '/v1/simulations/authorizations',
        {
          card_id: world.activeCard,
          amount: 1,
          entry_mode: 'CHIP_CONTACT',
          issuer_script_results: '9F5B0120',
        },
        'INVALID_FIELD',
      ],
      [
        'an ATC that is not hex',
        'POST',
        '/v1/simulations/authorizations',
        { card_id: world.activeCard, amount: 1, entry_mode: 'CHIP_CONTACT', atc: 'ZZZZ' },
        'INVALID_FIELD',
      ],
      [
        'a fractional amount',
        'POST',
        '/v1/simulations/authorizations',
        { card_id: world.activeCard, amount: 1.5, entry_mode: 'CHIP_CONTACT' },
        'INVALID_FIELD',
      ],
      [
        'a chip read of a virtual card',
        'POST',
        '/v1/simulations/authorizations',
        { card_id: world.virtualCard, amount: 1, entry_mode: 'CHIP_CONTACT' },
        'CARD_IS_VIRTUAL',
      ],
      [
        'a chip read of a card not yet issued',
        'POST',
        '/v1/simulations/authorizations',
        { card_id: world.orderedCard, amount: 1, entry_mode: 'CHIP_CONTACT' },
        'CARD_NOT_ISSUED',
      ],
      [
        'an account id with a slash',
        'POST',
        '/v1/accounts/a%2Fb/tokens',
        undefined,
        'INVALID_FIELD',
      ],
    ];
    for (const [label, method, url, body, code] of cases) {
      await refuse(
        label,
        {
          method,
          url,
          headers: { ...api, ...(body === undefined ? {} : json) },
          ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
        },
        [code],
      );
    }
    await refuse(
      'the PIN block of a card without a PIN',
      {
        method: 'GET',
        url: `/v1/cards/${world.pendingCard}/pin_block?format=ISO_9564_4`,
        headers: api,
      },
      ['PIN_NOT_SET'],
    );
    await refuse(
      'the PIN block of a virtual card',
      {
        method: 'GET',
        url: `/v1/cards/${world.virtualCard}/pin_block?format=ISO_9564_0`,
        headers: api,
      },
      ['CARD_IS_VIRTUAL'],
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Widget sessions: JWEs, DPoP proofs, tokens.

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const unb64 = (part: string) =>
  JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, any>;

/** Flips one bit of a base64url segment. */
function flip(segment: string, at = 0): string {
  const bytes = Buffer.from(segment, 'base64url');
  bytes[at % bytes.length]! ^= 0x01;
  return bytes.toString('base64url');
}

function withHeader(jwe: string, change: (header: Record<string, any>) => Record<string, any>) {
  const [header, ...rest] = jwe.split('.');
  return [b64(change(unb64(header!))), ...rest].join('.');
}

async function setPinAttempt(
  label: string,
  make: (token: string) => Promise<string> | string,
  codes: readonly ErrorCode[],
) {
  const token = await mintToken(platform, world.pendingCard, { widget_type: 'SET_PIN' });
  const encrypted = await make(token);
  return refuse(
    label,
    {
      method: 'POST',
      url: SET_PIN,
      headers: { authorization: `Bearer ${token}`, ...json },
      payload: JSON.stringify({ encrypted_pin: encrypted }),
    },
    codes,
  );
}

describe('hand-picked widget-session attacks', () => {
  const opaque = ['PIN_DECRYPTION_FAILED'] as const;

  it('set PIN refuses every malformed, downgraded or tampered JWE, opaquely', async () => {
    const good = (token: string, pin = PIN, fields = {}, payload?: string) =>
      encryptPin(jwks, pin, token, fields, payload);
    const otherKey = await nodeJose.JWK.createKey('EC', 'P-256', {});
    const p384 = await nodeJose.JWK.createKey('EC', 'P-384', {});
    const serverKey = jwks.keys[0]!;
    // node-jose writes the recipient key's own kid: a wrong one needs a hand-set header.
    const ownJwe = async (
      token: string,
      header: Record<string, unknown>,
      payload = JSON.stringify({ pin: PIN }),
    ) =>
      new CompactEncrypt(new TextEncoder().encode(payload))
        .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', wst: sessionTag(token), ...header })
        .encrypt(await importJWK({ ...serverKey, alg: 'ECDH-ES' }, 'ECDH-ES'));
    const cases: [string, (token: string) => Promise<string> | string, readonly ErrorCode[]][] = [
      ['wrong kid', (t) => ownJwe(t, { kid: 'not-a-key' }), ['UNKNOWN_KEY_ID']],
      [
        'no kid',
        async (t) => withHeader(await good(t), ({ kid: _k, ...h }) => h),
        ['UNKNOWN_KEY_ID'],
      ],
      ['alg ECDH-ES+A128KW', (t) => good(t, PIN, { alg: 'ECDH-ES+A128KW' }), opaque],
      ['alg ECDH-ES+A256KW', (t) => good(t, PIN, { alg: 'ECDH-ES+A256KW' }), opaque],
      ['enc downgrade A128GCM', (t) => good(t, PIN, { enc: 'A128GCM' }), opaque],
      ['enc downgrade A128CBC-HS256', (t) => good(t, PIN, { enc: 'A128CBC-HS256' }), opaque],
      [
        'header alg rewritten to dir',
        async (t) => withHeader(await good(t), (h) => ({ ...h, alg: 'dir' })),
        opaque,
      ],
      [
        'header alg rewritten to none',
        async (t) => withHeader(await good(t), (h) => ({ ...h, alg: 'none' })),
        opaque,
      ],
      [
        'header alg rewritten to RSA1_5',
        async (t) => withHeader(await good(t), (h) => ({ ...h, alg: 'RSA1_5' })),
        opaque,
      ],
      [
        'header enc rewritten to A128GCM',
        async (t) => withHeader(await good(t), (h) => ({ ...h, enc: 'A128GCM' })),
        opaque,
      ],
      ['zip: DEF', async (t) => withHeader(await good(t), (h) => ({ ...h, zip: 'DEF' })), opaque],
      [
        'unknown crit header',
        async (t) => withHeader(await good(t), (h) => ({ ...h, crit: ['exp'], exp: 1 })),
        opaque,
      ],
      [
        'wst rewritten in the header',
        async (t) => withHeader(await good(t), (h) => ({ ...h, wst: 'x' })),
        opaque,
      ],
      [
        'epk off the curve',
        async (t) =>
          withHeader(await good(t), (h) => ({ ...h, epk: { ...h.epk, y: flip(h.epk.y, 31) } })),
        opaque,
      ],
      [
        'epk at (0, 0)',
        async (t) =>
          withHeader(await good(t), (h) => ({ ...h, epk: { ...h.epk, x: b64z(32), y: b64z(32) } })),
        opaque,
      ],
      [
        'epk on P-384',
        async (t) => withHeader(await good(t), (h) => ({ ...h, epk: p384.toJSON() })),
        opaque,
      ],
      [
        'epk with short coordinates',
        async (t) =>
          withHeader(await good(t), (h) => ({ ...h, epk: { ...h.epk, x: 'AQ', y: 'AQ' } })),
        opaque,
      ],
      [
        'epk is the server’s own key',
        async (t) =>
          withHeader(await good(t), (h) => ({
            ...h,
            epk: { kty: 'EC', crv: 'P-256', x: serverKey.x, y: serverKey.y },
          })),
        opaque,
      ],
      [
        'epk with a private part',
        async (t) =>
          withHeader(await good(t), (h) => ({ ...h, epk: otherKey.toJSON(true) as object })),
        opaque,
      ],
      [
        'epk kty OKP',
        async (t) =>
          withHeader(await good(t), (h) => ({
            ...h,
            epk: { kty: 'OKP', crv: 'X25519', x: b64z(32) },
          })),
        opaque,
      ],
      [
        'tag flipped',
        async (t) => {
          const s = (await good(t)).split('.');
          s[4] = flip(s[4]!);
          return s.join('.');
        },
        opaque,
      ],
      [
        'ciphertext flipped',
        async (t) => {
          const s = (await good(t)).split('.');
          s[3] = flip(s[3]!);
          return s.join('.');
        },
        opaque,
      ],
      [
        'iv flipped',
        async (t) => {
          const s = (await good(t)).split('.');
          s[2] = flip(s[2]!);
          return s.join('.');
        },
        opaque,
      ],
      ['tag truncated', async (t) => (await good(t)).slice(0, -4), opaque],
      ['empty tag', async (t) => (await good(t)).replace(/\.[^.]*$/, '.'), opaque],
      ['four segments', async (t) => (await good(t)).split('.').slice(0, 4).join('.'), opaque],
      ['six segments', async (t) => `${await good(t)}.AAAA`, opaque],
      ['a JWS, not a JWE', async () => new UnsecuredJWT({ pin: PIN }).encode(), opaque],
      [
        'JSON serialization',
        async (t) => JSON.stringify({ protected: (await good(t)).split('.')[0] }),
        opaque,
      ],
      ['not base64url', () => '!!!!.!!!!.!!!!.!!!!.!!!!', opaque],
      ['five empty segments', () => '....', opaque],
      [
        'encrypted to another key under our kid',
        async (t) =>
          new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ pin: PIN })))
            .setProtectedHeader({
              alg: 'ECDH-ES',
              enc: 'A256GCM',
              kid: serverKey.kid,
              wst: sessionTag(t),
            })
            .encrypt(
              await importJWK({ ...(otherKey.toJSON() as object), alg: 'ECDH-ES' }, 'ECDH-ES'),
            ),
        opaque,
      ],
      ['made for another session (wst)', (t) => good(`${t}-other`), ['SESSION_MISMATCH']],
      ['no wst', async (t) => encryptPin(jwks, PIN, t, { wst: undefined }), ['SESSION_MISMATCH']],
      ['plaintext not JSON', (t) => good(t, PIN, {}, 'pin=7392'), ['INVALID_PIN_PAYLOAD']],
      [
        'plaintext with an extra field',
        (t) => good(t, PIN, {}, '{"pin":"7392","x":1}'),
        ['INVALID_PIN_PAYLOAD'],
      ],
      [
        'plaintext pin as a number',
        (t) => good(t, PIN, {}, '{"pin":7392}'),
        ['INVALID_PIN_PAYLOAD'],
      ],
      [
        'plaintext with invalid UTF-8',
        (t) => good(t, PIN, {}, Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1')),
        ['INVALID_PIN_PAYLOAD'],
      ],
      ['plaintext pin of 13 digits', (t) => good(t, '8301749265173'), ['INVALID_PIN_PAYLOAD']],
      [
        'full-width digits',
        (t) => ownJwe(t, { kid: serverKey.kid }, '{"pin":"７３９２"}'),
        ['PIN_NOT_DIGITS'],
      ],
      [
        'Arabic-Indic digits',
        (t) => ownJwe(t, { kid: serverKey.kid }, '{"pin":"٧٣٩٢"}'),
        ['PIN_NOT_DIGITS'],
      ],
      ['digits and a letter', (t) => good(t, '73a2'), ['PIN_NOT_DIGITS']],
      ['too short', (t) => good(t, '739'), ['PIN_WRONG_LENGTH']],
      ['weak: a run', (t) => good(t, '1234'), ['PIN_TOO_WEAK']],
      ['weak: repeats', (t) => good(t, '5555'), ['PIN_TOO_WEAK']],
      ['a JWE over the length limit', () => 'a'.repeat(4097), ['INVALID_FIELD']],
    ];
    for (const [label, make, codes] of cases) await setPinAttempt(label, make, codes);
    const card = await platform.call('GET', `/v1/cards/${world.pendingCard}`);
    expect(card.body).toMatchObject({ is_pin_set: false, card_status: 'PENDING' });
  });

  it('refuses expired, used, locked, wrong-type, wrong-origin and garbage widget tokens', async () => {
    const expired = await mintToken(platform, world.pendingCard, { widget_type: 'SET_PIN' });
    await db.run(
      'UPDATE widget_tokens SET expires_at = 1 WHERE token_hash = ?',
      sha256Hex(expired),
    );
    const locked = await mintToken(platform, world.pendingCard, { widget_type: 'SET_PIN' });
    await db.run('UPDATE widget_tokens SET failures = 99 WHERE token_hash = ?', sha256Hex(locked));
    // A token used up by a real reveal, then the captured request replayed as is.
    const used = await mintToken(platform, world.activeCard, { widget_type: 'REVEAL_PIN' });
    const key = await ephemeralKey();
    const first = await widgetCall(platform, 'POST', REVEAL, used, { public_key: key.publicJwk });
    expect(first.status).toBe(200);
    const setToken = await mintToken(platform, world.pendingCard, { widget_type: 'SET_PIN' });
    const bound = await mintToken(platform, world.pendingCard, {
      widget_type: 'SET_PIN',
      origin: 'https://program.example',
    });
    const revealToken = await mintToken(platform, world.activeCard, {
      widget_type: 'REVEAL_PIN',
    });
    const cases: [string, string, Record<string, string>, unknown, ErrorCode[]][] = [
      [
        'expired',
        SESSION,
        { authorization: `Bearer ${expired}` },
        undefined,
        ['WIDGET_TOKEN_EXPIRED'],
      ],
      [
        'locked',
        SESSION,
        { authorization: `Bearer ${locked}` },
        undefined,
        ['WIDGET_TOKEN_LOCKED'],
      ],
      [
        'reveal replayed with a used token',
        REVEAL,
        { authorization: `Bearer ${used}` },
        { public_key: key.publicJwk },
        ['WIDGET_TOKEN_USED'],
      ],
      [
        'SET_PIN token on reveal',
        REVEAL,
        { authorization: `Bearer ${setToken}` },
        { public_key: key.publicJwk },
        ['WIDGET_TOKEN_WRONG_TYPE'],
      ],
      [
        'REVEAL_PIN token on set',
        SET_PIN,
        { authorization: `Bearer ${revealToken}` },
        { encrypted_pin: 'a.b.c.d.e' },
        ['WIDGET_TOKEN_WRONG_TYPE'],
      ],
      [
        'origin-bound token without a parent origin',
        SESSION,
        { authorization: `Bearer ${bound}` },
        undefined,
        ['ORIGIN_MISMATCH'],
      ],
      [
        'origin-bound token under another parent',
        SESSION,
        { authorization: `Bearer ${bound}`, 'pin-widget-parent-origin': 'https://evil.example' },
        undefined,
        ['ORIGIN_MISMATCH'],
      ],
      [
        'origin-bound token, parent origin with a slash',
        SESSION,
        {
          authorization: `Bearer ${bound}`,
          'pin-widget-parent-origin': 'https://program.example/',
        },
        undefined,
        ['ORIGIN_MISMATCH'],
      ],
      [
        'top-level token claiming a parent',
        SESSION,
        {
          authorization: `Bearer ${setToken}`,
          'pin-widget-parent-origin': 'https://program.example',
        },
        undefined,
        ['ORIGIN_MISMATCH'],
      ],
      [
        'browser call from another origin',
        SESSION,
        { authorization: `Bearer ${setToken}`, origin: 'https://evil.example' },
        undefined,
        ['FORBIDDEN'],
      ],
      [
        'browser call from the null origin',
        SESSION,
        { authorization: `Bearer ${setToken}`, origin: 'null' },
        undefined,
        ['FORBIDDEN'],
      ],
      ['no authorization', SESSION, {}, undefined, ['WIDGET_TOKEN_MISSING']],
      [
        'token and junk',
        SESSION,
        { authorization: `Bearer ${setToken} junk` },
        undefined,
        ['WIDGET_TOKEN_MISSING'],
      ],
      [
        'Basic scheme',
        SESSION,
        { authorization: `Basic ${setToken}` },
        undefined,
        ['WIDGET_TOKEN_MISSING'],
      ],
      [
        'a token one character off',
        SESSION,
        { authorization: `Bearer ${setToken.slice(0, -1)}${setToken.endsWith('A') ? 'B' : 'A'}` },
        undefined,
        ['WIDGET_TOKEN_INVALID'],
      ],
      ['the API key as a widget token', SESSION, api, undefined, ['WIDGET_TOKEN_INVALID']],
      [
        'an account token as a widget token',
        SESSION,
        { authorization: `Bearer ${world.accountToken}` },
        undefined,
        ['WIDGET_TOKEN_INVALID'],
      ],
      [
        'reveal with a private key',
        REVEAL,
        { authorization: `Bearer ${revealToken}` },
        { public_key: { ...key.publicJwk, d: b64z(32) } },
        ['UNKNOWN_FIELD'],
      ],
      [
        'reveal with a point off the curve',
        REVEAL,
        { authorization: `Bearer ${revealToken}` },
        { public_key: { ...key.publicJwk, y: flip(key.publicJwk.y!, 31) } },
        ['INVALID_PUBLIC_KEY'],
      ],
      [
        'reveal with (0, 0)',
        REVEAL,
        { authorization: `Bearer ${revealToken}` },
        { public_key: { kty: 'EC', crv: 'P-256', x: b64z(32), y: b64z(32) } },
        ['INVALID_PUBLIC_KEY'],
      ],
      [
        'reveal with a P-384 key',
        REVEAL,
        { authorization: `Bearer ${revealToken}` },
        { public_key: { ...key.publicJwk, crv: 'P-384' } },
        ['INVALID_FIELD'],
      ],
      [
        'reveal with an RSA key',
        REVEAL,
        { authorization: `Bearer ${revealToken}` },
        { public_key: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } },
        ['INVALID_FIELD', 'MISSING_FIELD', 'UNKNOWN_FIELD'],
      ],
    ];
    for (const [label, url, headers, body, codes] of cases) {
      await refuse(
        label,
        {
          method: body === undefined ? 'GET' : 'POST',
          url,
          headers: { ...headers, ...(body === undefined ? {} : json) },
          ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
        },
        codes,
      );
    }
  });

  it('a DPoP-bound token refuses every proof that is not a fresh one from its key', async () => {
    const key = await dpopKey();
    const thief = await dpopKey();
    const token = await mintToken(platform, world.pendingCard, {
      widget_type: 'SET_PIN',
      jkt: key.jkt,
    });
    const url = `${PUBLIC_URL}${SESSION}`;
    const now = Math.floor(Date.now() / 1000);
    const valid = await key.proof('GET', url, token);
    const [h, p] = valid.split('.');
    const hs256 = await new SignJWT({
      htm: 'GET',
      htu: url,
      iat: now,
      jti: 'x'.repeat(20),
      ath: sha256B64(token),
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: unb64(h!).jwk })
      .sign(new Uint8Array(32));
    const replayed = await key.proof('GET', url, token);
    expect((await getSession(`DPoP ${token}`, replayed)).status).toBe(200);
    const privateJwk = { ...unb64(h!).jwk, d: b64z(32) };
    const cases: [string, string, string | undefined, ErrorCode][] = [
      ['no proof', `DPoP ${token}`, undefined, 'DPOP_PROOF_MISSING'],
      ['empty proof', `DPoP ${token}`, '', 'DPOP_PROOF_MISSING'],
      ['garbage', `DPoP ${token}`, 'garbage', 'DPOP_PROOF_INVALID'],
      ['three empty parts', `DPoP ${token}`, '..', 'DPOP_PROOF_INVALID'],
      [
        'alg none',
        `DPoP ${token}`,
        `${b64({ ...unb64(h!), alg: 'none' })}.${p}.`,
        'DPOP_PROOF_INVALID',
      ],
      ['HS256 with a zero key', `DPoP ${token}`, hs256, 'DPOP_PROOF_INVALID'],
      ['signature stripped', `DPoP ${token}`, `${h}.${p}.`, 'DPOP_PROOF_INVALID'],
      [
        'jwk with a private part',
        `DPoP ${token}`,
        `${b64({ ...unb64(h!), jwk: privateJwk })}.${p}.${valid.split('.')[2]}`,
        'DPOP_PROOF_INVALID',
      ],
      [
        'typ JWT',
        `DPoP ${token}`,
        await key.proof('GET', url, token, {}, { typ: 'JWT' }),
        'DPOP_PROOF_INVALID',
      ],
      [
        'jti too short',
        `DPoP ${token}`,
        await key.proof('GET', url, token, { jti: 'abc' }),
        'DPOP_PROOF_INVALID',
      ],
      [
        'iat as a string',
        `DPoP ${token}`,
        await key.proof('GET', url, token, { iat: String(now) }),
        'DPOP_PROOF_INVALID',
      ],
      [
        'iat 10 minutes old',
        `DPoP ${token}`,
        await key.proof('GET', url, token, { iat: now - 600 }),
        'DPOP_PROOF_STALE',
      ],
      [
        'iat next hour',
        `DPoP ${token}`,
        await key.proof('GET', url, token, { iat: now + 3600 }),
        'DPOP_PROOF_STALE',
      ],
      ['replayed', `DPoP ${token}`, replayed, 'DPOP_PROOF_REPLAYED'],
      [
        'a thief’s key',
        `DPoP ${token}`,
        await thief.proof('GET', url, token),
        'DPOP_PROOF_WRONG_KEY',
      ],
      [
        'htu with a query',
        `DPoP ${token}`,
        await key.proof('GET', `${url}?x=1`, token),
        'DPOP_PROOF_WRONG_REQUEST',
      ],
      [
        'htu on another host',
        `DPoP ${token}`,
        await key.proof('GET', `https://evil.example${SESSION}`, token),
        'DPOP_PROOF_WRONG_REQUEST',
      ],
      [
        'htm lower-case',
        `DPoP ${token}`,
        await key.proof('get', url, token),
        'DPOP_PROOF_WRONG_REQUEST',
      ],
      [
        'ath of another token',
        `DPoP ${token}`,
        await key.proof('GET', url, `${token}x`),
        'DPOP_PROOF_WRONG_TOKEN',
      ],
      [
        'as a Bearer token',
        `Bearer ${token}`,
        await key.proof('GET', url, token),
        'DPOP_PROOF_INVALID',
      ],
      ['a 12 KB proof', `DPoP ${token}`, `${h}.${'A'.repeat(12_000)}.x`, 'DPOP_PROOF_INVALID'],
    ];
    for (const [label, authorization, proof, code] of cases) {
      await refuse(
        label,
        {
          method: 'GET',
          url: SESSION,
          headers: { authorization, ...(proof === undefined ? {} : { dpop: proof }) },
        },
        [code],
      );
    }
  });
});

describe('hand-picked attacks on the processor endpoint (account tokens)', () => {
  it('refuses missing, forged, expired, foreign-account tokens and any body', async () => {
    const sync = (cardId: string) => `/pcicards/v1/pcicards/${cardId}/scripts/sync-offline-pin`;
    // The platform's current signing key (read from its database), to forge tokens that are
    // validly signed but wrong in one claim each.
    const [current] = await platform.store.read.accountTokenKeys(Date.now());
    const signingKey = new Uint8Array(Buffer.from(current!.secret, 'base64url'));
    const now = Math.floor(Date.now() / 1000);
    const claims = (over: Record<string, unknown> = {}, typ = 'at+jwt') =>
      new SignJWT({
        sub: world.activeAccount,
        iss: PUBLIC_URL,
        aud: `${PUBLIC_URL}/pcicards`,
        iat: now,
        exp: now + 60,
        jti: 'j',
        ...over,
      })
        .setProtectedHeader({ alg: 'HS256', typ, kid: current!.kid })
        .sign(signingKey);
    const expired = (
      await platform.offlinePin.accountTokens.issue(world.activeAccount, Date.now() - 3_600_000)
    ).access_token;
    const other = (await platform.call('POST', '/v1/accounts/acct_someone_else/tokens')).body
      .access_token;
    const cases: [string, string, string | undefined, ErrorCode][] = [
      ['no token', world.activeCard, undefined, 'ACCOUNT_TOKEN_MISSING'],
      ['the API key', world.activeCard, `Bearer ${TEST_API_KEY}`, 'ACCOUNT_TOKEN_INVALID'],
      ['garbage', world.activeCard, 'Bearer abc', 'ACCOUNT_TOKEN_INVALID'],
      [
        'alg none',
        world.activeCard,
        `Bearer ${new UnsecuredJWT({ sub: world.activeAccount }).encode()}`,
        'ACCOUNT_TOKEN_INVALID',
      ],
      [
        'signed with another key',
        world.activeCard,
        `Bearer ${await new SignJWT({ sub: world.activeAccount }).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(new Uint8Array(32))}`,
        'ACCOUNT_TOKEN_INVALID',
      ],
      [
        'another key under the current kid',
        world.activeCard,
        `Bearer ${await new SignJWT({ sub: world.activeAccount }).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: current!.kid }).sign(new Uint8Array(32))}`,
        'ACCOUNT_TOKEN_INVALID',
      ],
      ['typ JWT', world.activeCard, `Bearer ${await claims({}, 'JWT')}`, 'ACCOUNT_TOKEN_INVALID'],
      [
        'another audience',
        world.activeCard,
        `Bearer ${await claims({ aud: 'https://evil.example' })}`,
        'ACCOUNT_TOKEN_INVALID',
      ],
      [
        'another issuer',
        world.activeCard,
        `Bearer ${await claims({ iss: 'https://evil.example' })}`,
        'ACCOUNT_TOKEN_INVALID',
      ],
      [
        'no jti',
        world.activeCard,
        `Bearer ${await claims({ jti: undefined })}`,
        'ACCOUNT_TOKEN_INVALID',
      ],
      ['expired', world.activeCard, `Bearer ${expired}`, 'ACCOUNT_TOKEN_EXPIRED'],
      [
        'signature flipped',
        world.activeCard,
        `Bearer ${world.accountToken.slice(0, -2)}${world.accountToken.endsWith('A') ? 'BB' : 'AA'}`,
        'ACCOUNT_TOKEN_INVALID',
      ],
      ['another account’s card', world.activeCard, `Bearer ${other}`, 'CARD_NOT_IN_ACCOUNT'],
      [
        'an unknown card',
        'card_01aaaaaaaaaaaaaaaaaaaaaaaa',
        `Bearer ${world.accountToken}`,
        'NOT_FOUND',
      ],
      [
        'a card without offline PIN',
        world.plainCard,
        `Bearer ${world.accountToken}`,
        'OFFLINE_PIN_NOT_ENABLED',
      ],
    ];
    for (const [label, card, authorization, code] of cases) {
      await refuse(
        label,
        {
          method: 'POST',
          url: sync(card),
          headers: authorization === undefined ? {} : { authorization },
        },
        [code],
      );
    }
    for (const [label, payload, type] of [
      ['a JSON body', '{}', 'application/json'],
      ['a text body', 'sync', 'text/plain'],
      ['invalid UTF-8', Buffer.from([0xff, 0xfe]), 'application/octet-stream'],
    ] as const) {
      await refuse(
        label,
        {
          method: 'POST',
          url: sync(world.activeCard),
          headers: { authorization: `Bearer ${world.accountToken}`, 'content-type': type },
          payload,
        },
        ['BODY_NOT_ALLOWED'],
      );
    }
  });
});

describe('after the whole corpus', () => {
  it('the server is up and every operation still works', async () => {
    expect((await platform.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const card = await issueCard(platform, { pin_issuance_policy: 'REQUIRED' });
    const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
    const set = await widgetCall(platform, 'POST', SET_PIN, token, {
      encrypted_pin: await encryptPin(jwks, '8153', token),
    });
    expect(set.status).toBe(200);
    await platform.call('POST', `/v1/simulations/cards/${card.id}/advance`);
    expect(
      (await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' })).status,
    ).toBe(200);
    const key = await ephemeralKey();
    const revealToken = await mintToken(platform, card.id, { widget_type: 'REVEAL_PIN' });
    const revealed = await widgetCall(platform, 'POST', REVEAL, revealToken, {
      public_key: key.publicJwk,
    });
    expect((await key.decrypt(revealed.body.encrypted_pin)).payload.pin).toBe('8153');
    expect(tally.generated + tally.handPicked).toBeGreaterThan(2200);
  });

  it('every code a route answered is one its OpenAPI operation documents under that status', () => {
    const undocumented: string[] = [];
    for (const [operation, codes] of answered) {
      const [method, route] = operation.split(' ') as [string, string];
      const { responses } = spec.paths[route]![method.toLowerCase()];
      for (const code of codes) {
        const listed: string[] =
          responses[String(ErrorCodes[code])]?.content?.['application/json']?.schema?.properties
            ?.code?.enum ?? [];
        if (!listed.includes(code)) undocumented.push(`${operation} ${code}`);
      }
    }
    expect(undocumented).toEqual([]);
    expect(answered.size).toBe(operations().length);
  });
});

async function getSession(authorization: string, proof: string) {
  const response = await platform.app.inject({
    method: 'GET',
    url: SESSION,
    headers: { authorization, dpop: proof },
  });
  return { status: response.statusCode, body: response.json() };
}

const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');
const sha256B64 = (value: string) => createHash('sha256').update(value).digest('base64url');
const sessionTag = sha256B64;
const b64z = (bytes: number) => Buffer.alloc(bytes).toString('base64url');
