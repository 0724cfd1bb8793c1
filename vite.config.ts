import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { type Plugin, build, defineConfig } from 'vite';
import { precompress } from './vite.precompress.js';

const EARLY_ENTRY = 'early';

/**
 * Puts the early script (widgets/runtime/early.ts, its own small entry chunk) first in every
 * widget document. Vite folds a document's module scripts into one entry, which would make the
 * handshake wait for the whole bundle: this keeps it a separate, first request. `async`: a
 * deferred module script waits for the document's stylesheets and for its turn after parsing,
 * an async one runs as soon as it is fetched, so the handshake starts that much earlier.
 * Right after it come the modulepreloads, the bundle first: the browser asks for everything at
 * once and the platform answers in that order, so the biggest response, the one that takes
 * longest to parse, is not the last.
 */
function earlyScript(): Plugin {
  return {
    name: 'pin-widgets:early-script',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, context) {
        const chunk = Object.values(context.bundle ?? {}).find(
          (file) => file.type === 'chunk' && file.isEntry && file.name === EARLY_ENTRY,
        );
        if (!chunk) throw new Error('vite.config.ts: the early entry chunk is missing');
        const early = `/widgets/${chunk.fileName}`;
        const preloads: string[] = [];
        const rest = html.replace(
          /\s*<link rel="modulepreload"[^>]* href="([^"]+)"[^>]*>/g,
          (_tag, href: string) => {
            // The early script is fetched by its own tag: a preload of it would say it twice.
            if (href !== early) preloads.push(href);
            return '';
          },
        );
        return {
          html: rest,
          tags: [
            {
              tag: 'script',
              attrs: { type: 'module', async: true, crossorigin: true, src: early },
              injectTo: 'head-prepend',
            },
            ...preloads.map((href) => ({
              tag: 'link',
              attrs: { rel: 'modulepreload', crossorigin: true, href },
              injectTo: 'head-prepend' as const,
            })),
          ],
        };
      },
    },
  };
}

/** The documents whose first call is always DPoP-signed (docs/step-up.md): enrollment. */
const DPOP_DOCUMENTS = new Set(['enroll-passkey']);

/**
 * jose is a lazy chunk (widgets/runtime/jose.ts): a bearer widget needs it only once it is
 * usable. A DPoP-bound document signs its session call with it, before `load`: there it is
 * preloaded beside the bundle, as part of the document.
 */
function preloadJoseWhereSigned(): Plugin {
  return {
    name: 'pin-widgets:preload-jose',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        const widget = /(?:^|\/)([\w-]+)\/index\.html$/.exec(context.path)?.[1];
        if (!widget || !DPOP_DOCUMENTS.has(widget)) return;
        const jose = Object.values(context.bundle ?? {}).find(
          (file) => file.type === 'chunk' && file.name === 'jose',
        );
        if (!jose) throw new Error('vite.config.ts: the jose chunk is missing');
        return [
          {
            tag: 'link',
            attrs: { rel: 'modulepreload', crossorigin: true, href: `/widgets/${jose.fileName}` },
            injectTo: 'head',
          },
        ];
      },
    },
  };
}

/**
 * Puts each widget document's stylesheet into the document itself: the first paint then waits
 * for no request, and the document makes one request fewer. The platform allows exactly these
 * `<style>` elements by their hashes, computed when it reads the document
 * (demo-server/http/widget-assets.ts): the CSP keeps refusing any other inline style.
 */
function inlineStylesheets(): Plugin {
  return {
    name: 'pin-widgets:inline-stylesheets',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, context) {
        return html.replace(
          /<link rel="stylesheet"[^>]* href="\/widgets\/(assets\/[^"]+\.css)"[^>]*>/g,
          (_tag, fileName: string) => {
            const asset = context.bundle?.[fileName];
            if (asset?.type !== 'asset') {
              throw new Error(`vite.config.ts: the stylesheet ${fileName} is not in the bundle`);
            }
            const css =
              typeof asset.source === 'string'
                ? asset.source
                : new TextDecoder().decode(asset.source);
            if (/<\/style/i.test(css))
              throw new Error(`vite.config.ts: ${fileName} closes <style>`);
            return `<style>${css.trim()}</style>`;
          },
        );
      },
    },
  };
}

