import fs from 'node:fs';
import path from 'node:path';
import { type Plugin, defineConfig } from 'vite';
import { sdkManifest } from '../../demo-server/http/sdk-manifest.js';

const repository = path.resolve(import.meta.dirname, '../..');
const sdk = (file: string) => path.join(repository, 'widgets/sdk', file);
const PINNED_MODULE = path.join(import.meta.dirname, 'src/release.ts');
const PINNED_FILE = 'pin-widgets.iife.js';

/**
 * The loader pins the platform's SDK build that is in dist/sdk now, by the platform's own
 * manifest (the same `sdkManifest()` the platform serves /sdk/manifest.json from): src/release.ts
 * becomes that version, path and integrity.
 */
function pinnedSdk(): Plugin {
  return {
    name: 'pin-widgets-pinned-sdk',
    load(id) {
      if (id.split('?')[0] !== PINNED_MODULE) return null;
      const { version } = JSON.parse(
        fs.readFileSync(path.join(repository, 'package.json'), 'utf8'),
      ) as { version: string };
      const manifest = sdkManifest(path.join(repository, 'dist/sdk'), version);
      if (!manifest) this.error('dist/sdk is not built: run `npm run build` first');
      const { url, integrity } = manifest.files[PINNED_FILE]!;
      const pinned = { version: manifest.version, path: url, integrity };
      return `export const PINNED_SDK = ${JSON.stringify(pinned)};\n`;
    },
  };
}

/**
 * @pin-widgets/js: the SDK's own sources (widgets/sdk, the files the platform serves built
 * another way), one ES module per entry, unminified: the app's bundler minifies. The elements
 * entry imports the core entry beside it, so an app that uses both has one copy of the core.
 */
export default defineConfig({
  root: import.meta.dirname,
  publicDir: false,
  plugins: [pinnedSdk()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    minify: false,
    target: 'es2022',
    lib: {
      entry: {
        index: sdk('index.ts'),
        elements: sdk('elements.ts'),
        loader: path.join(import.meta.dirname, 'src/loader.ts'),
      },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    rollupOptions: { output: { chunkFileNames: '[name]-[hash].js' } },
  },
});
