import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { issueCard, mintToken, testPan, widgetCall } from '../testing/cards.js';
import { encryptPin } from '../testing/independent-jose.js';
import { startTestPlatform, tempDataDir } from '../testing/platform.js';
import { PinVault, aesKeyId } from './at-rest.js';
import { decipherFormat4 } from '../payment-crypto/index.js';
import { rotateTransportKey } from './transport-keys.js';

const PAN = testPan('400000123456785');

describe('PIN-transport key rotation', () => {
  it('the newest key is published; an older one decrypts until its grace period ends', async () => {
    const platform = await startTestPlatform();
    try {
      const card = await issueCard(platform, {}, { pan: PAN });
      const before = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
      const file = path.join(platform.dataDir, 'pin-transport-keys.json');
      const newKid = await rotateTransportKey(file, 60);
      const after = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
      expect(after.keys.map((k: { kid: string }) => k.kid)).toEqual([newKid]);
      expect(newKid).not.toBe(before.keys[0].kid);

      // A widget that fetched the JWKS before the rotation still succeeds.
      const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
      const old = await widgetCall(platform, 'POST', '/v1/widget/pin', token, {
        encrypted_pin: await encryptPin(before, '3850', token),
      });
      expect(old.status).toBe(200);

      // Past the 60 s grace period the old key no longer decrypts…
      const token2 = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
      const jwe = await encryptPin(before, '3850', token2);
      const realNow = Date.now;
      Date.now = () => realNow() + 61_000;
      try {
        const late = await widgetCall(platform, 'POST', '/v1/widget/pin', token2, {
          encrypted_pin: jwe,
        });
        expect(late.body.code).toBe('UNKNOWN_KEY_ID');
      } finally {
        Date.now = realNow;
      }
      // …and the next rotation drops it from the file.
      await rotateTransportKey(file, 60, Date.now() + 61_000);
      const keyFile = JSON.parse(fs.readFileSync(file, 'utf8'));
      expect(keyFile.keys.map((k: { kid: string }) => k.kid)).not.toContain(before.keys[0].kid);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      await platform.dispose();
    }
  });
});

describe('PINs at rest', () => {
  it('are ISO 9564-1 format 4 blocks under PIN_ENCRYPTION_KEY, each with its key id', () => {
    const key = Buffer.alloc(32, 7);
    const vault = new PinVault(key);
    const sealed = vault.seal('3850', PAN);
    expect(sealed.keyId).toBe(aesKeyId(key));
    expect(sealed.pinBlock).toMatch(/^[0-9A-F]{32}$/);
    expect(decipherFormat4(Buffer.from(sealed.pinBlock, 'hex'), PAN, key)).toBe('3850');
    // Random fill: the same PIN never enciphers the same way twice.
    expect(vault.seal('3850', PAN).pinBlock).not.toBe(sealed.pinBlock);
  });

  it('re-encrypt after a key rotation: every block moves to the new key and still opens', async () => {
    const dataDir = tempDataDir();
    const oldKey = 'AA'.repeat(32);
    const newKey = 'BB'.repeat(32);
    const first = await startTestPlatform({ DATA_DIR: dataDir, PIN_ENCRYPTION_KEY: oldKey });
    const card = await issueCard(first, { pin_issuance_policy: 'RANDOM' }, { pan: PAN });
    await first.call('POST', `/v1/simulations/cards/${card.id}/advance`);
    const before = await first.store.read.getPin(card.id);
    await first.close();
    await first.store.close();

    const second = await startTestPlatform({
      DATA_DIR: dataDir,
      PIN_ENCRYPTION_KEY: newKey,
      PIN_ENCRYPTION_KEY_PREVIOUS: oldKey,
    });
    try {
      expect(await second.pins.reencryptAll()).toBe(1);
      const after = await second.store.read.getPin(card.id);
      expect(after!.keyId).toBe(aesKeyId(Buffer.from(newKey, 'hex')));
      const pinBefore = decipherFormat4(
        Buffer.from(before!.pinBlock, 'hex'),
        PAN,
        Buffer.from(oldKey, 'hex'),
      );
      expect(
        decipherFormat4(Buffer.from(after!.pinBlock, 'hex'), PAN, Buffer.from(newKey, 'hex')),
      ).toBe(pinBefore);
      expect(await second.pins.reencryptAll()).toBe(0);
    } finally {
      await second.dispose();
    }
  });

  it('a generated PIN_ENCRYPTION_KEY is kept in DATA_DIR with mode 0600', async () => {
    const platform = await startTestPlatform();
    try {
      const file = path.join(platform.dataDir, 'pin_encryption_key');
      expect(fs.readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      await platform.dispose();
    }
  });
});
