import { describe, expect, it } from 'vitest';
import { runCrashHarness, summarize } from '../testing/crash-harness.js';

/**
 * kill -9 at random moments under a mixed workload (docs/store.md). `npm test` runs the short mode;
 * `npm run test:crash` the long one (CRASH_HARNESS=long): more cards, workers and kills.
 */
const long = process.env.CRASH_HARNESS === 'long';
const options = long
  ? { cards: 180, workers: 12, kills: 15, uptimeMs: [800, 2500] as [number, number] }
  : { cards: 27, workers: 9, kills: 3, uptimeMs: [700, 1400] as [number, number] };

describe(`crash harness (${long ? 'long' : 'short'} mode)`, () => {
  it(
    'SIGKILLs under load lose no acknowledged operation, transition, script, event or webhook; no PIN leaks',
    async () => {
      const lines: string[] = [];
      const report = await runCrashHarness({
        ...options,
        ...(process.env.CRASH_SEED ? { seed: Number(process.env.CRASH_SEED) } : {}),
        log: (line) => lines.push(line),
      });
      console.info(`crash harness (${summarize(report)})`);
      expect(report.problems, lines.join('\n')).toEqual([]);
      expect(report.lost, lines.join('\n')).toEqual([]);
      expect(report.killsSurvived).toBeGreaterThanOrEqual(options.kills + 1);
      expect(report.acknowledged['create card']).toBeGreaterThanOrEqual(options.cards);
      expect(report.acknowledged['set PIN']).toBeGreaterThan(0);
      if (report.offlinePin) expect(report.acknowledged['sync offline PIN']).toBeGreaterThan(0);
      expect(report.checks).toBeGreaterThan(options.cards * 10);
    },
    long ? 900_000 : 90_000,
  );
});
