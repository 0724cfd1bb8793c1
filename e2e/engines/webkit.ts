import { Key, remote } from 'webdriverio';
import { inject } from 'vitest';
import { type Driver, type EngineBrowser, type Target, TargetMissing } from './engine.js';
import { MINIBROWSER_PATH, VIEWPORT } from './env.js';

type Browser = Awaited<ReturnType<typeof remote>>;

const KEYS: Record<string, string> = {
  Tab: Key.Tab,
  Enter: Key.Enter,
  Backspace: Key.Backspace,
  Escape: Key.Escape,
};

/**
 * WebKitGTK's MiniBrowser through the WebKitWebDriver the global setup started (on Xvfb), over
 * classic WebDriver: WebKitWebDriver speaks no BiDi. One session is one browser window, so a
 * "new page" reuses it (blank, popups closed) instead of starting a browser per test.
 */
export async function launchWebKit(): Promise<EngineBrowser> {
  const port = inject('webkitDriverPort');
  if (!port)
    throw new Error('No WebKitWebDriver: the global setup starts one when ENGINES has webkit');
  const browser = await remote({
    hostname: '127.0.0.1',
    port,
    path: '/',
    logLevel: 'warn',
    capabilities: {
      browserName: 'MiniBrowser',
      'wdio:enforceWebDriverClassic': true,
      'webkitgtk:browserOptions': { binary: MINIBROWSER_PATH, args: ['--automation'] },
      // any: WebdriverIO's capability types know no WebKitGTK vendor options.
    } as any,
  });
  await browser.setWindowSize(VIEWPORT.width, VIEWPORT.height);
  const main = await browser.getWindowHandle();
  return {
    newDriver: async () => webdriverDriver(browser, main),
    close: () => browser.deleteSession(),
  };
}

/** The first iframe whose URL starts with `url` (WebDriver hands it back as an element). */
function frameElement(url: string): HTMLIFrameElement | null {
  return [...document.querySelectorAll('iframe')].find((f) => f.src.startsWith(url)) ?? null;
}

function scrollFrameIntoView(url: string): void {
  [...document.querySelectorAll('iframe')]
    .find((f) => f.src.startsWith(url))
    ?.scrollIntoView({ block: 'center' });
}

function webdriverDriver(browser: Browser, main: string): Driver {
  // WebDriver has one current window and frame per session: every command switches to its
  // target and back, and commands run one at a time so two never interleave their switches.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  const within = <T>(target: Target, work: () => Promise<T>) =>
    serial(async () => {
      if (target.in === 'window') {
        let found = false;
        for (const handle of await browser.getWindowHandles()) {
          if (handle === main) continue;
          await browser.switchToWindow(handle);
          if ((await browser.getUrl()).startsWith(target.url)) {
            found = true;
            break;
          }
        }
        if (!found) {
          await browser.switchToWindow(main);
          throw new TargetMissing(target);
        }
        try {
          return await work();
        } finally {
          await browser.switchToWindow(main);
        }
      }
      await browser.switchFrame(null);
      if (target.in === 'top') return work();
      const iframe = await browser.execute(frameElement, target.url);
      if (!iframe) throw new TargetMissing(target);
      // any: a WebDriver element reference, which execute types as the DOM element it was.
      await browser.switchFrame(iframe as any);
      try {
        return await work();
      } finally {
        await browser.switchToParentFrame();
      }
    });
  return {
    goto: (url) => serial(async () => void (await browser.url(url))),
    url: () => serial(() => browser.getUrl()),
    // any: execute types its arguments from the function; ours come typed already.
    evaluate: (target, fn, arg) => within(target, () => browser.execute(fn as any, arg)),
    async click(target, selector) {
      // WebKitWebDriver misplaces a click in a frame whose iframe had to be scrolled into view
      // (the input stays unfocused, the keys go nowhere): bring the iframe into view first.
      if (target.in === 'frame') {
        await within({ in: 'top' }, () => browser.execute(scrollFrameIntoView, target.url));
      }
      // A WebDriver element click: real mouse events. (element.setValue() is refused inside a
      // cross-origin frame with "Element is not focusable", hence click then key presses.)
      await within(target, async () => void (await browser.$(selector).click()));
    },
    press: (target, keys) =>
      within(target, async () => void (await browser.keys(keys.map((key) => KEYS[key] ?? key)))),
    screenshot: (file) => serial(async () => void (await browser.saveScreenshot(file))),
    // No addInitScript: WebDriver classic has no way to run a script before a document's own.
    close: () =>
      serial(async () => {
        for (const handle of await browser.getWindowHandles()) {
          if (handle === main) continue;
          await browser.switchToWindow(handle);
          await browser.closeWindow();
        }
        await browser.switchToWindow(main);
        await browser.url('about:blank');
      }),
  };
}
