/**
 * The one message protocol between the host SDK and the widget iframes (README “Widgets and the host SDK”). Every message
 * is `{ ns, v, channel, type, payload }`; both sides import these types and guards, and nothing
 * else invents message shapes. No message ever carries PIN data.
 */

import {
  type OptionProblem,
  appearanceProblem,
  isRecord,
  widgetOptionsProblem,
} from './options.js';

export const NAMESPACE = 'pin-widgets';
export const VERSION = 1;
/** Largest accepted message, serialized: anything bigger is dropped unread. */
export const MAX_MESSAGE_BYTES = 16 * 1024;

/** Every widget document the platform serves, at `/widgets/<kind>/`. */
/** The commands a top-level (webview) widget document runs through `pinWidgetsCommand`. */
export const WEBVIEW_COMMANDS = ['submit', 'requestPin', 'hide', 'focus', 'clear'] as const;

export const WIDGET_KINDS = ['set-pin', 'reveal-pin', 'enroll-passkey'] as const;
export type WidgetKind = (typeof WIDGET_KINDS)[number];
export type WidgetType = 'SET_PIN' | 'REVEAL_PIN' | 'ENROLL_PASSKEY';

/** The widget token type a kind spends: `set-pin` → `SET_PIN`, `enroll-passkey` → `ENROLL_PASSKEY`. */
export const widgetTypeOf = (kind: WidgetKind) =>
  kind.toUpperCase().replace('-', '_') as WidgetType;

export interface Appearance {
  theme?: 'default' | 'night-shift';
  styles?: Record<string, string>;
  labels?: Record<string, string>;
  locale?: string;
}

export interface WidgetOptions extends Appearance {
  autoHideSeconds?: number;
  showToggle?: boolean;
  syncOfflinePin?: boolean;
}

export interface ErrorPayload {
  code: string;
  message: string;
  failedFields: string[];
}

/** Host → widget. */
export interface HostMessages {
  init: { options: WidgetOptions; token?: string; fetchToken: boolean };
  token: { token: string };
  tokenError: { message: string };
  submit: Record<string, never>;
  requestPin: Record<string, never>;
  hide: Record<string, never>;
  focus: Record<string, never>;
  clear: Record<string, never>;
  update: Appearance;
}

/** Widget → host. */
export interface WidgetMessages {
  /** The handshake: the document is listening. Carries nothing secret. */
  ready: { widget: WidgetKind };
  /** Asks the host's `fetchToken` for a token bound to the widget's key thumbprint. */
  tokenRequest: { jkt: string; widgetType: WidgetType };
  load: Record<string, never>;
  error: ErrorPayload;
  /** Only whether the form is complete and valid: which rule a PIN breaks stays in the iframe. */
  change: { complete: boolean; valid: boolean };
  focus: Record<string, never>;
  blur: Record<string, never>;
  submit: Record<string, never>;
  success: Record<string, never>;
  failure: ErrorPayload;
  revealed: Record<string, never>;
  hidden: Record<string, never>;
  resize: { height: number };
}

export interface Envelope<T extends string = string, P = unknown> {
  ns: typeof NAMESPACE;
  v: typeof VERSION;
  channel: string;
  type: T;
  payload: P;
}

export type HostMessage = {
  [K in keyof HostMessages]: Envelope<K, HostMessages[K]>;
}[keyof HostMessages];
export type WidgetMessage = {
  [K in keyof WidgetMessages]: Envelope<K, WidgetMessages[K]>;
}[keyof WidgetMessages];

export function envelope<T extends string, P>(
  channel: string,
  type: T,
  payload: P,
): Envelope<T, P> {
  return { ns: NAMESPACE, v: VERSION, channel, type, payload };
}

/** A channel id: 16–64 url-safe characters, made fresh for every mounted widget. */
export const isChannel = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(value);

function isEnvelope(data: unknown, channel: string): data is Envelope {
  return (
    isRecord(data) &&
    data.ns === NAMESPACE &&
    data.v === VERSION &&
    data.channel === channel &&
    typeof data.type === 'string' &&
    isRecord(data.payload)
  );
}

const isEmpty = (p: Record<string, unknown>) => Object.keys(p).length === 0;

