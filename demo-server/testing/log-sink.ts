import { Writable } from 'node:stream';

/**
 * A log destination that keeps every line the platform writes, for the tests that search the
 * logs for what must never be there (a PIN, a token): pass `{ level: 'trace', stream }`.
 */
export function logSink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}
