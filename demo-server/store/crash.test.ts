import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startReceiver } from '../testing/receiver.js';
import { ServerProcess, freePort } from '../testing/server-process.js';
import { TEST_API_KEY, tempDataDir } from '../testing/platform.js';

const dataDir = tempDataDir();
const env = {
  DATA_DIR: dataDir,
  API_KEY: TEST_API_KEY,
  ISSUANCE_DELAY_MS: '1500',
  SCHEDULER_POLL_MS: '50',
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_TIMEOUT_MS: '1000',
  LOG_LEVEL: 'warn',
};
const headers = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

async function api(server: ServerProcess, method: string, url: string, body?: unknown) {
  const response = await fetch(`${server.url}${url}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return response.json() as Promise<any>;
}

describe('kill -9 while RANDOM cards are PENDING', () => {
  it('after a restart on the same DATA_DIR every card transitions once and every webhook arrives', async () => {
    const receiver = await startReceiver();
    const server = new ServerProcess(await freePort(), env);
    await server.start();
    await api(server, 'POST', '/v1/webhooks', { url: receiver.url, enabled_events: ['CARD.*'] });
    const product = await api(server, 'POST', '/v1/card_products', {
      name: 'Random',
      form: 'PHYSICAL',
      pin_issuance_policy: 'RANDOM',
    });
    const cardIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      const card = await api(server, 'POST', '/v1/cards', {
        card_product_id: product.id,
        account_id: `acct_${i}`,
      });
      expect(card.card_status).toBe('PENDING');
      cardIds.push(card.id);
    }
    await server.kill();

    // Down for longer than the delay: the jobs are overdue when the server comes back.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await server.start();
    try {
      const received = await receiver.waitFor(
        (all) =>
          cardIds.every((id) =>
            all.some(
              (w) =>
                w.json.data.card?.id === id &&
                w.json.data.card.card_fulfillment_status === 'SHIPPED',
            ),
          ),
        30_000,
      );
      for (const id of cardIds) {
        const card = await api(server, 'GET', `/v1/cards/${id}`);
        expect(card).toMatchObject({
          card_status: 'UNACTIVATED',
          card_fulfillment_status: 'SHIPPED',
        });
        const created = received.filter(
          (w) => w.json.type === 'CARD.CREATED' && w.json.data.card.id === id,
        );
        expect(created.length).toBeGreaterThanOrEqual(1);
      }
      // Exactly once in effect: one PENDING → UNACTIVATED event per card in the event log.
      const events: any[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await api(
          server,
          'GET',
          `/v1/events?type=CARD.UPDATED&limit=100${cursor ? `&starting_after=${cursor}` : ''}`,
        );
        events.push(...page.data);
        cursor = page.next_cursor;
      } while (cursor);
      for (const id of cardIds) {
        const activations = events.filter(
          (e) => e.data.card.id === id && e.data.changed_fields.card_status === 'PENDING',
        );
        expect(activations).toHaveLength(1);
      }
    } finally {
      await server.stop();
      await receiver.close();
    }
  }, 60_000);
});
