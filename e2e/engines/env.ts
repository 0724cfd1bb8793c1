/**
 * The engines suite's platform, origins and browsers: ports apart from `npm start`'s (4000) and
 * Playwright's (4400–4403), so all three can run at once.
 */
export const PLATFORM_PORT = 4500;
export const SITE_PORT = 4501;
export const FIXTURE_PORT = 4502;
/** Not in FRAME_ANCESTORS: the attacker's origin (same fixture server). */
export const HOSTILE_PORT = 4503;
/** First choice for WebKitWebDriver; another free port when it is taken. */
export const WEBKIT_DRIVER_PORT = 4544;

export const PLATFORM_URL = `http://localhost:${PLATFORM_PORT}`;
export const SITE_URL = `http://127.0.0.1:${SITE_PORT}`;
export const FIXTURE_URL = `http://127.0.0.1:${FIXTURE_PORT}`;
export const HOSTILE_URL = `http://127.0.0.1:${HOSTILE_PORT}`;
/**
 * Resolves to 127.0.0.1 (an /etc/hosts line the global setup adds) but is not "localhost", so
 * browsers treat it as an insecure origin: a page on it is not a secure context.
 */
export const INSECURE_HOST = 'pin-widgets-insecure.test';
export const INSECURE_URL = `http://${INSECURE_HOST}:${FIXTURE_PORT}`;
export const API_KEY = 'sk_test_engines_0123456789abcdefghij';

/** Every engine's window: the same layout in each, and the demo page's two columns. */
export const VIEWPORT = { width: 1280, height: 900 };

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER_PATH = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
export const MINIBROWSER_PATH =
  process.env.MINIBROWSER_PATH ??
  `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/webkit2gtk-4.1/MiniBrowser`;
export const XVFB_PATH = process.env.XVFB_PATH ?? '/usr/bin/Xvfb';

export const ENGINE_NAMES = ['chromium', 'firefox', 'webkit'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** `ENGINES=firefox` (or `chromium,webkit`) runs a subset; default all three. */
export function selectedEngines(value = process.env.ENGINES): EngineName[] {
  if (!value?.trim()) return [...ENGINE_NAMES];
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(ENGINE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `ENGINES: unknown engine "${unknown.join('", "')}"; use a comma-separated list of ${ENGINE_NAMES.join(', ')}`,
    );
  }
  return names as EngineName[];
}

/**
 * What each driver library says when the browser itself is gone (a crashed MiniBrowser ends
 * its WebDriver session; a crashed Firefox or Chromium closes its connection). A journey that
 * fails this way says nothing about the widgets: `useEngine` starts a new browser and the
 * engines config retries that test once, for this cause only.
 */
export const BROWSER_GONE =
  /invalid session id|session deleted|Target (page, context or browser )?(has been )?closed|Browser (has been )?(disconnected|closed)|Connection closed/i;
