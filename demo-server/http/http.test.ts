import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import {
  PRODUCTION_SECRETS,
  STRICT_TEST_API_KEY,
  type TestPlatform,
  startTestPlatform,
  tempDataDir,
} from '../testing/platform.js';
import { secretsEqual } from './auth.js';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(() => platform.dispose());

const post = (payload: string, contentType = 'application/json') =>
  platform.app.inject({
    method: 'POST',
    url: '/v1/card_products',
    headers: { ...platform.auth, 'content-type': contentType },
    payload,
  });

describe('errors (README “API overview”)', () => {
  it('413 for a body over the limit, and nothing is created', async () => {
    const response = await post(JSON.stringify({ name: 'x'.repeat(20_000), form: 'PHYSICAL' }));
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) });
    expect((await platform.call('GET', '/v1/card_products')).body.data).toEqual([]);
  });

  it('415 for a body that is not JSON', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const response = await post('name=x', type);
      expect(response.statusCode, type).toBe(415);
      expect(response.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('400 MALFORMED_JSON for broken or empty JSON, 400 for a non-object', async () => {
    expect((await post('{"name":')).json()).toMatchObject({ code: 'MALFORMED_JSON' });
    expect((await post('')).json()).toMatchObject({ code: 'MALFORMED_JSON' });
    const array = await post('[1,2]');
    expect(array.statusCode).toBe(400);
    expect(array.json().code).toBe('INVALID_REQUEST');
  });

  it('a JSON 404 for unknown routes', async () => {
    const response = await platform.app.inject({ method: 'GET', url: '/v1/nothing?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      code: 'ROUTE_NOT_FOUND',
      message: 'No route GET /v1/nothing',
    });
  });

  it('an unknown query parameter is refused', async () => {
    const response = await platform.call('GET', '/v1/cards?colour=red');
    expect(response.body).toMatchObject({ code: 'UNKNOWN_FIELD', field: 'colour' });
  });
});

describe('OpenAPI', () => {
  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const response = await platform.app.inject({ method: 'GET', url: '/openapi.json' });
    const doc = response.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/card_products',
        '/v1/cards',
        '/v1/cards/{id}',
        '/v1/webhooks',
        '/v1/events/{id}',
        '/v1/events/{id}/redeliver',
        '/v1/simulations/cards/{id}/advance',
      ]),
    );
    const create = doc.paths['/v1/cards'].post.requestBody.content['application/json'].schema;
    expect(create.additionalProperties).toBe(false);
    expect(create.required).toEqual(['card_product_id', 'account_id']);
  });
});

describe('auth helpers and config', () => {
  it('compares secrets of any length without throwing', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
    expect(secretsEqual('', 'abc')).toBe(false);
  });

  it('refuses bad configuration with a message naming the variable', () => {
    const demo = { DEMO_MODE: '1' };
    expect(() => loadConfig({ ...demo, PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...demo, PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ ...demo, PIN_ENCRYPTION_KEY: 'abcd' })).toThrow(
      /PIN_ENCRYPTION_KEY must be 64 hex/,
    );
    expect(() => loadConfig({ ...demo, FRAME_ANCESTORS: 'not a url' })).toThrow(/FRAME_ANCESTORS/);
    // A double-length 3DES key whose halves are equal is single DES: refused at start.
    for (const name of ['IMK_AC', 'IMK_SMI', 'IMK_SMC', 'ZONE_PIN_KEY_TDES']) {
      expect(() => loadConfig({ ...demo, [name]: '0123456789ABCDEF'.repeat(2) })).toThrow(
        new RegExp(`${name} must not repeat its first half`),
      );
    }
    const keysFile = path.join(tempDataDir(), 'keys.json');
    fs.writeFileSync(keysFile, '{"keys":[]}');
    const strict = { ...PRODUCTION_SECRETS, PIN_TRANSPORT_KEYS_FILE: keysFile };
    expect(() => loadConfig({ ...strict })).toThrow(/API_KEY must be set/);
    const { ZONE_PIN_KEY_AES: _zone, ...withoutZoneKey } = strict;
    expect(() => loadConfig({ ...withoutZoneKey, API_KEY: STRICT_TEST_API_KEY })).toThrow(
      /ZONE_PIN_KEY_AES must be set \(or DEMO_MODE=1/,
    );
    expect(loadConfig({ ...strict, API_KEY: STRICT_TEST_API_KEY }).demoMode).toBe(false);
  });

  it('is strict unless DEMO_MODE=1: NODE_ENV is never read, so a typo cannot start the demo', () => {
    for (const NODE_ENV of ['prodution', 'development', 'test', undefined]) {
      expect(() => loadConfig({ NODE_ENV })).toThrow(/must be set/);
    }
    expect(loadConfig({ DEMO_MODE: '1' }).demoMode).toBe(true);
    expect(() => loadConfig({ DEMO_MODE: 'yes' })).toThrow(/DEMO_MODE must be 1/);
  });

  it('strict mode serves https only: PUBLIC_URL, FRAME_ANCESTORS, an operator key file', () => {
    const keysFile = path.join(tempDataDir(), 'keys.json');
    fs.writeFileSync(keysFile, '{"keys":[]}');
    const strict = {
      ...PRODUCTION_SECRETS,
      API_KEY: STRICT_TEST_API_KEY,
      PIN_TRANSPORT_KEYS_FILE: keysFile,
    };
    expect(loadConfig(strict).demoMode).toBe(false);
    expect(() => loadConfig({ ...strict, PUBLIC_URL: 'http://pin.example' })).toThrow(
      /PUBLIC_URL must be https/,
    );
    expect(() => loadConfig({ ...strict, FRAME_ANCESTORS: 'http://program.example' })).toThrow(
      /FRAME_ANCESTORS must be https/,
    );
    expect(() => loadConfig({ ...strict, FRAME_ANCESTORS: '' })).toThrow(/FRAME_ANCESTORS must/);
    expect(() => loadConfig({ ...strict, PIN_TRANSPORT_KEYS_FILE: `${keysFile}.missing` })).toThrow(
      /PIN_TRANSPORT_KEYS_FILE/,
    );
  });

  it('never echoes a secret value in a config error', () => {
    try {
      loadConfig({ DEMO_MODE: '1', ZONE_PIN_KEY_TDES: 'secret-value-zz' });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain('secret-value-zz');
    }
  });
});

describe('strict mode', () => {
  it('sends HSTS on every answer; DEMO_MODE (plain http on localhost) does not', async () => {
    const strict = await startTestPlatform({ ...PRODUCTION_SECRETS });
    try {
      const response = await strict.app.inject({ method: 'GET', url: '/v1/pin_keys' });
      expect(response.headers['strict-transport-security']).toBe(
        'max-age=63072000; includeSubDomains',
      );
    } finally {
      await strict.dispose();
    }
    const demo = await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' });
    expect(demo.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('DNS rebinding', () => {
  it('a demo platform answers only under its own names; another Host is 421', async () => {
    for (const host of ['localhost:4000', '127.0.0.1:4000', '[::1]:4000']) {
      const ok = await platform.app.inject({ method: 'GET', url: '/healthz', headers: { host } });
      expect(ok.statusCode, host).toBe(200);
    }
    for (const host of ['attacker.example', 'attacker.example:4000', '127.0.0.1.nip.io']) {
      const refused = await platform.app.inject({
        method: 'GET',
        url: '/v1/pin_keys',
        headers: { host },
      });
      expect(refused.statusCode, host).toBe(421);
      expect(refused.json()).toMatchObject({ code: 'MISDIRECTED_REQUEST' });
    }
  });
});
