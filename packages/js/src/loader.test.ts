// @vitest-environment happy-dom
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as Loader from './loader.js';

const PLATFORM = 'https://platform.example';
const PINNED = {
  version: '0.1.0-0123456789ab',
  path: '/sdk/0.1.0-0123456789ab/pin-widgets.iife.js',
  integrity: 'sha384-pinned',
};
vi.mock('./release.js', () => ({ PINNED_SDK: PINNED }));

/**
 * The platform, as happy-dom's virtual server: the pinned path serves a stand-in SDK that counts
 * its runs. happy-dom runs scripts but checks no integrity: the browser's refusal of a changed
 * byte is e2e/packages.example-app.spec.ts's.
 */
const platformDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-widgets-loader-'));
const pinnedFile = path.join(platformDir, PINNED.path);
const STAND_IN_SDK = 'window.runs = (window.runs ?? 0) + 1; window.PinWidgets = { mount() {} };';
const serve = (body: string | undefined) => {
  fs.rmSync(pinnedFile, { force: true });
  if (body !== undefined) fs.writeFileSync(pinnedFile, body);
};
fs.mkdirSync(path.dirname(pinnedFile), { recursive: true });

interface HappyDomSettings {
  enableJavaScriptEvaluation: boolean;
  fetch: { virtualServers: { url: string; directory: string }[] | null };
}
const settings = (window as unknown as { happyDOM: { settings: HappyDomSettings } }).happyDOM
  .settings;
settings.enableJavaScriptEvaluation = true;
settings.fetch.virtualServers = [{ url: `${PLATFORM}/`, directory: platformDir }];

const page = window as unknown as { PinWidgets?: unknown; runs?: number };
/** A fresh copy of the loader module, as a page that bundles it twice has. */
const freshLoader = async () => {
  vi.resetModules();
  return (await import('./loader.js')) as typeof Loader;
};
const scripts = () => [...document.querySelectorAll('script')];

beforeEach(() => serve(STAND_IN_SDK));
afterEach(() => {
  document.head.innerHTML = '';
  delete page.PinWidgets;
  delete page.runs;
  vi.restoreAllMocks();
});
afterAll(() => fs.rmSync(platformDir, { recursive: true, force: true }));

describe('loadPinWidgets', () => {
  it('injects the pinned version with its integrity, as a CORS load, once for every call', async () => {
    const { loadPinWidgets } = await freshLoader();
    const first = loadPinWidgets({ platformUrl: `${PLATFORM}/some/page?x=1` });
    const second = loadPinWidgets({ platformUrl: PLATFORM });
    expect(second).toBe(first);
    const [script, ...others] = scripts();
    expect(others).toEqual([]);
    expect(script!.src).toBe(`${PLATFORM}${PINNED.path}`);
    expect(script!.getAttribute('integrity')).toBe(PINNED.integrity);
    expect(script!.getAttribute('crossorigin')).toBe('anonymous');
    expect(await first).toBe(page.PinWidgets);
    expect(await loadPinWidgets({ platformUrl: PLATFORM })).toBe(page.PinWidgets);
    expect(page.runs).toBe(1);
    expect(scripts()).toHaveLength(1);
  });

  it('uses a window.PinWidgets already on the page and injects nothing', async () => {
    const sdk = { mount() {} };
    page.PinWidgets = sdk;
    const { loadPinWidgets } = await freshLoader();
    expect(await loadPinWidgets({ platformUrl: PLATFORM })).toBe(sdk);
    expect(scripts()).toEqual([]);
  });

  it('waits for the tag another copy of the loader injected instead of adding one', async () => {
    // The other copy's tag, still loading (async: happy-dom then fetches after this task).
    const theirs = document.createElement('script');
    theirs.setAttribute('data-pin-widgets-loader', '');
    theirs.async = true;
    theirs.src = `${PLATFORM}${PINNED.path}`;
    document.head.append(theirs);
    expect(page.PinWidgets).toBeUndefined();
    const { loadPinWidgets } = await freshLoader();
    const sdk = await loadPinWidgets({ platformUrl: PLATFORM });
    expect(sdk).toBe(page.PinWidgets);
    expect(scripts()).toEqual([theirs]);
    expect(page.runs).toBe(1);
  });

  it('a script that does not load rejects SDK_LOAD_FAILED naming the fix, leaves no tag, and may be retried', async () => {
    serve(undefined); // a 404, which happy-dom logs
    const { loadPinWidgets } = await freshLoader();
    const failed = loadPinWidgets({ platformUrl: PLATFORM });
    await expect(failed).rejects.toMatchObject({
      name: 'PinWidgetsLoadError',
      code: 'SDK_LOAD_FAILED',
      message: expect.stringContaining(`${PLATFORM}/sdk/manifest.json`),
    });
    await expect(failed).rejects.toThrow(PINNED.integrity);
    expect(scripts()).toEqual([]);

    serve(STAND_IN_SDK);
    const retried = loadPinWidgets({ platformUrl: PLATFORM });
    expect(retried).not.toBe(failed);
    expect(await retried).toBe(page.PinWidgets);
    expect(scripts()).toHaveLength(1);
  });

  it('a script that defines no PinWidgets rejects SDK_MISSING and leaves no tag', async () => {
    serve('window.somethingElse = true;');
    const { loadPinWidgets } = await freshLoader();
    await expect(loadPinWidgets({ platformUrl: PLATFORM })).rejects.toMatchObject({
      code: 'SDK_MISSING',
      message: expect.stringContaining('is platformUrl the PIN widgets platform?'),
    });
    expect(scripts()).toEqual([]);
  });

  it.each([undefined, '', 'pin.example.com', 'javascript:alert(1)', 'ftp://pin.example.com'])(
    'refuses platformUrl %j with INVALID_OPTIONS before loading anything',
    async (platformUrl) => {
      const { loadPinWidgets, PinWidgetsLoadError } = await freshLoader();
      const loading = loadPinWidgets({ platformUrl } as never);
      await expect(loading).rejects.toBeInstanceOf(PinWidgetsLoadError);
      await expect(loading).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        message: expect.stringContaining('options.platformUrl'),
      });
      expect(scripts()).toEqual([]);
    },
  );

  it('a later call for another platform gets the first load, and a warning', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { loadPinWidgets } = await freshLoader();
    const first = loadPinWidgets({ platformUrl: PLATFORM });
    expect(loadPinWidgets({ platformUrl: 'https://other.example' })).toBe(first);
    expect(warn).toHaveBeenCalledWith(
      `PinWidgets: already loading from ${PLATFORM}; https://other.example is ignored`,
    );
    await first;
    expect(scripts()).toHaveLength(1);
  });

  it('built from source, with no pinned SDK, says so instead of loading an unpinned script', async () => {
    vi.resetModules();
    vi.doMock('./release.js', () => ({ PINNED_SDK: undefined }));
    try {
      const { loadPinWidgets } = (await import('./loader.js')) as typeof Loader;
      await expect(loadPinWidgets({ platformUrl: PLATFORM })).rejects.toMatchObject({
        code: 'SDK_NOT_PINNED',
        message: expect.stringContaining('npm run pack:packages'),
      });
      expect(scripts()).toEqual([]);
    } finally {
      vi.doUnmock('./release.js');
    }
  });
});
