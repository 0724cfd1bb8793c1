import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { BROWSER_GONE, type EngineName } from './env.js';

/**
 * One journey, three engines: each journey is written once against `EnginePage` and runs in
 * Chromium (Playwright library), Firefox (puppeteer-core over WebDriver BiDi) and WebKit
 * (WebdriverIO over WebKitWebDriver, classic WebDriver). An adapter implements only `Driver`,
 * the few primitives that differ; waiting and typing are built on them once, here.
 */

/** Where a command runs: the top document, a frame of it, or another top-level window. */
export type Target =
  | { in: 'top' }
  /** The first frame of the top document whose URL starts with `url`. */
  | { in: 'frame'; url: string }
  /** Another top-level window (a popup) whose URL starts with `url`. */
  | { in: 'window'; url: string };

/**
 * A function run in the browser: serialized, so it may use only its argument and the page's
 * globals (no closures over test variables).
 */
export type InPage<A, R> = (arg: A) => R | Promise<R>;

export interface Driver {
  goto(url: string): Promise<void>;
  /** The top document's URL. */
  url(): Promise<string>;
  /**
   * Runs `fn(arg)` in the target; throws `TargetMissing` when the target is not there (yet).
   * (any: each call site has its own argument type, checked where `EngineDocument` is called.)
   */
  evaluate(target: Target, fn: InPage<any, unknown>, arg: unknown): Promise<unknown>;
  /** A real mouse click in the middle of the element (the caller waited for it to be visible). */
  click(target: Target, selector: string): Promise<void>;
  /** Real key presses to whatever has focus: key names (`Tab`, `Enter`, `Backspace`) or characters. */
  press(target: Target, keys: string[]): Promise<void>;
  screenshot(file: string): Promise<void>;
  /** Runs `fn` in every new document of this page before its own scripts, where the engine can. */
  addInitScript?(fn: () => void): Promise<void>;
  close(): Promise<void>;
}

export interface EngineBrowser {
  newDriver(): Promise<Driver>;
  close(): Promise<void>;
}

export class TargetMissing extends Error {
  constructor(target: Target) {
    super(
      target.in === 'top'
        ? 'no top document'
        : `no ${target.in} whose URL starts with ${target.url}`,
    );
  }
}

interface HasUrl {
  url(): string;
}

/**
 * Where a target lives, for the two adapters that see frames and windows as objects (Playwright,
 * puppeteer): the page itself, its first child frame with that URL prefix, or another window.
 */
export function findTarget<P extends HasUrl, F extends HasUrl>(
  target: Target,
  page: P,
  frames: { all: readonly F[]; main: F },
  windows: readonly P[],
): { page: P; frame: P | F } {
  if (target.in === 'top') return { page, frame: page };
  if (target.in === 'frame') {
    const frame = frames.all.find((f) => f !== frames.main && f.url().startsWith(target.url));
    if (!frame) throw new TargetMissing(target);
    return { page, frame };
  }
  const popup = windows.find((p) => p !== page && p.url().startsWith(target.url));
  if (!popup) throw new TargetMissing(target);
  return { page: popup, frame: popup };
}

export interface EngineDocument {
  evaluate<R, A = undefined>(fn: InPage<A, R>, arg?: A): Promise<Awaited<R>>;
  /** Waits until the element is visible and enabled, then clicks it with the mouse. */
  click(selector: string): Promise<void>;
  /** Clicks the field, then types `text` as real key presses. */
  type(selector: string, text: string): Promise<void>;
  /** Key presses to the focused element: `press('Tab', ...'7392', 'Enter')`. */
  press(...keys: string[]): Promise<void>;
  /** The element's textContent, or null when there is none. */
  text(selector: string): Promise<string | null>;
}

