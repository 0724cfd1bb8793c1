import { describe, expect, test } from 'vitest';
import { useEngine } from './engine.js';
import { FIXTURE_URL, selectedEngines } from './env.js';
import {
  button,
  getCard,
  issueCard,
  goodPin,
  typePins,
  waitForEvent,
  widgetUrl,
} from './support.js';

/** The ESM SDK on the program's origin (127.0.0.1:4502) mounts the platform's (localhost:4500) widget. */
describe.each(selectedEngines())('%s: set PIN through the SDK on another origin', (engine) => {
  const newPage = useEngine(engine);

  test('fetchToken (DPoP): typed PIN and confirmation, the widget’s button, the card has a PIN', async () => {
    const page = await newPage();
    const card = await issueCard('REQUIRED');
    await page.goto(`${FIXTURE_URL}/sdk.html?widget=set-pin&mode=fetch&card=${card.id}`);
    await waitForEvent(page, 'load');
    const frame = page.frame(widgetUrl('set-pin'));
    await typePins(frame, goodPin(card));
    await page.screenshot('set-pin-filled');
    await frame.click(await button(frame, 'Set PIN'));
    await waitForEvent(page, 'success');
    expect((await getCard(card.id)).is_pin_set).toBe(true);
  });

  test('plain token: typed PIN, the host’s widget.submit(), the card has a PIN', async () => {
    const page = await newPage();
    const card = await issueCard('REQUIRED');
    await page.goto(`${FIXTURE_URL}/sdk.html?widget=set-pin&card=${card.id}`);
    await waitForEvent(page, 'load');
    const frame = page.frame(widgetUrl('set-pin'));
    await typePins(frame, goodPin(card));
    await page.evaluate(() => (window as any).widget.submit());
    await waitForEvent(page, 'success');
    expect((await getCard(card.id)).is_pin_set).toBe(true);
  });
});
