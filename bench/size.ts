import fs from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { inlineElements } from '../demo-server/http/widget-assets.js';
import { ROOT } from './platform.js';

export interface SizeEntry {
  name: string;
  files: string[];
  raw: number;
  gzip: number;
  brotli: number;
}

export interface SizeResult {
  sdk: SizeEntry[];
  widgets: SizeEntry[];
}

const DIST = path.join(ROOT, 'dist');

function compressed(
  files: readonly string[],
  inline: readonly string[] = [],
): Omit<SizeEntry, 'name' | 'files'> {
  let raw = 0;
  let gzip = 0;
  let brotli = 0;
  const contents = [
    ...files.map((file) => fs.readFileSync(file)),
    // What the document carries inline is counted as if it were one file of its own.
    ...(inline.length ? [Buffer.from(inline.join(''))] : []),
  ];
  for (const bytes of contents) {
    raw += bytes.length;
    // Each file is its own response: compressed on its own, as a server sends it.
    gzip += gzipSync(bytes, { level: 9 }).length;
    brotli += brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }).length;
  }
  return { raw, gzip, brotli };
}

function entry(name: string, files: string[], inline: string[] = []): SizeEntry {
  return {
    name,
    files: [
      ...files.map((file) => path.relative(DIST, file)),
      ...(inline.length ? ['(inline <style>/<script>)'] : []),
    ],
    ...compressed(files, inline),
  };
}

/** `/widgets/assets/x.js` (as the document references it) → the file in dist/widgets. */
function assetFile(url: string): string {
  const clean = url.split(/[?#]/)[0]!;
  if (!clean.startsWith('/widgets/')) throw new Error(`unexpected asset URL ${url}`);
  return path.join(DIST, clean);
}

/** The static imports of an ES module chunk (`import … from "./x.js"`, `export … from`). */
function staticImports(file: string): string[] {
  const source = fs.readFileSync(file, 'utf8');
  const found = new Set<string>();
  // Minified chunks: `import{a as b}from"./boot-x.js"`, `import"./x.css"`. Dynamic `import(` is
  // excluded on purpose: lazy chunks (webcrypto-shim, other locales) are not downloaded up front.
  const pattern = /(?:^|[;\s}])(?:import|export)\s*(?:[\w*{}\s,$]+?\s*from\s*)?["']([^"']+)["']/g;
  for (const match of source.matchAll(pattern)) {
    const specifier = match[1]!;
    if (specifier.startsWith('.') || specifier.startsWith('/')) {
      found.add(path.resolve(path.dirname(file), specifier));
    }
  }
  return [...found];
}

/** The text of the document's inline `<style>` and `<script>` elements: its own JS and CSS. */
export function widgetDocumentInline(widget: string): string[] {
  const html = fs.readFileSync(path.join(DIST, 'widgets', widget, 'index.html'), 'utf8');
  const { styles, scripts } = inlineElements(html);
  return [...styles, ...scripts].filter((text) => text.trim() !== '');
}

/**
 * What a browser downloads for a widget document before it runs: the entry script, its
 * modulepreloads and stylesheets named in the HTML, and every chunk they import statically.
 * (Inline styles and scripts: widgetDocumentInline.)
 */
export function widgetDocumentFiles(widget: string): string[] {
  const html = fs.readFileSync(path.join(DIST, 'widgets', widget, 'index.html'), 'utf8');
  const queue: string[] = [];
  for (const tag of html.matchAll(/<(script|link)\b[^>]*>/g)) {
    const text = tag[0];
    const url = /\s(?:src|href)="([^"]+)"/.exec(text)?.[1];
    if (!url || !url.startsWith('/widgets/')) continue;
    const rel = /\srel="([^"]+)"/.exec(text)?.[1];
    if (tag[1] === 'script' || rel === 'modulepreload' || rel === 'stylesheet') {
      queue.push(assetFile(url));
    }
  }
  const seen = new Set<string>();
  while (queue.length) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (file.endsWith('.js')) queue.push(...staticImports(file));
  }
  return [...seen].sort();
}

export function measureSizes(): SizeResult {
  const sdk = [
    entry('SDK core (ESM) `pin-widgets.js`', [path.join(DIST, 'sdk/pin-widgets.js')]),
    entry('SDK core + custom elements (IIFE) `pin-widgets.iife.js`', [
      path.join(DIST, 'sdk/pin-widgets.iife.js'),
    ]),
    entry('SDK custom elements add-on (ESM) `pin-widgets-elements.js`', [
      path.join(DIST, 'sdk/pin-widgets-elements.js'),
    ]),
    entry('SDK React entry `pin-widgets-react.js`', [path.join(DIST, 'sdk/pin-widgets-react.js')]),
  ];
  const widgets = fs
    .readdirSync(path.join(DIST, 'widgets'), { withFileTypes: true })
    .filter(
      (dir) =>
        dir.isDirectory() && fs.existsSync(path.join(DIST, 'widgets', dir.name, 'index.html')),
    )
    .map((dir) =>
      entry(
        `Widget \`${dir.name}\` (JS + CSS)`,
        widgetDocumentFiles(dir.name),
        widgetDocumentInline(dir.name),
      ),
    );
  return { sdk, widgets };
}
