import { describe, expect, inject, test } from 'vitest';
import { useEngine, waitFor } from './engine.js';
import { INSECURE_URL, selectedEngines } from './env.js';
import { issueCard, waitForEvent, widgetUrl } from './support.js';

/**
 * WebCrypto needs a secure context, and a frame is one only if every ancestor is: the widget
 * framed by a page on plain http (not localhost) must say so to the cardholder and the host.
 */
describe.each(selectedEngines())('%s: the widget on an insecure page', (engine) => {
  const newPage = useEngine(engine);

  test('the frame says the page isn’t secure, shows no form, and the host gets INSECURE_CONTEXT', async () => {
    expect(inject('insecureHostProblem'), 'the insecure origin’s host name').toBe('');
    const page = await newPage();
    const card = await issueCard('REQUIRED');
    await page.goto(
      `${INSECURE_URL}/sdk.html?widget=set-pin&card=${card.id}&tokenOrigin=${encodeURIComponent(INSECURE_URL)}`,
    );
    expect(await page.evaluate(() => isSecureContext), 'the host page is insecure').toBe(false);
    const frame = page.frame(widgetUrl('set-pin'));
    const alert = await waitFor('the insecure-context message', () => frame.text('[role=alert]'));
    expect(alert).toContain('This page isn’t secure');
    expect(await frame.evaluate(() => document.querySelectorAll('input').length)).toBe(0);
    await page.screenshot('insecure-context');
    const [error] = await waitForEvent(page, 'error');
    expect(error!.payload).toMatchObject({ code: 'INSECURE_CONTEXT', message: expect.any(String) });
    expect(await page.evaluate(() => (window as any).events.map((e: any) => e.name))).not.toContain(
      'load',
    );
  });
});
