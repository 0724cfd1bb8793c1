/**
 * Appearance as data (SPEC §7): two themes plus allow-listed design tokens. A host never passes
 * CSS: each token has a strict value grammar and becomes one CSS custom property, set through the
 * CSSOM (allowed under our CSP, unlike style attributes or <style> text).
 */
const COLOR =
  /^(#[0-9a-fA-F]{3,8}|rgba?\(\s*\d{1,3}%?\s*,\s*\d{1,3}%?\s*,\s*\d{1,3}%?\s*(,\s*(0|1|0?\.\d+))?\s*\))$/;
const LENGTH = /^(0|\d{1,3}(\.\d{1,2})?(px|rem|em))$/;
const FONT_FAMILY = /^[A-Za-z0-9 ,'"-]{1,120}$/;

export const STYLE_TOKENS = {
  colorPrimary: ['--pw-primary', COLOR],
  colorText: ['--pw-text', COLOR],
  colorBackground: ['--pw-bg', COLOR],
  colorError: ['--pw-error', COLOR],
  colorBorder: ['--pw-border', COLOR],
  fontFamily: ['--pw-font', FONT_FAMILY],
  fontSize: ['--pw-font-size', LENGTH],
  borderRadius: ['--pw-radius', LENGTH],
  spacing: ['--pw-space', LENGTH],
} as const satisfies Record<string, readonly [string, RegExp]>;

export type StyleToken = keyof typeof STYLE_TOKENS;

/** The valid tokens of `styles` as custom properties; unknown keys and bad values are dropped. */
export function tokenProperties(styles: Record<string, string> = {}): [string, string][] {
  return Object.entries(styles).flatMap(([name, value]) => {
    if (!Object.hasOwn(STYLE_TOKENS, name)) return [];
    const [property, grammar] = STYLE_TOKENS[name as StyleToken];
    return grammar.test(value) ? [[property, value] as [string, string]] : [];
  });
}

/** Applies a theme and tokens to the document root, replacing what a previous call set. */
export function applyAppearance(
  theme: string | undefined,
  styles: Record<string, string> | undefined,
): void {
  const root = document.documentElement;
  root.dataset.theme = theme === 'night-shift' ? 'night-shift' : 'default';
  for (const [property] of Object.values(STYLE_TOKENS)) root.style.removeProperty(property);
  for (const [property, value] of tokenProperties(styles)) root.style.setProperty(property, value);
}
