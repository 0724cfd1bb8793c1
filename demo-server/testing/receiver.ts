import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: any };
}

/**
 * A local webhook receiver. `respond` decides each answer's status (default 200); every request
 * is recorded, and `waitFor` resolves when a predicate over the received list holds.
 */
export async function startReceiver(respond: (index: number) => number = () => 200) {
  const received: ReceivedWebhook[] = [];
  let requests = 0;
  const waiters: (() => void)[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const status = respond(requests++);
      if (status >= 200 && status < 300) {
        received.push({ headers: request.headers, body, json: JSON.parse(body) });
      }
      response.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`);
      waiters.splice(0).forEach((wake) => wake());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    received,
    get requests() {
      return requests;
    },
    async waitFor(
      predicate: (all: ReceivedWebhook[]) => boolean,
      timeoutMs = 15_000,
    ): Promise<ReceivedWebhook[]> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`receiver: condition not met; got ${received.length} webhooks`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 500));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
