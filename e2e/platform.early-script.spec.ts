import { expect, test } from '@playwright/test';

/**
 * Each widget document starts with the small early script (widgets/runtime/early.ts): it does
 * the host handshake and starts the session call while the app's bundle downloads. It stays
 * useful only while it is first, separate and does not itself import the bundle.
 */
for (const widget of ['set-pin', 'reveal-pin']) {
  test(`${widget}: the first script is the early chunk, small and independent of the bundle`, async ({
    request,
  }) => {
    const html = await (await request.get(`/widgets/${widget}/`)).text();
    const scripts = [...html.matchAll(/<script type="module"[^>]* src="([^"]+)"/g)].map(
      (match) => match[1]!,
    );
    expect(scripts.length).toBe(2);
    expect(scripts[0]).toMatch(/^\/widgets\/assets\/early-[\w-]+\.js$/);
    const early = await (
      await request.get(scripts[0]!, { headers: { 'accept-encoding': 'identity' } })
    ).text();
    expect(early.length).toBeLessThan(8 * 1024);
    // Importing the bundle would make it wait for the bundle, like the app does.
    expect(early).not.toMatch(/from\s*["']\.\/boot-/);
    expect(early).not.toMatch(/import\s*["']\.\/boot-/);
    const bundle = html.match(/href="(\/widgets\/assets\/boot-[\w-]+\.js)"/)?.[1];
    expect(bundle, 'the bundle is modulepreloaded in parallel').toBeDefined();
  });
}
