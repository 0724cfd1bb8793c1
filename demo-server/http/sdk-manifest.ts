import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The SDK files a program page may load, each with a pinned URL and an integrity hash. */
export const SDK_FILES = [
  'pin-widgets.js',
  'pin-widgets-elements.js',
  'pin-widgets.iife.js',
  'pin-widgets-react.js',
] as const;

export interface SdkManifest {
  /** `<package version>-<content hash>`: a new build of other bytes gets a new version. */
  version: string;
  files: Record<string, { url: string; integrity: string }>;
}

/**
 * The versioned SDK (README “Widgets and the host SDK”): every file under `/sdk/<version>/`, where the version names the
 * bytes (a hash of all the files together), so the URL is immutable and a page can pin exactly
 * the code it reviewed with Subresource Integrity (`sha384`, W3C SRI). The elements module
 * imports the core beside it, so both live under the same version.
 */
export function sdkManifest(sdkDir: string, packageVersion: string): SdkManifest | undefined {
  const bodies = SDK_FILES.map((file) => path.join(sdkDir, file));
  if (!bodies.every((file) => fs.existsSync(file))) return undefined;
  const whole = createHash('sha256');
  const files: SdkManifest['files'] = {};
  const contents = bodies.map((file) => fs.readFileSync(file));
  contents.forEach((bytes) => whole.update(bytes));
  const version = `${packageVersion}-${whole.digest('hex').slice(0, 12)}`;
  SDK_FILES.forEach((file, index) => {
    files[file] = {
      url: `/sdk/${version}/${file}`,
      integrity: `sha384-${createHash('sha384').update(contents[index]!).digest('base64')}`,
    };
  });
  return { version, files };
}
