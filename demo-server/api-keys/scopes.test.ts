import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_SCOPES, installApiKeyGuard, requiredScope } from '../http/auth.js';
import { installErrorHandler } from '../http/error-handler.js';
import { type TestPlatform, TEST_API_KEY, startTestPlatform } from '../testing/platform.js';
import { BOOTSTRAP_KEY, type CallerKey } from './registry.js';

let platform: TestPlatform;
let cardsKey: string;
let adminKey: string;
beforeAll(async () => {
  platform = await startTestPlatform();
  cardsKey = (await platform.apiKeys.create('cardholder backend', ['cards'])).key;
  adminKey = (await platform.apiKeys.create('operator', ['admin'])).key;
});
afterAll(() => platform.dispose());

async function as(key: string | undefined, method: string, url: string, payload?: object) {
  const response = await platform.app.inject({
    method: method as 'GET',
    url,
    headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
    ...(payload === undefined ? {} : { payload }),
  });
  const body = (response.body === '' ? {} : response.json()) as Record<string, unknown>;
  return { status: response.statusCode, body };
}

const urlOf = (pattern: string) =>
  pattern.replace(':account_id', 'acct_1').replace(/:id/, 'card_00000000000000000000000000');

describe('the route → scope map', () => {
  it('covers exactly the routes behind the API-key guard (simulations included)', () => {
    const guarded = platform.guardedRoutes.filter((route) => !route.startsWith('HEAD '));
    expect(guarded.length).toBeGreaterThan(15);
    for (const route of platform.guardedRoutes) {
      const [method, url] = route.split(' ') as [string, string];
      expect(requiredScope(method, url), route).toBeDefined();
    }
    expect([...guarded].sort()).toEqual(Object.keys(ROUTE_SCOPES).sort());
  });

  it('every guarded route: 401 without a key; a cards key gets 403 exactly where admin is needed', async () => {
    for (const route of platform.guardedRoutes) {
      const [method, pattern] = route.split(' ') as [string, string];
      const url = urlOf(pattern);
      const needed = requiredScope(method, pattern);
      const anonymous = await as(undefined, method, url);
      expect(anonymous.status, route).toBe(401);
      const withCards = await as(cardsKey, method, url);
      if (needed === 'admin') {
        expect(withCards.status, route).toBe(403);
        if (method !== 'HEAD') {
          expect(withCards.body, route).toEqual({
            code: 'INSUFFICIENT_SCOPE',
            message: 'This route needs an API key with the "admin" scope',
            required_scope: 'admin',
          });
        }
      } else {
        expect([401, 403], route).not.toContain(withCards.status);
      }
      for (const key of [adminKey, TEST_API_KEY]) {
        expect([401, 403], route).not.toContain((await as(key, method, url)).status);
      }
    }
  });

  it('the OpenAPI document names each route’s scope', async () => {
    const spec = (await platform.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(spec.paths['/v1/cards/{id}/pin_block'].get.security).toEqual([{ apiKey: ['admin'] }]);
    expect(spec.paths['/v1/cards/{id}/widget_token'].post.security).toEqual([
      { apiKey: ['cards'] },
    ]);
  });

  it('a refused call does not run the handler: nothing is created', async () => {
    const before = (await platform.call('GET', '/v1/card_products')).body.data.length;
    const refused = await as(cardsKey, 'POST', '/v1/card_products', {
      name: 'Refused',
      form: 'VIRTUAL',
    });
    expect(refused.status).toBe(403);
    expect((await platform.call('GET', '/v1/card_products')).body.data).toHaveLength(before);
    const allowed = await as(adminKey, 'POST', '/v1/card_products', {
      name: 'Allowed',
      form: 'VIRTUAL',
    });
    expect(allowed.status).toBe(201);
    expect((await as(cardsKey, 'GET', `/v1/card_products/${allowed.body.id}`)).status).toBe(200);
  });

  it('the PIN-block export needs admin: a cards key is refused before the query is read', async () => {
    const response = await as(cardsKey, 'GET', '/v1/cards/card_x/pin_block?format=ISO_9564_4');
    expect(response.body).toMatchObject({ code: 'INSUFFICIENT_SCOPE', required_scope: 'admin' });
  });
});

/** A bare app with the guard, for what the platform's routes cannot show. */
async function guardedApp(keys: Record<string, CallerKey>) {
  const app = Fastify();
  installErrorHandler(app);
  const seen: (CallerKey | null)[] = [];
  await app.register(async (api) => {
    installApiKeyGuard(api, { authenticate: async (presented) => keys[presented] });
    api.get('/v1/cards', async (request) => {
      seen.push(request.apiKey);
      return { ok: true };
    });
    api.get('/v1/not_in_the_map', async (request) => {
      seen.push(request.apiKey);
      return { ok: true };
    });
  });
  const call = async (url: string, key: string) => {
    const response = await app.inject({ url, headers: { authorization: `Bearer ${key}` } });
    return { status: response.statusCode, body: response.json() };
  };
  return { app, seen, call };
}

describe('the API-key guard', () => {
  it('fails closed: a route missing from the map is refused even to an admin key', async () => {
    const { app, seen, call } = await guardedApp({ root: BOOTSTRAP_KEY });
    try {
      expect(await call('/v1/not_in_the_map', 'root')).toEqual({
        status: 403,
        body: { code: 'FORBIDDEN', message: 'No API-key scope opens this route' },
      });
      expect(seen).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('tells the handler which key called (request.apiKey)', async () => {
    const backend: CallerKey = { id: 'key_1', name: 'backend', scopes: ['cards'] };
    const { app, seen, call } = await guardedApp({ a: backend, root: BOOTSTRAP_KEY });
    try {
      expect((await call('/v1/cards', 'a')).status).toBe(200);
      expect((await call('/v1/cards', 'root')).status).toBe(200);
      expect(seen).toEqual([backend, { id: 'key_bootstrap', name: 'API_KEY', scopes: ['admin'] }]);
      expect((await call('/v1/cards', 'nobody')).body.code).toBe('UNAUTHORIZED');
    } finally {
      await app.close();
    }
  });
});

describe('API keys in the database', () => {
  it('a revoked key is 401 at once; an unknown one too', async () => {
    const created = await platform.apiKeys.create('short-lived', ['cards']);
    expect((await as(created.key, 'GET', '/v1/cards')).status).toBe(200);
    expect(await platform.apiKeys.revoke(created.id)).toBe(true);
    expect(await platform.apiKeys.revoke(created.id)).toBe(false);
    expect(await as(created.key, 'GET', '/v1/cards')).toMatchObject({
      status: 401,
      body: { code: 'UNAUTHORIZED' },
    });
    expect((await as(`${created.key}x`, 'GET', '/v1/cards')).status).toBe(401);
    const listed = (await platform.apiKeys.list()).find((key) => key.id === created.id);
    expect(listed).toEqual({
      id: created.id,
      name: 'short-lived',
      scopes: ['cards'],
      created_time: expect.any(String),
      revoked_time: expect.any(String),
    });
  });

  it('are 256-bit sk_live_ keys kept only as their SHA-256', async () => {
    const created = await platform.apiKeys.create('hashed', ['cards', 'admin']);
    expect(created.key).toMatch(/^sk_live_[A-Za-z0-9_-]{43}$/);
    expect(created.id).toMatch(/^key_/);
    const [row] = (await platform.store.read.listApiKeys()).filter((k) => k.id === created.id);
    expect(row!.keyHash).toBe(createHash('sha256').update(created.key).digest('hex'));
    expect(JSON.stringify(await platform.apiKeys.list())).not.toContain(created.key);
    // Nothing on disk holds the key itself (the WAL is where a fresh row is).
    for (const file of fs.readdirSync(platform.dataDir)) {
      const bytes = fs.readFileSync(path.join(platform.dataDir, file));
      expect(bytes.includes(created.key), file).toBe(false);
    }
  });
});
