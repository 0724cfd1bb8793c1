import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { activeRandomCardOnDemo, watchConsole } from './support.js';

test('a RANDOM card, once active, reveals its PIN in the iframe, counts down and hides it', async ({
  page,
}) => {
  const problems = watchConsole(page);
  await activeRandomCardOnDemo(page);

  const widget = page.frameLocator('#reveal-pin-widget iframe');
  await expect(widget.getByText('••••')).toBeVisible();
  // Before the reveal: the scan takes seconds on a loaded machine, longer than a PIN is shown.
  // (axe with a PIN shown: e2e/widgets.every-cardholder.spec.ts, with a long auto-hide.)
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations).toEqual([]);
  await widget.getByRole('button', { name: 'Show PIN' }).click();
  const digits = widget.locator('.pw-pin');
  await expect(digits).toHaveText(/^\d{4}$/);
  await expect(widget.getByRole('status')).toContainText('Hides in');
  // The PIN is inside the platform's iframe only: the program's page never holds it.
  const shown = await digits.textContent();
  expect(await page.locator('body').innerText()).not.toContain(shown!);

  await widget.getByRole('button', { name: 'Hide PIN' }).click();
  await expect(digits).toHaveText('••••');
  // A second reveal needs a new single-use token: fetchToken gets one transparently.
  await widget.getByRole('button', { name: 'Show PIN' }).click();
  await expect(digits).toHaveText(shown!);
  // Auto-hide after 8 s in the demo.
  await expect(digits).toHaveText('••••', { timeout: 12_000 });
  expect(problems).toEqual([]);
});
