import {
  type KeyObject,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type JWK, calculateJwkThumbprint } from 'jose';
import { restrictFile } from '../lib/private-files.js';

/** One PIN-transport key as kept on disk: an EC P-256 private JWK and its lifetime. */
interface KeyRecord {
  kid: string;
  created_at: number;
  /** When set, the key only decrypts, and only until this time (rotation grace period). */
  retires_at: number | null;
  private_jwk: JWK;
}

interface KeyFile {
  keys: KeyRecord[];
}

async function newKeyRecord(now: number): Promise<KeyRecord> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateJwk = privateKey.export({ format: 'jwk' }) as JWK;
  const { d: _d, ...publicJwk } = privateJwk;
  const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
  return { kid, created_at: now, retires_at: null, private_jwk: privateJwk };
}

function writeAtomically(file: string, data: KeyFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temp, file);
}

/**
 * Creates the key file with one key when it does not exist; otherwise adds a new current key
 * and gives the previous ones `graceSeconds` to keep decrypting. Returns the new key's kid.
 */
export async function rotateTransportKey(file: string, graceSeconds: number, now = Date.now()) {
  const existing: KeyFile = fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, 'utf8')) as KeyFile)
    : { keys: [] };
  const kept = existing.keys
    .filter((key) => key.retires_at === null || key.retires_at > now)
    .map((key) => ({ ...key, retires_at: key.retires_at ?? now + graceSeconds * 1000 }));
  const fresh = await newKeyRecord(now);
  writeAtomically(file, { keys: [...kept, fresh] });
  return fresh.kid;
}

interface LoadedKey {
  kid: string;
  retiresAt: number | null;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/**
 * The platform's PIN-transport keys (README “PINs”): the newest encrypts (it is the one published),
 * retired ones keep decrypting until their grace period ends. The file is re-read when it
 * changes, so `npm run keys:rotate` takes effect without a restart.
 */
export class TransportKeys {
  private keys: LoadedKey[] = [];
  private loadedVersion = '';
  private checkedAt = 0;

  private constructor(private readonly file: string) {}

  static async open(file: string): Promise<TransportKeys> {
    if (!fs.existsSync(file)) await rotateTransportKey(file, 0);
    // Private keys: owner-only even when the operator's copy arrived with a looser mode.
    restrictFile(file);
    const keys = new TransportKeys(file);
    keys.reload(true);
    return keys;
  }

  /** Re-reads the file when it changed; looks at most once a second unless `now` is asked. */
  private reload(immediately = false): void {
    const now = Date.now();
    if (!immediately && now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    // Rotation replaces the file (rename): a new inode tells a change even within one mtime tick.
    const stat = fs.statSync(this.file);
    const version = `${stat.ino}:${stat.mtimeMs}`;
    if (version === this.loadedVersion) return;
    const data = JSON.parse(fs.readFileSync(this.file, 'utf8')) as KeyFile;
    this.keys = data.keys.map((record) => {
      const privateKey = createPrivateKey({ key: record.private_jwk, format: 'jwk' });
      const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
      return { kid: record.kid, retiresAt: record.retires_at, privateKey, publicJwk };
    });
    this.loadedVersion = version;
  }

  /** The published JWKS: the current key, for encryption with ECDH-ES. */
  jwks(): { keys: JWK[] } {
    this.reload(true);
    const current = this.keys.at(-1);
    if (!current) throw new Error('no PIN-transport key');
    return { keys: [{ ...current.publicJwk, kid: current.kid, use: 'enc', alg: 'ECDH-ES' }] };
  }

  /** The private key for `kid` while it may still decrypt, else undefined. */
  decryptionKey(kid: string | undefined, now = Date.now()): KeyObject | undefined {
    if (kid === undefined) return undefined;
    this.reload();
    let key = this.keys.find((candidate) => candidate.kid === kid);
    if (!key) {
      // A key rotated in moments ago: look at the file now rather than within the second.
      this.reload(true);
      key = this.keys.find((candidate) => candidate.kid === kid);
    }
    if (!key || (key.retiresAt !== null && key.retiresAt <= now)) return undefined;
    return key.privateKey;
  }
}
