import fs from 'node:fs';
import { inject } from 'vitest';
import puppeteer, { type BrowserContext, type Frame, type Page } from 'puppeteer-core';
import {
  type Driver,
  type EngineBrowser,
  type Target,
  TargetMissing,
  findTarget,
} from './engine.js';
import { FIREFOX_PATH, VIEWPORT } from './env.js';

/** The system Firefox ESR through puppeteer-core over WebDriver BiDi. */
export async function launchFirefox(): Promise<EngineBrowser> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    // The run's one profile (see the global setup): warm after the first file's start.
    userDataDir: inject('firefoxProfileDir'),
    // The window's size, not page.setViewport(): puppeteer's setViewport also sends
    // emulation.setScreenOrientationOverride, which Firefox 140 does not know.
    defaultViewport: null,
    args: [`--width=${VIEWPORT.width}`, `--height=${VIEWPORT.height}`],
  });
  return {
    async newDriver() {
      // A BiDi user context per page: no cookies or storage shared between tests.
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      return puppeteerDriver(context, page);
    },
    close: () => browser.close(),
  };
}

/** Where to click, in the top document's viewport: the element's centre, scrolled into view. */
function centre(selector: string): { x: number; y: number } {
  const element = document.querySelector(selector)!;
  element.scrollIntoView({ block: 'nearest' });
  const box = element.getBoundingClientRect();
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Where the frame's viewport starts in the top document (its iframe's content box). */
function frameOrigin(url: string): { x: number; y: number } | null {
  const iframe = [...document.querySelectorAll('iframe')].find((f) => f.src.startsWith(url));
  if (!iframe) return null;
  iframe.scrollIntoView({ block: 'center' });
  const box = iframe.getBoundingClientRect();
  const style = getComputedStyle(iframe);
  return {
    x: box.x + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft),
    y: box.y + parseFloat(style.borderTopWidth) + parseFloat(style.paddingTop),
  };
}

function puppeteerDriver(context: BrowserContext, page: Page): Driver {
  const resolve = async (target: Target): Promise<{ page: Page; frame: Page | Frame }> =>
    findTarget(
      target,
      page,
      { all: page.frames(), main: page.mainFrame() },
      target.in === 'window' ? await context.pages() : [],
    );
  return {
    goto: async (url) => void (await page.goto(url)),
    url: async () => page.url(),
    // any: puppeteer's evaluate types its arguments from the function; ours come typed already.
    evaluate: async (target, fn, arg) => (await resolve(target)).frame.evaluate(fn as any, arg),
    async click(target, selector) {
      // ElementHandle.click() in a cross-origin frame asks Firefox 140 for the frame's element
      // (browsingContext.locateNodes with a "context" locator), which it does not support yet:
      // click by coordinates instead, the frame's offset in the page plus the element's in it.
      const { page: top, frame } = await resolve(target);
      let offset = { x: 0, y: 0 };
      if (target.in === 'frame') {
        const origin = await page.evaluate(frameOrigin, target.url);
        if (!origin) throw new TargetMissing(target);
        offset = origin;
      }
      const point = await frame.evaluate(centre, selector);
      await top.mouse.click(offset.x + point.x, offset.y + point.y);
    },
    async press(target, keys) {
      const { page: top } = await resolve(target);
      // any: a key name or a character; puppeteer's KeyInput union lists both.
      for (const key of keys) await top.keyboard.press(key as any);
    },
    screenshot: async (file) => fs.writeFileSync(file, await page.screenshot({ fullPage: true })),
    addInitScript: async (fn) => void (await page.evaluateOnNewDocument(fn)),
    close: () => context.close(),
  };
}
