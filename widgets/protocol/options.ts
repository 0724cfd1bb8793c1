/**
 * The rules every widget option follows (README “Widgets and the host SDK”), in one place: the SDK's `mount()` and
 * `update()` check options against them before anything is framed, and the widget checks the
 * `init` and `update` it receives against the same rules. A problem is reported with the option's
 * name and the fix, never with the option's value (a token or label may be private).
 */

/** Host-overridable labels (README “Widgets and the host SDK”). Other strings come from the widget's catalogs. */
export const LABEL_KEYS = [
  'widgetTitle',
  'pinLabel',
  'confirmPinLabel',
  'pinPlaceholder',
  'confirmPinPlaceholder',
  'submitButtonText',
  'submitLoadingText',
] as const;
export type LabelKey = (typeof LABEL_KEYS)[number];
export const MAX_LABEL_LENGTH = 100;

const COLOR =
  /^(#[0-9a-fA-F]{3,8}|rgba?\(\s*\d{1,3}%?\s*,\s*\d{1,3}%?\s*,\s*\d{1,3}%?\s*(,\s*(0|1|0?\.\d+))?\s*\))$/;
const LENGTH = /^(0|\d{1,3}(\.\d{1,2})?(px|rem|em))$/;
const FONT_FAMILY = /^[A-Za-z0-9 ,'"-]{1,120}$/;

/** Design tokens and the grammar of their values: data, never CSS text. */
export const STYLE_GRAMMAR = {
  colorPrimary: COLOR,
  colorText: COLOR,
  colorBackground: COLOR,
  colorError: COLOR,
  colorBorder: COLOR,
  fontFamily: FONT_FAMILY,
  fontSize: LENGTH,
  borderRadius: LENGTH,
  spacing: LENGTH,
} as const;
export type StyleToken = keyof typeof STYLE_GRAMMAR;

export const AUTO_HIDE_SECONDS = { min: 1, max: 60 } as const;
const LOCALE = /^[a-z]{2}(-[A-Z]{2})?$/;

/** An option that breaks a rule: its name (`labels.pinLabel`) and what to pass instead. */
export interface OptionProblem {
  option: string;
  fix: string;
}

type Rule = (value: unknown, name: string) => OptionProblem | string | undefined;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A map whose keys come from `allowed` and whose string values pass `value`. */
function stringMap(
  allowed: readonly string[],
  value: (text: string, key: string) => string | undefined,
): Rule {
  return (map, name) => {
    if (!isRecord(map)) return `pass an object of ${allowed.join(', ')}`;
    for (const [key, text] of Object.entries(map)) {
      if (text === undefined) continue;
      const fix = !allowed.includes(key)
        ? `unknown; use one of ${allowed.join(', ')}`
        : typeof text !== 'string'
          ? 'pass a string'
          : value(text, key);
      if (fix) return { option: `${name}.${key}`, fix };
    }
    return undefined;
  };
}

const boolean: Rule = (value) => (typeof value === 'boolean' ? undefined : 'pass true or false');

const APPEARANCE_RULES: Record<string, Rule> = {
  theme: (value) =>
    value === 'default' || value === 'night-shift' ? undefined : 'use "default" or "night-shift"',
  locale: (value) =>
    typeof value === 'string' && LOCALE.test(value) ? undefined : 'use a tag like "fr-CA"',
  labels: stringMap(LABEL_KEYS, (text) =>
    text.length <= MAX_LABEL_LENGTH ? undefined : `use at most ${MAX_LABEL_LENGTH} characters`,
  ),
  styles: stringMap(Object.keys(STYLE_GRAMMAR), (text, key) =>
    STYLE_GRAMMAR[key as StyleToken].test(text)
      ? undefined
      : key.startsWith('color')
        ? 'use #hex or rgb()'
        : key === 'fontFamily'
          ? 'use font names'
          : 'use px, rem or em',
  ),
};

const OPTION_RULES: Record<string, Rule> = {
  ...APPEARANCE_RULES,
  autoHideSeconds: (value) =>
    Number.isInteger(value) &&
    (value as number) >= AUTO_HIDE_SECONDS.min &&
    (value as number) <= AUTO_HIDE_SECONDS.max
      ? undefined
      : `use a whole number of seconds from ${AUTO_HIDE_SECONDS.min} to ${AUTO_HIDE_SECONDS.max}`,
  showToggle: boolean,
  syncOfflinePin: boolean,
};

function check(rules: Record<string, Rule>, options: unknown): OptionProblem | undefined {
  if (!isRecord(options)) return { option: 'options', fix: 'pass an object' };
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(rules, name)) {
      return { option: name, fix: `unknown; use one of ${Object.keys(rules).join(', ')}` };
    }
    const problem = rules[name]!(value, name);
    if (problem) return typeof problem === 'string' ? { option: name, fix: problem } : problem;
  }
  return undefined;
}

/** The first widget option (`init`'s options) that breaks a rule, or undefined. */
export const widgetOptionsProblem = (options: unknown) => check(OPTION_RULES, options);

/** The first appearance option (`update()`) that breaks a rule, or undefined. */
export const appearanceProblem = (appearance: unknown) => check(APPEARANCE_RULES, appearance);

export const describeProblem = ({ option, fix }: OptionProblem) => `${option}: ${fix}`;
