import AxeBuilder from '@axe-core/playwright';
import { type Page, expect, test } from '@playwright/test';
import { E2E_PLATFORM_URL, E2E_SITE_URL } from '../playwright.config.js';
import { watchConsole } from './support.js';

const FIRST_PIN = '3850';
const NEW_PIN = '7392';
const WRONG_PIN = '2961';

/** Sets (or changes) the PIN in the demo's Set PIN widget. */
async function setPin(page: Page, pin: string) {
  const widget = page.frameLocator('#set-pin-widget iframe');
  // After a change the demo mounts a new widget (tokens are single use): wait for it.
  await expect(widget.getByRole('button', { name: 'Set PIN' })).toBeEnabled({ timeout: 15_000 });
  await widget.getByRole('textbox', { name: 'New PIN', exact: true }).fill(pin);
  await widget.getByRole('textbox', { name: 'Confirm new PIN' }).fill(pin);
  await widget.getByRole('button', { name: 'Set PIN' }).click();
  await expect(widget.getByRole('status')).toContainText('Your PIN is set', { timeout: 15_000 });
}

test('at the demo terminal: the chip wants the old PIN until its script runs, three wrong PINs block, the back office unblocks', async ({
  page,
}) => {
  const problems = watchConsole(page);
  // What the page sends its backend for a payment: only ever the pad's JWE.
  const payments: Record<string, unknown>[] = [];
  page.on('request', (request) => {
    if (/\/api\/cards\/[^/]+\/authorize$/.test(request.url()))
      payments.push(JSON.parse(request.postData() ?? '{}'));
  });

  await page.goto(E2E_SITE_URL);
  await page.getByRole('radio', { name: /Required/ }).check();
  await page.getByRole('checkbox', { name: /Offline PIN/ }).check();
  await page.getByRole('button', { name: 'Issue card' }).click();
  await setPin(page, FIRST_PIN);
  await page.getByRole('button', { name: /Skip the wait/ }).click();
  await expect(page.locator('#card-offline')).toHaveText('Chip in sync');
  await page.getByRole('button', { name: 'Activate card' }).click();
  await expect(page.locator('#card-status')).toHaveText('Active');
  await expect(page.locator('#card-pin-status')).toHaveText('OK');
  await expect(page.locator('#card-pin-tries')).toHaveText('3');

  // The terminal and its pad: a frame of the platform, bound to this card and this page.
  const step = page.getByRole('region', { name: '6 Pay at a terminal' });
  await expect(step).toBeVisible();
  const frame = page.locator('#pin-pad iframe');
  await expect(frame).toHaveAttribute('title', 'Terminal PIN pad, served by the issuer platform');
  const src = new URL((await frame.getAttribute('src'))!);
  expect(src.origin).toBe(new URL(E2E_PLATFORM_URL).origin);
  expect(src.pathname).toBe('/simulations/pin-pad/');
  expect(src.searchParams.get('origin')).toBe(E2E_SITE_URL);
  const pad = page.frameLocator('#pin-pad iframe');
  const display = pad.locator('#prompt');
  await expect(display).toHaveText('EUR 12.50 · ENTER PIN');
  const screen = page.locator('#pos-headline');
  const lines = page.locator('#pos-lines');
  const details = page.locator('#pos-details');

  // The pad's frame on its own, then the page with it (axe reads into the frame). The pad is a
  // part of the terminal's page, so it has no level-one heading of its own: the page's counts.
  const axe = await new AxeBuilder({ page })
    .include('#pin-pad')
    .disableRules(['page-has-heading-one'])
    .analyze();
  expect(axe.violations).toEqual([]);
  expect(axe.passes.length).toBeGreaterThan(0);
  expect((await new AxeBuilder({ page }).analyze()).violations).toEqual([]);

  // 1) Change the PIN online: the issuer has the new PIN, the chip still the old one.
  await setPin(page, NEW_PIN);
  await expect(page.locator('#card-offline')).toHaveText('Script waiting for a chip payment');

  // 2) Insert the card, offline PIN, typed with the keyboard alone: Tab from the page into the
  //    pad, digits, Enter. The chip refuses the NEW PIN; the answer carries the script.
  await expect(step.getByRole('radio', { name: /Chip, offline PIN/ })).toBeChecked();
  await page.getByRole('button', { name: /Insert card at a terminal/ }).focus();
  await page.keyboard.press('Tab');
  await expect(pad.getByRole('button', { name: '1', exact: true })).toBeFocused();
  await page.keyboard.type(NEW_PIN.slice(0, 3));
  await expect(pad.locator('#dots')).toHaveText('•••');
  await frame.screenshot({ path: '/tmp/pos-0-pad-typing.png' });
  await expect(pad.getByRole('status')).toHaveText('3 digits entered');
  await page.keyboard.press('Backspace');
  await expect(pad.getByRole('status')).toHaveText('2 digits entered');
  await page.keyboard.type(NEW_PIN.slice(2));
  await expect(pad.locator('#dots')).toHaveText('••••');
  // Enter is the pad's green key, even with the "1" key focused.
  await page.keyboard.press('Enter');
  await expect(screen).toHaveText('INCORRECT PIN (chip) — 2 tries left');
  await expect(lines).toContainText('CHIP PIN TRIES LEFT: 2');
  await expect(lines).toContainText('ISSUER SCRIPT: PIN CHANGE, RUN BY THE CHIP');
  await expect(details).toContainText('so this payment still checked the old PIN');
  await expect(display).toHaveText('INCORRECT PIN');
  await expect(pad.locator('#dots')).toHaveText('');
  await expect(page.locator('#card-pin-tries')).toHaveText('3');
  await page.screenshot({ path: '/tmp/pos-1-chip-refuses-new-pin.png', fullPage: true });
  await step.screenshot({ path: '/tmp/pos-1-chip-refuses-new-pin-terminal.png' });

  // 3) Insert it again, the PIN typed by clicks: the script has run, the NEW PIN verifies.
  await expect(pad.locator('.pad')).toHaveAttribute('data-state', 'entry');
  for (const digit of NEW_PIN) await pad.getByRole('button', { name: digit, exact: true }).click();
  await pad.getByRole('button', { name: 'Enter' }).click();
  await expect(screen).toHaveText('OFFLINE PIN OK (chip) · APPROVED');
  await expect(details).toContainText('3 tries left on the chip');
  await expect(details).toContainText('it applied the issuer script');
  await expect(lines).toContainText('SCRIPT RESULT REPORTED: APPLIED');
  await expect(lines).toContainText('NO ISSUER SCRIPT');
  await expect(page.locator('#card-offline')).toHaveText('Chip in sync');
  await expect(display).toHaveText('PIN OK');
  await page.screenshot({ path: '/tmp/pos-2-chip-verifies-new-pin.png', fullPage: true });
  await step.screenshot({ path: '/tmp/pos-2-chip-verifies-new-pin-terminal.png' });

  // 4) Online PIN: three wrong PINs block it; then even the right one is refused.
  await step.getByRole('radio', { name: /Issuer, online PIN/ }).check();
  /** Types on the pad once it takes keys again (after an answer it waits for the page's prompt). */
  const typeOnPad = async (pin: string) => {
    await expect(pad.locator('.pad')).toHaveAttribute('data-state', 'entry');
    await pad.locator('.display').click();
    await page.keyboard.type(pin);
    await page.keyboard.press('Enter');
  };
  await typeOnPad(WRONG_PIN);
  await expect(screen).toHaveText('INCORRECT PIN — 2 tries left');
  await expect(page.locator('#card-pin-tries')).toHaveText('2');
  await typeOnPad(WRONG_PIN);
  await expect(screen).toHaveText('INCORRECT PIN — 1 try left');
  await typeOnPad(WRONG_PIN);
  await expect(screen).toHaveText('PIN TRIES EXCEEDED');
  await expect(display).toHaveText('PIN TRIES EXCEEDED');
  await expect(page.locator('#card-pin-status')).toHaveText('Blocked');
  await expect(page.locator('#card-pin-tries')).toHaveText('0');
  await expect(page.locator('#events')).toContainText('PIN blocked');
  await typeOnPad(NEW_PIN);
  await expect(details).toContainText('The PIN is blocked');
  await expect(screen).toHaveText('PIN TRIES EXCEEDED');
  await page.screenshot({ path: '/tmp/pos-3-pin-blocked.png', fullPage: true });
  await step.screenshot({ path: '/tmp/pos-3-pin-blocked-terminal.png' });

  // 5) The program's back office unblocks; the right PIN is approved online again.
  await step.getByRole('button', { name: 'Unblock PIN' }).click();
  await expect(page.locator('#card-pin-status')).toHaveText('OK');
  await expect(page.locator('#card-pin-tries')).toHaveText('3');
  await expect(step.locator('#unblock-result')).toContainText('PIN unblocked: 3 tries');
  await expect(page.locator('#events')).toContainText('PIN unblocked');
  await typeOnPad(NEW_PIN);
  await expect(screen).toHaveText('APPROVED');
  await expect(details).toContainText('The issuer verified the PIN online');
  // The offline-PIN card's chip gets the PIN UNBLOCK script with its next contact payment.
  await expect(lines).toContainText('ISSUER SCRIPT: PIN UNBLOCK, RUN BY THE CHIP');
  await page.screenshot({ path: '/tmp/pos-4-unblocked-approved.png', fullPage: true });
  await step.screenshot({ path: '/tmp/pos-4-unblocked-approved-terminal.png' });
  await frame.screenshot({ path: '/tmp/pos-5-pin-pad.png' });

  // Cancel on the pad: the terminal says so, nothing is sent.
  await expect(pad.locator('.pad')).toHaveAttribute('data-state', 'entry');
  await pad.locator('.display').click();
  await page.keyboard.type('12');
  await page.keyboard.press('Escape');
  await expect(screen).toHaveText('CANCELLED');
  await expect(pad.locator('#dots')).toHaveText('');

  // A phone-sized window: the terminal and its pad reflow, nothing scrolls sideways.
  await page.setViewportSize({ width: 360, height: 800 });
  await step.scrollIntoViewIfNeeded();
  await step.screenshot({ path: '/tmp/pos-6-narrow.png' });
  expect(
    await page.evaluate(
      () => document.documentElement.scrollWidth <= document.documentElement.clientWidth,
    ),
  ).toBe(true);

  expect(payments).toHaveLength(7);
  for (const payment of payments) {
    expect(Object.keys(payment).sort()).toEqual(
      payment.cvm === 'ONLINE_PIN'
        ? ['cvm', 'encrypted_pin', 'entry_mode', 'pin_block_format']
        : ['cvm', 'encrypted_pin', 'entry_mode'],
    );
    expect(payment.encrypted_pin).toMatch(/^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/);
  }
  expect(problems).toEqual([]);
});

test('the pad runs only inside the page it was opened for', async ({ page }) => {
  const card = 'card_00000000000000000000000000';
  // Opened on its own (not framed): it says so and its keys do nothing.
  await page.goto(
    `${E2E_PLATFORM_URL}/simulations/pin-pad/?card=${card}&origin=${encodeURIComponent(E2E_SITE_URL)}`,
  );
  await expect(page.locator('#prompt')).toHaveText('PIN PAD UNAVAILABLE');
  await expect(page.getByRole('button', { name: 'Enter' })).toBeDisabled();
  // For a page that may not frame it, the platform does not even serve it.
  const refused = await page.request.get(
    `${E2E_PLATFORM_URL}/simulations/pin-pad/?card=${card}&origin=${encodeURIComponent('http://127.0.0.1:4403')}`,
  );
  expect(refused.status()).toBe(400);
  expect((await refused.json()).field).toBe('origin');
});
