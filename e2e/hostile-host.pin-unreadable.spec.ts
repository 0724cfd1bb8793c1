import { expect, test } from '@playwright/test';
import { E2E_FIXTURE_URL, E2E_PLATFORM_URL } from '../playwright.config.js';
import { auth, issueCard, recordTraffic, waitForEvent } from './support.js';

/**
 * A host page that wants the PIN (README “Widgets and the host SDK”: the PIN never leaves the iframe). The cardholder sets
 * a 12-digit PIN in the Set PIN widget and reveals it in the Reveal PIN widget; meanwhile the host
 * page does what a hostile script on it could: reach into the iframe, read its own DOM, storage,
 * console and network log, and walk the SDK's objects. The PIN is shown inside the iframe (the
 * test can see it there) and found nowhere the host page can look.
 */
const PIN = '480267153928';

test('the host page can read neither the typed nor the revealed PIN, anywhere', async ({
  page,
  request,
}) => {
  const traffic = recordTraffic(page);
  const card = await issueCard(request, { pin_issuance_policy: 'REQUIRED', pin_length: 12 });

  // 1. The cardholder types the PIN into the Set PIN widget on the program's page.
  await page.goto(`${E2E_FIXTURE_URL}/sdk.html?widget=set-pin&card=${card.id}`);
  await waitForEvent(page, 'load');
  const setPin = page.frameLocator('#slot iframe');
  await setPin.getByRole('textbox', { name: 'New PIN', exact: true }).fill(PIN);
  await setPin.getByRole('textbox', { name: 'Confirm new PIN' }).fill(PIN);
  const whileTyped = await page.evaluate(() => document.documentElement.outerHTML);
  await setPin.getByRole('button', { name: 'Set PIN' }).click();
  await waitForEvent(page, 'success');
  const setEvents = await page.evaluate(() => JSON.stringify((window as any).events));

  await request.post(`${E2E_PLATFORM_URL}/v1/simulations/cards/${card.id}/advance`, {
    headers: auth,
  });
  await request.patch(`${E2E_PLATFORM_URL}/v1/cards/${card.id}`, {
    headers: auth,
    data: { card_status: 'ACTIVE' },
  });

  // 2. The cardholder reveals it (DPoP-bound tokens minted by the program's backend).
  await page.goto(
    `${E2E_FIXTURE_URL}/sdk.html?widget=reveal-pin&mode=fetch&card=${card.id}&options=${encodeURIComponent('{"autoHideSeconds":60}')}`,
  );
  await page.evaluate(() => {
    // The hostile script listens to every message the page receives.
    (window as any).overheard = [];
    addEventListener('message', (event) => (window as any).overheard.push(event.data));
  });
  await waitForEvent(page, 'load');
  await page.evaluate(() => (window as any).widget.requestPin());
  await waitForEvent(page, 'revealed');
  // Positive control: the PIN is right there, inside the iframe.
  await expect(page.frameLocator('#slot iframe').locator('.pw-pin')).toHaveText(PIN);

  // 3. While it is shown, the host page reaches for it.
  const reach = await page.evaluate(() => {
    const frame = document.querySelector('#slot iframe') as HTMLIFrameElement;
    const child = frame.contentWindow as any;
    const outcome: Record<string, string> = {};
    const attempt = (name: string, read: () => unknown) => {
      try {
        outcome[name] = `read: ${String(read())}`;
      } catch (error) {
        outcome[name] = (error as Error).name;
      }
    };
    attempt('iframe.contentDocument', () => frame.contentDocument);
    attempt('contentWindow.document', () => child.document.body.innerText);
    attempt('contentWindow.localStorage', () => child.localStorage.length);
    attempt('contentWindow.sessionStorage', () => child.sessionStorage.length);
    attempt('contentWindow.indexedDB', () => child.indexedDB);
    attempt('contentWindow.location.href', () => child.location.href);
    attempt('contentWindow.name', () => child.name);
    attempt('contentWindow.eval', () => child.eval('document.body.innerText'));
    attempt('contentWindow.getSelection', () => child.getSelection().toString());
    return outcome;
  });
  expect(reach).toEqual({
    'iframe.contentDocument': 'read: null',
    'contentWindow.document': 'SecurityError',
    'contentWindow.localStorage': 'SecurityError',
    'contentWindow.sessionStorage': 'SecurityError',
    'contentWindow.indexedDB': 'SecurityError',
    'contentWindow.location.href': 'SecurityError',
    'contentWindow.name': 'SecurityError',
    'contentWindow.eval': 'SecurityError',
    'contentWindow.getSelection': 'SecurityError',
  });

  // Everything the host page itself holds: DOM, storage, cookies, events, overheard messages,
  // and every value reachable from the SDK's objects (the widget handle and the module).
  const held = await page.evaluate(async (platform) => {
    const strings: string[] = [];
    const visited = new Set<unknown>();
    const walk = (value: unknown, depth: number) => {
      if (depth > 8 || value === null || value === undefined) return;
      if (typeof value === 'string') strings.push(value);
      else if (typeof value === 'function') strings.push(value.toString());
      else if (typeof value === 'object' && !visited.has(value) && !(value instanceof Node)) {
        visited.add(value);
        for (const key of Reflect.ownKeys(value)) {
          try {
            walk((value as any)[key], depth + 1);
          } catch {
            // a getter that throws holds nothing to find
          }
        }
      }
    };
    walk((window as any).widget, 0);
    walk(await import(`${platform}/sdk/pin-widgets.js`), 0);
    walk((window as any).events, 0);
    walk((window as any).overheard, 0);
    return {
      dom: document.documentElement.outerHTML,
      text: document.body.innerText,
      storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
      cookies: document.cookie,
      sdk: strings.join('\n'),
      overheard: (window as any).overheard.length as number,
    };
  }, E2E_PLATFORM_URL);
  expect(held.overheard).toBeGreaterThan(0);
  for (const [where, text] of Object.entries({ ...held, whileTyped, setEvents })) {
    expect(String(text), where).not.toContain(PIN);
  }

  // 4. The console and the network log of the page and its frames: every URL, header and body.
  const logged = await traffic.all();
  expect(
    logged.some((line) => line.includes('/v1/widget/pin/reveal') && line.includes('encrypted_pin')),
  ).toBe(true);
  const tokens = logged.flatMap((line) => /"widget_token":"([^"]+)"/.exec(line)?.[1] ?? []);
  expect(tokens.length).toBeGreaterThan(0);
  for (const line of logged) expect(line).not.toContain(PIN);
  // The SDK's objects hold no token either: the host's backend minted them, the SDK passed them on.
  for (const token of tokens) expect(held.sdk).not.toContain(token);
});