/**
 * react-dom creates an Error as it loads (the sentinel it throws on a hydration mismatch).
 * Chromium has V8 take a detailed stack of every Error, even with `Error.stackTraceLimit` at 0,
 * and V8, which compiles without source positions, parses each function on that stack again to
 * find them: react-dom's whole module and the bundle's top level, ~20 ms of the widget's main
 * thread before it can render, on the bench machine. With no numeric limit no stack is
 * taken at all, so react-dom's module runs without one and puts the limit back as it was. (The
 * sentinel's stack is never read: widgets don't hydrate.) A react-dom without this file fails the
 * build, rather than going slow unnoticed.
 */
function reactDomWithoutLoadStack(): Plugin {
  const module = /\/react-dom\/cjs\/react-dom-client\.production\.js$/;
  const strict = '"use strict";';
  let seen = false;
  return {
    name: 'pin-widgets:react-dom-without-load-stack',
    apply: 'build',
    buildStart() {
      seen = false;
    },
    transform(code, id) {
      if (!module.test(id)) return;
      const at = code.indexOf(strict);
      if (at < 0) throw new Error(`vite.config.ts: ${id} has no "use strict"`);
      seen = true;
      const end = at + strict.length;
      // On the directive's line, so every other line keeps its number.
      return {
        code:
          `${code.slice(0, end)} var pinWidgetsStackTraceLimit = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit'); delete Error.stackTraceLimit;` +
          `${code.slice(end)}\n;if (pinWidgetsStackTraceLimit) Object.defineProperty(Error, 'stackTraceLimit', pinWidgetsStackTraceLimit);\n`,
        map: null,
      };
    },
    buildEnd(error) {
      if (!error && !seen) {
        throw new Error(
          'vite.config.ts: react-dom-client.production.js was not bundled: update reactDomWithoutLoadStack()',
        );
      }
    },
  };
}

/**
 * The demo terminal's PIN pad (widgets/pin-pad/, served by a DEMO_MODE platform at
 * /simulations/pin-pad/), built on its own once the widgets are written. As a page of their
 * build it would share jose with their bundle, and the chunk Rollup then splits out would add a
 * request to every widget document, one of them under the early script.
 */
function pinPadDocument(): Plugin {
  return {
    name: 'pin-widgets:pin-pad',
    apply: 'build',
    async closeBundle() {
      await build({
        configFile: false,
        root: resolve(import.meta.dirname, 'widgets'),
        base: '/widgets/',
        logLevel: 'warn',
        plugins: [precompress()],
        build: {
          outDir: resolve(import.meta.dirname, 'dist/widgets'),
          emptyOutDir: false,
          rollupOptions: {
            input: { 'pin-pad': resolve(import.meta.dirname, 'widgets/pin-pad/index.html') },
          },
        },
      });
    },
  };
}

/**
 * The widget documents: a multi-page build, one HTML entry per widget, served by the platform
 * under /widgets/; the demo terminal's PIN pad is served at /simulations/pin-pad/. (The host SDK
 * has its own library-mode build: vite.sdk.config.ts.)
 */
export default defineConfig({
  root: resolve(import.meta.dirname, 'widgets'),
  base: '/widgets/',
  plugins: [
    react(),
    reactDomWithoutLoadStack(),
    earlyScript(),
    preloadJoseWhereSigned(),
    inlineStylesheets(),
    precompress(),
    pinPadDocument(),
  ],
  build: {
    outDir: resolve(import.meta.dirname, 'dist/widgets'),
    emptyOutDir: true,
    rollupOptions: {
      input: {
        [EARLY_ENTRY]: resolve(import.meta.dirname, 'widgets/runtime/early.ts'),
        'set-pin': resolve(import.meta.dirname, 'widgets/set-pin/index.html'),
        'reveal-pin': resolve(import.meta.dirname, 'widgets/reveal-pin/index.html'),
        'enroll-passkey': resolve(import.meta.dirname, 'widgets/enroll-passkey/index.html'),
      },
    },
  },
});
