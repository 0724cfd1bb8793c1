import { describe, expect, it } from 'vitest';
import { logSink } from '../testing/log-sink.js';
import { issueCard, mintToken, testPan, widgetCall } from '../testing/cards.js';
import { encryptPin, ephemeralKey } from '../testing/independent-jose.js';
import { startTestPlatform } from '../testing/platform.js';
import { startReceiver } from '../testing/receiver.js';
import { terminal } from '../testing/terminal.js';

/** A 12-digit PIN: no timestamp, id or random hex in the data can contain it by chance. */
const PIN = '957316284039';

describe('a PIN set through the full path appears nowhere', () => {
  it('not in the logs, not in the database’s bytes at rest, not in events or webhook bodies', async () => {
    const sink = logSink();
    const platform = await startTestPlatform(
      { ISSUANCE_DELAY_MS: '50' },
      { level: 'trace', stream: sink.stream },
    );
    const receiver = await startReceiver();
    try {
      platform.startWorkers();
      await platform.call('POST', '/v1/webhooks', { url: receiver.url, enabled_events: ['*'] });
      const card = await issueCard(
        platform,
        { pin_issuance_policy: 'REQUIRED', pin_length: 12, offline_pin: true },
        { pan: testPan('400000123456785') },
      );
      const jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
      const setToken = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
      const set = await widgetCall(platform, 'POST', '/v1/widget/pin', setToken, {
        encrypted_pin: await encryptPin(jwks, PIN, setToken),
      });
      expect(set.status).toBe(200);
      // A refused attempt too: errors must not echo the PIN either.
      const weakToken = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
      const weak = await widgetCall(platform, 'POST', '/v1/widget/pin', weakToken, {
        encrypted_pin: await encryptPin(jwks, '111111111111', weakToken),
      });
      expect(weak.status).toBe(400);
      expect(JSON.stringify(weak.body)).not.toContain('111111111111');

      await platform.call('POST', `/v1/simulations/cards/${card.id}/advance`);
      await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
      const key = await ephemeralKey();
      const revealToken = await mintToken(platform, card.id, { widget_type: 'REVEAL_PIN' });
      const revealed = await widgetCall(platform, 'POST', '/v1/widget/pin/reveal', revealToken, {
        public_key: key.publicJwk,
      });
      expect((await key.decrypt(revealed.body.encrypted_pin)).payload.pin).toBe(PIN);
      for (const format of ['ISO_9564_4', 'ISO_9564_0']) {
        const exported = await platform.call(
          'GET',
          `/v1/cards/${card.id}/pin_block?format=${format}`,
        );
        expect(exported.status).toBe(200);
        expect(JSON.stringify(exported.body)).not.toContain(PIN);
      }
      await receiver.waitFor((all) => all.some((w) => w.json.data.card?.card_status === 'ACTIVE'));

      // The logs: requests were logged (the check can fail), the PIN and tokens were not.
      expect(sink.text()).toContain('/v1/widget/pin');
      expect(sink.text()).not.toContain(PIN);
      expect(sink.text()).not.toContain(setToken);
      expect(sink.text()).not.toContain(revealToken);

      // Every byte of the database at rest, as text (SQLite: its file and the WAL, which
      // images() insists is there; PostgreSQL: the schema's relation files and its rows).
      const images = await platform.db.images();
      expect(images.length).toBeGreaterThan(1);
      for (const { name, bytes } of images) {
        const raw = bytes.toString('latin1');
        expect(raw.length).toBeGreaterThan(0);
        expect(raw, name).not.toContain(PIN);
        expect(raw, name).not.toContain(setToken);
      }

      const events = await platform.call('GET', '/v1/events?limit=100');
      expect(events.body.data.length).toBeGreaterThan(3);
      expect(JSON.stringify(events.body)).not.toContain(PIN);
      expect(receiver.received.length).toBeGreaterThan(3);
      for (const webhook of receiver.received) expect(webhook.body).not.toContain(PIN);
    } finally {
      await platform.dispose();
      await receiver.close();
    }
  });
});

/** Three more 12-digit PINs: the wrong one a terminal sends, the current one, the new one. */
const WRONG = '864209753146';
const NEW = '318527460913';

