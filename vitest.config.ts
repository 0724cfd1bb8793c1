import { defineConfig } from 'vitest/config';

/**
 * Left out of the `postgres` project because what they test is SQLite itself, or the one
 * SQLite file in DATA_DIR (docs/store.md: everything else runs on both backends).
 */
const SQLITE_ONLY = [
  // SQLite's migrations, WAL mode, pragmas, file modes and secure_delete.
  'demo-server/store/sqlite/**',
  // The single-process crash tests: SIGKILL a server on its SQLite file in DATA_DIR.
  'demo-server/store/crash.test.ts',
  'demo-server/store/crash-harness.test.ts',
  // Runs the CLI the way an operator does, with DATA_DIR only: the SQLite file there.
  'demo-server/api-keys/cli.test.ts',
];

/** What only PostgreSQL has: its own store tests, and several instances on one database. */
const POSTGRES_ONLY = [
  'demo-server/store/postgres/**',
  'demo-server/store/multi-instance.test.ts',
  'demo-server/store/across-instances.test.ts',
];

/** Unit tests that never open a store: one run (in `sqlite`) is enough. */
const NO_STORE = [
  'demo-server/payment-crypto/**',
  'demo-server/lib/**',
  'demo-server/secrets/**',
  'demo-server/cards/state-machine.test.ts',
  'demo-server/pins/policy.test.ts',
  'demo-server/webhooks/egress.test.ts',
  'demo-server/webhooks/egress-lookup.test.ts',
  // The real server as a child process on its default (SQLite) store, over HTTP only.
  'demo-server/http/bad-input-over-http.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: ['demo-server/**/*.test.ts', 'widgets/**/*.test.{ts,tsx}'],
          exclude: POSTGRES_ONLY,
        },
      },
      {
        // The store conformance suite and the server tests on a real PostgreSQL that the run
        // starts itself (testing/postgres-setup.ts): each test platform gets a fresh schema.
        extends: true,
        test: {
          name: 'postgres',
          include: ['demo-server/**/*.test.ts'],
          exclude: [...SQLITE_ONLY, ...NO_STORE],
          env: { PIN_WIDGETS_TEST_STORE: 'postgres' },
          globalSetup: ['demo-server/testing/postgres-setup.ts'],
        },
      },
      {
        // The npm packages' own logic (packages/*): no store, no browser.
        extends: true,
        test: { name: 'packages', include: ['packages/*/src/**/*.test.{ts,tsx}'] },
      },
    ],
  },
});
