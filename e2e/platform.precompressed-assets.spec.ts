import { expect, test } from '@playwright/test';

/**
 * The widget documents' scripts and styles are served precompressed (brotli, gzip) when the
 * browser accepts it, and each compressed variant is exactly the file (a stale variant would
 * break the widget, e.g. lazy chunks whose preload paths differ).
 */
test('widget assets come brotli- or gzip-encoded and decode to the very same bytes', async ({
  request,
}) => {
  const html = await (await request.get('/widgets/set-pin/')).text();
  const assets = [...html.matchAll(/(?:src|href)="(\/widgets\/assets\/[^"]+\.(?:js|css))"/g)].map(
    (match) => match[1]!,
  );
  expect(assets.length).toBeGreaterThanOrEqual(2);
  for (const asset of assets) {
    const plain = await request.get(asset, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers()['content-encoding']).toBeUndefined();
    const original = await plain.body();
    for (const encoding of ['br', 'gzip']) {
      const encoded = await request.get(asset, { headers: { 'accept-encoding': encoding } });
      expect(encoded.status(), asset).toBe(200);
      expect(encoded.headers()['content-encoding'], asset).toBe(encoding);
      expect(encoded.headers()['vary']).toMatch(/accept-encoding/i);
      expect(encoded.headers()['content-type']).toBe(plain.headers()['content-type']);
      // The request context decodes the body: it must be the file, byte for byte.
      expect((await encoded.body()).equals(original), `${asset} (${encoding})`).toBe(true);
    }
  }
});
