import { execFile } from 'node:child_process';
import path from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestPlatform, startTestPlatform, tempDataDir } from '../testing/platform.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
// Each CLI run is a fresh node + tsx process: a second or two apiece.
const SLOW = 60_000;

/** `tsx demo-server/cli.ts <args>` with only DATA_DIR (and `env`) set, as an operator runs it. */
function cli(dataDir: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'demo-server/cli.ts', ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, DATA_DIR: dataDir, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let platform: TestPlatform | undefined;
afterEach(() => platform?.dispose());

async function call(key: string, method: string, url: string, payload?: object) {
  const response = await platform!.app.inject({
    method: method as 'GET',
    url,
    headers: { authorization: `Bearer ${key}` },
    ...(payload === undefined ? {} : { payload }),
  });
  return { status: response.statusCode, body: response.json() };
}

const createKey = (dataDir: string, name: string, scopes: string) =>
  cli(dataDir, ['api-keys:create', '--name', name, '--scopes', scopes]);

describe('api-keys CLI', () => {
  it(
    'create prints a key once; it works over HTTP within its scopes; list never shows it; revoke ends it',
    async () => {
      const dataDir = tempDataDir();
      platform = await startTestPlatform({ DATA_DIR: dataDir });

      const created = await createKey(dataDir, 'backend', 'cards');
      expect(created.code, created.stderr).toBe(0);
      const key = /^ {2}(sk_live_[A-Za-z0-9_-]{43})$/m.exec(created.stdout)?.[1];
      const id = /Created API key (key_\w+) "backend" \(scopes: cards\)/.exec(created.stdout)?.[1];
      expect(key).toBeDefined();
      expect(id).toBeDefined();

      expect((await call(key!, 'GET', '/v1/cards')).status).toBe(200);
      expect((await call(key!, 'POST', '/v1/accounts/acct_1/tokens')).status).toBe(200);
      expect(await call(key!, 'POST', '/v1/card_products', { name: 'p', form: 'VIRTUAL' })).toEqual(
        {
          status: 403,
          body: {
            code: 'INSUFFICIENT_SCOPE',
            message: 'This route needs an API key with the "admin" scope',
            required_scope: 'admin',
          },
        },
      );

      const listed = await cli(dataDir, ['api-keys:list']);
      expect(listed.code).toBe(0);
      expect(listed.stdout).not.toContain(key!);
      const lines = listed.stdout.trim().split('\n');
      expect(lines[0]).toBe('id\tname\tscopes\tcreated\trevoked');
      expect(lines[1]).toMatch(
        new RegExp(`^${id}\\tbackend\\tcards\\t\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t-$`),
      );

      const revoked = await cli(dataDir, ['api-keys:revoke', id!]);
      expect(revoked).toMatchObject({
        code: 0,
        stdout: expect.stringContaining(`Revoked API key ${id}`),
      });
      expect(await call(key!, 'GET', '/v1/cards')).toMatchObject({
        status: 401,
        body: { code: 'UNAUTHORIZED' },
      });
      expect((await cli(dataDir, ['api-keys:list'])).stdout).toMatch(/\tcards\t\S+\t\d{4}-\S+Z\n$/);
      expect((await cli(dataDir, ['api-keys:revoke', id!])).code).toBe(1);
    },
    SLOW,
  );

  it(
    'an admin key from the CLI reaches admin routes; bad arguments are refused with usage',
    async () => {
      const dataDir = tempDataDir();
      platform = await startTestPlatform({ DATA_DIR: dataDir });
      const created = await createKey(dataDir, 'ops', 'cards,admin');
      const key = /^ {2}(sk_live_\S+)$/m.exec(created.stdout)![1]!;
      const product = await call(key, 'POST', '/v1/card_products', { name: 'p', form: 'VIRTUAL' });
      expect(product.status).toBe(201);

      const unknownScope = await createKey(dataDir, 'x', 'root');
      expect(unknownScope.code).toBe(64);
      expect(unknownScope.stderr).toContain(
        'Unknown scope "root": use one or more of cards, admin',
      );
      const noName = await cli(dataDir, ['api-keys:create', '--scopes', 'cards']);
      expect(noName.code).toBe(64);
      expect(noName.stderr).toContain('--name');
      expect((await cli(dataDir, ['api-keys:list'])).stdout.trim().split('\n')).toHaveLength(2);
    },
    SLOW,
  );
});

describe('account-tokens:rotate', () => {
  it(
    'makes a new current kid; a token under the previous one verifies for the overlap only',
    async () => {
      const dataDir = tempDataDir();
      platform = await startTestPlatform({ DATA_DIR: dataDir });
      const tokens = platform.offlinePin.accountTokens;
      const before = (await tokens.issue('acct_1')).access_token;

      const rotated = await cli(dataDir, ['account-tokens:rotate'], {
        ACCOUNT_TOKEN_KEY_OVERLAP_S: '60',
      });
      expect(rotated.code, rotated.stderr).toBe(0);
      const kid = /signing key (atk_\w+); the previous one verifies for 60 s/.exec(
        rotated.stdout,
      )?.[1];
      const after = (await tokens.issue('acct_1')).access_token;
      expect(decodeProtectedHeader(after).kid).toBe(kid);
      expect(decodeProtectedHeader(before).kid).not.toBe(kid);

      expect(await tokens.verify(before)).toBe('acct_1');
      const past = Date.now() + 61_000;
      await expect(tokens.verify(before, past)).rejects.toMatchObject({
        code: 'ACCOUNT_TOKEN_INVALID',
      });
      expect(await tokens.verify(after, past)).toBe('acct_1');
    },
    SLOW,
  );
});
