import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { weakApiKeyReason } from './secrets/api-key.js';
import { PaymentCryptoError, assertTdesKey } from './payment-crypto/index.js';

/**
 * Every setting the platform reads from the environment, parsed once at start.
 * A bad value stops the process with a message that names the variable and the fix.
 */
export interface Config {
  /**
   * DEMO_MODE=1: test keys, generated secrets, simulations, caller-chosen PANs, http webhooks
   * and private-network webhook targets. Without it the platform is strict (production).
   */
  readonly demoMode: boolean;
  readonly port: number;
  readonly host: string;
  readonly demoSitePort: number;
  /** DEMO_MODE starts the demo card-program site beside the platform unless DEMO_SITE=0. */
  readonly demoSite: boolean;
  readonly dataDir: string;
  /** DATABASE_URL: PostgreSQL (docs/store.md); undefined keeps the SQLite file in DATA_DIR. */
  readonly databaseUrl: string | undefined;
  /** On SIGTERM, how long /readyz answers 503 before the listener closes (docs/deployment.md). */
  readonly drainDelayMs: number;
  readonly apiKey: string | undefined;
  readonly publicUrl: string;
  readonly issuanceDelayMs: number;
  readonly widgetTokenTtlS: number;
  readonly accountTokenTtlS: number;
  readonly frameAncestors: readonly string[];
  readonly pinEncryptionKey: string | undefined;
  readonly pinEncryptionKeysPrevious: readonly string[];
  /** AES-256 key the PANs are enciphered under; previous ones only decipher (rotation). */
  readonly panEncryptionKey: string | undefined;
  readonly panEncryptionKeysPrevious: readonly string[];
  /** HMAC-SHA256 key of the PAN hash the one-card-per-PAN constraint is on. */
  readonly panHashKey: string | undefined;
  /** The simulated chips' own PIN key (docs/point-of-sale.md); generated in DATA_DIR in DEMO_MODE. */
  readonly chipPinKey: string | undefined;
  readonly chipPinKeysPrevious: readonly string[];
  readonly pinTransportKeyGraceS: number;
  /** The PIN-transport key file: generated in DATA_DIR, or supplied by the operator. */
  readonly pinTransportKeysFile: string;
  readonly zonePinKeyAes: string;
  readonly zonePinKeyTdes: string;
  readonly imkAc: string;
  readonly imkSmi: string;
  readonly imkSmc: string;
  readonly widgetTokenMaxFailures: number;
  readonly revealLimitPerHour: number;
  /** JOSE worker threads (0: on the request thread); default one fewer than the cores. */
  readonly cryptoWorkers: number;
  readonly revealLimitPerAccountPerHour: number;
  readonly revealLimitTotalPerHour: number;
  readonly schedulerPollMs: number;
  readonly webhookTimeoutMs: number;
  readonly webhookRetryBaseMs: number;
  readonly webhookRetryMaxMs: number;
  readonly webhookMaxAttempts: number;
  readonly bodyLimitBytes: number;
  readonly logLevel: string;
}

/**
 * Documented test keys, used only with DEMO_MODE=1 so the demo runs with no set-up. Without it
 * (strict, the default) the platform refuses to start without real ones.
 */
export const TEST_KEYS = {
  ZONE_PIN_KEY_AES: '00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF',
  ZONE_PIN_KEY_TDES: '0123456789ABCDEFFEDCBA9876543210',
  IMK_AC: '0123456789ABCDEFFEDCBA9876543210',
  IMK_SMI: '89ABCDEF01234567FEDCBA9876543210',
  IMK_SMC: 'FEDCBA98765432100123456789ABCDEF',
} as const;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function hexKey(
  env: Env,
  name: string,
  bytes: readonly number[],
  label: string = name,
): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const lengths = bytes.map((b) => b * 2);
  if (!/^[0-9a-fA-F]+$/.test(raw) || !lengths.includes(raw.length)) {
    // Never echo the value: it is a secret.
    throw new ConfigError(`${label} must be ${lengths.join(' or ')} hex characters`);
  }
  return raw.toUpperCase();
}

