import type { TestProject } from 'vitest/node';
import { startTestCluster } from './postgres.js';

/**
 * Global setup of the `postgres` Vitest project: one throwaway PostgreSQL cluster for the whole
 * run, stopped (and its folder removed) when the run ends. Test files find its URL with
 * `inject('postgresUrl')`; each test platform makes a schema of its own in it.
 * PIN_WIDGETS_TEST_DATABASE_URL names a server to use instead (its database must be writable).
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const external = process.env.PIN_WIDGETS_TEST_DATABASE_URL;
  if (external) {
    project.provide('postgresUrl', external);
    return;
  }
  const started = performance.now();
  const cluster = await startTestCluster();
  console.info(
    `test PostgreSQL started in ${Math.round(performance.now() - started)} ms (${cluster.dataDir})`,
  );
  project.provide('postgresUrl', cluster.url);
  return () => cluster.stop();
}
