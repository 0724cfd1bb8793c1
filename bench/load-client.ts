import net from 'node:net';

/** One request of a load, serialized before the timed run. */
export interface LoadRequest {
  method: 'POST' | 'GET';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadRun {
  /** Answers by status code. */
  statuses: Map<number, number>;
  latenciesMs: number[];
  /** First request written and last answer read: performance.now() and the monotonic clock (µs). */
  wallMs: number;
  windowUs: [number, number];
  /** CPU this process (the load generator) used during the run, in cores. */
  clientCores: number;
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const HEADER_END = Buffer.from('\r\n\r\n');

function serialize(request: LoadRequest, host: string): Buffer {
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  const headers = {
    host,
    ...request.headers,
    ...(body ? { 'content-length': String(body.length) } : {}),
  };
  const head = `${request.method} ${request.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  return body ? Buffer.concat([Buffer.from(head), body]) : Buffer.from(head);
}

/**
 * The bench's load generator: `connections` keep-alive HTTP/1.1 sockets, one request in flight
 * on each, every request written from bytes made before the run and every answer read only as
 * far as its status line and Content-Length. It costs a few microseconds of CPU per request,
 * so on a two-core machine the server keeps nearly both cores (autocannon, which the bench
 * used before, spent about 120 µs per request).
 */
export async function runLoad(
  origin: { host: string; port: number },
  connections: number,
  requests: readonly LoadRequest[],
): Promise<LoadRun> {
  const wire = requests.map((request) => serialize(request, `${origin.host}:${origin.port}`));
  const statuses = new Map<number, number>();
  const latenciesMs: number[] = [];
  let next = 0;
  let firstSent = 0;
  let firstSentUs = 0;
  let lastAnswered = 0;
  let lastAnsweredUs = 0;
  const cpuBefore = process.cpuUsage();

  const connection = () =>
    new Promise<void>((resolve, reject) => {
      const socket = net.connect(origin.port, origin.host);
      socket.setNoDelay(true);
      let pending: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      const send = () => {
        const bytes = wire[next++];
        if (!bytes) {
          socket.end();
          return resolve();
        }
        sentAt = performance.now();
        if (!firstSent) {
          firstSent = sentAt;
          firstSentUs = monotonicUs();
        }
        socket.write(bytes);
      };
      socket.on('connect', send);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        const end = pending.indexOf(HEADER_END);
        if (end === -1) return;
        const head = pending.subarray(0, end).toString('latin1');
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!length) return reject(new Error(`an answer without Content-Length:\n${head}`));
        const total = end + HEADER_END.length + Number(length[1]);
        if (pending.length < total) return;
        if (pending.length > total) return reject(new Error('an answer nobody asked for'));
        pending = Buffer.alloc(0);
        const status = Number(head.slice(9, 12));
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        lastAnswered = performance.now();
        lastAnsweredUs = monotonicUs();
        latenciesMs.push(lastAnswered - sentAt);
        send();
      });
    });

  await Promise.all(Array.from({ length: Math.min(connections, wire.length) }, connection));
  const wallMs = lastAnswered - firstSent;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    statuses,
    latenciesMs,
    wallMs,
    windowUs: [firstSentUs, lastAnsweredUs],
    clientCores: (cpu.user + cpu.system) / 1000 / wallMs,
  };
}
