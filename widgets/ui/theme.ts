import { STYLE_GRAMMAR, type StyleToken } from '../protocol/options.js';

/**
 * Appearance as data (README “Widgets and the host SDK”): two themes plus allow-listed design tokens. A host never passes
 * CSS: each token has a strict value grammar (protocol/options.ts) and becomes one CSS custom property, set through the
 * CSSOM (allowed under our CSP, unlike style attributes or <style> text).
 */
const PROPERTIES: Record<StyleToken, string> = {
  colorPrimary: '--pw-primary',
  colorText: '--pw-text',
  colorBackground: '--pw-bg',
  colorError: '--pw-error',
  colorBorder: '--pw-border',
  fontFamily: '--pw-font',
  fontSize: '--pw-font-size',
  borderRadius: '--pw-radius',
  spacing: '--pw-space',
};

/** The valid tokens of `styles` as custom properties; unknown keys and bad values are dropped. */
export function tokenProperties(styles: Record<string, string> = {}): [string, string][] {
  return Object.entries(styles).flatMap(([name, value]) => {
    if (!Object.hasOwn(STYLE_GRAMMAR, name)) return [];
    const token = name as StyleToken;
    return STYLE_GRAMMAR[token].test(value) ? [[PROPERTIES[token], value] as [string, string]] : [];
  });
}

/** Applies a theme and tokens to the document root, replacing what a previous call set. */
export function applyAppearance(
  theme: string | undefined,
  styles: Record<string, string> | undefined,
): void {
  const root = document.documentElement;
  root.dataset.theme = theme === 'night-shift' ? 'night-shift' : 'default';
  for (const property of Object.values(PROPERTIES)) root.style.removeProperty(property);
  for (const [property, value] of tokenProperties(styles)) root.style.setProperty(property, value);
}