describe('at the point of sale too', () => {
  it('the terminal’s PIN, the current PIN, the chip’s copy and the verification leave no digits', async () => {
    const sink = logSink();
    const platform = await startTestPlatform(
      { ISSUANCE_DELAY_MS: '3600000' },
      { level: 'trace', stream: sink.stream },
    );
    const receiver = await startReceiver();
    const answers: string[] = [];
    const record = <T extends { body: unknown }>(answer: T) => {
      answers.push(JSON.stringify(answer.body));
      return answer;
    };
    try {
      platform.startWorkers();
      await platform.call('POST', '/v1/webhooks', { url: receiver.url, enabled_events: ['*'] });
      const pan = testPan('400000123456785');
      const card = await issueCard(
        platform,
        {
          pin_issuance_policy: 'REQUIRED',
          pin_length: 12,
          offline_pin: true,
          pin_change_requires_current_pin: true,
        },
        { pan },
      );
      const jwks = (await platform.app.inject({ method: 'GET', url: '/v1/pin_keys' })).json();
      const setPin = async (payload: Record<string, string>) => {
        const token = await mintToken(platform, card.id, { widget_type: 'SET_PIN' });
        return record(
          await widgetCall(platform, 'POST', '/v1/widget/pin', token, {
            encrypted_pin: await encryptPin(jwks, '', token, {}, JSON.stringify(payload)),
          }),
        );
      };
      expect((await setPin({ pin: PIN })).status).toBe(200);
      await platform.call('POST', `/v1/simulations/cards/${card.id}/advance`);
      await platform.call('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });

      const authorize = async (extra: Record<string, unknown>) =>
        record(
          await platform.call('POST', '/v1/simulations/authorizations', {
            card_id: card.id,
            amount: 100,
            entry_mode: 'CHIP_CONTACT',
            ...extra,
          }),
        );
      for (const pin of [WRONG, PIN]) {
        expect(
          (
            await authorize({
              pin_block: { format: 'ISO_9564_0', block: terminal.format0(pin, pan) },
            })
          ).status,
        ).toBe(200);
        const format4 = { format: 'ISO_9564_4', block: terminal.format4(pin, pan) };
        expect((await authorize({ pin_block: format4 })).status).toBe(200);
        expect((await authorize({ cvm: 'OFFLINE_PIN', pin_block: format4 })).status).toBe(200);
      }
      // The demo PIN pad's translation, as the acquirer's HSM.
      const padEntry = await encryptPin(jwks, WRONG, '', {
        card: card.id,
        iat: Math.floor(Date.now() / 1000),
        wst: undefined,
      });
      const translated = record(
        await platform.call('POST', '/v1/simulations/pin_pad/pin_block', {
          card_id: card.id,
          encrypted_pin: padEntry,
          format: 'ISO_9564_4',
        }),
      );
      expect(translated.status).toBe(200);

      // A change with a wrong current PIN, then with the right one; an unblock's script.
      expect((await setPin({ pin: NEW, current_pin: WRONG })).status).toBe(400);
      expect((await setPin({ pin: NEW, current_pin: PIN })).status).toBe(200);
      record(await platform.call('POST', `/v1/cards/${card.id}/pin/unblock`));
      expect(
        (
          await authorize({
            cvm: 'OFFLINE_PIN',
            pin_block: { format: 'ISO_9564_4', block: terminal.format4(NEW, pan) },
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await authorize({
            cvm: 'OFFLINE_PIN',
            pin_block: { format: 'ISO_9564_4', block: terminal.format4(NEW, pan) },
          })
        ).body,
      ).toMatchObject({ offline_pin_verification: 'VERIFIED' });
      await receiver.waitFor((all) =>
        all.some(
          (w) =>
            w.json.data.script_type === 'UNBLOCK_PIN' &&
            w.json.data.script_event_type === 'script_applied',
        ),
      );

      const images = await platform.db.images();
      const events = await platform.call('GET', '/v1/events?limit=100');
      expect(sink.text()).toContain('/v1/simulations/authorizations');
      expect(answers.length).toBeGreaterThan(8);
      for (const pin of [PIN, WRONG, NEW]) {
        expect(sink.text()).not.toContain(pin);
        for (const answer of answers) expect(answer).not.toContain(pin);
        for (const { name, bytes } of images)
          expect(bytes.toString('latin1'), name).not.toContain(pin);
        expect(JSON.stringify(events.body)).not.toContain(pin);
        for (const webhook of receiver.received) expect(webhook.body).not.toContain(pin);
      }
    } finally {
      await platform.dispose();
      await receiver.close();
    }
  });
});
