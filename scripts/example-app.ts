import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Packed, ROOT, packPackages, run } from './pack-packages.js';

/**
 * The example program page (examples/vite-react) made as a program makes it, outside this
 * repository's build: the packed tarballs installed fresh from dist/packages (with react and vite
 * from the npm registry), type-checked by its own TypeScript, built by its own Vite.
 * `npm run example:vite-react`; e2e/packages.example-app.spec.ts runs it, and the e2e fixture
 * server serves the build at /example-app/ (a program origin the platform lets frame).
 */

export const EXAMPLE_DIR = path.join(ROOT, 'examples/vite-react');
export const EXAMPLE_DIST = path.join(EXAMPLE_DIR, 'dist');

type Step = 'pack' | 'install' | 'typecheck' | 'build';

export interface ExampleApp {
  packed: Packed;
  /** How long each step took, in seconds. */
  seconds: Record<Step, number>;
}

export async function buildExampleApp({
  platformUrl,
  backendUrl = '',
  buildSdk = true,
}: {
  platformUrl: string;
  /** The backend that mints widget tokens ('' = the origin that serves the app). */
  backendUrl?: string;
  /** false: pin dist/sdk as it is, never rebuild it (a platform under test is serving it). */
  buildSdk?: boolean;
}): Promise<ExampleApp> {
  const seconds = {} as Record<Step, number>;
  const step = async <T>(name: Step, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    seconds[name] = Math.round((performance.now() - started) / 100) / 10;
    return result;
  };
  const packed = await step('pack', () => packPackages({ quiet: true, buildSdk }));
  // Fresh: a kept node_modules would keep the last run's copy of the same-versioned tarballs.
  for (const dir of ['node_modules', 'dist']) {
    fs.rmSync(path.join(EXAMPLE_DIR, dir), { recursive: true, force: true });
  }
  const cwd = EXAMPLE_DIR;
  await step('install', () =>
    run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--prefer-offline'], {
      cwd,
    }),
  );
  await step('typecheck', () => run('npm', ['run', 'typecheck'], { cwd }));
  await step('build', () =>
    run('npm', ['run', 'build'], {
      cwd,
      env: { VITE_PLATFORM_URL: platformUrl, VITE_BACKEND_URL: backendUrl },
    }),
  );
  return { packed, seconds };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const platformUrl = process.env.VITE_PLATFORM_URL ?? 'http://localhost:4000';
  buildExampleApp({ platformUrl, backendUrl: process.env.VITE_BACKEND_URL })
    .then(({ seconds }) =>
      console.log(`examples/vite-react/dist built for ${platformUrl}:`, seconds),
    )
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