const HOST_GUARDS: { [K in keyof HostMessages]: (p: Record<string, unknown>) => boolean } = {
  init: (p) =>
    !widgetOptionsProblem(p.options) &&
    typeof p.fetchToken === 'boolean' &&
    (p.token === undefined || (typeof p.token === 'string' && p.token.length <= 512)),
  token: (p) => typeof p.token === 'string' && p.token.length > 0 && p.token.length <= 512,
  tokenError: (p) => typeof p.message === 'string',
  submit: isEmpty,
  requestPin: isEmpty,
  hide: isEmpty,
  focus: isEmpty,
  clear: isEmpty,
  update: (p) => !appearanceProblem(p),
};

const isErrorPayload = (p: Record<string, unknown>) =>
  typeof p.code === 'string' &&
  typeof p.message === 'string' &&
  Array.isArray(p.failedFields) &&
  p.failedFields.every((f) => typeof f === 'string');

const WIDGET_GUARDS: { [K in keyof WidgetMessages]: (p: Record<string, unknown>) => boolean } = {
  ready: (p) => WIDGET_KINDS.includes(p.widget as WidgetKind),
  tokenRequest: (p) =>
    typeof p.jkt === 'string' &&
    /^[A-Za-z0-9_-]{43}$/.test(p.jkt) &&
    WIDGET_KINDS.some((kind) => widgetTypeOf(kind) === p.widgetType),
  load: isEmpty,
  error: isErrorPayload,
  change: (p) =>
    Object.keys(p).length === 2 && typeof p.complete === 'boolean' && typeof p.valid === 'boolean',
  focus: isEmpty,
  blur: isEmpty,
  submit: isEmpty,
  success: isEmpty,
  failure: isErrorPayload,
  revealed: isEmpty,
  hidden: isEmpty,
  resize: (p) => typeof p.height === 'number' && p.height >= 0 && p.height < 10_000,
};

type WidgetEvent = Exclude<keyof WidgetMessages, 'ready' | 'tokenRequest'>;
const eventNames = () => Object.keys(WIDGET_GUARDS).slice(2) as readonly WidgetEvent[];

/**
 * Every event the host hears, in the guards' order: the widget's messages but the handshake's
 * two (`ready`, `tokenRequest`), which come first. The custom elements and React props use it;
 * marked pure so the widget documents, which never do, leave it (and the guards) out.
 */
export const WIDGET_EVENTS = /* @__PURE__ */ eventNames();

function fitsSize(data: unknown): boolean {
  try {
    return JSON.stringify(data).length <= MAX_MESSAGE_BYTES;
  } catch {
    return false;
  }
}

/** A valid host → widget message on `channel`, or undefined (then drop it). */
export function parseHostMessage(data: unknown, channel: string): HostMessage | undefined {
  if (!fitsSize(data) || !isEnvelope(data, channel)) return undefined;
  // hasOwn: a `type` such as "__proto__" or "toString" must not reach a prototype member.
  if (!Object.hasOwn(HOST_GUARDS, data.type)) return undefined;
  const guard = HOST_GUARDS[data.type as keyof HostMessages];
  return guard(data.payload as Record<string, unknown>) ? (data as HostMessage) : undefined;
}

/** A valid widget → host message on `channel`, or undefined (then drop it). */
export function parseWidgetMessage(data: unknown, channel: string): WidgetMessage | undefined {
  if (!fitsSize(data) || !isEnvelope(data, channel)) return undefined;
  if (!Object.hasOwn(WIDGET_GUARDS, data.type)) return undefined;
  const guard = WIDGET_GUARDS[data.type as keyof WidgetMessages];
  return guard(data.payload as Record<string, unknown>) ? (data as WidgetMessage) : undefined;
}

/**
 * Why a well-addressed `init` or `update` on `channel` was refused: its options break a rule.
 * The widget answers that with an INVALID_OPTIONS error instead of silence, so no host waits.
 */
export function hostOptionsProblem(data: unknown, channel: string): OptionProblem | undefined {
  if (!fitsSize(data) || !isEnvelope(data, channel)) return undefined;
  const payload = data.payload as Record<string, unknown>;
  if (data.type === 'init') return widgetOptionsProblem(payload.options);
  if (data.type === 'update') return appearanceProblem(payload);
  return undefined;
}
