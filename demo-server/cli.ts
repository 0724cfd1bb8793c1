import { parseArgs } from 'node:util';
import { ApiKeys, parseScopes } from './api-keys/registry.js';
import { buildPlatform } from './app.js';
import { ConfigError, keyCommandSettings, loadConfig, transportKeySettings } from './config.js';
import { rotateAccountTokenKey } from './offline-pin/account-tokens.js';
import { resolveApiKey } from './secrets/api-key.js';
import { rotateTransportKey } from './pins/transport-keys.js';
import { openStore } from './store/open.js';
import type { Store } from './store/types.js';

/**
 * Operator commands:
 *   rotate-pin-key   new PIN-transport key; older ones decrypt for PIN_TRANSPORT_KEY_GRACE_S
 *   reencrypt-pins   re-encipher stored PIN blocks under the current PIN_ENCRYPTION_KEY,
 *                    PANs under the current PAN_ENCRYPTION_KEY and, in DEMO_MODE, the
 *                    simulated chips' PINs under CHIP_PIN_KEY (run with the old keys in
 *                    PIN_ENCRYPTION_KEY_PREVIOUS / PAN_ENCRYPTION_KEY_PREVIOUS /
 *                    CHIP_PIN_KEY_PREVIOUS)
 *   api-keys:create --name N --scopes cards[,admin]   a new API key, printed once
 *   api-keys:list                                     id, name, scopes, created, revoked
 *   api-keys:revoke <id>                              the key answers 401 from now on
 *   account-tokens:rotate   new account-token signing key; the previous one verifies for
 *                           ACCOUNT_TOKEN_KEY_OVERLAP_S
 * The key commands need only DATA_DIR (they run beside a live server: the database is shared).
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
      const store = await openStore(config);
      const { apiKey } = resolveApiKey(config.dataDir, config.apiKey);
      const platform = await buildPlatform({ config, store, apiKey, log: false });
      const pans = await platform.cards.reencryptPans();
      const count = await platform.pins.reencryptAll();
      const chip = platform.offlinePin.chip;
      const chips = chip ? await chip.reencryptAll(store) : 0;
      await platform.close();
      await store.close();
      console.log(`Re-enciphered ${count} PIN block(s) under key ${platform.pins.currentKeyId}.`);
      console.log(`Re-enciphered ${pans} PAN(s) under key ${platform.cards.currentPanKeyId}.`);
      if (chip) {
        console.log(`Re-enciphered ${chips} chip PIN(s) under key ${chip.currentKeyId}.`);
      }
      return;
    }
    case 'api-keys:create':
    case 'api-keys:list':
    case 'api-keys:revoke':
    case 'account-tokens:rotate': {
      const settings = keyCommandSettings();
      const store = await openStore(settings);
      try {
        await keyCommand(command, process.argv.slice(3), store, settings.accountTokenKeyOverlapS);
      } finally {
        await store.close();
      }
      return;
    }
    default:
      console.error(
        'usage: tsx demo-server/cli.ts rotate-pin-key | reencrypt-pins | api-keys:create --name N --scopes cards[,admin] | api-keys:list | api-keys:revoke <id> | account-tokens:rotate',
      );
      process.exitCode = 64;
  }
}

async function keyCommand(
  command: string,
  args: string[],
  store: Store,
  overlapSeconds: number,
): Promise<void> {
  const keys = new ApiKeys(store, undefined);
  switch (command) {
    case 'api-keys:create': {
      let created;
      try {
        const { values } = parseArgs({
          args,
          options: { name: { type: 'string' }, scopes: { type: 'string' } },
          strict: true,
        });
        if (values.name === undefined || values.scopes === undefined) {
          throw new RangeError('api-keys:create needs --name <name> --scopes cards[,admin]');
        }
        created = await keys.create(values.name, parseScopes(values.scopes));
      } catch (error) {
        console.error(error instanceof Error ? error.message : String(error));
        process.exitCode = 64;
        return;
      }
      console.log(
        `Created API key ${created.id} "${created.name}" (scopes: ${created.scopes.join(',')}). It is shown this once only:\n\n  ${created.key}\n`,
      );
      return;
    }
    case 'api-keys:list': {
      console.log(['id', 'name', 'scopes', 'created', 'revoked'].join('\t'));
      for (const key of await keys.list()) {
        const row = [key.id, key.name, key.scopes.join(','), key.created_time, key.revoked_time];
        console.log(row.map((cell) => cell ?? '-').join('\t'));
      }
      return;
    }
    case 'api-keys:revoke': {
      const [id] = args;
      if (id === undefined || args.length !== 1) {
        console.error('usage: api-keys:revoke <id> (the id from api-keys:list)');
        process.exitCode = 64;
      } else if (await keys.revoke(id)) {
        console.log(`Revoked API key ${id}: it answers 401 from now on.`);
      } else {
        console.error(`No API key ${id} that is not revoked already (see api-keys:list)`);
        process.exitCode = 1;
      }
      return;
    }
    case 'account-tokens:rotate': {
      const kid = await rotateAccountTokenKey(store, overlapSeconds);
      console.log(
        `New account-token signing key ${kid}; the previous one verifies for ${overlapSeconds} s.`,
      );
      return;
    }
  }
}

try {
  await run(process.argv[2]);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`Configuration error: ${error.message}`);
  process.exitCode = 78;
}
