import type * as Jose from './jose.js';
import { lazyChunk } from './request.js';

/**
 * jose (./jose.ts, a chunk of its own), loaded once (lazyChunk: a failed load is a network
 * error, and the next use tries again). A bearer widget needs it only for a submit or a reveal,
 * so it loads once the widget is usable; a DPoP widget signs its first call with it, so it loads
 * with the key, while the host mints the token (and the enroll document, always DPoP, preloads
 * it).
 */
export const loadJose: () => Promise<typeof Jose> = lazyChunk(() => import('./jose.js'));

/** Starts loading jose, for what will need it. */
export function preloadJose(): void {
  loadJose().catch(() => undefined);
}
