/** The platform's one-script-tag SDK build this package loads, as its manifest pins it. */
export interface PinnedSdk {
  /** `<package version>-<content hash>` (demo-server/http/sdk-manifest.ts). */
  version: string;
  /** Path of `pin-widgets.iife.js` on the platform: `/sdk/<version>/pin-widgets.iife.js`. */
  path: string;
  /** Subresource Integrity of those bytes (`sha384-…`). */
  integrity: string;
}

/**
 * From source there is no pinned build. The package build (packages/js/vite.config.ts) replaces
 * this module with the manifest entry of the dist/sdk it was built with, so the loader asks for
 * exactly the bytes the platform serves under that version.
 */
export const PINNED_SDK: PinnedSdk | undefined = undefined;