/**
 * A double-length 3DES key (16 bytes) whose halves differ: K1 = K2 would make it single DES
 * (payment-crypto's one key rule, checked here so a bad key stops the start, not a request).
 */
function tdesKey(env: Env, name: keyof typeof TEST_KEYS, demoMode: boolean): string {
  const key = secretKey(env, name, [16], demoMode);
  try {
    assertTdesKey(Buffer.from(key, 'hex'), name, [16]);
  } catch (error) {
    if (!(error instanceof PaymentCryptoError)) throw error;
    throw new ConfigError(`${name} must not repeat its first half: that is single DES`);
  }
  return key;
}

/** A key with a documented test default in DEMO_MODE; required outside it. */
function secretKey(
  env: Env,
  name: keyof typeof TEST_KEYS,
  bytes: readonly number[],
  demoMode: boolean,
): string {
  const value = hexKey(env, name, bytes);
  if (value !== undefined) return value;
  if (!demoMode) throw new ConfigError(`${name} must be set (or DEMO_MODE=1 for the test keys)`);
  return TEST_KEYS[name];
}

function origins(env: Env, name: string, fallback: readonly string[]): readonly string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  return raw
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((origin) => {
      let parsed: URL;
      try {
        parsed = new URL(origin);
      } catch {
        throw new ConfigError(`${name}: "${origin}" is not an origin like https://program.example`);
      }
      if (parsed.origin !== origin.replace(/\/$/, '')) {
        throw new ConfigError(`${name}: "${origin}" must be a bare origin (scheme://host[:port])`);
      }
      return parsed.origin;
    });
}

/** DATABASE_URL, when set, must be a PostgreSQL URL; unset or empty means SQLite. */
function databaseUrl(env: Env): string | undefined {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(raw);
  } catch {
    parsed = undefined;
  }
  // Never echo the value: it may carry the database password.
  if (!parsed || !['postgres:', 'postgresql:'].includes(parsed.protocol)) {
    throw new ConfigError(
      'DATABASE_URL must be a PostgreSQL URL like postgres://user:password@host:5432/database (or unset for SQLite in DATA_DIR)',
    );
  }
  return raw;
}

/** The PIN-transport key file and its rotation grace: all `keys:rotate` needs (no full config). */
export function transportKeySettings(env: Env = process.env) {
  return {
    file: path.resolve(
      env.PIN_TRANSPORT_KEYS_FILE || path.join(env.DATA_DIR ?? './data', 'pin-transport-keys.json'),
    ),
    graceSeconds: integer(env, 'PIN_TRANSPORT_KEY_GRACE_S', 86_400, 0, 90 * 86_400),
  };
}

/**
 * What the API-key and account-token-key commands need (no full config): the database, and how
 * long a replaced account-token key keeps verifying (default: the longest ACCOUNT_TOKEN_TTL_S).
 */
export function keyCommandSettings(env: Env = process.env) {
  return {
    dataDir: path.resolve(env.DATA_DIR ?? './data'),
    databaseUrl: databaseUrl(env),
    accountTokenKeyOverlapS: integer(env, 'ACCOUNT_TOKEN_KEY_OVERLAP_S', 3600, 0, 7 * 86_400),
  };
}

/**
 * The one switch for everything that is only for demos. NODE_ENV is not read: a typo there
 * ("prodution") must never start a platform with public test keys.
 */
function demoModeOf(env: Env): boolean {
  const raw = env.DEMO_MODE;
  if (raw === undefined || raw === '' || raw === '0') return false;
  if (raw === '1') return true;
  throw new ConfigError(`DEMO_MODE must be 1 (demo) or unset (strict), got "${raw}"`);
}

