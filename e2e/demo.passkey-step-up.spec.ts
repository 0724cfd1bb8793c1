import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { E2E_PLATFORM_URL, E2E_SITE_URL } from '../playwright.config.js';
import { activeRandomCardOnDemo, virtualAuthenticator, watchConsole } from './support.js';

const PIN = '3850';
const REFUSAL =
  "The platform refused: a passkey confirmation for the platform's site is required, and this page cannot make one.";

test('a PASSKEY card: enroll in the platform’s frame, reveal behind the passkey; the hostile host is refused', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const problems = watchConsole(page);
  const authenticator = await virtualAuthenticator(page);

  await page.goto(E2E_SITE_URL);
  await page.getByRole('radio', { name: /Required/ }).check();
  await page.getByRole('checkbox', { name: /Offline PIN/ }).uncheck();
  await page.getByRole('checkbox', { name: /Confirm reveals with a passkey/ }).check();
  await page.getByRole('button', { name: 'Issue card' }).click();
  await expect(page.locator('#card-step-up')).toHaveText('Need a passkey');
  const enrollStep = page.getByRole('region', { name: 'Add a passkey' });
  await expect(enrollStep).toBeVisible();
  await expect(enrollStep).toContainText('A real card program would first check strongly');
  await expect(page.locator('#passkeys')).toContainText('None yet');

  // Set the PIN, skip the wait, activate: the card as on any product.
  const setPin = page.frameLocator('#set-pin-widget iframe');
  await setPin.getByRole('textbox', { name: 'New PIN', exact: true }).fill(PIN);
  await setPin.getByRole('textbox', { name: 'Confirm new PIN' }).fill(PIN);
  await setPin.getByRole('button', { name: 'Set PIN' }).click();
  await expect(setPin.getByRole('status')).toContainText('Your PIN is set', { timeout: 15_000 });
  await page.getByRole('button', { name: /Skip the wait/ }).click();
  await expect(page.locator('#card-status')).toHaveText('Not activated');
  await page.getByRole('button', { name: 'Activate card' }).click();
  await expect(page.locator('#card-status')).toHaveText('Active');
  await expect(page.locator('#reveal-step-up')).toBeVisible();
  await enrollStep.screenshot({ path: '/tmp/demo-passkey-1-before-enroll.png' });

  // Enroll: the platform's frame runs create() for the platform's RP ID.
  const enroll = page.frameLocator('#enroll-passkey-widget iframe');
  await enroll.getByRole('button', { name: 'Set up a passkey' }).click();
  await expect(enroll.getByRole('status')).toContainText('Your passkey is set up', {
    timeout: 15_000,
  });
  const [credential] = await authenticator.credentials();
  expect(credential?.rpId).toBe(new URL(E2E_PLATFORM_URL).hostname);
  await expect(page.locator('#passkeys li')).toHaveCount(1);
  await expect(page.locator('#passkeys')).toContainText('Passkey 1: added');
  await expect(page.locator('#passkeys')).toContainText('through this card');
  await expect(page.locator('#events')).toContainText('Passkey added', { timeout: 15_000 });
  await enrollStep.screenshot({ path: '/tmp/demo-passkey-2-enrolled.png' });

  // Reveal: Show PIN asks the authenticator (inside the iframe), then the platform reveals.
  const reveal = page.frameLocator('#reveal-pin-widget iframe');
  await expect(reveal.getByText('You’ll confirm it’s you with your passkey first.')).toBeVisible();
  await reveal.getByRole('button', { name: 'Show PIN' }).click();
  const digits = reveal.locator('.pw-pin');
  await expect(digits).toHaveText(PIN, { timeout: 15_000 });
  expect(await page.locator('body').innerText()).not.toContain(PIN);
  // The reveal's webhook: audited with its step-up, and the passkey's last use in the list.
  await expect(page.locator('#events')).toContainText('Confirmed with the cardholder’s passkey', {
    timeout: 15_000,
  });
  await expect(page.locator('#passkeys')).toContainText('last used', { timeout: 15_000 });
  await page
    .getByRole('region', { name: '4 Reveal the PIN' })
    .screenshot({ path: '/tmp/demo-passkey-3-revealed.png' });
  await reveal.getByRole('button', { name: 'Hide PIN' }).click();
  await expect(digits).toHaveText('••••');

  // The hostile host: a token for its own key, a valid proof, no passkey confirmation.
  const hostile = page.getByRole('region', { name: 'A hostile host' });
  await hostile.getByRole('button', { name: /Run the hostile script/ }).click();
  const verdict = hostile.locator('#hostile-result');
  await expect(verdict).toContainText(REFUSAL);
  await expect(verdict).toContainText('HTTP 401 STEP_UP_REQUIRED');
  await expect(verdict).toContainText('minted a Reveal PIN token bound to that key');
  await hostile.screenshot({ path: '/tmp/demo-passkey-4-hostile-refused.png' });
  // One reveal only, the cardholder's: the hostile attempt revealed nothing.
  await expect(page.locator('#events li', { hasText: 'PIN revealed' })).toHaveCount(1);

  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations).toEqual([]);
  await page.screenshot({ path: '/tmp/demo-passkey-5-page.png', fullPage: true });
  // A phone's width: the new panels reflow, nothing scrolls sideways.
  await page.setViewportSize({ width: 360, height: 800 });
  await hostile.screenshot({ path: '/tmp/demo-passkey-7-hostile-narrow.png' });
  // The enroll frame follows its document's new height (the SDK's resize) before the picture:
  // the same height twice in a row, the frame's and its document's. Chromium renders an
  // offscreen cross-origin frame lazily, so it is scrolled into view first.
  await enrollStep.scrollIntoViewIfNeeded();
  const enrollFrame = page.frames().find((frame) => frame.url().includes('/enroll-passkey/'))!;
  let previous = -1;
  await expect
    .poll(async () => {
      const inner = await enrollFrame.evaluate(() =>
        Math.ceil(document.documentElement.getBoundingClientRect().height),
      );
      const outer = await page
        .locator('#enroll-passkey-widget iframe')
        .evaluate((frame) => frame.clientHeight);
      const settled = outer === inner && inner === previous;
      previous = inner;
      return settled;
    })
    .toBe(true);
  await enrollStep.screenshot({ path: '/tmp/demo-passkey-8-enroll-narrow.png' });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  await page.setViewportSize({ width: 1280, height: 720 });

  // The back office removes the passkeys: the hostile host is still refused (none enrolled).
  await enrollStep.getByRole('button', { name: 'Remove passkeys' }).click();
  await expect(enrollStep.locator('#passkeys-result')).toHaveText(
    'Removed 1 passkey. The cardholder can add a new one above.',
  );
  await expect(page.locator('#passkeys')).toContainText('None yet');
  await hostile.getByRole('button', { name: /Run the hostile script/ }).click();
  await expect(verdict).toContainText('HTTP 409 PASSKEY_NOT_ENROLLED');
  expect(problems).toEqual([]);

  // What the page says of a direct call: the page's own CSP stops it before it leaves.
  const direct = await page.evaluate(async (url) => {
    const violation = new Promise<string>((resolve) =>
      document.addEventListener('securitypolicyviolation', (event) =>
        resolve(event.effectiveDirective),
      ),
    );
    const outcome = await fetch(`${url}/v1/widget/pin/reveal`, { method: 'POST', body: '{}' }).then(
      (response) => `answered ${response.status}`,
      (error: Error) => error.name,
    );
    return { outcome, directive: await violation };
  }, E2E_PLATFORM_URL);
  expect(direct).toEqual({ outcome: 'TypeError', directive: 'connect-src' });
});

