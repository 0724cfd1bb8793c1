import AxeBuilder from '@axe-core/playwright';
import {
  type APIRequestContext,
  type FrameLocator,
  type Page,
  expect,
  test,
} from '@playwright/test';
import { E2E_FIXTURE_URL } from '../playwright.config.js';
import { getCard, issueCard, waitForEvent, watchConsole } from './support.js';

/**
 * docs/point-of-sale.md, “Change with the current PIN”: on a product with
 * `pin_change_requires_current_pin`, a card that has a PIN is changed only with its current PIN;
 * a wrong one uses a try and says so, the right one changes the PIN.
 */

const SHOTS = 'test-results/current-pin';
const FIRST_PIN = '3850';
const NEW_PIN = '2961';
const WRONG_PIN = '1357';

/** Mounts Set PIN on the fixture host page (the SDK's ESM build) for `card`, until `load`. */
async function mountSetPin(
  page: Page,
  card: string,
  options: Record<string, unknown> = {},
): Promise<FrameLocator> {
  await page.goto(
    `${E2E_FIXTURE_URL}/sdk.html?${new URLSearchParams({
      widget: 'set-pin',
      card,
      options: JSON.stringify(options),
    })}`,
  );
  await waitForEvent(page, 'load');
  return page.frameLocator('#slot iframe');
}

/** A card of a product that asks for the current PIN, with its first PIN set through the widget. */
async function cardWithPin(page: Page, request: APIRequestContext): Promise<string> {
  const card = await issueCard(request, {
    pin_issuance_policy: 'REQUIRED',
    pin_change_requires_current_pin: true,
    pin_try_limit: 3,
  });
  // No PIN yet: nothing to ask for, the widget sets the first one as before.
  const widget = await mountSetPin(page, card.id);
  await expect(widget.getByRole('textbox', { name: 'Current PIN' })).toHaveCount(0);
  await widget.getByRole('textbox', { name: 'New PIN', exact: true }).fill(FIRST_PIN);
  await widget.getByRole('textbox', { name: 'Confirm new PIN' }).fill(FIRST_PIN);
  await widget.getByRole('button', { name: 'Set PIN' }).click();
  await waitForEvent(page, 'success');
  const issued = await getCard(request, card.id);
  expect(issued).toMatchObject({ is_pin_set: true, pin_status: 'OK', pin_tries_remaining: 3 });
  return card.id;
}

/** axe on the host page and its frames, counted only once the widget frame's nodes were checked. */
async function expectNoAxeViolations(page: Page): Promise<void> {
  await expect(async () => {
    const results = await new AxeBuilder({ page }).analyze();
    const inFrame = results.passes.flatMap((rule) =>
      rule.nodes.filter((node) => node.target.length > 1),
    );
    expect(inFrame.length, 'axe checked nodes inside the widget frame').toBeGreaterThan(0);
    expect(results.violations).toEqual([]);
  }).toPass({ timeout: 20_000 });
}

const events = (page: Page) =>
  page.evaluate(() => (window as any).events as { name: string; payload: unknown }[]);

test('a wrong current PIN uses a try and says so; the right one changes the PIN, by keyboard', async ({
  page,
  request,
}) => {
  const problems = watchConsole(page);
  const cardId = await cardWithPin(page, request);
  const widget = await mountSetPin(page, cardId);

  const current = widget.getByRole('textbox', { name: 'Current PIN' });
  const pin = widget.getByRole('textbox', { name: 'New PIN', exact: true });
  const confirm = widget.getByRole('textbox', { name: 'Confirm new PIN' });
  // The current PIN comes first, says what it is for, and is never offered for autofill.
  await expect(widget.getByRole('textbox')).toHaveCount(3);
  await expect(widget.getByRole('textbox').first()).toHaveAccessibleName('Current PIN');
  await expect(current).toHaveAccessibleDescription(
    'To change your PIN, first enter the one you use now.',
  );
  await expect(current).toHaveAttribute('autocomplete', 'off');
  await expect(current).toHaveAttribute('inputmode', 'numeric');
  await expectNoAxeViolations(page);

  // The host's focus() lands on the current PIN; from there the keyboard does everything.
  await page.evaluate(() => (window as any).widget.focus());
  await expect(current).toBeFocused();
  await page.keyboard.type(WRONG_PIN);
  await page.keyboard.press('Tab');
  await expect(pin).toBeFocused();
  await page.keyboard.type(NEW_PIN);
  await page.keyboard.press('Tab');
  await expect(confirm).toBeFocused();
  await page.keyboard.type(NEW_PIN);
  await page.screenshot({ path: `${SHOTS}/en-filled.png` });
  const answered = page.waitForResponse((response) => response.url().endsWith('/v1/widget/pin'));
  await page.keyboard.press('Enter');

  // The platform's refusal carries the tries left beside its code.
  const refusal = await answered;
  expect(refusal.status()).toBe(400);
  expect(await refusal.json()).toMatchObject({
    code: 'CURRENT_PIN_INCORRECT',
    pin_tries_remaining: 2,
  });
  await waitForEvent(page, 'failure');
  const message = widget.getByRole('alert');
  await expect(message).toHaveText(/^That is not your current PIN\./);
  await expect(current).toBeFocused();
  await expect(current).toHaveValue('');
  await expect(current).toHaveAttribute('aria-invalid', 'true');
  await expect(current).toHaveAccessibleDescription(/That is not your current PIN\./);
  await expect(pin).toHaveValue(NEW_PIN);
  expect(await getCard(request, cardId)).toMatchObject({
    pin_status: 'OK',
    pin_tries_remaining: 2,
  });
  const failure = (await events(page)).find((event) => event.name === 'failure');
  expect(failure?.payload).toEqual({
    code: 'CURRENT_PIN_INCORRECT',
    message: 'That is not your current PIN.',
    failedFields: ['currentPin'],
  });
  await expectNoAxeViolations(page);
  await page.locator('#slot iframe').screenshot({ path: `${SHOTS}/en-wrong.png` });

  // Focus is already back on the emptied field: type the right PIN and send.
  await page.keyboard.type(FIRST_PIN);
  await page.keyboard.press('Enter');
  await waitForEvent(page, 'success');
  await expect(widget.getByRole('status')).toHaveText('Your PIN is set.');
  await expect(widget.getByRole('alert')).toHaveCount(0);
  expect(await getCard(request, cardId)).toMatchObject({
    is_pin_set: true,
    pin_status: 'OK',
    pin_tries_remaining: 3,
  });

  // Nothing the host heard carries a digit of any PIN.
  const heard = JSON.stringify(await events(page));
  for (const digits of [FIRST_PIN, NEW_PIN, WRONG_PIN]) expect(heard).not.toContain(digits);
  // The one refusal, as Chromium logs any 4xx; no CSP violation, no page error.
  expect(problems).toEqual([
    'Failed to load resource: the server responded with a status of 400 (Bad Request)',
  ]);

  // The PIN changed: the next session asks for the new one, and the old one is now wrong.
  const next = await mountSetPin(page, cardId);
  await next.getByRole('textbox', { name: 'Current PIN' }).fill(FIRST_PIN);
  await next.getByRole('textbox', { name: 'New PIN', exact: true }).fill('4729');
  await next.getByRole('textbox', { name: 'Confirm new PIN' }).fill('4729');
  await next.getByRole('button', { name: 'Set PIN' }).click();
  await expect(next.getByRole('alert')).toHaveText(/^That is not your current PIN\./);
});

