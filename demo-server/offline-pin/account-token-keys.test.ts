import { createHmac, hkdfSync } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import {
  STRICT_TEST_API_KEY,
  TEST_API_KEY,
  type TestPlatform,
  startTestPlatform,
  tempDataDir,
} from '../testing/platform.js';
import { rotateAccountTokenKey } from './account-tokens.js';

const started: TestPlatform[] = [];
afterEach(async () => {
  for (const platform of started.splice(0)) await platform.dispose();
});
async function start(env: Record<string, string>) {
  const platform = await startTestPlatform(env);
  started.push(platform);
  return platform;
}

const syncStatus = async (platform: TestPlatform, token: string) => {
  const response = await platform.app.inject({
    method: 'POST',
    url: '/pcicards/v1/pcicards/card_00000000000000000000000000/scripts/sync-offline-pin',
    headers: { authorization: `Bearer ${token}` },
  });
  // 404 (no such card) means the token itself was accepted.
  return response.statusCode === 404 ? 'accepted' : (response.json().code as string);
};

describe('account-token signing keys', () => {
  it('are random 256-bit keys with a kid, made once on first start and kept in the database', async () => {
    const dataDir = tempDataDir();
    const first = await start({ DATA_DIR: dataDir });
    const [key] = await first.store.read.accountTokenKeys(Date.now());
    expect(key).toMatchObject({ kid: expect.stringMatching(/^atk_/), retiresAt: null });
    expect(Buffer.from(key!.secret, 'base64url')).toHaveLength(32);
    // A second instance on the same database signs and verifies with the same key.
    const second = await start({ DATA_DIR: dataDir });
    expect(await second.store.read.accountTokenKeys(Date.now())).toEqual([key]);
    const token = (await first.offlinePin.accountTokens.issue('acct_1')).access_token;
    expect(decodeProtectedHeader(token).kid).toBe(key!.kid);
    expect(await second.offlinePin.accountTokens.verify(token)).toBe('acct_1');
  });

  it('do not come from the API key: changing it keeps account tokens valid', async () => {
    const dataDir = tempDataDir();
    const before = await start({ DATA_DIR: dataDir, API_KEY: TEST_API_KEY });
    const token = (await before.call('POST', '/v1/accounts/acct_1/tokens')).body.access_token;
    await before.close();
    await before.store.close();
    started.splice(0);

    const after = await start({ DATA_DIR: dataDir, API_KEY: `${TEST_API_KEY}_changed` });
    expect(await syncStatus(after, token)).toBe('accepted');
    // The signature is not an HMAC under any key derived from the API key.
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const derived = hkdfSync(
      'sha256',
      TEST_API_KEY,
      'pin-widgets',
      'account-token signing key v1 (HS256)',
      32,
    );
    const underDerived = createHmac('sha256', Buffer.from(derived)).update(`${header}.${payload}`);
    expect(underDerived.digest('base64url')).not.toBe(signature);
    const [stored] = await after.store.read.accountTokenKeys(Date.now());
    for (const apiKey of [TEST_API_KEY, STRICT_TEST_API_KEY]) {
      expect(Buffer.from(stored!.secret, 'base64url').toString()).not.toContain(apiKey);
    }
  });

  it('an unknown kid, a missing kid, or a kid past its overlap is 401 ACCOUNT_TOKEN_INVALID', async () => {
    const platform = await start({});
    const good = (await platform.call('POST', '/v1/accounts/acct_1/tokens')).body.access_token;
    const [current] = await platform.store.read.accountTokenKeys(Date.now());
    const secret = new Uint8Array(Buffer.from(current!.secret, 'base64url'));
    const resign = (header: Record<string, unknown>) =>
      new SignJWT(decodeJwt(good))
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', ...header })
        .sign(secret);
    expect(await syncStatus(platform, await resign({ kid: current!.kid }))).toBe('accepted');
    expect(await syncStatus(platform, await resign({ kid: 'atk_unknown' }))).toBe(
      'ACCOUNT_TOKEN_INVALID',
    );
    expect(await syncStatus(platform, await resign({}))).toBe('ACCOUNT_TOKEN_INVALID');

    await rotateAccountTokenKey(platform.store, 0);
    expect(await syncStatus(platform, good)).toBe('ACCOUNT_TOKEN_INVALID');
    const fresh = (await platform.call('POST', '/v1/accounts/acct_1/tokens')).body.access_token;
    expect(await syncStatus(platform, fresh)).toBe('accepted');
  });

  it('a rotation keeps the previous key verifying for the overlap; the next one drops it', async () => {
    const platform = await start({});
    const store = platform.store;
    const now = Date.now();
    const first = (await store.read.accountTokenKeys(now))[0]!.kid;
    const second = await rotateAccountTokenKey(store, 60, now);
    const kids = async (at: number) => (await store.read.accountTokenKeys(at)).map((k) => k.kid);
    expect(await kids(now)).toEqual([second, first]);
    expect(await kids(now + 60_000)).toEqual([second]);
    const third = await rotateAccountTokenKey(store, 60, now + 61_000);
    expect(await kids(now + 61_000)).toEqual([third, second]);
    expect(await kids(0)).not.toContain(first);
  });
});
