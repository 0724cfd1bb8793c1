import path from 'node:path';
import { buildPlatform } from './app.js';
import { ConfigError, loadConfig, transportKeySettings } from './config.js';
import { resolveApiKey } from './secrets/api-key.js';
import { rotateTransportKey } from './pins/transport-keys.js';
import { SqliteStore } from './store/sqlite/store.js';

/**
 * Operator commands:
 *   rotate-pin-key   new PIN-transport key; older ones decrypt for PIN_TRANSPORT_KEY_GRACE_S
 *   reencrypt-pins   re-encipher stored PIN blocks under the current PIN_ENCRYPTION_KEY
 *                    (run with the old key in PIN_ENCRYPTION_KEY_PREVIOUS)
 */
async function run(command: string | undefined): Promise<void> {
  switch (command) {
    case 'rotate-pin-key': {
      // Needs only the key file: it also makes the operator's first one, before strict starts.
      const { file, graceSeconds } = transportKeySettings();
      const kid = await rotateTransportKey(file, graceSeconds);
      console.log(
        `New PIN-transport key ${kid} in ${file}; previous keys decrypt for ${graceSeconds} s.`,
      );
      return;
    }
    case 'reencrypt-pins': {
      const config = loadConfig();
      const store = SqliteStore.open(path.join(config.dataDir, 'pin-widgets.db'));
      const { apiKey } = resolveApiKey(config.dataDir, config.apiKey);
      const platform = await buildPlatform({ config, store, apiKey, log: false });
      const count = await platform.pins.reencryptAll();
      await platform.close();
      await store.close();
      console.log(`Re-enciphered ${count} PIN block(s) under key ${platform.pins.currentKeyId}.`);
      return;
    }
    default:
      console.error('usage: tsx demo-server/cli.ts rotate-pin-key | reencrypt-pins');
      process.exitCode = 64;
  }
}

try {
  await run(process.argv[2]);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`Configuration error: ${error.message}`);
  process.exitCode = 78;
}
