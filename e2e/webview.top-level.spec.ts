import { expect, test } from '@playwright/test';
import { E2E_PLATFORM_URL } from '../playwright.config.js';
import { auth, getCard, issueCard } from './support.js';

test('webview mode: options from the fragment, fragment stripped, events to the native bridge', async ({
  page,
  request,
}) => {
  const card = await issueCard(request, { pin_issuance_policy: 'REQUIRED' });
  // A webview token is minted without origin: it only works top-level.
  const minted = await request.post(`${E2E_PLATFORM_URL}/v1/cards/${card.id}/widget_token`, {
    headers: auth,
    data: { widget_type: 'SET_PIN' },
  });
  const { widget_token } = await minted.json();
  await page.addInitScript(() => {
    (window as any).bridged = [];
    (window as any).ReactNativeWebView = {
      postMessage: (json: string) => (window as any).bridged.push(JSON.parse(json)),
    };
  });
  await page.goto(
    `${E2E_PLATFORM_URL}/widgets/set-pin/#token=${widget_token}&locale=fr&theme=night-shift`,
  );
  await expect(page.getByRole('heading')).toHaveText('Choisissez le code de votre carte');
  expect(page.url()).not.toContain('#');
  expect(page.url()).not.toContain(widget_token);

  await page.getByRole('textbox', { name: 'Nouveau code', exact: true }).fill('7392');
  await page.getByRole('textbox', { name: 'Confirmez le nouveau code' }).fill('7392');
  await page.getByRole('button', { name: 'Enregistrer le code' }).click();
  await expect(page.getByRole('status')).toContainText('Votre code est enregistré');
  const bridged = await page.evaluate(() => (window as any).bridged.map((m: any) => m.type));
  expect(bridged).toEqual(expect.arrayContaining(['load', 'change', 'submit', 'success']));
  expect(JSON.stringify(await page.evaluate(() => (window as any).bridged))).not.toContain('7392');
  expect((await getCard(request, card.id)).is_pin_set).toBe(true);
});

test('the widget documents send their security headers', async ({ request }) => {
  const response = await request.get(`${E2E_PLATFORM_URL}/widgets/reveal-pin/`);
  const headers = response.headers();
  expect(headers['content-security-policy']).toContain("default-src 'none'");
  expect(headers['content-security-policy']).toContain(
    'frame-ancestors http://127.0.0.1:4401 http://127.0.0.1:4402',
  );
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['permissions-policy']).toContain('camera=()');
});

test('webview mode with DPoP: the document asks the app for a token bound to its own key', async ({
  page,
  request,
}) => {
  // A product without bearer tokens (the default): only a DPoP-bound token can be minted.
  const created = await request.post(`${E2E_PLATFORM_URL}/v1/card_products`, {
    headers: auth,
    data: { name: 'E2E DPoP', form: 'PHYSICAL', pin_issuance_policy: 'REQUIRED' },
  });
  const card = await (
    await request.post(`${E2E_PLATFORM_URL}/v1/cards`, {
      headers: auth,
      data: { card_product_id: (await created.json()).id, account_id: 'acct_e2e' },
    })
  ).json();
  await page.addInitScript(() => {
    (window as any).bridged = [];
    (window as any).ReactNativeWebView = {
      postMessage: (json: string) => (window as any).bridged.push(JSON.parse(json)),
    };
  });
  await page.goto(`${E2E_PLATFORM_URL}/widgets/set-pin/#locale=en`);
  // The app's side of the bridge: a tokenRequest carries the document's key thumbprint.
  await expect
    .poll(() => page.evaluate(() => (window as any).bridged.map((m: any) => m.type)))
    .toContain('tokenRequest');
  const { jkt, widgetType } = await page.evaluate(
    () => (window as any).bridged.find((m: any) => m.type === 'tokenRequest').payload,
  );
  expect(widgetType).toBe('SET_PIN');
  const bearer = await request.post(`${E2E_PLATFORM_URL}/v1/cards/${card.id}/widget_token`, {
    headers: auth,
    data: { widget_type: 'SET_PIN' },
  });
  expect((await bearer.json()).code).toBe('DPOP_BINDING_REQUIRED');
  const minted = await request.post(`${E2E_PLATFORM_URL}/v1/cards/${card.id}/widget_token`, {
    headers: auth,
    data: { widget_type: 'SET_PIN', jkt },
  });
  const { widget_token } = await minted.json();
  await page.evaluate((token) => (window as any).pinWidgetsToken(token), widget_token);

  await page.getByRole('textbox', { name: 'New PIN', exact: true }).fill('7392');
  await page.getByRole('textbox', { name: 'Confirm new PIN' }).fill('7392');
  await page.getByRole('button', { name: 'Set PIN' }).click();
  await expect(page.getByRole('status')).toContainText('Your PIN is set');
  expect(JSON.stringify(await page.evaluate(() => (window as any).bridged))).not.toContain('7392');
  expect((await getCard(request, card.id)).is_pin_set).toBe(true);
});
