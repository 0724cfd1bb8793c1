// A worker thread's entry: the server runs TypeScript through tsx, whose loader a worker does
// not inherit, so the worker registers it and then loads its real module (jwe-worker.ts).
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
