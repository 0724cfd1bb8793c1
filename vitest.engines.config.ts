import { defineConfig } from 'vitest/config';
import { BROWSER_GONE } from './e2e/engines/env.js';

/**
 * The end-to-end journeys in three engines (`npm run test:engines`, after `npm run build`). The
 * global setup starts the platform, the fixture site and, for WebKit, Xvfb and WebKitWebDriver;
 * `ENGINES=firefox` runs one engine alone.
 */
export default defineConfig({
  test: {
    include: ['e2e/engines/**/*.journey.ts'],
    globalSetup: ['e2e/engines/global-setup.ts'],
    // Two cores: one browser at a time, and the platform on the other core.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A browser that crashes under a journey is started again and the journey runs once more;
    // any other failure fails the run at once (see BROWSER_GONE).
    retry: { count: 1, condition: BROWSER_GONE },
  },
});