/** Strict mode serves cardholders: every public URL and framing origin must be https. */
function requireHttps(name: string, origins: readonly string[]): void {
  const plain = origins.find((origin) => !origin.startsWith('https://'));
  if (plain) throw new ConfigError(`${name} must be https outside DEMO_MODE, got "${plain}"`);
}

export function loadConfig(env: Env = process.env): Config {
  const demoMode = demoModeOf(env);
  const port = integer(env, 'PORT', 4000, 0, 65535);
  const demoSitePort = integer(env, 'DEMO_SITE_PORT', 4001, 0, 65535);
  const config: Config = {
    demoMode,
    port,
    host: env.HOST ?? 'localhost',
    demoSitePort,
    demoSite: demoMode && env.DEMO_SITE !== '0',
    dataDir: path.resolve(env.DATA_DIR ?? './data'),
    databaseUrl: databaseUrl(env),
    apiKey: env.API_KEY === '' ? undefined : env.API_KEY,
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, ''),
    issuanceDelayMs: integer(env, 'ISSUANCE_DELAY_MS', 5000, 0, 24 * 3600 * 1000),
    widgetTokenTtlS: integer(env, 'WIDGET_TOKEN_TTL_S', 300, 10, 3600),
    accountTokenTtlS: integer(env, 'ACCOUNT_TOKEN_TTL_S', 300, 10, 3600),
    frameAncestors: origins(env, 'FRAME_ANCESTORS', [`http://127.0.0.1:${demoSitePort}`]),
    pinEncryptionKey: hexKey(env, 'PIN_ENCRYPTION_KEY', [32]),
    pinEncryptionKeysPrevious: (env.PIN_ENCRYPTION_KEY_PREVIOUS ?? '')
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((key) => hexKey({ KEY: key }, 'KEY', [32], 'PIN_ENCRYPTION_KEY_PREVIOUS')!),
    panEncryptionKey: hexKey(env, 'PAN_ENCRYPTION_KEY', [32]),
    panEncryptionKeysPrevious: (env.PAN_ENCRYPTION_KEY_PREVIOUS ?? '')
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((key) => hexKey({ KEY: key }, 'KEY', [32], 'PAN_ENCRYPTION_KEY_PREVIOUS')!),
    panHashKey: hexKey(env, 'PAN_HASH_KEY', [32]),
    chipPinKey: hexKey(env, 'CHIP_PIN_KEY', [32]),
    chipPinKeysPrevious: (env.CHIP_PIN_KEY_PREVIOUS ?? '')
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((key) => hexKey({ KEY: key }, 'KEY', [32], 'CHIP_PIN_KEY_PREVIOUS')!),
    pinTransportKeyGraceS: transportKeySettings(env).graceSeconds,
    pinTransportKeysFile: transportKeySettings(env).file,
    zonePinKeyAes: secretKey(env, 'ZONE_PIN_KEY_AES', [32], demoMode),
    zonePinKeyTdes: tdesKey(env, 'ZONE_PIN_KEY_TDES', demoMode),
    imkAc: tdesKey(env, 'IMK_AC', demoMode),
    imkSmi: tdesKey(env, 'IMK_SMI', demoMode),
    imkSmc: tdesKey(env, 'IMK_SMC', demoMode),
    widgetTokenMaxFailures: integer(env, 'WIDGET_TOKEN_MAX_FAILURES', 5, 1, 100),
    revealLimitPerHour: integer(env, 'REVEAL_LIMIT_PER_HOUR', 5, 1, 10_000),
    cryptoWorkers: integer(env, 'CRYPTO_WORKERS', os.availableParallelism() - 1, 0, 64),
    revealLimitPerAccountPerHour: integer(env, 'REVEAL_LIMIT_PER_ACCOUNT_PER_HOUR', 20, 1, 100_000),
    revealLimitTotalPerHour: integer(env, 'REVEAL_LIMIT_TOTAL_PER_HOUR', 10_000, 1, 10_000_000),
    schedulerPollMs: integer(env, 'SCHEDULER_POLL_MS', 250, 10, 60_000),
    webhookTimeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    webhookRetryBaseMs: integer(env, 'WEBHOOK_RETRY_BASE_MS', 5_000, 1, 3_600_000),
    webhookRetryMaxMs: integer(env, 'WEBHOOK_RETRY_MAX_MS', 3_600_000, 1, 86_400_000),
    webhookMaxAttempts: integer(env, 'WEBHOOK_MAX_ATTEMPTS', 12, 1, 100),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 16 * 1024, 1024, 1024 * 1024),
    logLevel: env.LOG_LEVEL ?? 'info',
    drainDelayMs: integer(env, 'DRAIN_DELAY_MS', 0, 0, 120_000),
  };
  if (!demoMode) {
    if (!config.apiKey) {
      throw new ConfigError('API_KEY must be set outside DEMO_MODE (no generated secrets)');
    }
    const weakness = weakApiKeyReason(config.apiKey);
    if (weakness !== undefined) {
      // Never echo the value: it is a secret.
      throw new ConfigError(
        `API_KEY ${weakness}; outside DEMO_MODE it must be generated (e.g. \`openssl rand -base64 32\`)`,
      );
    }
    if (!config.pinEncryptionKey) {
      throw new ConfigError('PIN_ENCRYPTION_KEY must be set outside DEMO_MODE');
    }
    for (const [name, value] of [
      ['PAN_ENCRYPTION_KEY', config.panEncryptionKey],
      ['PAN_HASH_KEY', config.panHashKey],
    ] as const) {
      if (!value)
        throw new ConfigError(`${name} must be set outside DEMO_MODE (64 hex characters)`);
    }
    if (!env.PIN_TRANSPORT_KEYS_FILE || !fs.existsSync(config.pinTransportKeysFile)) {
      throw new ConfigError(
        'PIN_TRANSPORT_KEYS_FILE must name the operator’s PIN-transport key file outside DEMO_MODE (create one with `npm run keys:rotate`)',
      );
    }
    requireHttps('PUBLIC_URL', [config.publicUrl]);
    if (!env.FRAME_ANCESTORS) {
      throw new ConfigError('FRAME_ANCESTORS must list the program origins outside DEMO_MODE');
    }
    requireHttps('FRAME_ANCESTORS', config.frameAncestors);
  }
  if (config.databaseUrl !== undefined) {
    // Instances on one database must read what the others stored: no key may be generated per
    // instance (the demo's DATA_DIR key files), even in DEMO_MODE (docs/deployment.md).
    for (const [name, value] of [
      ['API_KEY', config.apiKey],
      ['PIN_ENCRYPTION_KEY', config.pinEncryptionKey],
      ['PAN_ENCRYPTION_KEY', config.panEncryptionKey],
      ['PAN_HASH_KEY', config.panHashKey],
      ['PIN_TRANSPORT_KEYS_FILE', env.PIN_TRANSPORT_KEYS_FILE],
      // The simulated chips exist only in DEMO_MODE, and so does their key.
      ...(demoMode ? ([['CHIP_PIN_KEY', config.chipPinKey]] as const) : []),
    ] as const) {
      if (!value) {
        throw new ConfigError(
          `${name} must be set with DATABASE_URL: every instance on the database shares it (generated per-instance key files are for SQLite only)`,
        );
      }
    }
    if (!fs.existsSync(config.pinTransportKeysFile)) {
      throw new ConfigError(
        'PIN_TRANSPORT_KEYS_FILE must name an existing key file with DATABASE_URL, shared by every instance (create one with `npm run keys:rotate`)',
      );
    }
  }
  if (config.apiKey !== undefined && config.apiKey.length < 24) {
    throw new ConfigError('API_KEY must be at least 24 characters');
  }
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    throw new ConfigError(
      `LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent`,
    );
  }
  return config;
}
