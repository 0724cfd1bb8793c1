import {
  type KeyObject,
  createCipheriv,
  createECDH,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { importRevealKey } from '../demo-server/pins/jwe.js';
import { installSynchronousSubtle } from '../demo-server/pins/sync-subtle.js';

/**
 * Operations per second of `work` on this thread, with `inFlight` operations awaited at once
 * (jose's Node build runs on WebCrypto, whose jobs finish on libuv threads: more than one in
 * flight keeps the core busy, as concurrent requests do in the server).
 */
async function rate(work: () => unknown, seconds: number, inFlight = 1): Promise<number> {
  const loop = async (until: number) => {
    let count = 0;
    while (performance.now() < until) {
      await work();
      count++;
    }
    return count;
  };
  const warm = performance.now() + 200;
  await Promise.all(Array.from({ length: inFlight }, () => loop(warm)));
  const start = performance.now();
  const counts = await Promise.all(
    Array.from({ length: inFlight }, () => loop(start + seconds * 1000)),
  );
  return (counts.reduce((a, b) => a + b, 0) * 1000) / (performance.now() - start);
}

export interface CryptoLimits {
  /** jose compactDecrypt of a set-PIN JWE (ECDH-ES + A256GCM), as the request thread does it. */
  jweDecryptPerSec: number;
  /** The same on the JOSE workers' SubtleCrypto (pins/sync-subtle.ts), as a worker does it. */
  jweDecryptWorkerPerSec: number;
  /**
   * A reveal answer's crypto, as the server does it: the widget's public JWK imported (the
   * point checked) and jose CompactEncrypt to it; a different key each time.
   */
  jweEncryptPerSec: number;
  /** jose CompactEncrypt to one key imported once (the crypto alone, no import). */
  jweEncryptSameKeyPerSec: number;
  /** node:crypto diffieHellman on P-256 KeyObjects (the ECDH inside jose). */
  ecdhPerSec: number;
  /** node:crypto ECDH.computeSecret on P-256 (the same derivation, the legacy API). */
  ecdhComputeSecretPerSec: number;
  /** AES-256-GCM encryption of a small PIN payload, one cipher object per message. */
  aesGcmSmallPerSec: number;
  /** AES-256-GCM bulk throughput, bytes per second. */
  aesGcmBytesPerSec: number;
}

/**
 * The crypto limit of this machine, measured in this run on one core: the caller pins this
 * process (all its threads, libuv's included) to one CPU.
 */
export async function measureCryptoLimits(seconds = 1.5): Promise<CryptoLimits> {
  const platform = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = new TextEncoder().encode(JSON.stringify({ pin: '3850' }));
  const jwes = await Promise.all(
    Array.from({ length: 64 }, () =>
      new CompactEncrypt(payload)
        .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'k1', wst: 'x'.repeat(43) })
        .encrypt(platform.publicKey),
    ),
  );
  let i = 0;
  const options = {
    keyManagementAlgorithms: ['ECDH-ES'],
    contentEncryptionAlgorithms: ['A256GCM'],
  };
  const decrypt = () => compactDecrypt(jwes[i++ % jwes.length]!, platform.privateKey, options);
  const encryptTo = (key: CryptoKey | KeyObject) =>
    new CompactEncrypt(payload)
      .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', wst: 'x'.repeat(43) })
      .encrypt(key);
  const widgetKeys = Array.from({ length: 64 }, () => {
    const { kty, crv, x, y } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      format: 'jwk',
    });
    return { kty, crv, x, y };
  });
  let w = 0;
  const encrypt = async () =>
    encryptTo(await importRevealKey(widgetKeys[w++ % widgetKeys.length]!));
  // The best of one at a time and many at once: the limit is the fastest the library goes.
  const jweDecryptPerSec = Math.max(
    await rate(decrypt, seconds, 1),
    await rate(decrypt, seconds, 32),
  );
  // As a JOSE worker thread has it: jose on the synchronous primitives.
  const restore = installSynchronousSubtle();
  let jweDecryptWorkerPerSec: number;
  try {
    jweDecryptWorkerPerSec = await rate(decrypt, seconds, 32);
  } finally {
    restore();
  }
  const jweEncryptPerSec = Math.max(
    await rate(encrypt, seconds, 1),
    await rate(encrypt, seconds, 32),
  );
  const encryptSameKey = () => encryptTo(platform.publicKey);
  const jweEncryptSameKeyPerSec = Math.max(
    await rate(encryptSameKey, seconds, 1),
    await rate(encryptSameKey, seconds, 32),
  );

  const peers: KeyObject[] = Array.from(
    { length: 64 },
    () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
  );
  let j = 0;
  const ecdhPerSec = await rate(
    () => diffieHellman({ privateKey: platform.privateKey, publicKey: peers[j++ % peers.length]! }),
    seconds,
  );
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const peerPoints = Array.from({ length: 64 }, () => {
    const peer = createECDH('prime256v1');
    return peer.generateKeys();
  });
  let k = 0;
  const ecdhComputeSecretPerSec = await rate(
    () => ecdh.computeSecret(peerPoints[k++ % peerPoints.length]!),
    seconds,
  );

  const key = randomBytes(32);
  const aesGcmSmallPerSec = await rate(() => {
    const cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
    cipher.update(payload);
    cipher.final();
    return cipher.getAuthTag();
  }, seconds);
  const bulk = randomBytes(1 << 20);
  const bulkPerSec = await rate(() => {
    const cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
    cipher.update(bulk);
    cipher.final();
    return cipher.getAuthTag();
  }, seconds / 2);

  return {
    jweDecryptPerSec,
    jweDecryptWorkerPerSec,
    jweEncryptPerSec,
    jweEncryptSameKeyPerSec,
    ecdhPerSec,
    ecdhComputeSecretPerSec,
    aesGcmSmallPerSec,
    aesGcmBytesPerSec: bulkPerSec * bulk.length,
  };
}

/**
 * The mean of the limits measured before and after the loads they bound: this VM's speed drifts
 * from minute to minute, and a floor taken once, minutes from its load, drifts apart from it.
 */
export function meanLimits(before: CryptoLimits, after: CryptoLimits): CryptoLimits {
  const mean = {} as CryptoLimits;
  for (const name of Object.keys(before) as (keyof CryptoLimits)[]) {
    mean[name] = (before[name] + after[name]) / 2;
  }
  return mean;
}
