import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import { SDK_FILES, sdkManifest } from './sdk-manifest.js';

const PACKAGE_VERSION = (
  JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as {
    version: string;
  }
).version;

export const DIST_DIR = path.resolve(import.meta.dirname, '../../dist');

/**
 * Security headers of the widget documents (README “Widgets and the host SDK”): only our own scripts and styles, calls
 * only to this API, framing only by FRAME_ANCESTORS, and nothing leaking through referrers.
 * `inline` names the `<style>` and `<script>` elements of the document itself by their hashes
 * (CSP3 hash sources): exactly those run, any other inline style or script is still refused.
 */
export function widgetDocumentHeaders(
  frameAncestors: readonly string[],
  inline: InlineHashes = { styles: [], scripts: [] },
): Record<string, string> {
  const csp = [
    "default-src 'none'",
    ["script-src 'self'", ...inline.scripts].join(' '),
    ["style-src 'self'", ...inline.styles].join(' '),
    "connect-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors.length ? frameAncestors.join(' ') : "'none'"}`,
  ].join('; ');
  return {
    'content-security-policy': csp,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    // Passkey ceremonies for the platform's own documents only (docs/step-up.md); the rest stays off.
    'permissions-policy':
      'publickey-credentials-get=(self), publickey-credentials-create=(self), camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), hid=(), clipboard-read=(), display-capture=()',
    'cross-origin-opener-policy': 'same-origin',
    'cache-control': 'no-cache',
  };
}

/** CSP hash sources (`'sha256-…'`) of a document's inline `<style>` and `<script>` elements. */
export interface InlineHashes {
  styles: string[];
  scripts: string[];
}

