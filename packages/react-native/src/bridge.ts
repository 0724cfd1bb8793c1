/**
 * The app's side of the webview bridge (README “Mobile webviews”): a widget document opened
 * top-level reads its options from the URL fragment, posts every event to
 * `window.ReactNativeWebView.postMessage` as `{ type, payload }` JSON, runs the app's commands
 * through `pinWidgetsCommand(type)` and takes the answer to its `tokenRequest` through
 * `pinWidgetsToken(token | null)` (widgets/runtime/host.ts). Nothing here needs React Native, so
 * every rule is unit-tested in Node; the components only wire it to a WebView.
 */

import {
  type ErrorPayload,
  type HostMessages,
  type WidgetKind,
  type WidgetMessages,
  type WidgetOptions,
  type WidgetType,
  MAX_MESSAGE_BYTES,
  WEBVIEW_COMMANDS,
  WIDGET_EVENTS,
  WIDGET_KINDS,
  envelope,
  parseWidgetMessage,
  widgetTypeOf,
} from '../../../widgets/protocol/messages.js';
import { isRecord, widgetOptionsProblem } from '../../../widgets/protocol/options.js';
import { PinWidgetsError, invalid, misuseEvent } from '../../../widgets/sdk/misuse.js';

export type { ErrorPayload, WidgetKind, WidgetOptions, WidgetType };

/** Mints a token bound to the document's DPoP key thumbprint `jkt`, as the web SDK's option. */
export type FetchToken = (request: { jkt: string; widgetType: WidgetType }) => Promise<string>;

/** What a widget view is given: the web SDK's options, and `platformUrl` (no script to default to). */
export interface WidgetViewOptions extends WidgetOptions {
  /** The platform's http(s) origin, e.g. `https://pin.example.com`. */
  platformUrl: string;
  /** Recommended: mint a DPoP-bound token for the document's key (README “PINs”). */
  fetchToken?: FetchToken;
  /** A bearer token your backend minted without `origin` (bearer products only; weaker). */
  token?: string;
}

export type WidgetEvents = Omit<WidgetMessages, 'ready' | 'tokenRequest'>;
export type WidgetEventName = keyof WidgetEvents;
export type WidgetEvent = {
  [K in WidgetEventName]: { type: K; payload: WidgetEvents[K] };
}[WidgetEventName];

/** Every event an app hears, in the protocol's order. */
export const EVENT_NAMES: readonly WidgetEventName[] = WIDGET_EVENTS;

export { WEBVIEW_COMMANDS };
export type WebViewCommand = (typeof WEBVIEW_COMMANDS)[number] & keyof HostMessages;

/** Exactly one of `load` or `error` reaches the app within this long of start(), as on the web. */
export const LOAD_TIMEOUT_MS = 10_000;

export { PinWidgetsError, misuseEvent };

/**
 * Why the bridge passed nothing on. Each says what to check, never what the message held: a
 * refused message is not read back to anyone.
 */
export const REFUSALS = {
  WRONG_DOCUMENT: 'The message came from another page than this widget document.',
  NOT_JSON: 'The message is not JSON text.',
  TOO_LARGE: `The message is larger than ${MAX_MESSAGE_BYTES} characters.`,
  WRONG_CHANNEL:
    'The message is a framed-protocol envelope; a top-level widget document never sends one.',
  WRONG_SHAPE: 'The message is not exactly { type, payload }.',
  UNKNOWN_TYPE: 'The message type is not one a top-level widget document sends.',
  INVALID_PAYLOAD: 'The payload breaks the protocol for its type.',
  WRONG_WIDGET_TYPE: "The token request is for another widget's token type.",
  NOT_A_TOKEN: 'fetchToken resolved to something other than the minted widget_token string.',
} as const;
export type RefusalReason = keyof typeof REFUSALS;
export interface Refusal {
  reason: RefusalReason;
  message: string;
}

/** A widget document on the platform: the only page a view loads, hears and answers. */
export interface WidgetDocument {
  /** As the browser spells `location.origin`: lower case, no default port. */
  origin: string;
  /** `/widgets/<kind>/`. */
  path: string;
}

const URL_PARTS = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };

/**
 * The origin and path of an http(s) URL, spelled as a browser does, or undefined. Written here
 * because React Native's own `URL` matches with loose patterns (its `origin` keeps user info
 * and upper case); anything unusual (user info, non-ASCII host, bad port) is refused.
 */
