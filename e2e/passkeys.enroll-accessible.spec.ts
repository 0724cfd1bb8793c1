import AxeBuilder from '@axe-core/playwright';
import { type Page, expect, test } from '@playwright/test';
import { E2E_FIXTURE_URL } from '../playwright.config.js';
import { passkeyCard, virtualAuthenticator, waitForEvent, watchConsole } from './support.js';

/**
 * The enroll widget for every cardholder: keyboard alone from the host page to a passkey, axe
 * with no violation in English and in Arabic (right to left), the reveal's step-up state too.
 */

const frame = (page: Page) => page.frameLocator('#slot iframe');

async function mount(page: Page, widget: string, cardId: string, options: object = {}) {
  const query = new URLSearchParams({
    widget,
    mode: 'fetch',
    card: cardId,
    options: JSON.stringify(options),
  });
  await page.goto(`${E2E_FIXTURE_URL}/sdk.html?${query}`);
  await waitForEvent(page, 'load');
}

/**
 * axe over the host page and its frames, counted only once the widget frame's own nodes were
 * checked (@axe-core/playwright skips a frame it could not reach in time on a busy machine).
 */
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

test.describe('enroll-passkey, accessible', () => {
  test.setTimeout(60_000);

  test('keyboard only: Tab reaches the button inside the frame, Enter enrolls', async ({
    page,
    request,
  }) => {
    const problems = watchConsole(page);
    await virtualAuthenticator(page);
    const card = await passkeyCard(request);
    await mount(page, 'enroll-passkey', card.id);
    await expectNoAxeViolations(page);

    const button = frame(page).getByRole('button', { name: 'Set up a passkey' });
    await page.keyboard.press('Tab');
    await expect(button).toBeFocused();
    await expect(button).toHaveAccessibleDescription(/never leaves your device/);
    await page.keyboard.press('Enter');
    await expect(frame(page).getByRole('status')).toContainText('Your passkey is set up');
    await waitForEvent(page, 'success');
    await expectNoAxeViolations(page);
    expect(problems).toEqual([]);
  });

  test('Arabic: right to left, every word translated, no axe violation', async ({
    page,
    request,
  }) => {
    await virtualAuthenticator(page);
    const card = await passkeyCard(request);
    await mount(page, 'enroll-passkey', card.id, { locale: 'ar' });
    const widget = frame(page);
    await expect(widget.locator('html')).toHaveAttribute('dir', 'rtl');
    await expect(widget.locator('html')).toHaveAttribute('lang', 'ar');
    await expect(widget.getByRole('heading')).toHaveText('إعداد مفتاح مرور');
    await expect(widget.getByText('أكّد هويتك ببصمة إصبعك')).toBeVisible();
    // Mirrored: the heading starts at the frame's right edge.
    const heading = (await widget.getByRole('heading').boundingBox())!;
    const box = (await page.locator('#slot iframe').boundingBox())!;
    expect(box.x + box.width - (heading.x + heading.width)).toBeLessThan(40);
    await expectNoAxeViolations(page);
    await page.locator('#slot iframe').screenshot({ path: '/tmp/passkey-enroll-ar.png' });

    await widget.getByRole('button', { name: 'إعداد مفتاح مرور' }).click();
    await expect(widget.getByRole('status')).toHaveText(
      'تم إعداد مفتاح المرور. من الآن فصاعدًا، ستؤكّد هويتك قبل عرض رقمك السري.',
    );
    await expectNoAxeViolations(page);

    // The reveal's step-up, in Arabic and in the night-shift theme.
    await mount(page, 'reveal-pin', card.id, { locale: 'ar', theme: 'night-shift' });
    await expect(frame(page).getByText('ستؤكّد هويتك أولًا بمفتاح المرور.')).toBeVisible();
    await expectNoAxeViolations(page);
    await page.locator('#slot iframe').screenshot({ path: '/tmp/passkey-reveal-ar-night.png' });
  });
});
