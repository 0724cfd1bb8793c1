import { describe, expect, test } from 'vitest';
import { useEngine, waitFor } from './engine.js';
import { FIXTURE_URL, selectedEngines } from './env.js';
import { button, eventNames, events, issueCard, waitForEvent, widgetUrl } from './support.js';

const options = encodeURIComponent(JSON.stringify({ autoHideSeconds: 2, showToggle: true }));

describe.each(selectedEngines())('%s: reveal the PIN, count down, hide it', (engine) => {
  const newPage = useEngine(engine);

  test('a RANDOM card, active: Show PIN shows 4 digits and a decreasing "Hides in N s", then hides them; no event carries them', async () => {
    const page = await newPage();
    const card = await issueCard('RANDOM', { activate: true });
    await page.goto(
      `${FIXTURE_URL}/sdk.html?widget=reveal-pin&mode=fetch&card=${card.id}&options=${options}`,
    );
    await waitForEvent(page, 'load');
    const frame = page.frame(widgetUrl('reveal-pin'));
    expect(await frame.text('.pw-pin')).toBe('••••');

    await frame.click(await button(frame, 'Show PIN'));
    const digits = await waitFor(
      'the PIN shown',
      async () => /^\d{4}$/.exec((await frame.text('.pw-pin')) ?? '')?.[0],
    );
    const secondsLeft = async () =>
      Number(/Hides in (\d+) s/.exec((await frame.text('[role=status]')) ?? '')?.[1] ?? NaN);
    const first = await waitFor('the countdown', secondsLeft);
    await page.screenshot('reveal-pin-shown');
    // The one place a countdown must be watched: it ticks once a second.
    await waitFor('the countdown to go down', async () => (await secondsLeft()) < first, {
      timeout: 3_000,
    });

    await waitForEvent(page, 'hidden', 1, 5_000);
    expect(await frame.text('.pw-pin')).toBe('••••');
    expect(await frame.text('main')).not.toContain(digits);
    const names = await eventNames(page);
    expect(names.filter((name) => name === 'revealed' || name === 'hidden')).toEqual([
      'revealed',
      'hidden',
    ]);
    expect(JSON.stringify(await events(page))).not.toContain(digits);
    // The program's page never held the PIN: it is inside the platform's frame only.
    expect(await page.text('body')).not.toContain(digits);
  });
});
