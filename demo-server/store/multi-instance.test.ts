import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCrashHarness, summarize } from '../testing/crash-harness.js';
import { createTestSchema, testPostgresUrl } from '../testing/postgres.js';

/**
 * Several instances on one PostgreSQL, any of them SIGKILLed at random moments under a mixed
 * workload (docs/store.md, docs/deployment.md): nothing acknowledged is lost, no transition is
 * applied twice, every webhook arrives, every token stays single-use. `npm test` runs the short
 * mode (2 instances); `CRASH_HARNESS=long` the long one (3 instances, more kills).
 */
const long = process.env.CRASH_HARNESS === 'long';
const options = long
  ? { instances: 3, cards: 180, workers: 12, kills: 15, uptimeMs: [800, 2500] as [number, number] }
  : { instances: 2, cards: 27, workers: 9, kills: 4, uptimeMs: [700, 1400] as [number, number] };

const url = testPostgresUrl();
let schema: Awaited<ReturnType<typeof createTestSchema>> | undefined;
beforeAll(async () => {
  if (url) schema = await createTestSchema(url);
});
afterAll(() => schema?.drop());

describe.runIf(url)(
  `${options.instances} instances on one PostgreSQL (${long ? 'long' : 'short'} mode)`,
  () => {
    it(
      'SIGKILLs of any instance under load lose nothing, apply nothing twice, and leak no PIN',
      async () => {
        const lines: string[] = [];
        const report = await runCrashHarness({
          ...options,
          postgres: { url: schema!.url, schema: schema!.name },
          ...(process.env.CRASH_SEED ? { seed: Number(process.env.CRASH_SEED) } : {}),
          log: (line) => lines.push(line),
        });
        console.info(`multi-instance harness (${summarize(report)})`);
        expect(report.problems, lines.join('\n')).toEqual([]);
        expect(report.lost, lines.join('\n')).toEqual([]);
        expect(report.killsSurvived).toBeGreaterThanOrEqual(options.kills + options.instances);
        // Kills during the workload hit more than one instance (the last kill at rest hits all).
        expect(report.killsByInstance.every((kills) => kills >= 1)).toBe(true);
        expect(report.acknowledged['create card']).toBeGreaterThanOrEqual(options.cards);
        expect(report.acknowledged['set PIN']).toBeGreaterThan(0);
        expect(report.checks).toBeGreaterThan(options.cards * 10);
      },
      long ? 900_000 : 120_000,
    );
  },
);
