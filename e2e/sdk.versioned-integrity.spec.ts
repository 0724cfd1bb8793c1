import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { type APIRequestContext, expect, test } from '@playwright/test';
import { E2E_FIXTURE_URL, E2E_PLATFORM_URL } from '../playwright.config.js';
import { auth, issueCard } from './support.js';

/**
 * The SDK at versioned, immutable URLs with Subresource Integrity (README “Widgets and the host SDK”): a program page
 * pins exactly the bytes it reviewed; one changed byte and the browser refuses to run them.
 */

interface Manifest {
  version: string;
  files: Record<string, { url: string; integrity: string }>;
}

const manifest = async (request: APIRequestContext) =>
  (await (await request.get(`${E2E_PLATFORM_URL}/sdk/manifest.json`)).json()) as Manifest;

test('the manifest pins every SDK file: immutable, CORS and CORP for any origin, hashes that match', async ({
  request,
}) => {
  const { version, files } = await manifest(request);
  expect(version).toMatch(/^\d+\.\d+\.\d+-[0-9a-f]{12}$/);
  expect(Object.keys(files).sort()).toEqual([
    'pin-widgets-elements.js',
    'pin-widgets-react.js',
    'pin-widgets.iife.js',
    'pin-widgets.js',
  ]);
  const readme = fs.readFileSync('README.md', 'utf8');
  for (const [name, { url, integrity }] of Object.entries(files)) {
    const pinned = await request.get(`${E2E_PLATFORM_URL}${url}`, {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(pinned.status()).toBe(200);
    expect(pinned.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(pinned.headers()['access-control-allow-origin']).toBe('*');
    expect(pinned.headers()['cross-origin-resource-policy']).toBe('cross-origin');
    const digest = createHash('sha384')
      .update(await pinned.body())
      .digest('base64');
    expect(integrity).toBe(`sha384-${digest}`);
    // The alias stays short-cached, with the same bytes.
    const alias = await request.get(`${E2E_PLATFORM_URL}/sdk/${name}`, {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(alias.headers()['cache-control']).toBe('public, max-age=300');
    expect(await alias.body()).toEqual(await pinned.body());
    // Published in the README too (`npm run sdk:integrity` prints the table).
    expect(readme).toContain(integrity);
  }
  const other = await request.get(`${E2E_PLATFORM_URL}/sdk/0.0.0-000000000000/pin-widgets.js`);
  expect(other.status()).toBe(404);
});

test('a page that loads the pinned SDK with its integrity mounts a widget; one tampered byte and the browser refuses it', async ({
  page,
  request,
}) => {
  const { files } = await manifest(request);
  const iife = files['pin-widgets.iife.js']!;
  const card = await issueCard(request, { pin_issuance_policy: 'REQUIRED' });
  const minted = await request.post(`${E2E_PLATFORM_URL}/v1/cards/${card.id}/widget_token`, {
    headers: auth,
    data: { widget_type: 'SET_PIN', origin: E2E_FIXTURE_URL },
  });
  const { widget_token } = await minted.json();
  await page.goto(`${E2E_FIXTURE_URL}/attacker.html`);
  const load = (src: string, integrity: string) =>
    page.evaluate(
      ({ src, integrity }) =>
        new Promise<string>((resolve) => {
          const script = document.createElement('script');
          script.src = src;
          script.integrity = integrity;
          script.crossOrigin = 'anonymous';
          script.onload = () => resolve('loaded');
          script.onerror = () => resolve('refused');
          document.head.append(script);
        }),
      { src, integrity },
    );

  // One character of the hash changed: the same as one byte of the file changed.
  const last = iife.integrity.at(-2) === 'A' ? 'B' : 'A';
  const tampered = `${iife.integrity.slice(0, -2)}${last}${iife.integrity.at(-1)}`;
  expect(await load(`${E2E_PLATFORM_URL}${iife.url}`, tampered)).toBe('refused');
  expect(await page.evaluate(() => typeof (window as any).PinWidgets)).toBe('undefined');

  expect(await load(`${E2E_PLATFORM_URL}${iife.url}`, iife.integrity)).toBe('loaded');
  await page.evaluate((token) => {
    (window as any).events = [];
    const slot = document.createElement('div');
    document.body.append(slot);
    const widget = (window as any).PinWidgets.mount(slot, { widget: 'set-pin', token });
    widget.on('load', () => (window as any).events.push('load'));
  }, widget_token);
  await expect.poll(() => page.evaluate(() => (window as any).events)).toEqual(['load']);
});
