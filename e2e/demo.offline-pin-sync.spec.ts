import { expect, test } from '@playwright/test';
import { E2E_SITE_URL } from '../playwright.config.js';
import { watchConsole } from './support.js';

test('after a PIN change the chip is out of sync; a chip payment delivers the script and the next confirms it', async ({
  page,
}) => {
  const problems = watchConsole(page);
  await page.goto(E2E_SITE_URL);
  await page.getByRole('radio', { name: /Required/ }).check();
  await page.getByRole('checkbox', { name: /Offline PIN/ }).check();
  await page.getByRole('button', { name: 'Issue card' }).click();

  const setWidget = page.frameLocator('#set-pin-widget iframe');
  await setWidget.getByRole('textbox', { name: 'New PIN', exact: true }).fill('3850');
  await setWidget.getByRole('textbox', { name: 'Confirm new PIN' }).fill('3850');
  await setWidget.getByRole('button', { name: 'Set PIN' }).click();
  // The platform's first PIN change after start (JIT, key load) can take seconds on a busy box.
  await expect(setWidget.getByRole('status')).toContainText('Your PIN is set', { timeout: 15_000 });

  // Issued with the PIN on the chip: in sync. Then activate.
  await page.getByRole('button', { name: /Skip the wait/ }).click();
  await expect(page.locator('#card-offline')).toHaveText('Chip in sync');
  await page.getByRole('button', { name: 'Activate card' }).click();
  await expect(page.locator('#card-status')).toHaveText('Active');

  // Change the PIN: the online PIN moves on, the chip's copy is stale until a script lands.
  await expect(setWidget.getByRole('button', { name: 'Set PIN' })).toBeEnabled({ timeout: 10_000 });
  await setWidget.getByRole('textbox', { name: 'New PIN', exact: true }).fill('7392');
  await setWidget.getByRole('textbox', { name: 'Confirm new PIN' }).fill('7392');
  await setWidget.getByRole('button', { name: 'Set PIN' }).click();
  await expect(page.locator('#card-offline')).toHaveText('Script waiting for a chip payment');
  await expect(page.locator('#events')).toContainText('Issuer script created');

  // Contactless never carries scripts.
  await page.getByRole('button', { name: /Tap at a terminal/ }).click();
  await expect(page.locator('#terminal')).toContainText(
    'Contactless payments never carry issuer scripts',
  );

  await page.getByRole('button', { name: /Insert card/ }).click();
  await expect(page.locator('#terminal')).toContainText('Issuer Script Template 2 delivered');
  await expect(page.locator('#terminal')).toContainText('84240002');
  await expect(page.locator('#events')).toContainText('Issuer script sent');

  await page.getByRole('button', { name: /Insert card/ }).click();
  await expect(page.locator('#events')).toContainText('offline PIN updated');
  await expect(page.locator('#card-offline')).toHaveText('Chip in sync');
  await page.screenshot({ path: 'test-results/demo-offline-pin.png', fullPage: true });
  expect(problems).toEqual([]);
});
