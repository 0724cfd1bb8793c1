import { defineConfig } from '@playwright/test';

/** Ports of the platform under test: apart from `npm start`'s, so both can run at once. */
export const E2E_PLATFORM_PORT = 4400;
export const E2E_SITE_PORT = 4401;

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  reporter: process.env.CI ? 'line' : 'list',
  use: {
    baseURL: `http://localhost:${E2E_PLATFORM_PORT}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
    trace: 'retain-on-failure',
  },
  webServer: {
    command: 'rm -rf .tmp/e2e-data && tsx demo-server/main.ts',
    url: `http://localhost:${E2E_PLATFORM_PORT}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      PORT: String(E2E_PLATFORM_PORT),
      DEMO_SITE_PORT: String(E2E_SITE_PORT),
      DATA_DIR: '.tmp/e2e-data',
      API_KEY: 'sk_test_e2e_0123456789abcdefghij',
      ISSUANCE_DELAY_MS: '500',
      LOG_LEVEL: 'warn',
    },
  },
});
