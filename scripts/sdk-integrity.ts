import fs from 'node:fs';
import path from 'node:path';
import { sdkManifest } from '../demo-server/http/sdk-manifest.js';

/**
 * Prints the README's table of pinned SDK URLs and their integrity hashes, from the current
 * build (`npm run build` first). The e2e spec sdk.versioned-integrity checks the README has them.
 */
const root = path.resolve(import.meta.dirname, '..');
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  version: string;
};
const manifest = sdkManifest(path.join(root, 'dist/sdk'), version);
if (!manifest) {
  console.error('The SDK is not built: run `npm run build` first.');
  process.exit(1);
}
console.log('| File | Pinned URL | `integrity` |\n| --- | --- | --- |');
for (const [file, { url, integrity }] of Object.entries(manifest.files)) {
  console.log(`| \`${file}\` | \`${url}\` | \`${integrity}\` |`);
}