test('a NONE card: the hostile host’s reveal succeeds, and the page says so without any PIN', async ({
  page,
}) => {
  test.setTimeout(60_000);
  const problems = watchConsole(page);
  await activeRandomCardOnDemo(page);
  await expect(page.locator('#card-step-up')).toHaveText('No passkey asked');
  await expect(page.getByRole('region', { name: 'Add a passkey' })).toBeHidden();
  await expect(page.locator('#reveal-step-up')).toBeHidden();

  const hostile = page.getByRole('region', { name: 'A hostile host' });
  await hostile.getByRole('button', { name: /Run the hostile script/ }).click();
  const verdict = hostile.locator('#hostile-result');
  await expect(verdict).toContainText(
    'The platform answered 200: it revealed the PIN to the hostile script.',
  );
  await expect(verdict).toContainText('(ECDH-ES, A256GCM,');
  await expect(verdict).toContainText('no PIN reaches this page');
  // No PIN, and no ciphertext either: the relay kept both from the page.
  expect(await verdict.innerText()).not.toMatch(/\d{4}|eyJ/);
  await expect(page.locator('#events')).toContainText('hostile-host relay', { timeout: 15_000 });
  await hostile.screenshot({ path: '/tmp/demo-passkey-6-hostile-none.png' });
  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations).toEqual([]);
  expect(problems).toEqual([]);
});
