import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['demo-server/**/*.test.ts', 'widgets/**/*.test.{ts,tsx}'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
