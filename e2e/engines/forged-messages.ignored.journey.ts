import { describe, expect, test } from 'vitest';
import { useEngine, waitFor } from './engine.js';
import { FIXTURE_URL, HOSTILE_URL, selectedEngines } from './env.js';
import {
  eventNames,
  getCard,
  goodPin,
  inputValues,
  issueCard,
  typePins,
  waitForEvent,
  widgetUrl,
} from './support.js';

/**
 * Windows that are not the widget's parent post commands to it with the real channel id (the
 * worst case); the widget must drop them all (README “Widgets and the host SDK”: source window first). The smaller set of
 * e2e/forged-messages.ignored.spec.ts, in every engine: each would show if it were accepted.
 */
const ATTACKER = `${HOSTILE_URL}/attacker.html`;
const POPUP = `${HOSTILE_URL}/attacker.html?popup`;

describe.each(selectedEngines())('%s: forged messages to the widget are ignored', (engine) => {
  const newPage = useEngine(engine);

  test('submit, clear and update from a third-party frame and from a popup change nothing; the real host still submits', async () => {
    const page = await newPage();
    const card = await issueCard('REQUIRED');
    const pin = goodPin(card);
    await page.goto(
      `${FIXTURE_URL}/sdk.html?widget=set-pin&card=${card.id}&attacker=${encodeURIComponent(ATTACKER)}`,
    );
    await waitForEvent(page, 'load');
    const frame = page.frame(widgetUrl('set-pin'));
    await typePins(frame, pin);
    const channel = await page.evaluate(() =>
      new URL(document.querySelector<HTMLIFrameElement>('#slot iframe')!.src).searchParams.get(
        'channel',
      )!,
    );
    const forged = ['submit', 'clear', 'update'].map((type) => ({
      ns: 'pin-widgets',
      v: 1,
      channel,
      type,
      payload: type === 'update' ? { theme: 'night-shift' } : {},
    }));
    // Counted by a listener added after the widget's own: once the count is reached, the widget
    // has handled (and dropped) every forged message.
    await frame.evaluate(() => {
      (window as any).seen = 0;
      addEventListener('message', () => (window as any).seen++);
    });

    await page.frame(ATTACKER).evaluate((messages) => {
      for (const message of messages) parent.frames[0]!.postMessage(message, '*');
    }, forged);
    // Opened by a real click: WebKit (and any popup blocker) needs a user gesture for window.open.
    await page.evaluate((url) => {
      const opener = document.createElement('button');
      opener.id = 'open-popup';
      opener.textContent = 'Open';
      opener.onclick = () => void window.open(url, '_blank');
      document.body.append(opener);
    }, POPUP);
    await page.click('#open-popup');
    await page.popup(POPUP).evaluate((messages) => {
      for (const message of messages) window.opener.frames[0].postMessage(message, '*');
    }, forged);
    await waitFor(
      'the widget to receive the forged messages',
      async () =>
        (await frame.evaluate(() => (window as any).seen as number)) === 2 * forged.length,
    );

    expect(await eventNames(page)).not.toContain('submit');
    expect(await inputValues(frame)).toEqual([pin, pin]);
    // A real update goes the same asynchronous way a forged one would: once it shows, a forged
    // theme change before it would show too.
    await page.evaluate(() =>
      (window as any).widget.update({ styles: { colorPrimary: '#123456' } }),
    );
    await waitFor(
      'the host’s own update',
      async () =>
        (await frame.evaluate(() =>
          getComputedStyle(document.documentElement).getPropertyValue('--pw-primary'),
        )) === '#123456',
    );
    expect(await frame.evaluate(() => document.documentElement.dataset.theme ?? 'default')).toBe(
      'default',
    );
    expect((await getCard(card.id)).is_pin_set).toBe(false);
    await page.screenshot('forged-messages-ignored');

    await page.evaluate(() => (window as any).widget.submit());
    await waitForEvent(page, 'success');
    expect((await eventNames(page)).filter((name) => name === 'submit')).toHaveLength(1);
    expect((await getCard(card.id)).is_pin_set).toBe(true);
  });
});
