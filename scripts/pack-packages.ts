import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type SdkManifest, sdkManifest } from '../demo-server/http/sdk-manifest.js';

/**
 * Builds and packs the npm packages (README “Distribution”): @pin-widgets/js, @pin-widgets/react
 * and @pin-widgets/react-native, each by its own `build` script, into dist/packages/*.tgz, after
 * checking what each promises (no runtime dependency in the core, the React package importing
 * the core by name, the loader pinning the SDK in dist/sdk). Prints each tarball's size and the
 * gzip size of each entry's JS. `npm run pack:packages`; the example app's e2e spec runs it too.
 */

export const ROOT = path.resolve(import.meta.dirname, '..');
export const PACKS_DIR = path.join(ROOT, 'dist/packages');
const SDK_DIR = path.join(ROOT, 'dist/sdk');
/** The SDK's sources: a file newer than the build means the build is stale. */
const SDK_SOURCES = ['widgets/sdk', 'widgets/protocol'];
const PACKAGES = ['js', 'react', 'react-native'] as const;
type PackageName = (typeof PACKAGES)[number];

interface PackageJson {
  name: string;
  version: string;
  exports: Record<string, string | { types?: string; default: string }>;
  dependencies?: Record<string, string>;
}

export interface PackedEntry {
  /** The `exports` key (`.`, `./elements`, …). */
  entry: string;
  /** Its JS file and the package files it imports. */
  files: string[];
  bytes: number;
  /** Sum of each file's gzip size (level 9), as a browser would fetch them unbundled. */
  gzipBytes: number;
}

export interface PackedPackage {
  name: string;
  version: string;
  tarball: string;
  tarballBytes: number;
  unpackedBytes: number;
  entries: PackedEntry[];
}

export interface Packed {
  packages: PackedPackage[];
  /** The SDK build the loader in @pin-widgets/js pins. */
  sdk: SdkManifest;
}

