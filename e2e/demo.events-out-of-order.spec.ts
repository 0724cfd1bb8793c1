import { expect, test } from '@playwright/test';
import { E2E_SITE_URL } from '../playwright.config.js';

/**
 * The demo page learns a card's state from two sources: its own calls' answers and the event
 * stream, which runs behind the platform's webhook. Here the stream is held until the card is
 * active and then delivers Skip the wait's CARD.UPDATED, older than Activate's answer: the page
 * keeps the newer state. (A late event once put an active card back to Not activated.)
 */
test('an event older than the card on the page does not undo it', async ({ page }) => {
  let release!: (body: string) => void;
  const late = new Promise<string>((resolve) => (release = resolve));
  await page.route('**/api/stream', async (route) =>
    // `retry`: the browser does not reconnect while the test runs.
    route.fulfill({ contentType: 'text/event-stream', body: `retry: 600000\n${await late}` }),
  );

  await page.goto(E2E_SITE_URL);
  await page.getByRole('radio', { name: /Random/ }).check();
  await page.getByRole('button', { name: 'Issue card' }).click();
  await expect(page.locator('#card-status')).toHaveText('Pending');
  const advanced = page.waitForResponse((response) => response.url().endsWith('/advance'));
  await page.getByRole('button', { name: /Skip the wait/ }).click();
  const unactivated = await (await advanced).json();
  await expect(page.locator('#card-status')).toHaveText('Not activated');
  await page.getByRole('button', { name: 'Activate card' }).click();
  await expect(page.locator('#card-status')).toHaveText('Active');

  const event = {
    id: 'evt_late',
    type: 'CARD.UPDATED',
    timestamp: unactivated.last_modified_time,
    data: { card: unactivated, changed_fields: { card_status: 'PENDING' } },
  };
  release(`data: ${JSON.stringify(event)}\n\n`);
  // The page renders an event's card right after listing it.
  await expect(page.locator('#events li', { hasText: 'CARD.UPDATED · raw JSON' })).toHaveCount(1);
  await expect(page.locator('#card-status')).toHaveText('Active');
  await expect(page.getByRole('button', { name: 'Activate card' })).toBeDisabled();
  await expect(page.locator('#step-reveal')).toBeVisible();
});
