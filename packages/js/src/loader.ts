import type * as Sdk from '../../../widgets/sdk/index.js';
import { PINNED_SDK } from './release.js';

/** `window.PinWidgets` as the platform's `pin-widgets.iife.js` defines it: the SDK core. */
export type PinWidgetsSdk = typeof Sdk;

export interface LoadOptions {
  /** The platform's http(s) URL, e.g. `https://pin.example.com` (its origin is used). */
  platformUrl: string;
}

export type LoadErrorCode =
  'INVALID_OPTIONS' | 'SDK_LOAD_FAILED' | 'SDK_MISSING' | 'SDK_NOT_PINNED';

/** Why the SDK did not load: `code` is stable, the message names the fix. */
export class PinWidgetsLoadError extends Error {
  override readonly name = 'PinWidgetsLoadError';
  constructor(
    readonly code: LoadErrorCode,
    message: string,
  ) {
    super(`PinWidgets: ${message}`);
  }
}

/**
 * Marks the tags a loader injected. A marked tag on the page is still loading or has defined
 * `window.PinWidgets` (a failed one is removed), so another copy of this loader may wait for it.
 */
const LOADER_ATTRIBUTE = 'data-pin-widgets-loader';

let loading: { platform: string; promise: Promise<PinWidgetsSdk> } | undefined;

/**
 * Loads the platform's SDK script, pinned to the version this package was built with and
 * checked by the browser against its integrity hash, and resolves to `window.PinWidgets`.
 * One load per page: every call shares it, and a copy already on the page (the global, or a tag
 * another loader injected) is used as is. Resolves to null where there is no `window` (SSR).
 */
export function loadPinWidgets(options: LoadOptions): Promise<PinWidgetsSdk | null> {
  let platform: string;
  try {
    platform = platformOrigin(options);
  } catch (error) {
    return Promise.reject(error);
  }
  if (typeof window === 'undefined' || typeof document === 'undefined')
    return Promise.resolve(null);
  if (loading) {
    if (loading.platform !== platform) {
      console.warn(`PinWidgets: already loading from ${loading.platform}; ${platform} is ignored`);
    }
    return loading.promise;
  }
  const promise = load(platform);
  loading = { platform, promise };
  // A failed load is not kept: the next call tries again.
  promise.catch(() => {
    if (loading?.promise === promise) loading = undefined;
  });
  return promise;
}

function platformOrigin(options: unknown): string {
  const url = (options as Partial<LoadOptions> | null | undefined)?.platformUrl;
  try {
    if (typeof url === 'string' && /^https?:\/\/[^/]/.test(url)) return new URL(url).origin;
  } catch {
    // Not a URL: the same refusal as any other bad value.
  }
  throw new PinWidgetsLoadError(
    'INVALID_OPTIONS',
    "options.platformUrl: pass the platform's http(s) URL, e.g. https://pin.example.com",
  );
}

function sdkOnPage(): PinWidgetsSdk | undefined {
  const sdk = (window as { PinWidgets?: PinWidgetsSdk }).PinWidgets;
  return typeof sdk?.mount === 'function' ? sdk : undefined;
}

function load(platform: string): Promise<PinWidgetsSdk> {
  return new Promise((resolve, reject) => {
    const present = sdkOnPage();
    if (present) return resolve(present);
    let script = document.querySelector<HTMLScriptElement>(`script[${LOADER_ATTRIBUTE}]`);
    const injected = !script;
    if (!script) {
      if (!PINNED_SDK) {
        return reject(
          new PinWidgetsLoadError(
            'SDK_NOT_PINNED',
            'this build of @pin-widgets/js pins no SDK version: install the packed package (npm run pack:packages), not its source',
          ),
        );
      }
      script = document.createElement('script');
      script.src = `${platform}${PINNED_SDK.path}`;
      script.integrity = PINNED_SDK.integrity;
      // Subresource Integrity on another origin's script needs a CORS load (no credentials).
      script.crossOrigin = 'anonymous';
      script.setAttribute(LOADER_ATTRIBUTE, '');
    }
    const tag = script;
    const fail = (error: PinWidgetsLoadError) => {
      if (injected) tag.remove();
      reject(error);
    };
    tag.addEventListener(
      'load',
      () => {
        const sdk = sdkOnPage();
        if (sdk) return resolve(sdk);
        fail(
          new PinWidgetsLoadError(
            'SDK_MISSING',
            `${tag.src} ran but defined no window.PinWidgets: is platformUrl the PIN widgets platform?`,
          ),
        );
      },
      { once: true },
    );
    tag.addEventListener(
      'error',
      () =>
        fail(
          new PinWidgetsLoadError(
            'SDK_LOAD_FAILED',
            `${tag.src} did not load: the network failed, the platform does not serve this SDK version, or its bytes do not match integrity ${tag.integrity}. Check platformUrl against ${platform}/sdk/manifest.json.`,
          ),
        ),
      { once: true },
    );
    if (injected) (document.head ?? document.documentElement).appendChild(tag);
  });
}