/** Runs a command to its end; its output is shown only when it fails. */
export function run(
  command: string,
  args: string[],
  { cwd = ROOT, env = {} }: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('error', reject);
    child.on('close', (status) =>
      status === 0
        ? resolve(output)
        : reject(
            new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${status}:\n${output}`),
          ),
    );
  });
}

const readJson = <T>(file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const packageDir = (name: PackageName) => path.join(ROOT, 'packages', name);

function newestSource(): number {
  let newest = 0;
  for (const dir of SDK_SOURCES) {
    for (const file of fs.readdirSync(path.join(ROOT, dir), { recursive: true })) {
      if (/\.test\.tsx?$/.test(String(file))) continue;
      newest = Math.max(newest, fs.statSync(path.join(ROOT, dir, String(file))).mtimeMs);
    }
  }
  return newest;
}

/**
 * The SDK in dist/sdk. With `build`, built first (`npm run build`) when it is missing or older
 * than its sources; without, as it is (a running platform serves it: rebuilding it under the
 * platform would change the bytes behind the version it announced).
 */
async function builtSdk(build: boolean): Promise<SdkManifest> {
  const { version } = readJson<{ version: string }>(path.join(ROOT, 'package.json'));
  const current = sdkManifest(SDK_DIR, version);
  if (current && !build) return current;
  if (!build) throw new Error('dist/sdk is not built: run `npm run build` first');
  const builtAt = current
    ? Math.min(
        ...Object.keys(current.files).map((file) => fs.statSync(path.join(SDK_DIR, file)).mtimeMs),
      )
    : 0;
  if (current && builtAt >= newestSource()) return current;
  console.log(
    current
      ? 'dist/sdk is older than its sources: npm run build'
      : 'dist/sdk is not built: npm run build',
  );
  await run('npm', ['run', 'build']);
  const built = sdkManifest(SDK_DIR, version);
  if (!built) throw new Error('npm run build left no SDK in dist/sdk');
  return built;
}

/** Each `exports` entry's JS and the files of the package it imports (relative imports only). */
function entries(dir: string, manifest: PackageJson): PackedEntry[] {
  return Object.entries(manifest.exports).flatMap(([entry, target]) => {
    const main = typeof target === 'string' ? target : target.default;
    if (!main.endsWith('.js')) return [];
    const files: string[] = [];
    const visit = (file: string) => {
      if (files.includes(file)) return;
      files.push(file);
      const code = fs.readFileSync(path.join(dir, file), 'utf8');
      for (const [, specifier] of code.matchAll(/(?:from|import)\s*["'](\.{1,2}\/[^"']+)["']/g)) {
        visit(path.join(path.dirname(file), specifier!));
      }
    };
    visit(path.normalize(main));
    const bodies = files.map((file) => fs.readFileSync(path.join(dir, file)));
    return [
      {
        entry,
        files,
        bytes: bodies.reduce((sum, body) => sum + body.length, 0),
        gzipBytes: bodies.reduce((sum, body) => sum + gzipSync(body, { level: 9 }).length, 0),
      },
    ];
  });
}

/** Bare imports of the built JS: what the package needs from outside itself. */
function bareImports(dir: string, files: string[]): string[] {
  const found = new Set<string>();
  for (const file of files) {
    const code = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const [, specifier] of code.matchAll(/(?:from|import)\s*["']([^."'][^"']*)["']/g)) {
      found.add(specifier!);
    }
  }
  return [...found].sort();
}

/** What each package promises, checked on what was built, before it is packed. */
function checkBuilt(
  name: PackageName,
  manifest: PackageJson,
  built: PackedEntry[],
  sdk: SdkManifest,
) {
  const dir = packageDir(name);
  const imports = bareImports(dir, [...new Set(built.flatMap((entry) => entry.files))]);
  const fail = (problem: string) => {
    throw new Error(`${manifest.name}: ${problem}`);
  };
  if (name === 'js') {
    if (manifest.dependencies) fail('the core must have no runtime dependency');
    if (imports.length)
      fail(`the core must import nothing from outside, not ${imports.join(', ')}`);
    const loader = fs.readFileSync(path.join(dir, 'dist/loader.js'), 'utf8');
    const pinned = sdk.files['pin-widgets.iife.js']!;
    if (!loader.includes(pinned.url) || !loader.includes(pinned.integrity)) {
      fail(`the loader must pin ${pinned.url} with ${pinned.integrity} (dist/sdk's manifest)`);
    }
  }
  if (name === 'react' && imports.join() !== '@pin-widgets/js,react,react/jsx-runtime') {
    fail(`must import only react and @pin-widgets/js, not ${imports.join(', ')}`);
  }
}

export async function packPackages({
  quiet = false,
  buildSdk = true,
}: { quiet?: boolean; buildSdk?: boolean } = {}): Promise<Packed> {
  const sdk = await builtSdk(buildSdk);
  // Independent builds (the React package imports the core by name): at once.
  await Promise.all(
    PACKAGES.map((name) => run('npm', ['run', 'build'], { cwd: packageDir(name) })),
  );
  fs.mkdirSync(PACKS_DIR, { recursive: true });
  const packages: PackedPackage[] = [];
  for (const name of PACKAGES) {
    const dir = packageDir(name);
    const manifest = readJson<PackageJson>(path.join(dir, 'package.json'));
    const built = entries(dir, manifest);
    checkBuilt(name, manifest, built, sdk);
    // Built just above: `prepack` (for a hand-run `npm pack`) need not build again.
    const output = await run(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', PACKS_DIR],
      { cwd: dir },
    );
    const [packed] = JSON.parse(output) as {
      filename: string;
      size: number;
      unpackedSize: number;
    }[];
    packages.push({
      name: manifest.name,
      version: manifest.version,
      tarball: path.join(PACKS_DIR, packed!.filename),
      tarballBytes: packed!.size,
      unpackedBytes: packed!.unpackedSize,
      entries: built,
    });
  }
  if (!quiet) report({ packages, sdk });
  return { packages, sdk };
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

function report({ packages, sdk }: Packed) {
  console.log(`SDK pinned by @pin-widgets/js/loader: ${sdk.files['pin-widgets.iife.js']!.url}`);
  for (const pack of packages) {
    console.log(
      `${path.relative(ROOT, pack.tarball)}: ${kB(pack.tarballBytes)} (unpacked ${kB(pack.unpackedBytes)})`,
    );
    for (const { entry, files, bytes, gzipBytes } of pack.entries) {
      const more = files.length > 1 ? ` + ${files.length - 1} imported` : '';
      console.log(
        `  ${`${pack.name}${entry.slice(1)}`.padEnd(28)} ${files[0]}${more}: ${kB(bytes)}, ${gzipBytes} B gzip`,
      );
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  packPackages().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
