import { describe, expect, test } from 'vitest';
import { useEngine, waitFor } from './engine.js';
import { FIXTURE_URL, HOSTILE_URL, PLATFORM_URL, SITE_URL, selectedEngines } from './env.js';
import { events, issueCard, waitForEvent, widgetUrl } from './support.js';

/** A widget that cannot start says why, with a stable code, to the host (docs/engines.md). */
describe.each(selectedEngines())('%s: misuse is reported with a reason', (engine) => {
  const newPage = useEngine(engine);

  test('mount() with autoHideSeconds: 120 throws INVALID_OPTIONS naming the option, before framing anything', async () => {
    const page = await newPage();
    const card = await issueCard('RANDOM', { activate: true });
    const options = encodeURIComponent(JSON.stringify({ autoHideSeconds: 120 }));
    await page.goto(
      `${FIXTURE_URL}/mount-error.html?widget=reveal-pin&card=${card.id}&options=${options}`,
    );
    // 'in', not undefined: WebDriver returns a script's undefined as null.
    const { thrown } = await waitFor('mount() to return or throw', async () => {
      const value = await page.evaluate(() =>
        'thrown' in window ? (window as any).thrown : 'pending',
      );
      return value === 'pending' ? undefined : { thrown: value };
    });
    expect(thrown).toMatchObject({
      name: 'PinWidgetsError',
      code: 'INVALID_OPTIONS',
      message: expect.stringContaining('autoHideSeconds'),
    });
    expect(await page.evaluate(() => document.querySelectorAll('iframe').length)).toBe(0);
  });

  test('<reveal-pin auto-hide-seconds="120"> fires an error event with INVALID_OPTIONS', async () => {
    const page = await newPage();
    const card = await issueCard('RANDOM', { activate: true });
    const attrs = encodeURIComponent(
      JSON.stringify({ 'auto-hide-seconds': '120', 'show-toggle': '' }),
    );
    await page.goto(
      `${FIXTURE_URL}/element-scripted.html?widget=reveal-pin&card=${card.id}&attrs=${attrs}`,
    );
    const error = await waitFor('an error event', async () =>
      (await events(page)).find((event) => event.name === 'error'),
    );
    expect((error as any).detail).toMatchObject({ code: 'INVALID_OPTIONS' });
  });

  test('a host on an origin the platform does not allow gets WIDGET_UNREACHABLE within 12 s', async () => {
    const page = await newPage();
    const card = await issueCard('REQUIRED');
    await page.goto(`${HOSTILE_URL}/sdk.html?widget=set-pin&card=${card.id}`);
    const [error] = await waitForEvent(page, 'error', 1, 12_000);
    expect(error!.payload).toMatchObject({
      code: 'WIDGET_UNREACHABLE',
      message: expect.any(String),
    });
    expect((await events(page)).map((event) => event.name)).not.toContain('load');
    await page.screenshot('errors-widget-unreachable');
  });

  test('a page that lies about its origin gets no form and nothing it can use; PARENT_MISMATCH where the engine knows the real parent', async () => {
    const page = await newPage();
    // The fixture may frame the widget, but claims to be the demo site in parentOrigin.
    await page.goto(
      `${FIXTURE_URL}/raw-frame.html?widget=set-pin&parentOrigin=${encodeURIComponent(SITE_URL)}`,
    );
    await waitFor('the widget document loaded', () =>
      page.evaluate(() => (window as any).frameLoads > 0),
    );
    const frame = page.frame(widgetUrl('set-pin'));
    // A hint only (docs/engines.md): an engine without ancestorOrigins (Firefox 140) cannot tell the
    // widget who really framed it; then it waits for an init that never comes, and stays silent
    // rather than post to a guess.
    const knowsParent = await frame.evaluate(() => {
      const ancestors = (location as any).ancestorOrigins as DOMStringList | undefined;
      return ancestors !== undefined && ancestors.length > 0 && ancestors[0] !== 'null';
    });
    if (knowsParent) {
      const refusal = await waitFor('the refusal in the frame', () => frame.text('[role=alert]'));
      expect(refusal).toMatch(/\S/);
    }
    expect(await frame.evaluate(() => document.querySelectorAll('input, form').length)).toBe(0);
    // Posted after the widget's own messages (same source, in order): once this arrives, any
    // message the widget sent before it has arrived too.
    await frame.evaluate(() => parent.postMessage({ flush: true }, '*'));
    const received = await waitFor('the flush marker', async () => {
      const messages: { origin: string; data: any }[] = await page.evaluate(
        () => (window as any).messages,
      );
      return messages.some((m) => m.data?.flush)
        ? messages.filter((m) => !m.data?.flush)
        : undefined;
    });
    await page.screenshot('errors-parent-mismatch');
    if (knowsParent) {
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({
        origin: PLATFORM_URL,
        data: { ns: 'pin-widgets', type: 'error', payload: { code: 'PARENT_MISMATCH' } },
      });
    } else {
      expect(received).toEqual([]);
      // No init ever comes; after its wait the widget still gives the cardholder a reason.
      const reason = await waitFor(
        'the reason after the init wait',
        () => frame.text('[role=alert]'),
        {
          timeout: 15_000,
        },
      );
      expect(reason).toContain('isn’t set up correctly');
    }
  });
});
