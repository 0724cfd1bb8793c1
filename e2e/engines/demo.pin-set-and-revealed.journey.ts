import { describe, expect, test } from 'vitest';
import { useEngine, waitFor } from './engine.js';
import { SITE_URL, selectedEngines } from './env.js';
import { button, typePins, widgetUrl } from './support.js';

/** The demo card program (demo-server/demo-site) as a cardholder goes through it. */
describe.each(selectedEngines())('%s: the demo site’s story', (engine) => {
  const newPage = useEngine(engine);

  test('Required policy: issue a card, set its PIN, skip the wait, activate, reveal the same PIN and hide it', async () => {
    const page = await newPage();
    await page.goto(SITE_URL);
    // The page's script attaches the form's handler only after loading the SDK and the event
    // list; a click before that is a native submit, which its CSP (form-action 'none') drops.
    await waitFor('the demo page’s script to be ready', () =>
      page.evaluate(() =>
        performance
          .getEntriesByType('resource')
          .some((entry) => new URL(entry.name).pathname === '/api/events'),
      ),
    );
    await page.click('input[name=policy][value=REQUIRED]');
    await page.click('#issue-form button[type=submit]');
    await waitFor('the card', async () => (await page.text('#card-status')) === 'Pending');
    const lastFour = (await page.text('#card-last4'))!;
    const pin = lastFour === '7392' ? '4815' : '7392';

    const setPin = page.frame(widgetUrl('set-pin'));
    await typePins(setPin, pin);
    await setPin.click(await button(setPin, 'Set PIN'));
    await waitFor('the PIN set', async () =>
      (await setPin.text('[role=status]'))?.includes('Your PIN is set'),
    );
    await page.screenshot('demo-pin-set');

    await page.click('#advance');
    await waitFor(
      'the card made',
      async () => (await page.text('#card-status')) === 'Not activated',
    );
    await page.click('#activate');
    await waitFor('the card active', async () => (await page.text('#card-status')) === 'Active');

    const reveal = page.frame(widgetUrl('reveal-pin'));
    await reveal.click(await button(reveal, 'Show PIN'));
    await waitFor('the PIN shown', async () => (await reveal.text('.pw-pin')) === pin);
    expect(await reveal.text('[role=status]')).toContain('Hides in');
    expect(await page.text('body')).not.toContain(pin);
    await page.screenshot('demo-pin-revealed');
    await reveal.click(await button(reveal, 'Hide PIN'));
    await waitFor('the PIN hidden', async () => (await reveal.text('.pw-pin')) === '••••');
  });
});
