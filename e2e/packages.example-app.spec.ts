import fs from 'node:fs';
import path from 'node:path';
import { type Page, expect, test } from '@playwright/test';
import { E2E_FIXTURE_URL, E2E_PLATFORM_URL } from '../playwright.config.js';
import { EXAMPLE_DIR, type ExampleApp, buildExampleApp } from '../scripts/example-app.js';
import { getCard, issueCard, watchConsole } from './support.js';

/**
 * The npm packages as a program uses them (README “Distribution”): examples/vite-react installs
 * the packed tarballs (not the source), type-checks and builds with its own Vite, and runs in
 * Chromium from a program origin (served by the e2e fixture server at /example-app/). Its
 * <SetPin> sets a PIN; its loadPinWidgets() loads the platform's pinned script with SRI, and
 * the browser refuses one changed byte of it. (sdk.versioned-integrity.spec.ts checks the
 * manifest itself and a hand-written tag with a changed hash.)
 */

const APP = `${E2E_FIXTURE_URL}/example-app/`;
let app: ExampleApp;
let pinned: { url: string; integrity: string };

test.beforeAll(async () => {
  // Packs, installs from the npm registry (cached), type-checks and builds: a minute at most.
  test.setTimeout(180_000);
  // dist/sdk as the platform under test serves it: never rebuilt under it.
  app = await buildExampleApp({ platformUrl: E2E_PLATFORM_URL, buildSdk: false });
  console.log('examples/vite-react, seconds per step:', app.seconds);
  pinned = app.packed.sdk.files['pin-widgets.iife.js']!;
  const served = (await (await fetch(`${E2E_PLATFORM_URL}/sdk/manifest.json`)).json()) as {
    files: Record<string, { url: string; integrity: string }>;
  };
  // The platform read dist/sdk when it started; the packages were built from it since.
  expect(
    served.files['pin-widgets.iife.js'],
    'dist/sdk changed after the platform started (a build meanwhile?): run again',
  ).toEqual(pinned);
});

test('the example installs the three-package release from its tarballs, with one copy of the core', () => {
  expect(app.packed.packages.map(({ name, tarball }) => [name, path.basename(tarball)])).toEqual([
    ['@pin-widgets/js', 'pin-widgets-js-0.1.0.tgz'],
    ['@pin-widgets/react', 'pin-widgets-react-0.1.0.tgz'],
    ['@pin-widgets/react-native', 'pin-widgets-react-native-0.1.0.tgz'],
  ]);
  const installed = path.join(EXAMPLE_DIR, 'node_modules/@pin-widgets');
  expect(fs.readdirSync(installed).sort()).toEqual(['js', 'react']);
  for (const name of ['js', 'react']) {
    // Unpacked from the tarball: not a link to packages/, and only the published files.
    expect(fs.lstatSync(path.join(installed, name)).isSymbolicLink()).toBe(false);
    expect(fs.readdirSync(path.join(installed, name)).sort()).toEqual([
      'README.md',
      'dist',
      'package.json',
    ]);
  }
  // @pin-widgets/react's dependency on the core is the app's own copy, not a second one.
  expect(fs.existsSync(path.join(installed, 'react/node_modules'))).toBe(false);
  const bundle = fs
    .readdirSync(path.join(EXAMPLE_DIR, 'dist/assets'))
    .filter((file) => file.endsWith('.js'))
    .map((file) => fs.readFileSync(path.join(EXAMPLE_DIR, 'dist/assets', file), 'utf8'))
    .join('\n');
  expect(bundle.match(/WIDGET_UNREACHABLE/g)).toHaveLength(1);
});

