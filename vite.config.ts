import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { type Plugin, build, defineConfig } from 'vite';
import { precompress } from './vite.precompress.js';

const EARLY_ENTRY = 'early';

/**
 * Puts the early script (widgets/runtime/early.ts, its own small entry chunk) first in every
 * widget document. Vite folds a document's module scripts into one entry, which would make the
 * handshake wait for the whole bundle: this keeps it a separate, first request.
 */
function earlyScript(): Plugin {
  return {
    name: 'pin-widgets:early-script',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        const chunk = Object.values(context.bundle ?? {}).find(
          (file) => file.type === 'chunk' && file.isEntry && file.name === EARLY_ENTRY,
        );
        if (!chunk) throw new Error('vite.config.ts: the early entry chunk is missing');
        return [
          {
            tag: 'script',
            attrs: { type: 'module', crossorigin: true, src: `/widgets/${chunk.fileName}` },
            injectTo: 'head-prepend',
          },
        ];
      },
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
  plugins: [react(), earlyScript(), precompress(), pinPadDocument()],
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