export function parseHttpUrl(url: string): WidgetDocument | undefined {
  const parts = URL_PARTS.exec(url);
  if (!parts) return undefined;
  const scheme = parts[1]!.toLowerCase();
  const defaultPort = DEFAULT_PORTS[scheme];
  if (!defaultPort) return undefined;
  const authority = /^([^:]+|\[[^\]]+\])(?::(\d{1,5}))?$/.exec(parts[2]!.toLowerCase());
  if (!authority) return undefined;
  const host = authority[1]!;
  const port = authority[2];
  if (!HOSTNAME.test(host) && !IPV6.test(host)) return undefined;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return undefined;
  const shownPort = port === undefined || Number(port) === Number(defaultPort) ? '' : `:${+port}`;
  return { origin: `${scheme}://${host}${shownPort}`, path: parts[3] || '/' };
}

/** The document a kind of widget is served at on the platform of `platformUrl`. */
export function widgetDocument(widget: WidgetKind, platformUrl: string): WidgetDocument {
  const platform = typeof platformUrl === 'string' ? parseHttpUrl(platformUrl) : undefined;
  if (!platform) {
    throw new PinWidgetsError(
      'options.platformUrl: pass the platform as an http(s) URL with an ASCII host',
      'INVALID_OPTIONS',
      'platformUrl',
    );
  }
  return { origin: platform.origin, path: `/widgets/${widget}/` };
}

/** Whether `url` (query and fragment aside) is `document`. */
export function isWidgetDocument(document: WidgetDocument, url: unknown): boolean {
  const parsed = typeof url === 'string' ? parseHttpUrl(url) : undefined;
  return parsed !== undefined && parsed.origin === document.origin && parsed.path === document.path;
}

/** A widget token as the platform mints it: what the protocol's `token` message accepts. */
const isTokenText = (value: unknown): value is string =>
  typeof value === 'string' && /^[\x21-\x7e]{1,512}$/.test(value);

/**
 * Checks a view's options by the rules the widget applies to its fragment (and the web SDK to
 * `mount()`), and returns the document and the URL to load: the options in the fragment, which
 * the document removes from its history at once, and no query (that is the framed mode's).
 */
export function widgetUrl(
  widget: WidgetKind,
  options: WidgetViewOptions,
): { document: WidgetDocument; url: string } {
  if (!WIDGET_KINDS.includes(widget)) {
    throw invalid('widget', `use one of ${WIDGET_KINDS.join(', ')}`);
  }
  if (!isRecord(options)) throw invalid('', 'pass an object');
  const { platformUrl, fetchToken, token, ...rest } = options;
  const document = widgetDocument(widget, platformUrl);
  if (!token === !fetchToken) throw invalid('token', 'pass exactly one of token or fetchToken');
  if (fetchToken !== undefined && typeof fetchToken !== 'function') {
    throw invalid('fetchToken', 'pass a function');
  }
  if (token !== undefined && !isTokenText(token)) {
    throw invalid('token', 'pass the minted widget_token');
  }
  // Enrollment tokens are always bound to the document's own DPoP key (docs/step-up.md).
  if (token && widget === 'enroll-passkey') {
    throw invalid('token', 'use fetchToken for enroll-passkey');
  }
  const problem = widgetOptionsProblem(rest);
  if (problem) throw invalid(problem.option, problem.fix);

  // The text form widgets/runtime/host.ts reads back: JSON for labels and styles, the rest as is.
  const fragment: string[] = token ? [`token=${encodeURIComponent(token)}`] : [];
  for (const [name, value] of Object.entries(rest as Record<string, unknown>)) {
    if (value === undefined) continue;
    const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
    fragment.push(`${name}=${encodeURIComponent(text)}`);
  }
  const hash = fragment.length ? `#${fragment.join('&')}` : '';
  return { document, url: `${document.origin}${document.path}${hash}` };
}

/** A message a top-level widget document sends the app: the protocol's, without the envelope. */
export type BridgedMessage = {
  [K in Exclude<keyof WidgetMessages, 'ready'>]: { type: K; payload: WidgetMessages[K] };
}[Exclude<keyof WidgetMessages, 'ready'>];

// `ready` is the framed handshake: a top-level document never says it (widgets/runtime/early.ts).
const BRIDGED_TYPES: readonly string[] = ['tokenRequest', ...WIDGET_EVENTS];
const STABLE_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** A copy with exactly the protocol's fields: whatever else a message carried stays behind. */
function copyOf(message: BridgedMessage): BridgedMessage {
  switch (message.type) {
    case 'tokenRequest': {
      const { jkt, widgetType } = message.payload;
      return { type: message.type, payload: { jkt, widgetType } };
    }
    case 'error':
    case 'failure': {
      const { code, message: text, failedFields } = message.payload;
      return {
        type: message.type,
        payload: { code, message: text, failedFields: [...failedFields] },
      };
    }
    case 'change': {
      const { complete, valid } = message.payload;
      return { type: message.type, payload: { complete, valid } };
    }
    case 'resize':
      return { type: message.type, payload: { height: message.payload.height } };
    default:
      return { type: message.type, payload: {} } as BridgedMessage;
  }
}

