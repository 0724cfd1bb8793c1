import { type Page, expect, test } from '@playwright/test';
import {
  E2E_FIXTURE_URL,
  E2E_HOSTILE_URL,
  E2E_PLATFORM_URL,
  E2E_SITE_URL,
} from '../playwright.config.js';
import { issueCard, waitForEvent } from './support.js';

/**
 * The widget documents may be framed only by FRAME_ANCESTORS (CSP frame-ancestors). The same
 * host pages are served on an allowed origin (the fixture, 4402) and on one that is not (4403):
 * on the first the widget renders its form, on the second the browser refuses to render it.
 */
const cases = [
  { origin: E2E_FIXTURE_URL, allowed: true },
  { origin: E2E_HOSTILE_URL, allowed: false },
] as const;

const widgets = [
  {
    widget: 'set-pin',
    ready: (page: Page) =>
      page.frameLocator('iframe').first().getByRole('textbox', { name: 'New PIN', exact: true }),
  },
  {
    widget: 'reveal-pin',
    ready: (page: Page) =>
      page.frameLocator('iframe').first().getByRole('button', { name: 'Show PIN' }),
  },
] as const;

for (const { origin, allowed } of cases) {
  for (const { widget, ready } of widgets) {
    for (const how of ['SDK mount', 'raw iframe'] as const) {
      test(`${widget} by ${how} on ${origin}: ${allowed ? 'renders' : 'the browser refuses to frame it'}`, async ({
        page,
        request,
      }) => {
        const card = await issueCard(
          request,
          { pin_issuance_policy: widget === 'set-pin' ? 'REQUIRED' : 'RANDOM' },
          { activate: widget === 'reveal-pin' },
        );
        const refusal = allowed
          ? undefined
          : page.waitForEvent('console', (message) =>
              /Framing '.*' violates the following Content Security Policy directive: "frame-ancestors/.test(
                message.text(),
              ),
            );
        await page.goto(
          how === 'SDK mount'
            ? `${origin}/sdk.html?widget=${widget}&card=${card.id}`
            : `${origin}/raw-frame.html?widget=${widget}`,
        );
        if (allowed) {
          if (how === 'SDK mount') await expect(ready(page)).toBeVisible();
          else {
            // Framed by hand there is no SDK to send init: the document is there, waiting.
            const frame = page.frameLocator('iframe').first();
            await expect(frame.locator('#root')).toBeAttached();
          }
          return;
        }
        // The browser's own report that it blocked the frame, then what is (not) in the frame.
        expect((await refusal!).text()).toContain(
          `frame-ancestors ${E2E_SITE_URL} ${E2E_FIXTURE_URL}`,
        );
        const frames = page.frames().filter((frame) => frame !== page.mainFrame());
        expect(frames).toHaveLength(1);
        expect(frames[0]!.url()).not.toContain(`${E2E_PLATFORM_URL}/widgets/`);
        expect(await frames[0]!.locator('#root, input, form, button').count()).toBe(0);
        if (how === 'SDK mount') {
          // Nothing came from the widget; the SDK itself tells the host why, within its bound.
          await waitForEvent(page, 'error');
          const events = await page.evaluate(() => (window as any).events);
          expect(events).toEqual([
            {
              name: 'error',
              payload: {
                code: 'WIDGET_UNREACHABLE',
                message: expect.stringContaining(`${origin} in the platform's FRAME_ANCESTORS`),
                failedFields: [],
              },
            },
          ]);
        } else {
          expect(await page.evaluate(() => (window as any).messages)).toEqual([]);
        }
      });
    }
  }
}

test('a page that lies about its origin in the widget URL: the widget refuses to run', async ({
  page,
}) => {
  // The fixture may frame the widget, but claims to be the demo site (4401) in parentOrigin.
  await page.goto(
    `${E2E_FIXTURE_URL}/raw-frame.html?widget=set-pin&parentOrigin=${encodeURIComponent(E2E_SITE_URL)}`,
  );
  const frame = page.frameLocator('iframe').first();
  await expect(frame.getByRole('alert')).toBeVisible();
  await expect(frame.getByRole('textbox')).toHaveCount(0);
  // No handshake went out. Chromium reports the real parent (location.ancestorOrigins), so the
  // widget tells that page, at its exact origin, why it stopped: one PARENT_MISMATCH, nothing else.
  await expect.poll(() => page.evaluate(() => (window as any).messages.length)).toBe(1);
  const [message] = await page.evaluate(() => (window as any).messages);
  expect(message.origin).toBe(E2E_PLATFORM_URL);
  expect(message.data).toMatchObject({
    ns: 'pin-widgets',
    type: 'error',
    payload: { code: 'PARENT_MISMATCH', failedFields: [] },
  });
  await expect(frame.getByRole('alert')).toHaveText('This PIN form can’t be shown on this page.');
});
