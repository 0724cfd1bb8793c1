import { defineConfig } from '@playwright/test';

/**
 * How the system Chromium is started everywhere (these specs and the engines suite): no sandbox
 * (root in CI), and none of the background calls this machine's closed network would refuse.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Ports of the platform under test: apart from `npm start`'s, so both can run at once. */
export const E2E_PLATFORM_PORT = 4400;
export const E2E_SITE_PORT = 4401;
/** A third origin: a stand-in program site with host pages for the SDK's forms. */
export const E2E_FIXTURE_PORT = 4402;
/** A fourth origin, NOT in FRAME_ANCESTORS: the attacker's pages (same fixture server). */
export const E2E_HOSTILE_PORT = 4403;
export const E2E_PLATFORM_URL = `http://localhost:${E2E_PLATFORM_PORT}`;
export const E2E_SITE_URL = `http://127.0.0.1:${E2E_SITE_PORT}`;
export const E2E_FIXTURE_URL = `http://127.0.0.1:${E2E_FIXTURE_PORT}`;
export const E2E_HOSTILE_URL = `http://127.0.0.1:${E2E_HOSTILE_PORT}`;
export const E2E_API_KEY = 'sk_test_e2e_0123456789abcdefghij';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  reporter: process.env.CI ? 'line' : 'list',
  use: {
    baseURL: E2E_PLATFORM_URL,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
    trace: 'retain-on-failure',
  },
  webServer: [
    {
      command: 'rm -rf .tmp/e2e-data && tsx demo-server/main.ts',
      url: `${E2E_SITE_URL}/api/config`,
      reuseExistingServer: false,
      timeout: 60_000,
      env: {
        DEMO_MODE: '1',
        PORT: String(E2E_PLATFORM_PORT),
        DEMO_SITE_PORT: String(E2E_SITE_PORT),
        DATA_DIR: '.tmp/e2e-data',
        API_KEY: E2E_API_KEY,
        ISSUANCE_DELAY_MS: '500',
        FRAME_ANCESTORS: `${E2E_SITE_URL} ${E2E_FIXTURE_URL}`,
        LOG_LEVEL: 'warn',
      },
    },
    {
      command: 'tsx e2e/fixtures/server.ts',
      url: `${E2E_FIXTURE_URL}/healthz`,
      reuseExistingServer: false,
      env: {
        FIXTURE_PORT: String(E2E_FIXTURE_PORT),
        HOSTILE_PORT: String(E2E_HOSTILE_PORT),
        PLATFORM_URL: E2E_PLATFORM_URL,
        API_KEY: E2E_API_KEY,
      },
    },
  ],
});
