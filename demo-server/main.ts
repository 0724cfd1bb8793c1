import path from 'node:path';
import { buildPlatform } from './app.js';
import { startDemoSite } from './demo-site/server.js';
import { ConfigError, loadConfig } from './config.js';
import { resolveApiKey } from './secrets/api-key.js';
import { openStore } from './store/open.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  const { apiKey, generated } = resolveApiKey(config.dataDir, config.apiKey);
  const store = await openStore(config);
  const platform = await buildPlatform({
    config,
    store,
    apiKey,
    // A person at a terminal reads lines; a log collector (stdout not a TTY) gets JSON.
    log: { pretty: process.stdout.isTTY === true },
  });
  await platform.app.listen({ port: config.port, host: config.host });
  platform.startWorkers();
  if (generated) {
    console.log(
      `\nGenerated an API key (stored in ${path.join(config.dataDir, 'api_key')}):\n\n  ${apiKey}\n`,
    );
  }
  console.log(`PIN Widgets platform on ${config.publicUrl}`);
  let site: Awaited<ReturnType<typeof startDemoSite>> | undefined;
  if (config.demoSite) {
    site = await startDemoSite({
      port: config.demoSitePort,
      host: '127.0.0.1',
      platformUrl: config.publicUrl,
      apiKey,
      dataDir: config.dataDir,
    });
    console.log(`Demo card-program site on http://127.0.0.1:${config.demoSitePort}`);
    console.log(
      [
        '',
        '  ┌──────────────────────────────────────────────────────────────┐',
        `  │  Open the demo:  http://127.0.0.1:${config.demoSitePort}`.padEnd(65) + '│',
        `  │  API + widgets:  ${config.publicUrl}`.padEnd(65) + '│',
        '  │  Stop with Ctrl+C. Data stays in DATA_DIR across restarts.   │',
        '  └──────────────────────────────────────────────────────────────┘',
        '',
      ].join('\n'),
    );
  }

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    platform.app.log.info({ signal, drain_delay_ms: config.drainDelayMs }, 'shutting down');
    await site?.close();
    // Readiness 503, the drain delay, workers finish their claims and leases, requests in flight
    // end: then the database (docs/deployment.md, "Graceful shutdown").
    await platform.close(config.drainDelayMs);
    await store.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

await main();