export type ParsedBridgeMessage = { ok: true; message: BridgedMessage } | ({ ok: false } & Refusal);

const refusal = (reason: RefusalReason): ParsedBridgeMessage => ({
  ok: false,
  reason,
  message: REFUSALS[reason],
});

/**
 * Parses the `data` of a WebView `onMessage` event posted from `url`. Fixed order: the document
 * it came from, then its size, then the shape, then the protocol's guard for its type; anything
 * else is refused. The webview protocol has no channel id: the channel is this WebView's own
 * `ReactNativeWebView` object, and its sender is the document at `url`.
 */
export function parseBridgeMessage(
  widget: WidgetKind,
  document: WidgetDocument,
  data: unknown,
  url: unknown,
): ParsedBridgeMessage {
  if (!isWidgetDocument(document, url)) return refusal('WRONG_DOCUMENT');
  if (typeof data !== 'string') return refusal('NOT_JSON');
  if (data.length > MAX_MESSAGE_BYTES) return refusal('TOO_LARGE');
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return refusal('NOT_JSON');
  }
  if (!isRecord(value)) return refusal('WRONG_SHAPE');
  if (Object.hasOwn(value, 'ns') || Object.hasOwn(value, 'channel')) {
    return refusal('WRONG_CHANNEL');
  }
  const keys = Object.keys(value);
  if (keys.length !== 2 || !Object.hasOwn(value, 'payload') || typeof value.type !== 'string') {
    return refusal('WRONG_SHAPE');
  }
  if (!BRIDGED_TYPES.includes(value.type)) return refusal('UNKNOWN_TYPE');
  // The protocol's own guards, as widgets/runtime/host.ts checks what the app sends it.
  const parsed = parseWidgetMessage(envelope('webview', value.type, value.payload), 'webview');
  if (!parsed || parsed.type === 'ready') return refusal('INVALID_PAYLOAD');
  const message = { type: parsed.type, payload: parsed.payload } as BridgedMessage;
  if (
    (message.type === 'error' || message.type === 'failure') &&
    !STABLE_CODE.test(message.payload.code)
  ) {
    return refusal('INVALID_PAYLOAD');
  }
  if (message.type === 'tokenRequest' && message.payload.widgetType !== widgetTypeOf(widget)) {
    return refusal('WRONG_WIDGET_TYPE');
  }
  return { ok: true, message: copyOf(message) };
}

/**
 * JavaScript for `injectJavaScript` that calls the document's `global(argument)` only when the
 * WebView still shows `document`: an answer meant for the widget never reaches another page.
 * The trailing `true` is what react-native-webview asks of injected scripts.
 */
function guardedCall(
  document: WidgetDocument,
  global: 'pinWidgetsCommand' | 'pinWidgetsToken',
  argument: string | null,
): string {
  const quote = JSON.stringify;
  return (
    `(function(){if(location.origin===${quote(document.origin)}&&` +
    `location.pathname===${quote(document.path)}&&typeof window.${global}==='function')` +
    `{window.${global}(${quote(argument)});}})();true;`
  );
}

export const isWebViewCommand = (type: unknown): type is WebViewCommand =>
  (WEBVIEW_COMMANDS as readonly unknown[]).includes(type);

/** The script that runs `command` in the widget document (and nowhere else). */
export function commandScript(document: WidgetDocument, command: WebViewCommand): string {
  if (!isWebViewCommand(command)) {
    throw new PinWidgetsError(`unknown command; use one of ${WEBVIEW_COMMANDS.join(', ')}`);
  }
  return guardedCall(document, 'pinWidgetsCommand', command);
}

/** The script that answers a `tokenRequest`: the token, or null when none could be minted. */
export function tokenAnswerScript(document: WidgetDocument, token: string | null): string {
  return guardedCall(
    document,
    'pinWidgetsToken',
    token !== null && isTokenText(token) ? token : null,
  );
}

export interface WebViewBridgeOptions {
  widget: WidgetKind;
  document: WidgetDocument;
  /** Absent (a bearer `token` view): a tokenRequest is answered with null. */
  fetchToken?: FetchToken;
  /** `webview.injectJavaScript`. */
  inject: (script: string) => void;
  emit: (event: WidgetEvent) => void;
  refused?: (refusal: Refusal) => void;
  loadTimeoutMs?: number;
}