const hashSource = (text: string) =>
  `'sha256-${crypto.createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The exact text of `html`'s inline `<style>` and `<script>` elements: what CSP hashes, and
 * what the document carries of its own CSS and JS (bench/size.ts). A `<script>` with a `src`
 * is the file's, not inline.
 */
export function inlineElements(html: string): { styles: string[]; scripts: string[] } {
  const styles = [...html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)].map(
    (match) => match[1]!,
  );
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)]
    .filter((match) => !/\ssrc=/i.test(match[1]!))
    .map((match) => match[2]!);
  return { styles, scripts };
}

/** The hashes of `html`'s inline elements, over their exact text as CSP hashes it. */
export function inlineHashes(html: string): InlineHashes {
  const { styles, scripts } = inlineElements(html);
  return { styles: styles.map(hashSource), scripts: scripts.map(hashSource) };
}

/** A widget document as it is sent: its bytes in each encoding, and its headers. */
interface WidgetDocument {
  mtimeMs: number;
  size: number;
  identity: Buffer;
  br: Buffer;
  gzip: Buffer;
  headers: Record<string, string>;
}

/** A hashed asset of the widget documents: its bytes, and those of each encoding the build wrote. */
interface WidgetAsset {
  type: string;
  identity: Buffer;
  br: Buffer | undefined;
  gzip: Buffer | undefined;
}

const ASSET_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
/** What the build names its scripts and stylesheets: a name and a hash, never a path. */
const ASSET_NAME = /^[\w-]+\.(?:js|css)$/;

/**
 * The widget documents' scripts and stylesheets, each read once with the `.br` and `.gz` the build
 * wrote beside it (vite.precompress.ts): they are on every widget's path to `load`, where a
 * request should cost a lookup, not a stat, an open and a stream. Their names carry their
 * hash, so what was read never changes; a name the directory does not have is not remembered.
 */
export function widgetAssets(dir: string) {
  const cache = new Map<string, WidgetAsset>();
  const read = (file: string) => {
    try {
      return fs.readFileSync(path.join(dir, file));
    } catch {
      return undefined;
    }
  };
  return (name: string): WidgetAsset | undefined => {
    if (!ASSET_NAME.test(name)) return undefined;
    const known = cache.get(name);
    if (known) return known;
    const identity = read(name);
    if (!identity) return undefined;
    const asset: WidgetAsset = {
      type: ASSET_TYPES[path.extname(name)]!,
      identity,
      br: read(`${name}.br`),
      gzip: read(`${name}.gz`),
    };
    cache.set(name, asset);
    return asset;
  };
}

/** Whether `accept-encoding` accepts `coding` (a q of 0 refuses it; `*` stands for any). */
export function acceptsEncoding(header: string | undefined, coding: string): boolean {
  let accepted = false;
  for (const part of (header ?? '').toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (name !== coding && name !== '*') continue;
    const q = params.map((param) => /^\s*q=([\d.]+)\s*$/.exec(param)?.[1]).find(Boolean);
    const weight = q === undefined ? 1 : Number(q);
    // The coding's own entry decides over `*`.
    if (name === coding) return weight > 0;
    accepted = weight > 0;
  }
  return accepted;
}

/**
 * Reads each widget document once, compressed once (brotli, gzip) and with its CSP: a document
 * is on every widget's path to `load`, so a request costs a lookup, not a file read, two
 * compressions and the hashing. Read again when the file changes (a new build).
 */
export function widgetDocuments(frameAncestors: readonly string[]) {
  const cache = new Map<string, WidgetDocument>();
  return (file: string): WidgetDocument | undefined => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      return undefined;
    }
    const known = cache.get(file);
    if (known && known.mtimeMs === stat.mtimeMs && known.size === stat.size) return known;
    const identity = fs.readFileSync(file);
    const html = identity.toString('utf8');
    const read: WidgetDocument = {
      mtimeMs: stat.mtimeMs,
      size: stat.size,
      identity,
      br: zlib.brotliCompressSync(identity, {
        params: {
          [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
          [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: identity.length,
        },
      }),
      gzip: zlib.gzipSync(identity, { level: 9 }),
      headers: widgetDocumentHeaders(frameAncestors, inlineHashes(html)),
    };
    cache.set(file, read);
    return read;
  };
}

/** Sends `body` brotli- or gzip-encoded when the client accepts it and the encoding exists. */
function sendEncoded(
  request: FastifyRequest,
  reply: FastifyReply,
  body: { identity: Buffer; br: Buffer | undefined; gzip: Buffer | undefined },
) {
  const accepted = request.headers['accept-encoding'];
  const coding =
    body.br && acceptsEncoding(accepted, 'br')
      ? 'br'
      : body.gzip && acceptsEncoding(accepted, 'gzip')
        ? 'gzip'
        : undefined;
  reply.header('vary', 'accept-encoding');
  if (coding) reply.header('content-encoding', coding);
  return reply.send(coding ? body[coding] : body.identity);
}

function notBuilt(reply: FastifyReply) {
  const error = new ApiError('INTERNAL_ERROR', 'The widgets are not built: run `npm run build`');
  return reply.status(503).send(error.toJSON());
}

/**
 * Serves the built widget documents at /widgets/{set-pin,reveal-pin,enroll-passkey}/ with their
 * headers (the enroll document runs passkey ceremonies: Permissions-Policy allows them), their
 * hashed assets (immutable), and the host SDK at /sdk/ (loadable from any origin).
 */
export async function widgetAssetRoutes(app: FastifyInstance, frameAncestors: readonly string[]) {
  const documents = widgetDocuments(frameAncestors);
  const widgetsDir = path.join(DIST_DIR, 'widgets');
  const sdkDir = path.join(DIST_DIR, 'sdk');

  for (const widget of ['set-pin', 'reveal-pin', 'enroll-passkey']) {
    app.get(`/widgets/${widget}/`, { schema: { hide: true } }, async (request, reply) => {
      const page = documents(path.join(widgetsDir, widget, 'index.html'));
      if (!page) return notBuilt(reply);
      reply.headers(page.headers).type('text/html; charset=utf-8');
      return sendEncoded(request, reply, page);
    });
    app.get(`/widgets/${widget}`, { schema: { hide: true } }, async (request, reply) =>
      reply.redirect(`/widgets/${widget}/${request.url.slice(`/widgets/${widget}`.length)}`, 301),
    );
  }

  const assets = widgetAssets(path.join(widgetsDir, 'assets'));
  app.get<{ Params: { file: string } }>(
    '/widgets/assets/:file',
    { schema: { hide: true } },
    async (request, reply) => {
      const asset = assets(request.params.file);
      if (!asset) return reply.callNotFound();
      reply
        .type(asset.type)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff')
        .header('cross-origin-resource-policy', 'same-origin');
      return sendEncoded(request, reply, asset);
    },
  );

  const sdkHeaders = (cacheControl: string) => (reply: FastifyReply) => {
    // Program pages on other origins load the SDK, as a classic script or an ES module, with or
    // without SRI: CORS for `crossorigin` loads, CORP so cross-origin-isolated pages may embed it.
    reply.header('access-control-allow-origin', '*');
    reply.header('cache-control', cacheControl);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cross-origin-resource-policy', 'cross-origin');
  };
  const manifest = sdkManifest(sdkDir, PACKAGE_VERSION);
  app.get('/sdk/manifest.json', { schema: { hide: true } }, async (_request, reply) => {
    if (!manifest) return notBuilt(reply);
    sdkHeaders('no-cache')(reply);
    return reply.type('application/json').send(manifest);
  });
  if (manifest) {
    // The pinned URLs: the version names the bytes, so they never change (immutable).
    await app.register(fastifyStatic, {
      root: sdkDir,
      prefix: `/sdk/${manifest.version}/`,
      decorateReply: false,
      index: false,
      preCompressed: true,
      allowedPath: (pathname) => (SDK_FILES as readonly string[]).includes(pathname.slice(1)),
      setHeaders: sdkHeaders('public, max-age=31536000, immutable'),
    });
  }
  // The unversioned URLs stay short-cached aliases of the current version.
  await app.register(fastifyStatic, {
    root: sdkDir,
    prefix: '/sdk/',
    decorateReply: false,
    index: false,
    preCompressed: true,
    setHeaders: sdkHeaders('public, max-age=300'),
  });
}
