import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { PRODUCTION_SECRETS, type TestPlatform, startTestPlatform } from '../testing/platform.js';
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

describe('errors (SPEC §11)', () => {
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
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ PIN_ENCRYPTION_KEY: 'abcd' })).toThrow(
      /PIN_ENCRYPTION_KEY must be 64 hex/,
    );
    expect(() => loadConfig({ FRAME_ANCESTORS: 'not a url' })).toThrow(/FRAME_ANCESTORS/);
    expect(() => loadConfig({ ...PRODUCTION_SECRETS })).toThrow(/API_KEY must be set/);
    const { ZONE_PIN_KEY_AES: _zone, ...withoutZoneKey } = PRODUCTION_SECRETS;
    expect(() => loadConfig({ ...withoutZoneKey, API_KEY: 'x'.repeat(30) })).toThrow(
      /ZONE_PIN_KEY_AES must be set when NODE_ENV=production/,
    );
    expect(loadConfig({ ...PRODUCTION_SECRETS, API_KEY: 'x'.repeat(30) }).production).toBe(true);
  });

  it('never echoes a secret value in a config error', () => {
    try {
      loadConfig({ ZONE_PIN_KEY_TDES: 'secret-value-zz' });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain('secret-value-zz');
    }
  });
});
