import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { issueCard } from '../../testing/cards.js';
import { startTestPlatform, tempDataDir } from '../../testing/platform.js';
import type { SqliteStore } from './store.js';

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('at-rest hygiene', () => {
  it('DATA_DIR is 0700 and every file in it 0600, even when they were looser before', async () => {
    const dataDir = tempDataDir();
    fs.chmodSync(dataDir, 0o755);
    // Files left by an older version or copied in with the default umask.
    for (const name of ['pin-widgets.db', 'pin_encryption_key', 'pan_hash_key', 'api_key']) {
      const content = name === 'pin-widgets.db' ? '' : `${'ab'.repeat(32)}\n`;
      fs.writeFileSync(path.join(dataDir, name), content, { mode: 0o644 });
      fs.chmodSync(path.join(dataDir, name), 0o644);
    }
    const platform = await startTestPlatform({ DATA_DIR: dataDir });
    try {
      await issueCard(platform, {});
      expect(mode(dataDir)).toBe(0o700);
      const files = fs.readdirSync(dataDir);
      expect(files).toEqual(
        expect.arrayContaining([
          'pin-widgets.db',
          'pin-widgets.db-wal',
          'pin-widgets.db-shm',
          'pin_encryption_key',
          'pan_encryption_key',
          'pan_hash_key',
          'pin-transport-keys.json',
        ]),
      );
      for (const name of files)
        expect([name, mode(path.join(dataDir, name))]).toEqual([name, 0o600]);
    } finally {
      await platform.dispose();
    }
  });

  it('a database made by SQLite in a fresh folder is 0600 with its -wal and -shm', async () => {
    const dataDir = path.join(tempDataDir(), 'nested');
    const platform = await startTestPlatform({ DATA_DIR: dataDir });
    try {
      await issueCard(platform, {});
      expect(mode(dataDir)).toBe(0o700);
      for (const suffix of ['', '-wal', '-shm']) {
        expect(mode(path.join(dataDir, `pin-widgets.db${suffix}`))).toBe(0o600);
      }
    } finally {
      await platform.dispose();
    }
  });

  it('both SQLite connections run with secure_delete on', async () => {
    const platform = await startTestPlatform();
    try {
      // Private connections, read for the test only: the pragma is per connection.
      const store = platform.store as SqliteStore;
      for (const connection of [store['writer'], store['reader']]) {
        expect(connection.pragma('secure_delete', { simple: true })).toBe(1);
      }
    } finally {
      await platform.dispose();
    }
  });

  it('a settled issuer script keeps only the SHA-256 of its command, not the command', async () => {
    const platform = await startTestPlatform();
    try {
      const card = await issueCard(platform, {
        pin_issuance_policy: 'RANDOM',
        offline_pin: true,
      });
      await platform.call('POST', `/v1/simulations/cards/${card.id}/advance`);
      await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
      const token = (await platform.call('POST', '/v1/accounts/acct_1/tokens')).body.access_token;
      const sync = () =>
        platform.app.inject({
          method: 'POST',
          url: `/pcicards/v1/pcicards/${card.id}/scripts/sync-offline-pin`,
          headers: { authorization: `Bearer ${token}` },
        });
      const tap = () =>
        platform.call('POST', '/v1/simulations/authorizations', {
          card_id: card.id,
          amount: 100,
          entry_mode: 'CHIP_CONTACT',
        });
      expect((await sync()).statusCode).toBe(204);
      const scriptId = (await platform.call('GET', `/v1/cards/${card.id}`)).body.offline_pin
        .pending_script_id as string;
      await tap();
      const sent = await platform.store.read.getIssuerScript(scriptId);
      expect(sent?.status).toBe('SENT');
      expect(sent?.commandApdu).toMatch(/^842400/);
      await tap();
      const applied = await platform.store.read.getIssuerScript(scriptId);
      expect(applied).toMatchObject({
        status: 'APPLIED',
        commandApdu: null,
        commandApduSha256: createHash('sha256')
          .update(Buffer.from(sent!.commandApdu!, 'hex'))
          .digest('hex'),
      });

      // Failed too: the next authorization reports that processing the script failed (1x).
      expect((await sync()).statusCode).toBe(204);
      const second = (await platform.call('GET', `/v1/cards/${card.id}`)).body.offline_pin
        .pending_script_id as string;
      await tap();
      const identifier = (await platform.store.read.getIssuerScript(second))!.scriptIdentifier;
      await platform.call('POST', '/v1/simulations/authorizations', {
        card_id: card.id,
        amount: 100,
        entry_mode: 'CONTACTLESS',
        issuer_script_results: `10${identifier}`,
      });
      const failed = await platform.store.read.getIssuerScript(second);
      expect(failed?.status).toBe('FAILED');
      expect(failed?.commandApdu).toBeNull();
      expect(failed?.commandApduSha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await platform.dispose();
    }
  });
});
