import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DIST_DIR,
  acceptsEncoding,
  inlineHashes,
  widgetAssetRoutes,
  widgetAssets,
  widgetDocumentHeaders,
  widgetDocuments,
} from './widget-assets.js';

const sha256 = (text: string) =>
  `'sha256-${crypto.createHash('sha256').update(text).digest('base64')}'`;
const directive = (csp: string, name: string) =>
  csp
    .split('; ')
    .find((part) => part.startsWith(`${name} `))!
    .split(' ')
    .slice(1);

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'widget-assets-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('inlineHashes', () => {
  it('hashes each inline <style> and <script>, exactly as written; a script with src is not inline', () => {
    const style = ':root{--pw-primary:#1f4fd1}\n';
    const script = 'console.log(1)';
    const html = `<head><script type="module" async crossorigin src="/widgets/assets/early-x.js"></script><style>${style}</style><script>${script}</script></head>`;
    expect(inlineHashes(html)).toEqual({ styles: [sha256(style)], scripts: [sha256(script)] });
    expect(inlineHashes('<head></head>')).toEqual({ styles: [], scripts: [] });
  });
});

describe('widgetDocumentHeaders', () => {
  it('allows the inline elements by their hashes only, never unsafe-inline', () => {
    const csp = widgetDocumentHeaders(['https://program.example'], {
      styles: ["'sha256-abc='"],
      scripts: [],
    })['content-security-policy']!;
    expect(directive(csp, 'style-src')).toEqual(["'self'", "'sha256-abc='"]);
    expect(directive(csp, 'script-src')).toEqual(["'self'"]);
    expect(csp).not.toContain('unsafe-inline');
    expect(directive(csp, 'frame-ancestors')).toEqual(['https://program.example']);
  });

  it('without inline elements, is the policy documents without any get', () => {
    const csp = widgetDocumentHeaders([])['content-security-policy']!;
    expect(directive(csp, 'style-src')).toEqual(["'self'"]);
    expect(directive(csp, 'frame-ancestors')).toEqual(["'none'"]);
  });
});

describe('acceptsEncoding', () => {
  it.each([
    ['gzip, deflate, br, zstd', 'br', true],
    ['gzip, deflate, br, zstd', 'gzip', true],
    ['gzip;q=1.0, br;q=0', 'br', false],
    ['br;q=0.5', 'br', true],
    ['*', 'br', true],
    ['*;q=0', 'gzip', false],
    ['br;q=0, *', 'br', false],
    ['identity', 'br', false],
    [undefined, 'gzip', false],
  ])('%s accepts %s: %s', (header, coding, accepted) => {
    expect(acceptsEncoding(header, coding)).toBe(accepted);
  });
});

describe('widgetDocuments', () => {
  it('reads a document once, in each encoding, with its hashes in the CSP, and again once it changes', () => {
    const file = path.join(dir, 'index.html');
    fs.writeFileSync(file, '<html><head><style>a{b:c}</style></head></html>');
    const documents = widgetDocuments(['https://program.example']);
    const first = documents(file)!;
    expect(first.identity.toString()).toContain('a{b:c}');
    expect(zlib.brotliDecompressSync(first.br).equals(first.identity)).toBe(true);
    expect(zlib.gunzipSync(first.gzip).equals(first.identity)).toBe(true);
    expect(directive(first.headers['content-security-policy']!, 'style-src')).toContain(
      sha256('a{b:c}'),
    );
    expect(documents(file)).toBe(first);

    // A new build: other bytes, so another hash.
    fs.writeFileSync(file, '<html><head><style>a{b:d;e:f}</style></head></html>');
    const second = documents(file)!;
    expect(second).not.toBe(first);
    expect(directive(second.headers['content-security-policy']!, 'style-src')).toEqual([
      "'self'",
      sha256('a{b:d;e:f}'),
    ]);
  });

  it('is undefined for a document that is not built', () => {
    expect(widgetDocuments([])(path.join(dir, 'missing.html'))).toBeUndefined();
  });
});

describe('widgetAssets', () => {
  it('serves a built script with the encodings written beside it', () => {
    const code = Buffer.from('export const a = 1;');
    fs.writeFileSync(path.join(dir, 'boot-Ab_1.js'), code);
    fs.writeFileSync(path.join(dir, 'boot-Ab_1.js.br'), zlib.brotliCompressSync(code));
    const asset = widgetAssets(dir)('boot-Ab_1.js')!;
    expect(asset.type).toBe('text/javascript; charset=utf-8');
    expect(asset.identity.equals(code)).toBe(true);
    expect(zlib.brotliDecompressSync(asset.br!).equals(code)).toBe(true);
    expect(asset.gzip).toBeUndefined();
  });

  it('answers only for a script or stylesheet name of the directory, never a path', () => {
    fs.writeFileSync(path.join(dir, 'boot-Ab_1.js'), 'x');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
    const assets = widgetAssets(path.join(dir));
    for (const name of [
      '../boot-Ab_1.js',
      'sub/boot-Ab_1.js',
      'notes.txt',
      'boot-Ab_1.js.br',
      'absent.js',
    ]) {
      expect(assets(name), name).toBeUndefined();
    }
  });
});

const built = fs.existsSync(path.join(DIST_DIR, 'widgets', 'set-pin', 'index.html'));

describe.skipIf(!built)('the routes, on the built widgets', () => {
  const app = Fastify();
  beforeEach(async () => {
    if (!app.hasRoute({ method: 'GET', url: '/widgets/set-pin/' })) {
      await widgetAssetRoutes(app, ['https://program.example']);
    }
  });

  it('a document: its own inline styles allowed by hash, brotli when accepted, not cached', async () => {
    const plain = await app.inject({
      url: '/widgets/set-pin/',
      headers: { 'accept-encoding': '' },
    });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['cache-control']).toBe('no-cache');
    const csp = plain.headers['content-security-policy'] as string;
    const styles = [...plain.body.matchAll(/<style>([\s\S]*?)<\/style>/g)].map(
      (match) => match[1]!,
    );
    expect(styles.length).toBeGreaterThan(0);
    expect(directive(csp, 'style-src')).toEqual(["'self'", ...styles.map(sha256)]);
    expect(plain.body).not.toMatch(/<link rel="stylesheet"/);

    const br = await app.inject({ url: '/widgets/set-pin/', headers: { 'accept-encoding': 'br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toBe('accept-encoding');
    expect(zlib.brotliDecompressSync(br.rawPayload).toString()).toBe(plain.body);
  });

  it('an asset: immutable, same-origin only, the same bytes in each encoding; nothing outside', async () => {
    const html = (await app.inject({ url: '/widgets/set-pin/' })).body;
    const src = /<script type="module" async crossorigin src="([^"]+)"/.exec(html)![1]!;
    const plain = await app.inject({ url: src, headers: { 'accept-encoding': 'identity' } });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(plain.headers['x-content-type-options']).toBe('nosniff');
    const gzip = await app.inject({ url: src, headers: { 'accept-encoding': 'gzip' } });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gzip.rawPayload).equals(plain.rawPayload)).toBe(true);

    for (const url of [
      '/widgets/assets/..%2F..%2Fpackage.json',
      '/widgets/assets/%2E%2E%2Fset-pin%2Findex.html',
      `${src}.br`,
      '/widgets/assets/absent-123.js',
    ]) {
      expect((await app.inject({ url })).statusCode, url).toBe(404);
    }
  });
});
