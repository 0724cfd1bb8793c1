import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { E2E_SITE_URL } from '../playwright.config.js';
import { watchConsole } from './support.js';

test('a cardholder sets the PIN with the keyboard alone; the REQUIRED card then leaves PENDING', async ({
  page,
}) => {
  const problems = watchConsole(page);
  await page.goto(E2E_SITE_URL);
  await expect(page.getByRole('heading', { name: '1 Issue a card' })).toBeVisible();

  // Keyboard only: REQUIRED is preselected; Tab past the offline-PIN box, the EMV profile and
  // the passkey box to "Issue card" and press Enter.
  await page.getByRole('radio', { name: /Required/ }).focus();
  for (let stop = 0; stop < 4; stop++) await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Issue card' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('#card-status')).toHaveText('Pending');

  const widget = page.frameLocator('#set-pin-widget iframe');
  const pin = widget.getByRole('textbox', { name: 'New PIN', exact: true });
  await expect(pin).toBeVisible();
  await expect(page.locator('#set-pin-widget iframe')).toHaveAttribute(
    'title',
    'Set your card PIN',
  );

  // A weak PIN is refused at once, in words, tied to the field.
  await pin.focus();
  await page.keyboard.type('1234');
  await expect(widget.getByText('too easy to guess')).toBeVisible();
  await expect(pin).toHaveAttribute('aria-invalid', 'true');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type('3850');
  await page.keyboard.press('Tab');
  await page.keyboard.type('3850');
  await page.keyboard.press('Tab');
  await expect(widget.getByRole('button', { name: 'Set PIN' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(widget.getByRole('status')).toContainText('Your PIN is set');

  // The webhook reaches the program's site and the card moves on by itself (delay 500 ms).
  await expect(page.locator('#events')).toContainText('PIN set');
  await expect(page.locator('#card-status')).toHaveText('Not activated', { timeout: 10_000 });

  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations).toEqual([]);
  expect(problems).toEqual([]);
});
