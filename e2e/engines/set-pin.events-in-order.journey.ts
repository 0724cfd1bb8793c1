import { describe, expect, test } from 'vitest';
import { useEngine, waitFor } from './engine.js';
import { FIXTURE_URL, selectedEngines } from './env.js';
import {
  WEAK_PIN,
  eventNames,
  events,
  field,
  goodPin,
  inputValues,
  issueCard,
  typePins,
  waitForEvent,
  widgetUrl,
} from './support.js';

describe.each(selectedEngines())('%s: the set-PIN widget’s events, in order', (engine) => {
  const newPage = useEngine(engine);

  test('one load before any change, a sized resize, a weak PIN refused, then submit and success; change says only { complete, valid }; no PIN in any event', async () => {
    const page = await newPage();
    const card = await issueCard('REQUIRED');
    const pin = goodPin(card);
    await page.goto(`${FIXTURE_URL}/sdk.html?widget=set-pin&card=${card.id}`);
    await waitForEvent(page, 'load');
    await waitFor('a resize with a height', async () =>
      (await events(page)).some((e) => e.name === 'resize' && e.payload.height > 0),
    );
    const frame = page.frame(widgetUrl('set-pin'));

    // A weak PIN, sent with Enter in the confirmation field as a keyboard user does.
    await typePins(frame, WEAK_PIN);
    await frame.press('Enter');
    const [failure] = await waitForEvent(page, 'failure');
    // Which rule the PIN broke stays in the frame (README “Widgets and the host SDK”): the host hears only that it was
    // refused, the cardholder reads why.
    expect(failure!.payload).toEqual({
      code: 'PIN_REJECTED',
      message: expect.stringMatching(/\S/),
      failedFields: ['pin'],
    });
    expect(await frame.text('main')).toContain('too easy to guess');
    await page.screenshot('set-pin-weak-refused');

    // The host clears the form; then a good PIN, by keyboard only: digits, Tab, digits, Enter.
    await page.evaluate(() => (window as any).widget.clear());
    await waitFor('the cleared form', async () => (await inputValues(frame)).join('') === '');
    await frame.click(await field(frame, 'New PIN'));
    await frame.press(...pin, 'Tab', ...pin, 'Enter');
    await waitForEvent(page, 'success');

    const names = await eventNames(page);
    expect(names.filter((name) => name === 'load')).toHaveLength(1);
    expect(names.indexOf('change')).toBeGreaterThan(names.indexOf('load'));
    const lastSubmit = names.lastIndexOf('submit');
    expect(names.slice(lastSubmit, lastSubmit + 2)).toEqual(['submit', 'success']);
    expect(names.indexOf('failure')).toBeGreaterThan(names.indexOf('submit'));
    expect(names.filter((name) => name === 'success')).toHaveLength(1);

    const recorded = await events(page);
    const changes = recorded.filter((e) => e.name === 'change').map((e) => e.payload);
    expect(changes.length).toBeGreaterThan(0);
    for (const change of changes) {
      expect(Object.keys(change).sort()).toEqual(['complete', 'valid']);
      expect(typeof change.complete).toBe('boolean');
      expect(typeof change.valid).toBe('boolean');
    }
    expect(changes).toContainEqual({ complete: true, valid: true });
    const json = JSON.stringify(recorded);
    expect(json).not.toContain(pin);
    expect(json).not.toContain(WEAK_PIN);
  });
});
