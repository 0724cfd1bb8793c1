import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The widget documents: a multi-page build, one HTML entry per widget, served by the platform
 * under /widgets/. (The host SDK has its own library-mode build: vite.sdk.config.ts.)
 */
export default defineConfig({
  root: resolve(import.meta.dirname, 'widgets'),
  base: '/widgets/',
  plugins: [react()],
  build: {
    outDir: resolve(import.meta.dirname, 'dist/widgets'),
    emptyOutDir: true,
    rollupOptions: {
      input: {
        'set-pin': resolve(import.meta.dirname, 'widgets/set-pin/index.html'),
        'reveal-pin': resolve(import.meta.dirname, 'widgets/reveal-pin/index.html'),
      },
    },
  },
});
