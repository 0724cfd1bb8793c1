import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
/**
 * What no stored text may hold: a lone UTF-16 surrogate (with the `u` flag a well-formed pair is
 * one code point, so only a lone half matches), or U+0000, which PostgreSQL text cannot store and
 * no field of this API means (SQLite would keep it, so both backends refuse it alike).
 */
const LONE_SURROGATE = /\p{Cs}/u;
const unstorable = (text: string): boolean => LONE_SURROGATE.test(text) || text.includes('\u0000');

/** The charset parameter of a Content-Type, lower-cased and unquoted, if any. */
function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? '');
  return match?.[1]?.toLowerCase();
}

/** Whether any string in a parsed body (key or value) holds an unstorable character. */
function hasUnstorable(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (unstorable(next)) return true;
    } else if (typeof next === 'object' && next !== null) {
      for (const [key, child] of Object.entries(next)) {
        if (unstorable(key)) return true;
        pending.push(child);
      }
    }
  }
  return false;
}

/**
 * Request bodies are JSON text in UTF-8 (RFC 8259 §8.1), and nothing else. Fastify's own parser
 * decodes invalid bytes to U+FFFD and ignores `charset` and `Content-Encoding`, so a body could
 * be stored differently from how it was sent; here such a body is refused instead: invalid
 * UTF-8, a lone surrogate escape or a U+0000 is a 400, another charset or a content coding a 415.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const charset = charsetOf(request.headers['content-type']);
    const encoding = request.headers['content-encoding'];
    if ((charset !== undefined && charset !== 'utf-8') || (encoding ?? 'identity') !== 'identity') {
      done(
        new ApiError(
          'UNSUPPORTED_MEDIA_TYPE',
          'Send the body as Content-Type: application/json in UTF-8, without Content-Encoding',
        ),
        undefined,
      );
      return;
    }
    let text: string;
    try {
      text = strictUtf8.decode(body as Buffer);
    } catch {
      done(new ApiError('MALFORMED_JSON', 'The body is not valid UTF-8'), undefined);
      return;
    }
    parseJson(request, text, (error, parsed) => {
      if (error) done(error, undefined);
      else if (hasUnstorable(parsed)) {
        done(
          new ApiError('MALFORMED_JSON', 'The body holds a lone UTF-16 surrogate or a U+0000'),
          undefined,
        );
      } else done(null, parsed);
    });
  });
}

/**
 * Path and query parameters are held to the same rule as bodies: a U+0000 or a lone surrogate
 * (a `%00` or `%ED%A0%80` in the URL) is a 400 naming the parameter, before any route looks it
 * up (PostgreSQL would fail on it, SQLite would look for it: neither is an answer).
 */
export function refuseUnstorableParams(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    for (const values of [request.params, request.query]) {
      if (typeof values !== 'object' || values === null) continue;
      for (const [name, value] of Object.entries(values)) {
        const texts = Array.isArray(value) ? value : [value];
        if (
          texts.some((text) => typeof text === 'string' && unstorable(text)) ||
          unstorable(name)
        ) {
          return done(
            new ApiError(
              'INVALID_FIELD',
              `${name} holds a character no parameter of this API takes (U+0000 or a lone surrogate)`,
              name,
            ),
          );
        }
      }
    }
    done();
  });
}
