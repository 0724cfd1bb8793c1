import { describe, expect, test } from 'vitest';
import { useEngine, waitFor } from './engine.js';
import { selectedEngines } from './env.js';
import { button, field, getCard, goodPin, issueCard, mintToken, widgetUrl } from './support.js';

/** What a React Native app injects: the widget posts its events to it as JSON text. */
function installBridge(): void {
  (window as any).bridged = [];
  (window as any).ReactNativeWebView = {
    postMessage: (json: string) => (window as any).bridged.push(JSON.parse(json)),
  };
}

describe.each(selectedEngines())('%s: the widget top-level, as in a webview', (engine) => {
  const newPage = useEngine(engine);

  test('options from the fragment, fragment gone from the URL, the PIN set, events to the native bridge without the PIN', async () => {
    const page = await newPage();
    const card = await issueCard('REQUIRED');
    const pin = goodPin(card);
    // Minted without origin: such a token works only top-level.
    const token = await mintToken(card.id, 'SET_PIN');
    // Where the engine has init scripts the bridge is there before the widget's own scripts, as
    // in a real webview; WebDriver classic has none, so it is installed once the form is up and
    // only the events after that are checked.
    const early = page.addInitScript !== undefined;
    if (page.addInitScript) await page.addInitScript(installBridge);
    await page.goto(`${widgetUrl('set-pin')}#token=${token}&locale=fr`);
    await waitFor(
      'the French form',
      async () => (await page.text('h1')) === 'Choisissez le code de votre carte',
    );
    expect(await page.url()).not.toContain('#');
    expect(await page.url()).not.toContain(token);
    if (!early) await page.evaluate(installBridge);

    await page.type(await field(page, 'Nouveau code'), pin);
    await page.type(await field(page, 'Confirmez le nouveau code'), pin);
    await page.screenshot('webview-filled');
    await page.click(await button(page, 'Enregistrer le code'));
    await waitFor('the success status', async () =>
      (await page.text('[role=status]'))?.includes('Votre code est enregistré'),
    );

    const bridged: { type: string }[] = await page.evaluate(() => (window as any).bridged);
    const types = bridged.map((message) => message.type);
    expect(types).toEqual(
      expect.arrayContaining([...(early ? ['load'] : []), 'change', 'submit', 'success']),
    );
    if (early) expect(types.filter((type) => type === 'load')).toHaveLength(1);
    expect(types.indexOf('success')).toBeGreaterThan(types.indexOf('submit'));
    expect(JSON.stringify(bridged)).not.toContain(pin);
    expect((await getCard(card.id)).is_pin_set).toBe(true);
  });
});
