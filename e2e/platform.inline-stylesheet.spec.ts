import crypto from 'node:crypto';
import { expect, test } from '@playwright/test';
import { E2E_FIXTURE_URL } from '../playwright.config.js';
import { issueCard, waitForEvent, watchConsole, widgetFrame } from './support.js';

/**
 * Each widget document carries its stylesheet (vite.config.ts, inlineStylesheets), so its first
 * paint waits for no request. The CSP allows exactly that `<style>` by its hash: the browser
 * applies it, reports no violation, and still refuses any other inline style.
 */
const INJECTED = ':root { --pw-primary: #ff0000; }';

for (const widget of ['set-pin', 'reveal-pin'] as const) {
  test(`${widget}: the document's own stylesheet applies under its CSP, and nothing else inline does`, async ({
    page,
    request,
  }) => {
    const problems = watchConsole(page);
    const card = await issueCard(request, { pin_issuance_policy: 'REQUIRED' });
    await page.goto(`${E2E_FIXTURE_URL}/sdk.html?widget=${widget}&card=${card.id}`);
    await waitForEvent(page, 'load');
    const frame = await widgetFrame(page);

    const styled = await frame.evaluate(() => ({
      stylesheets: document.querySelectorAll('link[rel="stylesheet"]').length,
      primary: getComputedStyle(document.documentElement).getPropertyValue('--pw-primary').trim(),
      card: getComputedStyle(document.querySelector('.pw-card')!).paddingTop,
    }));
    expect(styled).toEqual({ stylesheets: 0, primary: '#1f4fd1', card: '16px' });

    // Another <style>, added by script in the document, is refused: its hash is not the one.
    const refused = await frame.evaluate(
      (text) =>
        new Promise<string>((resolve) => {
          document.addEventListener('securitypolicyviolation', (event) =>
            resolve(event.effectiveDirective),
          );
          const style = document.createElement('style');
          style.textContent = text;
          document.head.append(style);
        }),
      INJECTED,
    );
    expect(refused).toBe('style-src-elem');
    expect(
      await frame.evaluate(() =>
        getComputedStyle(document.documentElement).getPropertyValue('--pw-primary').trim(),
      ),
    ).toBe('#1f4fd1');
    // The one violation reported is that style's (Chromium names the hash it would need).
    const hash = crypto.createHash('sha256').update(INJECTED).digest('base64');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`sha256-${hash}`);
  });
}
