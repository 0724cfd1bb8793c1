import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { type LibraryOptions, defineConfig } from 'vite';
import { precompress } from './vite.precompress.js';

/** How elements.ts imports the core; its build keeps it an import of the core file beside it. */
const CORE_IMPORT = './index.js';
const CORE_FILE = './pin-widgets.js';
const sdk = (file: string) => resolve(import.meta.dirname, 'widgets/sdk', file);

/**
 * The host SDK, library mode, one build per `--mode`:
 * - default: the dependency-free core `pin-widgets.js` (ESM);
 * - `elements`: the custom elements, `pin-widgets-elements.js` (ESM), which imports the core
 *   beside it, so a page that mounts by code loads only the core;
 * - `iife`: `pin-widgets.iife.js`, core and elements for one classic script tag (global
 *   `PinWidgets`);
 * - `react`: the React entry (ESM, React external).
 */
const LIBRARIES: Record<string, LibraryOptions> = {
  production: { entry: sdk('index.ts'), formats: ['es'], fileName: () => 'pin-widgets.js' },
  elements: {
    entry: sdk('elements.ts'),
    formats: ['es'],
    fileName: () => 'pin-widgets-elements.js',
  },
  iife: {
    entry: sdk('iife.ts'),
    name: 'PinWidgets',
    formats: ['iife'],
    fileName: () => 'pin-widgets.iife.js',
  },
  react: { entry: sdk('react.tsx'), formats: ['es'], fileName: () => 'pin-widgets-react.js' },
};

export default defineConfig(({ mode }) => ({
  plugins: mode === 'react' ? [react(), precompress()] : [precompress()],
  build: {
    outDir: resolve(import.meta.dirname, 'dist/sdk'),
    emptyOutDir: mode === 'production',
    sourcemap: true,
    lib: LIBRARIES[mode] ?? LIBRARIES.production!,
    rollupOptions: {
      external:
        mode === 'react'
          ? ['react', 'react/jsx-runtime', 'react-dom']
          : mode === 'elements'
            ? [CORE_IMPORT]
            : [],
      output: {
        // Vite leaves a library's ES output unminified; browsers load these straight from the
        // platform, so their bytes on the wire are the budget (README “Performance”).
        minify: true,
        // The core and elements have no top-level call a bundler could drop, so their
        // `@__PURE__` marks (on `new Map` and the like, inside functions) are bytes with no use.
        // The React entry keeps them: they let a bundler drop the components a page never uses.
        ...(mode === 'react' ? {} : { comments: { legal: true, annotation: false, jsdoc: false } }),
        paths: (id: string) => (id.endsWith(CORE_IMPORT.slice(1)) ? CORE_FILE : id),
      },
    },
  },
}));