export interface EnginePage extends EngineDocument {
  readonly engine: EngineName;
  goto(url: string): Promise<void>;
  url(): Promise<string>;
  frame(urlPrefix: string): EngineDocument;
  /** Another window this page opened (window.open), once it is there. */
  popup(urlPrefix: string): EngineDocument;
  /** Undefined where the engine has no init scripts (WebDriver classic). */
  readonly addInitScript: ((fn: () => void) => Promise<void>) | undefined;
  /** A PNG of the top document (full page where the engine can) at `test-results/engines/`. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Polls `probe` until it returns a truthy value, and returns that value. A probe that throws
 * (a frame still navigating) counts as not yet; the last value or error is in the timeout message.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T> | T,
  { timeout = 10_000, interval = 50 }: { timeout?: number; interval?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`Timed out after ${timeout} ms waiting for ${what} (last: ${seen})`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** Visible (has a box, not hidden by style) and not disabled. */
function actionable(selector: string): boolean {
  const element = document.querySelector(selector);
  if (!element) return false;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  return (
    box.width > 0 &&
    box.height > 0 &&
    style.visibility !== 'hidden' &&
    !(element as HTMLButtonElement).disabled
  );
}

/** Runs `fn` in the target, waiting (up to 10 s) for the target to be there. */
async function evaluateIn<R, A>(
  driver: Driver,
  target: Target,
  fn: InPage<A, R>,
  arg?: A,
): Promise<Awaited<R>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return (await driver.evaluate(target, fn, arg)) as Awaited<R>;
    } catch (error) {
      if (!(error instanceof TargetMissing) || Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function documentOf(driver: Driver, target: Target): EngineDocument {
  const evaluate = <R, A>(fn: InPage<A, R>, arg?: A) => evaluateIn(driver, target, fn, arg);
  const click = async (selector: string) => {
    await waitFor(`${selector} to be visible and enabled`, () => evaluate(actionable, selector));
    await driver.click(target, selector);
  };
  return {
    evaluate,
    click,
    async type(selector, text) {
      await click(selector);
      await driver.press(target, [...text]);
    },
    press: (...keys) => driver.press(target, keys),
    text: (selector) =>
      evaluate((s: string) => document.querySelector(s)?.textContent ?? null, selector),
  };
}

export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '../../test-results/engines');

function pageOf(engine: EngineName, driver: Driver): EnginePage {
  return {
    engine,
    ...documentOf(driver, { in: 'top' }),
    goto: (url) => driver.goto(url),
    url: () => driver.url(),
    frame: (url) => documentOf(driver, { in: 'frame', url }),
    popup: (url) => documentOf(driver, { in: 'window', url }),
    addInitScript: driver.addInitScript?.bind(driver),
    async screenshot(name) {
      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const file = path.join(SCREENSHOT_DIR, `${engine}-${name}.png`);
      await driver.screenshot(file);
      return file;
    },
    close: () => driver.close(),
  };
}

const adapters: Record<EngineName, () => Promise<EngineBrowser>> = {
  chromium: async () => (await import('./chromium.js')).launchChromium(),
  firefox: async () => (await import('./firefox.js')).launchFirefox(),
  webkit: async () => (await import('./webkit.js')).launchWebKit(),
};

/**
 * One browser for the enclosing `describe` (starting one is slow), a fresh page for each test:
 * call inside `describe.each(engines)`. A failed test leaves a screenshot beside the others.
 */
export function useEngine(engine: EngineName): () => Promise<EnginePage> {
  let browser: EngineBrowser | undefined;
  beforeAll(async () => {
    browser = await adapters[engine]();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return async () => {
    if (!browser) throw new Error(`${engine} did not start`);
    const page = pageOf(engine, await browser.newDriver());
    onTestFinished(async ({ task }) => {
      if (task.result?.state !== 'fail') return page.close();
      const gone = task.result.errors?.some((error) => BROWSER_GONE.test(error.message ?? ''));
      if (gone) {
        // Nothing of that browser can be closed or photographed any more: start another.
        console.warn(`${engine} went away during "${task.name}"; starting a new one`);
        await browser?.close().catch(() => undefined);
        browser = await adapters[engine]();
        return;
      }
      const name = `failed-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`;
      try {
        await page.screenshot(name).catch(() => undefined);
      } finally {
        await page.close();
      }
    });
    return page;
  };
}
