import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/** The demo card-program site's page (served by demo-server/demo-site on the second origin). */
export default defineConfig({
  root: resolve(import.meta.dirname, 'demo-server/demo-site/page'),
  base: '/',
  build: {
    outDir: resolve(import.meta.dirname, 'dist/demo-site'),
    emptyOutDir: true,
    target: 'es2022',
  },
});
