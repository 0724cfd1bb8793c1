import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateTransportKey } from '../pins/transport-keys.js';
import { dpopKey, encryptPin, ephemeralKey } from '../testing/independent-jose.js';
import { TEST_API_KEY, tempDataDir } from '../testing/platform.js';
import { createTestSchema, testPostgresUrl } from '../testing/postgres.js';
import { ServerProcess, freePort } from '../testing/server-process.js';

/**
 * Two real instances on one PostgreSQL, each request of a race sent to both at once: what must
 * hold across instances (docs/store.md) holds, because it is decided in the database and not in
 * either process.
 */
const url = testPostgresUrl();
const dataDir = tempDataDir();
let schema: Awaited<ReturnType<typeof createTestSchema>> | undefined;
let instances: ServerProcess[] = [];
/** The one public URL both serve under, as behind a load balancer (DPoP `htu` names it). */
let publicUrl = '';

beforeAll(async () => {
  if (!url) return;
  schema = await createTestSchema(url);
  const transportKeys = path.join(dataDir, 'pin-transport-keys.json');
  await rotateTransportKey(transportKeys, 0);
  const ports = [await freePort(), await freePort()];
  publicUrl = `http://localhost:${ports[0]}`;
  const shared = {
    DATABASE_URL: schema.url,
    API_KEY: TEST_API_KEY,
    PUBLIC_URL: publicUrl,
    PIN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    PAN_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    PAN_HASH_KEY: randomBytes(32).toString('hex'),
    CHIP_PIN_KEY: randomBytes(32).toString('hex'),
    PIN_TRANSPORT_KEYS_FILE: transportKeys,
    LOG_LEVEL: 'warn',
    DEMO_SITE: '0',
  };
  instances = ports.map(
    (port, i) =>
      new ServerProcess(port, { ...shared, DATA_DIR: path.join(dataDir, `instance-${i}`) }),
  );
  // One at a time: the second finds the schema migrated (and the advisory lock free).
  for (const instance of instances) await instance.start();
}, 60_000);

afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.stop()));
  await schema?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function call(
  instance: ServerProcess,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${TEST_API_KEY}` },
) {
  const response = await fetch(`${instance.url}${route}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function activeCardWithPin(first: ServerProcess, second: ServerProcess) {
  const product = await call(first, 'POST', '/v1/card_products', {
    name: 'Across instances',
    form: 'PHYSICAL',
    pin_issuance_policy: 'RANDOM',
    allow_bearer_widget_tokens: true,
  });
  const card = await call(second, 'POST', '/v1/cards', {
    card_product_id: product.body.id,
    account_id: `acct_${randomBytes(4).toString('hex')}`,
  });
  // Issuance claimed by whichever instance's scheduler or `advance` gets there first.
  await call(first, 'POST', `/v1/simulations/cards/${card.body.id}/advance`);
  const active = await call(second, 'PATCH', `/v1/cards/${card.body.id}`, {
    card_status: 'ACTIVE',
  });
  expect(active.body).toMatchObject({ card_status: 'ACTIVE', is_pin_set: true });
  return card.body.id as string;
}

describe.runIf(url)('two instances on one PostgreSQL', () => {
  it('a widget token is used once: the same set-PIN request raced on both, one 200', async () => {
    const [a, b] = instances as [ServerProcess, ServerProcess];
    const cardId = await activeCardWithPin(a, b);
    const jwks = (await (await fetch(`${a.url}/v1/pin_keys`)).json()) as { keys: object[] };
    for (let round = 0; round < 5; round++) {
      const minted = await call(a, 'POST', `/v1/cards/${cardId}/widget_token`, {
        widget_type: 'SET_PIN',
      });
      const token = minted.body.widget_token as string;
      const body = { encrypted_pin: await encryptPin(jwks, '3850', token) };
      const auth = { authorization: `Bearer ${token}` };
      const answers = await Promise.all(
        [a, b, a, b].map((instance) => call(instance, 'POST', '/v1/widget/pin', body, auth)),
      );
      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
      for (const answer of answers.filter((answer) => answer.status !== 200)) {
        expect(answer).toMatchObject({ status: 401, body: { code: 'WIDGET_TOKEN_USED' } });
      }
    }
  });

  it('a DPoP proof is accepted once: replayed to the other instance, it is refused', async () => {
    const [a, b] = instances as [ServerProcess, ServerProcess];
    const cardId = await activeCardWithPin(a, b);
    const key = await dpopKey();
    const minted = await call(a, 'POST', `/v1/cards/${cardId}/widget_token`, {
      widget_type: 'REVEAL_PIN',
      jkt: key.jkt,
    });
    const token = minted.body.widget_token as string;
    const proof = await key.proof('GET', `${publicUrl}/v1/widget/session`, token);
    const headers = { authorization: `DPoP ${token}`, dpop: proof };
    const first = await call(a, 'GET', '/v1/widget/session', undefined, headers);
    expect(first.status).toBe(200);
    const replayed = await call(b, 'GET', '/v1/widget/session', undefined, headers);
    expect(replayed).toMatchObject({ status: 401, body: { code: 'DPOP_PROOF_REPLAYED' } });
    // A fresh proof for the same token still works there: it is the proof that was replayed.
    const fresh = await key.proof('GET', `${publicUrl}/v1/widget/session`, token);
    const again = await call(b, 'GET', '/v1/widget/session', undefined, {
      authorization: `DPoP ${token}`,
      dpop: fresh,
    });
    expect(again.status).toBe(200);
  });

  it('the reveal quota (5 an hour) holds across instances: 8 raced reveals, 5 answered', async () => {
    const [a, b] = instances as [ServerProcess, ServerProcess];
    const cardId = await activeCardWithPin(a, b);
    const tokens: string[] = [];
    for (let i = 0; i < 8; i++) {
      const minted = await call(b, 'POST', `/v1/cards/${cardId}/widget_token`, {
        widget_type: 'REVEAL_PIN',
      });
      tokens.push(minted.body.widget_token as string);
    }
    const key = await ephemeralKey();
    const answers = await Promise.all(
      tokens.map((token, i) =>
        call(
          i % 2 === 0 ? a : b,
          'POST',
          '/v1/widget/pin/reveal',
          { public_key: key.publicJwk },
          { authorization: `Bearer ${token}` },
        ),
      ),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(5);
    const refused = answers.filter((answer) => answer.status !== 200);
    expect(refused).toHaveLength(3);
    for (const answer of refused) {
      expect(answer).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED', quota: 'card' } });
    }
  });
});
