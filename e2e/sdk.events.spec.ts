import { expect, test } from '@playwright/test';
import { E2E_FIXTURE_URL } from '../playwright.config.js';
import { getCard, issueCard, waitForEvent, watchConsole } from './support.js';

test.describe('host SDK (ESM) on a third-party origin', () => {
  test('plain token: load, change, host submit(), failure with a stable code, success; no PIN in any event', async ({
    page,
    request,
  }) => {
    const problems = watchConsole(page);
    const card = await issueCard(request, { pin_issuance_policy: 'REQUIRED' });
    await page.goto(`${E2E_FIXTURE_URL}/sdk.html?widget=set-pin&card=${card.id}`);
    await waitForEvent(page, 'load');
    await waitForEvent(page, 'resize');
    const widget = page.frameLocator('#slot iframe');
    await widget.getByRole('textbox', { name: 'New PIN', exact: true }).fill('2580');
    await widget.getByRole('textbox', { name: 'Confirm new PIN' }).fill('2580');
    await waitForEvent(page, 'change');
    await page.evaluate(() => (window as any).widget.submit());
    await waitForEvent(page, 'failure');
    const failure = await page.evaluate(
      () => (window as any).events.find((e: any) => e.name === 'failure').payload,
    );
    // Which rule the PIN broke stays in the iframe (README “Widgets and the host SDK”): the host hears only PIN_REJECTED.
    expect(failure).toEqual({
      code: 'PIN_REJECTED',
      message: 'Choose a different PIN.',
      failedFields: ['pin'],
    });
    await expect(widget.getByText('too easy to guess')).toBeVisible();

    await widget.getByRole('textbox', { name: 'New PIN', exact: true }).fill('7392');
    await widget.getByRole('textbox', { name: 'Confirm new PIN' }).fill('7392');
    await page.evaluate(() => (window as any).widget.submit());
    await waitForEvent(page, 'success');
    expect((await getCard(request, card.id)).is_pin_set).toBe(true);

    const events = await page.evaluate(() => JSON.stringify((window as any).events));
    expect(events).not.toContain('7392');
    expect(events).not.toContain('2580');
    // The change just before the successful submit said complete and valid; after it, cleared.
    const names = await page.evaluate(() => (window as any).events.map((e: any) => e.name));
    const changes = await page.evaluate(() =>
      (window as any).events.filter((e: any) => e.name === 'change').map((e: any) => e.payload),
    );
    expect(changes).toContainEqual({ complete: true, valid: true });
    for (const change of changes) expect(Object.keys(change).sort()).toEqual(['complete', 'valid']);
    expect(names.indexOf('load')).toBeLessThan(names.indexOf('change'));
    expect(changes.at(-1)).toMatchObject({ complete: false, valid: false });
    // `resize` follows layout (the success message's height), whenever the browser lays it out:
    // it may land before or after the final `change`, so the order checked is of the others.
    const flow = names.filter((name: string) => name !== 'resize');
    expect(flow.slice(flow.lastIndexOf('submit'))).toEqual(['submit', 'success', 'change']);
    expect(names.filter((name: string) => name === 'load')).toHaveLength(1);
    expect(problems).toEqual([]);
  });

  test('fetchToken (DPoP): the iframe asks for a token bound to its key, and the reveal works', async ({
    page,
    request,
  }) => {
    const card = await issueCard(request, { pin_issuance_policy: 'RANDOM' }, { activate: true });
    await page.goto(
      `${E2E_FIXTURE_URL}/sdk.html?widget=reveal-pin&mode=fetch&card=${card.id}&options=${encodeURIComponent('{"autoHideSeconds":1}')}`,
    );
    await waitForEvent(page, 'load');
    await page.evaluate(() => (window as any).widget.requestPin());
    await waitForEvent(page, 'revealed');
    await expect(page.frameLocator('#slot iframe').locator('.pw-pin')).toHaveText(/^\d{4}$/);
    await waitForEvent(page, 'hidden');
    await expect(page.frameLocator('#slot iframe').locator('.pw-pin')).toHaveText('••••');
  });

  test('update() switches theme and locale live; destroy() leaves nothing behind', async ({
    page,
    request,
  }) => {
    const card = await issueCard(request, { pin_issuance_policy: 'REQUIRED' });
    await page.goto(`${E2E_FIXTURE_URL}/sdk.html?widget=set-pin&card=${card.id}`);
    await waitForEvent(page, 'load');
    const frame = page.frameLocator('#slot iframe');
    // A value outside a token's grammar is refused at once, naming the token; nothing is sent.
    const refused = await page.evaluate(() => {
      try {
        (window as any).widget.update({ theme: 'night-shift', styles: { colorText: 'url(evil)' } });
      } catch (error) {
        return { code: (error as any).code, option: (error as any).option };
      }
    });
    expect(refused).toEqual({ code: 'INVALID_OPTIONS', option: 'styles.colorText' });
    await page.evaluate(() =>
      (window as any).widget.update({
        theme: 'night-shift',
        locale: 'es',
        styles: { colorPrimary: '#ff0000' },
      }),
    );
    await expect(frame.locator('html')).toHaveAttribute('data-theme', 'night-shift');
    await expect(frame.getByRole('heading')).toHaveText('Crea el PIN de tu tarjeta');
    const primary = await frame
      .locator('html')
      .evaluate((root) => [
        getComputedStyle(root).getPropertyValue('--pw-primary'),
        getComputedStyle(root).getPropertyValue('--pw-text'),
      ]);
    expect(primary).toEqual(['#ff0000', '#eef1f7']);
    await page.evaluate(() => (window as any).widget.destroy());
    expect(await page.locator('iframe').count()).toBe(0);
  });
});

test('custom element <reveal-pin> (IIFE build) fires DOM CustomEvents', async ({
  page,
  request,
}) => {
  const card = await issueCard(request, { pin_issuance_policy: 'RANDOM' }, { activate: true });
  await page.goto(`${E2E_FIXTURE_URL}/element.html?card=${card.id}`);
  await waitForEvent(page, 'load');
  await page.frameLocator('reveal-pin iframe').getByRole('button', { name: 'Show PIN' }).click();
  await waitForEvent(page, 'revealed');
  await waitForEvent(page, 'hidden');
  const names = await page.evaluate(() => (window as any).events.map((e: any) => e.name));
  expect(names).toEqual(expect.arrayContaining(['load', 'revealed', 'hidden']));
});