test('Arabic: the current-PIN field reads right to left, with no axe violations', async ({
  page,
  request,
}) => {
  const cardId = await cardWithPin(page, request);
  const widget = await mountSetPin(page, cardId, { locale: 'ar' });
  await expect(widget.locator('html')).toHaveAttribute('dir', 'rtl');
  const current = widget.getByRole('textbox', { name: 'الرقم السري الحالي' });
  await expect(widget.getByRole('textbox').first()).toHaveAccessibleName('الرقم السري الحالي');
  await expect(current).toHaveAccessibleDescription(
    'لتغيير رقمك السري، أدخل أولًا الرقم الذي تستخدمه الآن.',
  );

  // Mirrored: the label ends at the field's right edge, the field hugs the right side, and the
  // digits still read left to right.
  const field = (await current.boundingBox())!;
  const label = (await widget.locator('label').first().boundingBox())!;
  const body = (await widget.locator('body').boundingBox())!;
  expect(Math.abs(label.x + label.width - (field.x + field.width))).toBeLessThanOrEqual(1);
  expect(field.x + field.width).toBeGreaterThan(body.x + body.width - 40);
  expect(await current.evaluate((input) => getComputedStyle(input).direction)).toBe('ltr');
  await expectNoAxeViolations(page);

  await current.fill(WRONG_PIN);
  await widget.getByRole('textbox', { name: 'الرقم السري الجديد', exact: true }).fill(NEW_PIN);
  await widget.getByRole('textbox', { name: 'تأكيد الرقم السري الجديد' }).fill(NEW_PIN);
  await widget.getByRole('button', { name: 'تعيين الرقم السري' }).click();
  await expect(widget.getByRole('alert')).toHaveText(/^هذا ليس رقمك السري الحالي\./);
  await expect(current).toBeFocused();
  await expectNoAxeViolations(page);
  await page.locator('#slot iframe').screenshot({ path: `${SHOTS}/ar-wrong.png` });
});

test('a blocked PIN: the widget says the program must unblock it, and the form is disabled', async ({
  page,
  request,
}) => {
  const cardId = await cardWithPin(page, request);
  // Three wrong current PINs (the product's limit) block the PIN; each one is a new session.
  for (let left = 2; left >= 0; left--) {
    const widget = await mountSetPin(page, cardId);
    await widget.getByRole('textbox', { name: 'Current PIN' }).fill(WRONG_PIN);
    await widget.getByRole('textbox', { name: 'New PIN', exact: true }).fill(NEW_PIN);
    await widget.getByRole('textbox', { name: 'Confirm new PIN' }).fill(NEW_PIN);
    await widget.getByRole('button', { name: 'Set PIN' }).click();
    await waitForEvent(page, 'failure');
    expect(await getCard(request, cardId)).toMatchObject({ pin_tries_remaining: left });
  }
  expect(await getCard(request, cardId)).toMatchObject({ pin_status: 'BLOCKED' });

  const widget = await mountSetPin(page, cardId);
  await expect(widget.getByRole('alert')).toHaveText(
    'Your PIN is blocked after too many wrong tries. Your card program has to unblock it before you can change it.',
  );
  await expect(widget.getByRole('textbox', { name: 'Current PIN' })).toBeDisabled();
  await expect(widget.getByRole('button', { name: 'Set PIN' })).toBeDisabled();
  await expectNoAxeViolations(page);
  await page.locator('#slot iframe').screenshot({ path: `${SHOTS}/en-blocked.png` });
});
