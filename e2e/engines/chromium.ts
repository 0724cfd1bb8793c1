import { type BrowserContext, type Frame, type Page, chromium } from '@playwright/test';
import { type Driver, type EngineBrowser, type Target, findTarget } from './engine.js';
import { CHROMIUM_ARGS } from '../../playwright.config.js';
import { CHROMIUM_PATH, VIEWPORT } from './env.js';

/** The system Chromium through the Playwright library (no test runner, no downloaded build). */
export async function launchChromium(): Promise<EngineBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    async newDriver() {
      // A context per page: no cookies or storage shared between tests.
      const context = await browser.newContext({ viewport: VIEWPORT });
      return playwrightDriver(context, await context.newPage());
    },
    close: () => browser.close(),
  };
}

function playwrightDriver(context: BrowserContext, page: Page): Driver {
  const resolve = (target: Target): { page: Page; frame: Page | Frame } =>
    findTarget(target, page, { all: page.frames(), main: page.mainFrame() }, context.pages());
  return {
    goto: async (url) => void (await page.goto(url)),
    url: async () => page.url(),
    evaluate: (target, fn, arg) => resolve(target).frame.evaluate(fn, arg),
    // A bounded wait: the caller already waited for the element; a click that still cannot
    // happen should fail like the other engines' do, not wait out the test.
    click: (target, selector) =>
      resolve(target).frame.locator(selector).first().click({ timeout: 10_000 }),
    async press(target, keys) {
      for (const key of keys) await resolve(target).page.keyboard.press(key);
    },
    screenshot: async (file) => void (await page.screenshot({ path: file, fullPage: true })),
    addInitScript: async (fn) => void (await page.addInitScript(fn)),
    close: () => context.close(),
  };
}
