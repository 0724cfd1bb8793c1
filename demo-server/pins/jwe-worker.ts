import { type KeyObject, createPrivateKey } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { PinJweError, decryptPinJwe, encryptForReveal, importRevealKey } from './jwe.js';
import type { WorkerAnswer, WorkerRequest } from './jwe-workers.js';
import { installSynchronousSubtle } from './sync-subtle.js';

/**
 * A JOSE worker thread (docs/performance.md, "Both cores"): the same `jwe.ts` functions as the
 * request thread would call, on keys the request thread hands over once each.
 */
installSynchronousSubtle();
const port = parentPort!;
const keys = new Map<number, KeyObject>();

async function answer(request: WorkerRequest): Promise<WorkerAnswer> {
  try {
    if (request.op === 'encrypt') {
      const jwe = await encryptForReveal(
        request.pin,
        await importRevealKey(request.jwk),
        request.wst,
      );
      return { id: request.id, jwe };
    }
    if (request.key) {
      const { id, pkcs8 } = request.key;
      keys.set(id, createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
    }
    const { plaintext, header } = await decryptPinJwe(request.jwe, () => keys.get(request.keyId));
    return { id: request.id, plaintext, header };
  } catch (error) {
    return {
      id: request.id,
      failure: error instanceof PinJweError ? error.code : 'PIN_DECRYPTION_FAILED',
    };
  }
}

port.on('message', (request: WorkerRequest) => {
  void answer(request).then((reply) => port.postMessage(reply));
});
