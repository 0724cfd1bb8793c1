import { LABEL_KEYS } from '../protocol/options.js';

/**
 * Every string the widgets show, per locale. Hosts may override the labels README “Widgets and the host SDK” names;
 * everything else comes from these catalogs. Placeholders: {length}, {seconds}, {minutes}, {count}.
 */
const en = {
  widgetTitle: 'Set your card PIN',
  pinLabel: 'New PIN',
  confirmPinLabel: 'Confirm new PIN',
  pinPlaceholder: '',
  confirmPinPlaceholder: '',
  currentPinLabel: 'Current PIN',
  currentPinPlaceholder: '',
  currentPinHint: 'To change your PIN, first enter the one you use now.',
  submitButtonText: 'Set PIN',
  submitLoadingText: 'Setting PIN…',
  hint: '{length} digits. Avoid repeats, sequences and your card number.',
  success: 'Your PIN is set.',
  successOffline:
    'Your PIN is set. Your card’s chip picks it up the next time you insert the card at a terminal.',
  mismatch: 'The two PINs don’t match.',
  pinRejected: 'Choose a different PIN.',
  weak: 'This PIN is too easy to guess. Avoid repeats (1111), sequences (1234) and common PINs.',
  lastFour: 'Your PIN can’t be the last digits of your card number.',
  length: 'Enter exactly {length} digits.',
  digits: 'Use digits only.',
  currentPinIncorrect: 'That is not your current PIN.',
  currentPinTriesLeft: 'That is not your current PIN. {count} tries left.',
  currentPinLastTry: 'That is not your current PIN. 1 try left: one more wrong PIN blocks it.',
  currentPinRequired: 'Enter your current PIN to change it.',
  pinBlocked:
    'Your PIN is blocked after too many wrong tries. Your card program has to unblock it before you can change it.',
  expired: 'This session has expired. Please start again.',
  used: 'This session was already used. Please start again.',
  tooMany: 'Too many attempts. Please start again.',
  network: 'We couldn’t reach the server. Check your connection and try again.',
  server: 'Something went wrong on our side. Please try again.',
  insecure: 'This page isn’t secure (it needs https), so your PIN can’t be protected here.',
  parentMismatch: 'This PIN form can’t be shown on this page.',
  invalidSetup: 'This PIN form isn’t set up correctly, so it can’t start.',
  tokenUnavailable: 'We couldn’t start a secure session. Please try again.',
  invalidSession: 'This session isn’t valid any more. Please start again.',
  clock: 'Your device’s clock seems to be wrong. Correct it, then try again.',
  cryptoFailed: 'Your PIN couldn’t be sent securely. Please start again.',
  unexpected: 'Something went wrong in this form. Please reload the page and try again.',
  loading: 'Loading…',
  revealTitle: 'Your card PIN',
  showPin: 'Show PIN',
  hidePin: 'Hide PIN',
  hidesIn: 'Hides in {seconds} s',
  revealing: 'Getting your PIN…',
  pinHidden: 'PIN hidden',
  pinShown: 'Your PIN is shown',
  notActive: 'Activate your card to see its PIN.',
  noPin: 'This card doesn’t have a PIN yet.',
  rateLimited: 'You’ve viewed your PIN several times. Try again in {minutes} min.',
  // Passkeys (docs/step-up.md): enrollment, and the confirmation before a reveal.
  enrollTitle: 'Set up a passkey',
  enrollIntro:
    'Confirm it’s you with your fingerprint, face or screen lock before your PIN is shown.',
  enrollDetail:
    'Your fingerprint or face never leaves your device: it only unlocks the passkey your device keeps.',
  enrollButton: 'Set up a passkey',
  enrolling: 'Follow the steps on your device…',
  enrolled:
    'Your passkey is set up. From now on, you’ll confirm it’s you before your PIN is shown.',
  enrollCancelled: 'Passkey setup cancelled. You can try again.',
  enrollFailed: 'Your passkey couldn’t be set up. Please try again.',
  alreadyEnrolled: 'This device already has a passkey for your card.',
  noCustomer: 'A passkey can’t be set up for this card.',
  passkeyUnsupported:
    'Passkeys don’t work in this browser or app, so this step can’t be done here.',
  stepUpHint: 'You’ll confirm it’s you with your passkey first.',
  stepUpPrompt: 'Confirm it’s you on your device…',
  stepUpCancelled: 'Passkey confirmation cancelled. You can try again.',
  stepUpFailed: 'Your passkey confirmation couldn’t be checked. Please try again.',
  stepUpRequired: 'Confirm it’s you with your passkey to see your PIN.',
  passkeyNotEnrolled:
    'Set up a passkey first: your card program asks for one before your PIN is shown.',
};

export type MessageKey = keyof typeof en;
export type Catalog = Record<MessageKey, string>;

/** Other locales load on demand, so English-only pages download none of them. */
const LAZY: Record<string, () => Promise<{ default: Catalog }>> = {
  es: () => import('./locales/es.js'),
  fr: () => import('./locales/fr.js'),
  de: () => import('./locales/de.js'),
  ar: () => import('./locales/ar.js'),
};
export const LOCALES = ['en', ...Object.keys(LAZY)];
/** Languages written right to left; only those with a catalog here count (others show English). */
const RIGHT_TO_LEFT = new Set(['ar']);

/** The direction the widget document reads in for `locale`: its catalog's, for `<html dir>`. */
export function directionOf(locale: string | undefined): 'rtl' | 'ltr' {
  const language = (locale ?? 'en').slice(0, 2);
  return RIGHT_TO_LEFT.has(language) && Object.hasOwn(LAZY, language) ? 'rtl' : 'ltr';
}
const loaded: Record<string, Catalog> = { en };

/** Loads the catalog for `locale` (or its language) if it is one we have. */
export async function loadLocale(locale: string | undefined): Promise<void> {
  const language = (locale ?? 'en').slice(0, 2);
  const load = LAZY[language];
  if (load && !loaded[language]) loaded[language] = (await load()).default;
}
/** The language the widget shows for `locale`: its own when we have its catalog, else English. */
export function languageOf(locale: string | undefined): string {
  const language = (locale ?? 'en').slice(0, 2);
  return Object.hasOwn(LAZY, language) ? language : 'en';
}

/** The loaded catalog for `locale`'s language (else English), with the host's label overrides. */
export function messages(locale: string | undefined, labels: Record<string, string> = {}): Catalog {
  const base = loaded[(locale ?? 'en').slice(0, 2)] ?? en;
  const overrides = Object.fromEntries(
    LABEL_KEYS.filter((key) => typeof labels[key] === 'string').map((key) => [key, labels[key]!]),
  );
  return { ...base, ...overrides };
}

export function format(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? ''));
}
