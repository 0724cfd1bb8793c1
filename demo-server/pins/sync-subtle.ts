import {
  KeyObject,
  createCipheriv,
  createDecipheriv,
  createHash,
  diffieHellman,
} from 'node:crypto';

/**
 * A WebCrypto `SubtleCrypto` for jose on a JOSE worker thread (docs/performance.md, "Both
 * cores"), whose ECDH, SHA-256 and AES-GCM run on the calling thread through node:crypto.
 *
 * Node's WebCrypto runs each of those as a job on libuv's thread pool: three hand-offs per
 * set-PIN JWE, and the worker waits for each. On the two-core VM the bench runs on, the threads
 * then slept and woke instead of working, and the server used 1.3 to 1.5 cores under any load.
 * The same OpenSSL calls made synchronously keep the worker busy. Everything else (importing
 * and exporting keys, key generation, signatures) is Node's WebCrypto itself.
 *
 * Each operation checks what WebCrypto would check before it computes: the algorithm, the
 * key's type, algorithm and usages, the curve, the requested length, the tag length. What it
 * does not support it hands to Node's WebCrypto. `sync-subtle.test.ts` holds it to Node's
 * WebCrypto output for output, and failure for failure.
 */
export function synchronousSubtle(real: SubtleCrypto): SubtleCrypto {
  const refuse = (message: string): never => {
    throw new DOMException(message, 'InvalidAccessError');
  };
  const usable = (key: CryptoKey, name: string, usage: KeyUsage, type: KeyType) => {
    if (key.algorithm.name !== name || key.type !== type || !key.usages.includes(usage)) {
      refuse(`The key is not a ${type} ${name} key for ${usage}`);
    }
  };
  const bytes = (data: BufferSource): Uint8Array =>
    ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);
  const arrayBuffer = (buffer: Buffer): ArrayBuffer =>
    buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
  const gcm = (algorithm: AlgorithmIdentifier): algorithm is AesGcmParams =>
    typeof algorithm === 'object' &&
    algorithm.name === 'AES-GCM' &&
    ((algorithm as AesGcmParams).tagLength ?? 128) === 128;
  const gcmCipher = (key: CryptoKey) =>
    `aes-${(key.algorithm as AesKeyAlgorithm).length}-gcm` as 'aes-256-gcm';

  const subtle: Partial<SubtleCrypto> = {
    async deriveBits(algorithm, baseKey, length) {
      if (typeof algorithm !== 'object' || algorithm.name !== 'ECDH') {
        return real.deriveBits(algorithm, baseKey, length);
      }
      const { public: publicKey } = algorithm as EcdhKeyDeriveParams;
      usable(baseKey, 'ECDH', 'deriveBits', 'private');
      if (publicKey.algorithm.name !== 'ECDH' || publicKey.type !== 'public') {
        refuse('The public key is not an ECDH public key');
      }
      const curve = (key: CryptoKey) => (key.algorithm as EcKeyAlgorithm).namedCurve;
      if (curve(publicKey) !== curve(baseKey)) refuse('The keys are on different curves');
      // A length that is not whole bytes is WebCrypto's own to truncate.
      if (length != null && length % 8 !== 0) return real.deriveBits(algorithm, baseKey, length);
      const secret = diffieHellman({
        privateKey: KeyObject.from(baseKey),
        publicKey: KeyObject.from(publicKey),
      });
      const bits = length ?? secret.length * 8;
      if (bits > secret.length * 8) {
        throw new DOMException('The requested length is not available', 'OperationError');
      }
      return arrayBuffer(secret.subarray(0, bits / 8));
    },

    async digest(algorithm, data) {
      const name = typeof algorithm === 'string' ? algorithm : algorithm.name;
      if (name.toUpperCase() !== 'SHA-256') return real.digest(algorithm, data);
      return arrayBuffer(createHash('sha256').update(bytes(data)).digest());
    },

    async encrypt(algorithm, key, data) {
      if (!gcm(algorithm)) return real.encrypt(algorithm, key, data);
      usable(key, 'AES-GCM', 'encrypt', 'secret');
      const cipher = createCipheriv(gcmCipher(key), KeyObject.from(key), bytes(algorithm.iv));
      if (algorithm.additionalData) cipher.setAAD(bytes(algorithm.additionalData));
      const body = Buffer.concat([cipher.update(bytes(data)), cipher.final()]);
      return arrayBuffer(Buffer.concat([body, cipher.getAuthTag()]));
    },

    async decrypt(algorithm, key, data) {
      if (!gcm(algorithm)) return real.decrypt(algorithm, key, data);
      usable(key, 'AES-GCM', 'decrypt', 'secret');
      const sealed = bytes(data);
      if (sealed.length < 16) throw new DOMException('The data is too short', 'OperationError');
      const decipher = createDecipheriv(gcmCipher(key), KeyObject.from(key), bytes(algorithm.iv));
      if (algorithm.additionalData) decipher.setAAD(bytes(algorithm.additionalData));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      try {
        return arrayBuffer(
          Buffer.concat([
            decipher.update(sealed.subarray(0, sealed.length - 16)),
            decipher.final(),
          ]),
        );
      } catch {
        throw new DOMException(
          'The operation failed for an operation-specific reason',
          'OperationError',
        );
      }
    },
  };
  // The rest is Node's WebCrypto, bound to it (its methods check `this`).
  for (const name of [
    'importKey',
    'exportKey',
    'generateKey',
    'sign',
    'verify',
    'wrapKey',
    'unwrapKey',
    'deriveKey',
  ] as const) {
    (subtle as Record<string, unknown>)[name] = (
      real[name] as (...args: unknown[]) => unknown
    ).bind(real);
  }
  return subtle as SubtleCrypto;
}

/**
 * Makes `subtle` the `globalThis.crypto.subtle` that jose calls, beside the platform's own
 * random numbers. Returns what puts the platform's `crypto` back.
 */
export function installSubtle(subtle: SubtleCrypto): () => void {
  const installed = globalThis.crypto;
  const crypto = {
    subtle,
    getRandomValues: installed.getRandomValues.bind(installed),
    randomUUID: installed.randomUUID.bind(installed),
  };
  Object.defineProperty(globalThis, 'crypto', { value: crypto, configurable: true });
  return () =>
    Object.defineProperty(globalThis, 'crypto', { value: installed, configurable: true });
}

/**
 * Makes `globalThis.crypto.subtle`, which jose calls, the synchronous one, and returns what
 * puts the platform's back: on a JOSE worker thread only, whose isolate runs nothing but
 * `jwe.ts` (and in the bench, for that worker's floor).
 */
export function installSynchronousSubtle(): () => void {
  return installSubtle(synchronousSubtle(globalThis.crypto.subtle));
}
