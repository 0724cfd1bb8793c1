import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
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
 */
export function widgetDocumentHeaders(frameAncestors: readonly string[]): Record<string, string> {
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
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
  const documentHeaders = widgetDocumentHeaders(frameAncestors);
  const widgetsDir = path.join(DIST_DIR, 'widgets');
  const sdkDir = path.join(DIST_DIR, 'sdk');

  for (const widget of ['set-pin', 'reveal-pin', 'enroll-passkey']) {
    app.get(`/widgets/${widget}/`, { schema: { hide: true } }, async (_request, reply) => {
      const file = path.join(widgetsDir, widget, 'index.html');
      if (!fs.existsSync(file)) return notBuilt(reply);
      return reply
        .headers(documentHeaders)
        .type('text/html; charset=utf-8')
        .send(fs.createReadStream(file));
    });
    app.get(`/widgets/${widget}`, { schema: { hide: true } }, async (request, reply) =>
      reply.redirect(`/widgets/${widget}/${request.url.slice(`/widgets/${widget}`.length)}`, 301),
    );
  }

  await app.register(fastifyStatic, {
    root: path.join(widgetsDir, 'assets'),
    prefix: '/widgets/assets/',
    decorateReply: false,
    index: false,
    // The build writes .br/.gz beside each asset (vite.precompress.ts): sent when accepted.
    preCompressed: true,
    setHeaders(response) {
      response.header('cache-control', 'public, max-age=31536000, immutable');
      response.header('x-content-type-options', 'nosniff');
      response.header('cross-origin-resource-policy', 'same-origin');
    },
  });

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
