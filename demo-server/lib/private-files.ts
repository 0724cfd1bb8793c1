import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * DATA_DIR holds only secrets (the database, data keys, the API key, PIN-transport keys), so
 * only the platform's own user may read it. Modes are enforced at every open, not only when a
 * file is created: a folder or file copied in, or made by an older version, may be looser.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` if needed and makes it 0700 either way. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  fs.chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Makes an existing file 0600; a missing one is left missing. */
export function restrictFile(file: string): void {
  try {
    fs.chmodSync(file, PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** DATA_DIR 0700 and every file directly in it 0600. */
export function restrictDataDir(dir: string): void {
  ensurePrivateDir(dir);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) restrictFile(path.join(dir, entry.name));
  }
}

/** Key id of a symmetric key: the first 8 bytes of its SHA-256 (never the key itself). */
export function symmetricKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * A 256-bit data key: the configured one (hex) when set; otherwise, in DEMO_MODE only, one
 * generated on first start into `DATA_DIR/<fileName>` (0600) and read back on later starts.
 */
export function loadDataKey(options: {
  dataDir: string;
  fileName: string;
  variable: string;
  configured: string | undefined;
  demoMode: boolean;
}): Buffer {
  if (options.configured !== undefined) return Buffer.from(options.configured, 'hex');
  if (!options.demoMode) throw new Error(`${options.variable} must be set outside DEMO_MODE`);
  const file = path.join(options.dataDir, options.fileName);
  if (fs.existsSync(file)) {
    restrictFile(file);
    return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
  }
  ensurePrivateDir(options.dataDir);
  const key = randomBytes(32);
  fs.writeFileSync(file, `${key.toString('hex')}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  return key;
}
