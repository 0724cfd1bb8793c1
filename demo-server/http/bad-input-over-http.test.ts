import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY, tempDataDir } from '../testing/platform.js';
import { ServerProcess, freePort } from '../testing/server-process.js';

/**
 * Bad input over real sockets to the real server process: what in-process injection cannot send
 * (broken HTTP, oversized headers, bodies cut off mid-way, slow clients). Node answers the
 * broken HTTP itself; whatever reaches the app is a JSON 4xx; the process stays up throughout.
 */
const dataDir = tempDataDir();
let server: ServerProcess;

beforeAll(async () => {
  server = new ServerProcess(await freePort(), {
    DATA_DIR: dataDir,
    API_KEY: TEST_API_KEY,
    LOG_LEVEL: 'warn',
  });
  await server.start();
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Writes raw bytes, returns whatever comes back until the server closes or goes quiet. */
function raw(
  bytes: string | Buffer,
  { endAfterWrite = true, quietMs = 2000 } = {},
): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let answer = '';
    const done = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(quietMs, done);
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('close', done);
    socket.on('error', done);
    socket.write(bytes, () => {
      if (endAfterWrite) socket.end();
    });
  });
}

const status = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
const body = (answer: string) => answer.slice(answer.indexOf('\r\n\r\n') + 4);

describe('bad input over real HTTP', () => {
  it('broken HTTP gets a 4xx from Node, app-level garbage a JSON 4xx; the server stays up', async () => {
    const auth = `Authorization: Bearer ${TEST_API_KEY}\r\n`;
    const badUtf8 = Buffer.concat([
      Buffer.from('{"name":"'),
      Buffer.from([0xff, 0xfe, 0xfd]),
      Buffer.from('","form":"PHYSICAL"}'),
    ]);
    const cases: [string, string | Buffer, (answer: string) => void][] = [
      ['not HTTP at all', 'HELLO\r\n\r\n', (a) => expect(status(a)).toBe(400)],
      [
        'a request line with spaces in the path',
        'GET /v1/ cards HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
        (a) => expect(status(a)).toBe(400),
      ],
      [
        'a header without a colon',
        'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBroken\r\n\r\n',
        (a) => expect(status(a)).toBe(400),
      ],
      [
        'a 20 KB header',
        `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        (a) => expect(status(a)).toBe(431),
      ],
      [
        'two Content-Lengths',
        `POST /v1/card_products HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
        (a) => expect(status(a)).toBe(400),
      ],
      [
        'Content-Length and chunked',
        `POST /v1/card_products HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
        (a) => expect(status(a)).toBe(400),
      ],
      [
        'invalid UTF-8 in a JSON body',
        Buffer.concat([
          Buffer.from(
            `POST /v1/card_products HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nContent-Length: ${badUtf8.length}\r\nConnection: close\r\n\r\n`,
          ),
          badUtf8,
        ]),
        (a) => expect(JSON.parse(body(a))).toMatchObject({ code: 'MALFORMED_JSON' }),
      ],
      [
        'a chunked body over the limit',
        `POST /v1/card_products HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${'4000\r\n' + 'a'.repeat(0x4000) + '\r\n'}${'10\r\n' + 'a'.repeat(16) + '\r\n'}0\r\n\r\n`,
        (a) => expect(JSON.parse(body(a))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' }),
      ],
      [
        'a bad percent-encoding',
        `GET /v1/cards/%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Connection: close\r\n\r\n`,
        (a) => expect(JSON.parse(body(a)).code).toMatch(/INVALID_(FIELD|REQUEST)/),
      ],
      [
        'a widget call from another origin',
        `GET /v1/widget/session HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\nAuthorization: Bearer wt_x\r\nConnection: close\r\n\r\n`,
        (a) => expect(JSON.parse(body(a))).toMatchObject({ code: 'FORBIDDEN' }),
      ],
    ];
    for (const [label, bytes, check] of cases) {
      const answer = await raw(bytes);
      expect(answer, label).not.toBe('');
      check(answer);
    }
    // A body cut off mid-way, and a client that sends half a request and goes quiet.
    await raw(
      `POST /v1/card_products HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`,
    );
    await raw(
      `POST /v1/card_products HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na`,
      { endAfterWrite: false, quietMs: 300 },
    );

    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const products = await fetch(`${server.url}/v1/card_products`, {
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    expect((await products.json()).data).toEqual([]);
    expect(server.output).not.toMatch(/"level":50|unhandled error/);
  });
});