export interface WebViewBridge {
  /** A document is about to load (again): earlier answers are void, the load clock starts. */
  start(): void;
  /** The view is going: nothing more is heard, sent or answered. */
  stop(): void;
  /** The WebView's `onMessage`: `event.nativeEvent.data` and `event.nativeEvent.url`. */
  receive(data: unknown, url: unknown): void;
  /** Runs a command; held until the document has spoken when it is still starting. */
  command(type: WebViewCommand): void;
  /** `onShouldStartLoadWithRequest`: only this widget document, in the top frame. */
  allowsNavigation(request: { url: string; isTopFrame?: boolean }): boolean;
  /** The WebView could not load the document (`onError`, `onHttpError`). */
  unreachable(): void;
  /** The WebView's content process ended: the document, and what was typed in it, is gone. */
  terminated(): void;
}

/** Commands held while a document starts: a handful is all a person can press. */
const MAX_HELD_COMMANDS = 8;

export function createWebViewBridge(options: WebViewBridgeOptions): WebViewBridge {
  const { widget, document, fetchToken, inject, emit, refused } = options;
  const loadTimeoutMs = options.loadTimeoutMs ?? LOAD_TIMEOUT_MS;
  // Each start() is one document; an answer minted for an earlier one is never delivered.
  let generation = 0;
  let running = false;
  let settled = false;
  let heard = false;
  let held: WebViewCommand[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const clearTimer = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const fail = (code: string, message: string) => {
    if (settled) return;
    settled = true;
    clearTimer();
    emit({ type: 'error', payload: { code, message, failedFields: [] } });
  };

  const answer = (forGeneration: number, token: string | null) => {
    if (!running || forGeneration !== generation) return;
    inject(tokenAnswerScript(document, token));
  };
  const requestToken = ({ jkt, widgetType }: WidgetMessages['tokenRequest']) => {
    const forGeneration = generation;
    if (!fetchToken) return answer(forGeneration, null);
    let minted: Promise<unknown>;
    try {
      minted = Promise.resolve(fetchToken({ jkt, widgetType }));
    } catch (error) {
      minted = Promise.reject(error);
    }
    minted.then(
      (token) => {
        if (isTokenText(token)) return answer(forGeneration, token);
        if (running && forGeneration === generation) {
          refused?.({ reason: 'NOT_A_TOKEN', message: REFUSALS.NOT_A_TOKEN });
        }
        answer(forGeneration, null);
      },
      // The document then tells the app TOKEN_UNAVAILABLE itself, as framed.
      () => answer(forGeneration, null),
    );
  };

  return {
    start() {
      clearTimer();
      generation += 1;
      running = true;
      settled = false;
      heard = false;
      held = [];
      timer = setTimeout(
        () => fail('LOAD_TIMEOUT', 'The widget did not load in time.'),
        loadTimeoutMs,
      );
    },
    stop() {
      clearTimer();
      generation += 1;
      running = false;
      held = [];
    },
    receive(data, url) {
      if (!running) return;
      const parsed = parseBridgeMessage(widget, document, data, url);
      if (!parsed.ok) {
        refused?.({ reason: parsed.reason, message: parsed.message });
        return;
      }
      // The document spoke: its listeners are set (host.ts listens before it sends anything).
      if (!heard) {
        heard = true;
        held.splice(0).forEach((type) => inject(commandScript(document, type)));
      }
      const { message } = parsed;
      switch (message.type) {
        case 'tokenRequest':
          return requestToken(message.payload);
        case 'load':
          if (settled) return;
          settled = true;
          clearTimer();
          break;
        case 'error':
          // The first settles start-up; a later one (PASSKEY_UNSUPPORTED at reveal) is news too.
          settled = true;
          clearTimer();
          break;
      }
      emit(message);
    },
    command(type) {
      if (!running || !isWebViewCommand(type)) return;
      if (heard) inject(commandScript(document, type));
      else if (held.length < MAX_HELD_COMMANDS) held.push(type);
    },
    allowsNavigation({ url, isTopFrame }) {
      return isTopFrame !== false && isWidgetDocument(document, url);
    },
    unreachable() {
      if (!running) return;
      fail(
        'WIDGET_UNREACHABLE',
        `The widget document did not load from ${document.origin}: check platformUrl and the network.`,
      );
    },
    terminated() {
      if (!running) return;
      // Told even after `load`: the cardholder sees a blank view until the document is back.
      settled = true;
      clearTimer();
      generation += 1;
      emit({
        type: 'error',
        payload: {
          code: 'WIDGET_TERMINATED',
          message: "The WebView's content process ended; the widget has to load again.",
          failedFields: [],
        },
      });
    },
  };
}

/** `load` → `onLoad`: the prop each event calls. */
export const handlerName = <E extends WidgetEventName>(event: E) =>
  `on${event[0]!.toUpperCase()}${event.slice(1)}` as `on${Capitalize<E>}`;
