import AxeBuilder from '@axe-core/playwright';
import {
  type APIRequestContext,
  type Frame,
  type FrameLocator,
  type Locator,
  type Page,
  expect,
  test,
} from '@playwright/test';
import { E2E_FIXTURE_URL } from '../playwright.config.js';
import {
  activeRandomCardOnDemo,
  issueCard,
  waitForEvent,
  watchConsole,
  widgetFrame,
} from './support.js';

/**
 * docs/engines.md, "every cardholder": a right-to-left locale, forced colors (Windows high contrast),
 * reflow at 320 CSS px (WCAG 1.4.10) and axe in every theme and locale, with the widget frames.
 */

type WidgetName = 'set-pin' | 'reveal-pin';
const SHOTS = 'test-results/every-cardholder';

interface Mounted {
  widget: FrameLocator;
  frame: Frame;
}

/** Mounts `widget` on the fixture host page (the SDK's ESM build) for a new card, until `load`. */
async function mount(
  page: Page,
  request: APIRequestContext,
  widget: WidgetName,
  options: Record<string, unknown> = {},
): Promise<Mounted> {
  const card =
    widget === 'set-pin'
      ? await issueCard(request, { pin_issuance_policy: 'REQUIRED' })
      : await issueCard(request, { pin_issuance_policy: 'RANDOM' }, { activate: true });
  const query = new URLSearchParams({ widget, card: card.id, options: JSON.stringify(options) });
  await page.goto(`${E2E_FIXTURE_URL}/sdk.html?${query}`);
  await waitForEvent(page, 'load');
  return { widget: page.frameLocator('#slot iframe'), frame: await widgetFrame(page) };
}

/** Reveals the PIN from the host (requestPin) and waits until the digits are on screen. */
async function reveal(page: Page, widget: FrameLocator): Promise<void> {
  await page.evaluate(() => (window as any).widget.requestPin());
  await waitForEvent(page, 'revealed');
  await expect(widget.locator('.pw-pin')).toHaveText(/^\d{4}$/);
}

/**
 * Where a block's own text sits inside its box (which spans the line): the free space left and
 * right of the text. Text aligned to the right has more room on its left.
 */
function textGaps(locator: Locator): Promise<{ left: number; right: number }> {
  return locator.evaluate((element) => {
    const range = document.createRange();
    range.selectNodeContents(element);
    const text = range.getBoundingClientRect();
    const box = element.getBoundingClientRect();
    return { left: text.left - box.left, right: box.right - text.right };
  });
}

/** Whether a document scrolls sideways: it must not, at any width (WCAG 1.4.10). */
function scrollsSideways(target: Page | Frame): Promise<boolean> {
  return target.evaluate(
    () => document.documentElement.scrollWidth > document.documentElement.clientWidth,
  );
}

/** A system color as this document computes it (e.g. Highlight under forced colors). */
function systemColor(frame: Frame, name: string): Promise<string> {
  return frame.evaluate((color) => {
    const probe = document.createElement('span');
    probe.style.forcedColorAdjust = 'none';
    probe.style.color = color;
    document.body.append(probe);
    const computed = getComputedStyle(probe).color;
    probe.remove();
    return computed;
  }, name);
}

