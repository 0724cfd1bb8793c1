import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { type CompactJWEHeaderParameters, type JWK, decodeProtectedHeader } from 'jose';
import { type JweFailure, PinJweError, decryptPinJwe, encryptForReveal } from './jwe.js';

/** A decrypted set-PIN JWE: the payload bytes and the protected header (`wst`, `kid`). */
export interface DecryptedPin {
  plaintext: Uint8Array;
  header: CompactJWEHeaderParameters;
}

/**
 * The PIN JWE work of set PIN and reveal, on the request thread or on worker threads
 * (docs/performance.md, "Both cores"). Either way it is `jwe.ts` that runs.
 */
export interface PinJwe {
  decrypt(
    jwe: string,
    keyFor: (kid: string | undefined) => KeyObject | undefined,
  ): Promise<DecryptedPin>;
  /** `key` is `jwk` already imported (and so checked) by the caller. */
  encryptForReveal(pin: string, jwk: JWK, key: CryptoKey, wst: string): Promise<string>;
  close(): Promise<void>;
}

/** On the request thread: one core, no messages. */
export const inlinePinJwe: PinJwe = {
  decrypt: decryptPinJwe,
  encryptForReveal: (pin, _jwk, key, wst) => encryptForReveal(pin, key, wst),
  close: async () => undefined,
};

export type WorkerRequest =
  | {
      op: 'decrypt';
      id: number;
      jwe: string;
      keyId: number;
      /** The key's PKCS #8 bytes, the first time this worker is asked to use it. */
      key?: { id: number; pkcs8: Buffer };
    }
  | { op: 'encrypt'; id: number; pin: string; jwk: JWK; wst: string };

export type WorkerAnswer =
  | { id: number; plaintext: Uint8Array; header: CompactJWEHeaderParameters }
  | { id: number; jwe: string }
  | { id: number; failure: JweFailure };

interface Pending {
  resolve(answer: WorkerAnswer): void;
  reject(error: Error): void;
}

/** One worker thread, its in-flight requests and the keys it already holds. */
class JoseWorker {
  readonly pending = new Map<number, Pending>();
  readonly keysSent = new Set<number>();
  private readonly thread: Worker;

  constructor(onExit: (worker: JoseWorker) => void) {
    this.thread = new Worker(new URL('./jwe-worker-boot.mjs', import.meta.url), {
      workerData: { entry: new URL('./jwe-worker.ts', import.meta.url).href },
    });
    this.thread.unref();
    this.thread.on('message', (answer: WorkerAnswer) => {
      const waiting = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      waiting?.resolve(answer);
    });
    this.thread.on('error', () => undefined);
    this.thread.on('exit', () => {
      for (const waiting of this.pending.values()) waiting.reject(new Error('JOSE worker exited'));
      this.pending.clear();
      onExit(this);
    });
  }

  ask(request: WorkerRequest): Promise<WorkerAnswer> {
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      this.thread.postMessage(request);
    });
  }

  terminate(): Promise<number> {
    return this.thread.terminate();
  }
}

/**
 * JOSE on `size` worker threads, each request to the least busy one. The request thread keeps
 * HTTP, validation and the store; a worker holds a transport key only once the request thread
 * has resolved it (`keyFor`: rotation and retirement stay decided in one place).
 */
export class JweWorkers implements PinJwe {
  private readonly workers: JoseWorker[] = [];
  private readonly keyIds = new WeakMap<KeyObject, { id: number; pkcs8: Buffer }>();
  private nextKeyId = 1;
  private nextRequestId = 1;
  private closed = false;

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  private spawn(): JoseWorker {
    return new JoseWorker((gone) => {
      const index = this.workers.indexOf(gone);
      // A worker that died (not one we closed) is replaced; its requests failed with a 500.
      if (index !== -1 && !this.closed) this.workers[index] = this.spawn();
    });
  }

  private leastBusy(): JoseWorker {
    let best = this.workers[0]!;
    for (const worker of this.workers) {
      if (worker.pending.size < best.pending.size) best = worker;
    }
    return best;
  }

  async decrypt(
    jwe: string,
    keyFor: (kid: string | undefined) => KeyObject | undefined,
  ): Promise<DecryptedPin> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(jwe).kid;
    } catch {
      throw new PinJweError('PIN_DECRYPTION_FAILED');
    }
    const key = keyFor(kid);
    if (!key) throw new PinJweError('UNKNOWN_KEY_ID');
    let known = this.keyIds.get(key);
    if (!known) {
      known = { id: this.nextKeyId++, pkcs8: key.export({ format: 'der', type: 'pkcs8' }) };
      this.keyIds.set(key, known);
    }
    const worker = this.leastBusy();
    const first = !worker.keysSent.has(known.id);
    worker.keysSent.add(known.id);
    const answer = await worker.ask({
      op: 'decrypt',
      id: this.nextRequestId++,
      jwe,
      keyId: known.id,
      ...(first ? { key: known } : {}),
    });
    if ('failure' in answer) throw new PinJweError(answer.failure);
    if (!('plaintext' in answer)) throw new Error('JOSE worker answered out of turn');
    return answer;
  }

  async encryptForReveal(pin: string, jwk: JWK, _key: CryptoKey, wst: string): Promise<string> {
    const { kty, crv, x, y } = jwk;
    const answer = await this.leastBusy().ask({
      op: 'encrypt',
      id: this.nextRequestId++,
      pin,
      jwk: { kty, crv, x, y },
      wst,
    });
    if (!('jwe' in answer)) throw new Error('The reveal answer could not be encrypted');
    return answer.jwe;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/** `CRYPTO_WORKERS` threads, or the request thread alone when it is 0. */
export function pinJwe(workers: number): PinJwe {
  return workers > 0 ? new JweWorkers(workers) : inlinePinJwe;
}