test('the packaged <SetPin> mounts one widget and the cardholder sets a PIN end to end', async ({
  page,
  request,
}) => {
  const problems = watchConsole(page);
  const card = await issueCard(request, { pin_issuance_policy: 'REQUIRED' });
  const tokenRequest = page.waitForRequest((r) => new URL(r.url()).pathname === '/token');
  await page.goto(`${APP}?card=${card.id}`);
  // fetchToken mode: the backend is asked for a token bound to the iframe's key.
  const asked = new URL((await tokenRequest).url()).searchParams;
  expect(asked.get('type')).toBe('SET_PIN');
  expect(asked.get('jkt')).toMatch(/^[A-Za-z0-9_-]{43}$/);

  await expect(page.getByRole('status')).toHaveText('Type your new PIN twice.');
  await expect(page.locator('iframe')).toHaveCount(1);
  const src = await page.locator('iframe').getAttribute('src');
  expect(src?.startsWith(`${E2E_PLATFORM_URL}/widgets/set-pin/`)).toBe(true);
  const widget = page.frameLocator('iframe[title="Set your card PIN"]');
  await widget.getByRole('textbox', { name: 'New PIN', exact: true }).fill('7392');
  await widget.getByRole('textbox', { name: 'Confirm new PIN' }).fill('7392');
  await widget.getByRole('button', { name: 'Set PIN' }).click();
  await expect(page.getByRole('status')).toHaveText('Your PIN is set.');
  expect((await getCard(request, card.id)).is_pin_set).toBe(true);
  expect(problems).toEqual([]);
});

const loadButton = (page: Page) =>
  page.getByRole('button', { name: 'Load PinWidgets from the platform' });
const injected = (page: Page) =>
  page
    .locator('script[data-pin-widgets-loader]')
    .evaluateAll((tags: HTMLScriptElement[]) =>
      tags.map(({ src, integrity, crossOrigin }) => ({ src, integrity, crossOrigin })),
    );

test('the packaged loader injects the versioned URL with its published integrity, once', async ({
  page,
}) => {
  const problems = watchConsole(page);
  await page.goto(APP);
  await loadButton(page).click();
  await expect(page.locator('#loader-status')).toHaveText(
    'Loaded: PinWidgets.mount is a function.',
  );
  await loadButton(page).click();
  expect(await injected(page)).toEqual([
    {
      src: `${E2E_PLATFORM_URL}${pinned.url}`,
      integrity: pinned.integrity,
      crossOrigin: 'anonymous',
    },
  ]);
  expect(problems).toEqual([]);
});

test.describe('one byte of the pinned script changed on the wire', () => {
  /** Serves the pinned script through the test, its last byte (in a comment) changed or not. */
  const serveThrough = async (page: Page, tamper: boolean) => {
    let served = 0;
    await page.route(`${E2E_PLATFORM_URL}${pinned.url}`, async (route) => {
      const response = await route.fetch({ headers: { 'accept-encoding': 'identity' } });
      const body = Buffer.from(await response.body());
      // `…pin-widgets.iife.js.map` → `…pin-widgets.iife.js.maq`: still valid, still runs.
      if (tamper) body[body.length - 1] = body.at(-1)! + 1;
      served++;
      await route.fulfill({
        status: 200,
        headers: {
          'content-type': 'text/javascript; charset=utf-8',
          'access-control-allow-origin': '*',
        },
        body,
      });
    });
    return () => served;
  };

  test('unchanged, through the same route, it loads', async ({ page }) => {
    const served = await serveThrough(page, false);
    await page.goto(APP);
    await loadButton(page).click();
    await expect(page.locator('#loader-status')).toHaveText(
      'Loaded: PinWidgets.mount is a function.',
    );
    expect(served()).toBe(1);
  });

  test('changed, the browser refuses it and the loader rejects SDK_LOAD_FAILED', async ({
    page,
  }) => {
    const problems = watchConsole(page);
    const served = await serveThrough(page, true);
    await page.goto(APP);
    await loadButton(page).click();
    await expect(page.locator('#loader-status')).toContainText(
      `Refused (SDK_LOAD_FAILED): PinWidgets: ${E2E_PLATFORM_URL}${pinned.url} did not load`,
    );
    expect(served()).toBe(1);
    // Refused by Subresource Integrity, not by the network: Chromium says which.
    expect(problems.join('\n')).toMatch(/integrity.*blocked|blocked.*integrity/is);
    expect(await page.evaluate(() => typeof (window as any).PinWidgets)).toBe('undefined');
    // The failed tag is gone, so a later call can try again.
    expect(await injected(page)).toEqual([]);
  });
});
