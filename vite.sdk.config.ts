import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { precompress } from './vite.precompress.js';

/**
 * The host SDK, library mode: `vite build -c vite.sdk.config.ts` builds the dependency-free
 * core (ESM + IIFE global `PinWidgets`); `--mode react` builds the React entry (ESM, React
 * external) on its own, so the core stays tiny.
 */
export default defineConfig(({ mode }) => ({
  plugins: mode === 'react' ? [react(), precompress()] : [precompress()],
  build: {
    outDir: resolve(import.meta.dirname, 'dist/sdk'),
    emptyOutDir: mode !== 'react',
    sourcemap: true,
    lib:
      mode === 'react'
        ? {
            entry: resolve(import.meta.dirname, 'widgets/sdk/react.tsx'),
            formats: ['es'],
            fileName: () => 'pin-widgets-react.js',
          }
        : {
            entry: resolve(import.meta.dirname, 'widgets/sdk/index.ts'),
            name: 'PinWidgets',
            formats: ['es', 'iife'],
            fileName: (format) => (format === 'es' ? 'pin-widgets.js' : 'pin-widgets.iife.js'),
          },
    rollupOptions: {
      external: mode === 'react' ? ['react', 'react/jsx-runtime', 'react-dom'] : [],
    },
  },
}));