/** WCAG 2.x relative luminance of a computed `rgb(…)` color, and the contrast of two. */
function luminance(color: string): number {
  const [r, g, b] = (color.match(/[\d.]+/g) ?? []).slice(0, 3).map((part) => {
    const channel = Number(part) / 255;
    return channel <= 0.04045 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}

test.describe('Arabic: the widget document reads right to left', () => {
  test('set-pin: Arabic text, dir=rtl, labels and fields on the right, the PIN typed left to right', async ({
    page,
    request,
  }) => {
    const problems = watchConsole(page);
    const { widget } = await mount(page, request, 'set-pin', { locale: 'ar' });
    await expect(widget.getByRole('heading', { level: 1 })).toHaveText('تعيين الرقم السري لبطاقتك');
    await expect(widget.getByText('4 أرقام. تجنّب التكرار')).toBeVisible();
    await expect(widget.locator('html')).toHaveAttribute('lang', 'ar');
    await expect(widget.locator('html')).toHaveAttribute('dir', 'rtl');

    const pin = widget.getByRole('textbox', { name: 'الرقم السري الجديد', exact: true });
    const label = widget.locator('label').first();
    const field = (await pin.boundingBox())!;
    const labelBox = (await label.boundingBox())!;
    const body = (await widget.locator('body').boundingBox())!;
    const bodyRight = body.x + body.width;
    // Mirrored: the label starts at the field's right edge, and the field hugs the right side.
    expect(Math.abs(labelBox.x + labelBox.width - (field.x + field.width))).toBeLessThanOrEqual(1);
    expect(labelBox.x).toBeGreaterThan(field.x + 20);
    expect(field.x + field.width).toBeGreaterThan(bodyRight - 40);
    expect(field.x - body.x).toBeGreaterThan(100);
    const hint = await textGaps(widget.locator('.pw-hint'));
    expect(hint.left).toBeGreaterThan(hint.right + 100);
    const button = (await widget.getByRole('button', { name: 'تعيين الرقم السري' }).boundingBox())!;
    expect(button.x + button.width).toBeGreaterThan(bodyRight - 40);

    // The PIN reads as a number: left to right inside the field, whatever the document's direction.
    expect(await pin.evaluate((input) => getComputedStyle(input).direction)).toBe('ltr');
    await pin.fill('1111');
    await expect(widget.locator('.pw-error')).toHaveText(/^[\u0600-\u06FF]/);
    await pin.fill('3850');
    await widget.getByRole('textbox', { name: 'تأكيد الرقم السري الجديد' }).fill('3850');
    await pin.focus();
    await page.screenshot({ path: `${SHOTS}/ar-set-pin.png` });
    await widget.getByRole('button', { name: 'تعيين الرقم السري' }).click();
    await expect(widget.getByRole('status')).toHaveText(/^تم تعيين رقمك السري\./);
    expect(problems).toEqual([]);
  });

  test('English, for contrast, keeps labels and fields on the left', async ({ page, request }) => {
    const { widget } = await mount(page, request, 'set-pin', { locale: 'en' });
    await expect(widget.locator('html')).not.toHaveAttribute('dir', 'rtl');
    const field = (await widget
      .getByRole('textbox', { name: 'New PIN', exact: true })
      .boundingBox())!;
    const labelBox = (await widget.locator('label').first().boundingBox())!;
    expect(Math.abs(labelBox.x - field.x)).toBeLessThanOrEqual(1);
    expect(labelBox.x + labelBox.width).toBeLessThan(field.x + field.width - 20);
  });

  test('reveal-pin: the digits stay left to right on the right side, the countdown shrinks to the right', async ({
    page,
    request,
  }) => {
    const { widget } = await mount(page, request, 'reveal-pin', {
      locale: 'ar',
      autoHideSeconds: 20,
    });
    await expect(widget.locator('html')).toHaveAttribute('dir', 'rtl');
    await expect(widget.getByRole('button', { name: 'إظهار الرقم السري' })).toBeVisible();
    await reveal(page, widget);
    await expect(widget.getByRole('status')).toContainText('رقمك السري ظاهر');
    await expect(widget.getByRole('button', { name: 'إخفاء الرقم السري' })).toBeVisible();

    const digits = widget.locator('.pw-pin');
    const shown = (await digits.textContent())!;
    expect(await digits.evaluate((element) => getComputedStyle(element).direction)).toBe('ltr');
    // Left to right: the first digit is drawn left of the last one.
    const order = await digits.evaluate((element) => {
      const text = element.firstChild!;
      const range = document.createRange();
      range.setStart(text, 0);
      range.setEnd(text, 1);
      const first = range.getBoundingClientRect().left;
      range.setStart(text, text.textContent!.length - 1);
      range.setEnd(text, text.textContent!.length);
      return { first, last: range.getBoundingClientRect().left };
    });
    expect(order.first).toBeLessThan(order.last);
    expect(shown).toMatch(/^\d{4}$/);
    // …and they sit on the right, under the title.
    const gaps = await textGaps(digits);
    expect(gaps.left).toBeGreaterThan(gaps.right + 100);

    // The bar keeps its right (start) edge and gives up time from the left.
    const track = (await widget.locator('.pw-countdown').boundingBox())!;
    const bar = widget.locator('.pw-countdown-bar');
    await expect.poll(async () => (await bar.boundingBox())!.width).toBeLessThan(track.width - 4);
    const barBox = (await bar.boundingBox())!;
    expect(Math.abs(barBox.x + barBox.width - (track.x + track.width))).toBeLessThanOrEqual(1);
    expect(barBox.x).toBeGreaterThan(track.x + 2);
    await page.screenshot({ path: `${SHOTS}/ar-reveal-pin.png` });
  });
});

test.describe('forced colors (Windows high contrast)', () => {
  test.beforeEach(async ({ page }) => {
    await page.emulateMedia({ forcedColors: 'active' });
  });

  test('set-pin: focus rings and field borders use system colors', async ({ page, request }) => {
    const { widget, frame } = await mount(page, request, 'set-pin');
    expect(await frame.evaluate(() => matchMedia('(forced-colors: active)').matches)).toBe(true);
    const [highlight, buttonText, canvas] = await Promise.all([
      systemColor(frame, 'Highlight'),
      systemColor(frame, 'ButtonText'),
      systemColor(frame, 'Canvas'),
    ]);
    const pin = widget.getByRole('textbox', { name: 'New PIN', exact: true });
    const confirm = widget.getByRole('textbox', { name: 'Confirm new PIN' });

    // An unfocused field: a solid system-color border, visible on the canvas.
    const border = await confirm.evaluate((input) => {
      const style = getComputedStyle(input);
      return {
        style: style.borderTopStyle,
        width: parseFloat(style.borderTopWidth),
        color: style.borderTopColor,
      };
    });
    expect(border).toEqual({ style: 'solid', width: 1, color: buttonText });
    expect(contrast(border.color, canvas)).toBeGreaterThanOrEqual(3);

    const ring = (locator: Locator) =>
      locator.evaluate((element) => {
        const style = getComputedStyle(element);
        return {
          focusVisible: element.matches(':focus-visible'),
          style: style.outlineStyle,
          width: parseFloat(style.outlineWidth),
          color: style.outlineColor,
        };
      });
    await pin.focus();
    expect(await ring(pin)).toEqual({
      focusVisible: true,
      style: 'solid',
      width: 3,
      color: highlight,
    });
    await page.screenshot({ path: `${SHOTS}/forced-colors-focus.png` });

    // The keyboard reaches the button; its ring is drawn in Highlight too, and so is its border.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    const button = widget.getByRole('button', { name: 'Set PIN' });
    await expect(button).toBeFocused();
    expect(await ring(button)).toEqual({
      focusVisible: true,
      style: 'solid',
      width: 3,
      color: highlight,
    });
    expect(contrast(highlight, canvas)).toBeGreaterThanOrEqual(3);
    expect(
      await button.evaluate((element) => {
        const style = getComputedStyle(element);
        return [style.borderTopStyle, style.borderTopColor];
      }),
    ).toEqual(['solid', buttonText]);

    // A refused PIN shows by the border's shape, not only by a color the system replaced.
    await pin.fill('1111');
    await expect(pin).toHaveAttribute('aria-invalid', 'true');
    expect(await pin.evaluate((input) => getComputedStyle(input).borderTopStyle)).toBe('double');
  });

  test('reveal-pin: the countdown stays visible in a system color', async ({ page, request }) => {
    const { widget, frame } = await mount(page, request, 'reveal-pin', { autoHideSeconds: 20 });
    const [highlight, canvasText] = await Promise.all([
      systemColor(frame, 'Highlight'),
      systemColor(frame, 'CanvasText'),
    ]);
    await reveal(page, widget);
    expect(
      await widget
        .locator('.pw-countdown-bar')
        .evaluate((bar) => getComputedStyle(bar).backgroundColor),
    ).toBe(highlight);
    expect(
      await widget
        .locator('.pw-countdown')
        .evaluate((track) => [
          getComputedStyle(track).borderTopStyle,
          getComputedStyle(track).borderTopColor,
        ]),
    ).toEqual(['solid', canvasText]);
    await page.screenshot({ path: `${SHOTS}/forced-colors-reveal.png` });
  });
});

test.describe('reflow at 320 CSS px (WCAG 1.4.10)', () => {
  test.use({ viewport: { width: 320, height: 720 } });

  /** A label a host may pass: one long German word that has to wrap. */
  const LONG_LABEL = 'Kartenpersonalisierungsgeheimzahlbestätigungsfeld';

  test('set-pin in German with a long label: no sideways scroll in the frame or on the host', async ({
    page,
    request,
  }) => {
    const { widget, frame } = await mount(page, request, 'set-pin', {
      locale: 'de',
      labels: { confirmPinLabel: LONG_LABEL },
    });
    await expect(widget.getByText(LONG_LABEL)).toBeVisible();
    await widget.getByRole('textbox', { name: 'Neue PIN', exact: true }).fill('1111');
    await expect(widget.locator('.pw-error')).toBeVisible();
    expect(await scrollsSideways(frame)).toBe(false);
    expect(await scrollsSideways(page)).toBe(false);
    // The long word wrapped: its label is more than one line tall.
    const label = (await widget.getByText(LONG_LABEL).boundingBox())!;
    expect(label.height).toBeGreaterThan(30);
    await page.screenshot({ path: `${SHOTS}/320-set-pin.png` });
  });

  test('reveal-pin in German with the PIN shown: no sideways scroll', async ({ page, request }) => {
    const { widget, frame } = await mount(page, request, 'reveal-pin', {
      locale: 'de',
      autoHideSeconds: 20,
    });
    await reveal(page, widget);
    await expect(widget.getByRole('button', { name: 'PIN ausblenden' })).toBeVisible();
    expect(await scrollsSideways(frame)).toBe(false);
    expect(await scrollsSideways(page)).toBe(false);
    await page.screenshot({ path: `${SHOTS}/320-reveal-pin.png` });
  });

  test('the demo site with both widgets: no sideways scroll on the page or in either frame', async ({
    page,
  }) => {
    await activeRandomCardOnDemo(page);
    const reveal = page.frameLocator('#reveal-pin-widget iframe');
    await reveal.getByRole('button', { name: 'Show PIN' }).click();
    await expect(reveal.locator('.pw-pin')).toHaveText(/^\d{4}$/);
    await expect(
      page.frameLocator('#set-pin-widget iframe').getByRole('button', { name: 'Set PIN' }),
    ).toBeVisible();

    expect(await scrollsSideways(page)).toBe(false);
    const frames = page.frames().filter((frame) => frame.url().includes('/widgets/'));
    expect(frames).toHaveLength(2);
    for (const frame of frames) expect(await scrollsSideways(frame)).toBe(false);
    // Full-page screenshots leave frames blank in Chromium: one shot per widget's step instead.
    await page.locator('#step-set').screenshot({ path: `${SHOTS}/320-demo-site-set-pin.png` });
    await page.locator('#step-reveal').screenshot({ path: `${SHOTS}/320-demo-site-reveal.png` });
  });
});

test.describe('axe: no violations in every theme and locale, widget frames included', () => {
  for (const theme of ['default', 'night-shift'] as const) {
    for (const locale of ['en', 'ar'] as const) {
      test(`set-pin, ${theme}, ${locale}, with a refused PIN`, async ({ page, request }) => {
        const { widget } = await mount(page, request, 'set-pin', { theme, locale });
        await widget.getByRole('textbox').first().fill('1111');
        await expect(widget.locator('.pw-error')).toBeVisible();
        await expectNoAxeViolations(page);
      });

      test(`reveal-pin, ${theme}, ${locale}, with the PIN shown`, async ({ page, request }) => {
        const { widget } = await mount(page, request, 'reveal-pin', {
          theme,
          locale,
          autoHideSeconds: 30,
        });
        await reveal(page, widget);
        await expectNoAxeViolations(page);
        if (theme === 'night-shift' && locale === 'en')
          await page
            .locator('#slot iframe')
            .screenshot({ path: `${SHOTS}/night-shift-reveal.png` });
      });
    }
  }
});

/**
 * Runs axe on the host page and its frames. @axe-core/playwright silently skips a frame it could
 * not inject into within 1 s (a busy machine), so a run counts only once the widget frame's own
 * nodes are among those checked (a target of two selectors: the iframe, then the node).
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

test.describe('non-text contrast (WCAG 1.4.11) of each theme', () => {
  for (const theme of ['default', 'night-shift'] as const) {
    test(`${theme}: field borders, focus rings and buttons stand out at 3:1`, async ({
      page,
      request,
    }) => {
      const { widget } = await mount(page, request, 'set-pin', { theme });
      const pin = widget.getByRole('textbox', { name: 'New PIN', exact: true });
      await pin.focus();
      const colors = await pin.evaluate((input) => {
        const field = getComputedStyle(input);
        const page = getComputedStyle(document.body);
        const button = getComputedStyle(document.querySelector('.pw-button')!);
        return {
          border: field.borderTopColor,
          ring: field.outlineColor,
          fieldBackground: field.backgroundColor,
          pageBackground: page.backgroundColor,
          buttonBackground: button.backgroundColor,
          buttonText: button.color,
        };
      });
      expect(contrast(colors.border, colors.fieldBackground)).toBeGreaterThanOrEqual(3);
      expect(contrast(colors.border, colors.pageBackground)).toBeGreaterThanOrEqual(3);
      expect(contrast(colors.ring, colors.pageBackground)).toBeGreaterThanOrEqual(3);
      expect(contrast(colors.buttonBackground, colors.pageBackground)).toBeGreaterThanOrEqual(3);
      expect(contrast(colors.buttonText, colors.buttonBackground)).toBeGreaterThanOrEqual(4.5);
    });
  }
});
