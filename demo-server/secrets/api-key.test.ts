import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import {
  PRODUCTION_SECRETS,
  STRICT_TEST_API_KEY,
  TEST_API_KEY,
  tempDataDir,
} from '../testing/platform.js';
import { generateApiKey, resolveApiKey, weakApiKeyReason } from './api-key.js';

function strictEnv(API_KEY: string) {
  const keysFile = path.join(tempDataDir(), 'keys.json');
  fs.writeFileSync(keysFile, '{"keys":[]}');
  return { ...PRODUCTION_SECRETS, PIN_TRANSPORT_KEYS_FILE: keysFile, API_KEY };
}

describe('API_KEY outside DEMO_MODE', () => {
  it.each([
    ['short', 'sk_live_abcDEF123', /too short/],
    ['30 repeated characters', 'x'.repeat(30), /too short/],
    ['40 repeated characters', 'x'.repeat(40), /chosen by hand/],
    ['the tests’ demo key', TEST_API_KEY, /too short/],
    ['an alphabet run', 'sk_live_Q0123456789abcdefghijklmnopqrstuv', /a run like/],
    ['a phrase', 'this-is-my-very-secret-api-key-2024', /chosen by hand/],
    ['a phrase with spaces', 'This Is My Very Secret Api Key 2024', /base64/],
    ['a repeated word', 'Password1Password1Password1Password1', /repeats itself/],
    ['repeated hex', 'deadbeefdeadbeefdeadbeefdeadbeef', /repeats itself/],
  ])('refuses %s, naming the variable but never echoing the value', (_label, value, reason) => {
    expect(() => loadConfig(strictEnv(value))).toThrow(reason);
    try {
      loadConfig(strictEnv(value));
    } catch (error) {
      expect(String(error)).toMatch(/^ConfigError: API_KEY .*openssl rand -base64 32/);
      expect(String(error)).not.toContain(value);
    }
  });

  it('accepts generated keys: sk_live_ + base64url, openssl hex and base64', () => {
    const generated = [
      STRICT_TEST_API_KEY,
      generateApiKey(),
      randomBytes(32).toString('hex'),
      randomBytes(16).toString('hex').toUpperCase(),
      randomBytes(32).toString('base64'),
    ];
    for (const key of generated) expect(loadConfig(strictEnv(key)).apiKey).toBe(key);
    // The generator never makes a key the check refuses.
    for (let i = 0; i < 2000; i++) expect(weakApiKeyReason(generateApiKey())).toBeUndefined();
  });

  it('DEMO_MODE keeps accepting the tests’ readable keys', () => {
    expect(loadConfig({ DEMO_MODE: '1', API_KEY: TEST_API_KEY }).apiKey).toBe(TEST_API_KEY);
    expect(() => loadConfig({ DEMO_MODE: '1', API_KEY: 'short' })).toThrow(/at least 24/);
  });
});

describe('generated API keys', () => {
  it('carry 256 random bits; the demo one is kept in DATA_DIR/api_key (0600)', () => {
    expect(generateApiKey()).toMatch(/^sk_live_[A-Za-z0-9_-]{43}$/);
    expect(generateApiKey()).not.toBe(generateApiKey());
    const dataDir = tempDataDir();
    const { apiKey, generated } = resolveApiKey(dataDir, undefined);
    expect(generated).toBe(true);
    expect(apiKey).toMatch(/^sk_test_[A-Za-z0-9_-]{43}$/);
    expect(fs.statSync(path.join(dataDir, 'api_key')).mode & 0o777).toBe(0o600);
    expect(resolveApiKey(dataDir, undefined)).toEqual({ apiKey, generated: false });
  });
});
