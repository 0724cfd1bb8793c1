import { expect, test } from '@playwright/test';
import { dpopKey, ephemeralKey } from '../demo-server/testing/independent-jose.js';
import { E2E_FIXTURE_URL, E2E_PLATFORM_URL, E2E_SITE_URL } from '../playwright.config.js';
import { getCard, issueCard, waitForEvent } from './support.js';

/**
 * A widget token taken from where it was meant to be used does not work anywhere else (README “PINs”):
 * bound to one origin, it fails under another parent; bound to the iframe's DPoP key, it fails
 * for anyone without that non-extractable key, and the legitimate widget keeps working.
 */

const mismatched = [
  { name: 'minted for the demo site (another origin)', tokenOrigin: E2E_SITE_URL },
  { name: 'minted without an origin (a webview token)', tokenOrigin: '' },
] as const;

for (const { name, tokenOrigin } of mismatched) {
  test(`a token ${name}, used by a widget framed on the fixture: ORIGIN_MISMATCH`, async ({
    page,
    request,
  }) => {
    const card = await issueCard(request, { pin_issuance_policy: 'REQUIRED' });
    await page.goto(
      `${E2E_FIXTURE_URL}/sdk.html?widget=set-pin&card=${card.id}&tokenOrigin=${encodeURIComponent(tokenOrigin)}`,
    );
    await waitForEvent(page, 'error');
    const errors = await page.evaluate(() =>
      (window as any).events.filter((e: any) => e.name === 'error').map((e: any) => e.payload.code),
    );
    // The widget reports its error (more than once when its queries settle one by one).
    expect(new Set(errors)).toEqual(new Set(['ORIGIN_MISMATCH']));
    const widget = page.frameLocator('#slot iframe');
    await expect(widget.getByRole('alert')).toBeVisible();
    await expect(widget.getByRole('textbox')).toHaveCount(0);
    expect(await page.evaluate(() => (window as any).events.map((e: any) => e.name))).not.toContain(
      'load',
    );
    expect((await getCard(request, card.id)).is_pin_set).toBe(false);
  });
}

test('a DPoP-bound token stolen from the host page is refused without the iframe’s key; the widget still reveals', async ({
  page,
  request,
}) => {
  const card = await issueCard(request, { pin_issuance_policy: 'RANDOM' }, { activate: true });
  // The program's page (or a script injected into it) sees the token its backend minted.
  const minted = page.waitForResponse((r) => r.url().startsWith(`${E2E_FIXTURE_URL}/token`));
  await page.goto(`${E2E_FIXTURE_URL}/sdk.html?widget=reveal-pin&mode=fetch&card=${card.id}`);
  const stolen = (await (await minted).json()).widget_token as string;
  expect(stolen).toMatch(/^wt_/);
  await waitForEvent(page, 'load');

  const thief = await dpopKey();
  const key = await ephemeralKey();
  const session = `${E2E_PLATFORM_URL}/v1/widget/session`;
  const reveal = `${E2E_PLATFORM_URL}/v1/widget/pin/reveal`;
  const parent = { 'pin-widget-parent-origin': E2E_FIXTURE_URL };
  const attempts: [string, 'GET' | 'POST', string, Record<string, string>, string][] = [
    [
      'DPoP scheme, no proof',
      'GET',
      session,
      { authorization: `DPoP ${stolen}` },
      'DPOP_PROOF_MISSING',
    ],
    [
      'as a Bearer token',
      'GET',
      session,
      { authorization: `Bearer ${stolen}` },
      'DPOP_PROOF_INVALID',
    ],
    [
      'a proof from the thief’s own key',
      'GET',
      session,
      { authorization: `DPoP ${stolen}`, dpop: await thief.proof('GET', session, stolen) },
      'DPOP_PROOF_WRONG_KEY',
    ],
    [
      'a reveal to the thief’s key',
      'POST',
      reveal,
      { authorization: `DPoP ${stolen}`, dpop: await thief.proof('POST', reveal, stolen) },
      'DPOP_PROOF_WRONG_KEY',
    ],
    [
      'a reveal as Bearer',
      'POST',
      reveal,
      { authorization: `Bearer ${stolen}` },
      'DPOP_PROOF_INVALID',
    ],
  ];
  for (const [label, method, url, headers, code] of attempts) {
    const response = await request.fetch(url, {
      method,
      headers: { ...parent, ...headers },
      ...(method === 'POST' ? { data: { public_key: key.publicJwk } } : {}),
    });
    expect(response.status(), label).toBe(401);
    expect((await response.json()).code, label).toBe(code);
  }

  // From the host page itself the browser does not even let the call out (no CORS for it).
  const fromPage = await page.evaluate(
    async ({ url, token, body }) => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { authorization: `DPoP ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return `answered ${response.status}`;
      } catch (error) {
        return (error as Error).name;
      }
    },
    { url: reveal, token: stolen, body: { public_key: key.publicJwk } },
  );
  expect(fromPage).toBe('TypeError');

  // None of that used the token up: the widget, which holds the key, reveals with it.
  await page.evaluate(() => (window as any).widget.requestPin());
  await waitForEvent(page, 'revealed');
  await expect(page.frameLocator('#slot iframe').locator('.pw-pin')).toHaveText(/^\d{4}$/);
});
