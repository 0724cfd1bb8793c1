import {
  type HostMessage,
  type WidgetMessages,
  type WidgetOptions,
  WEBVIEW_COMMANDS,
  envelope,
  hostOptionsProblem,
  isChannel,
  parseHostMessage,
} from '../protocol/messages.js';
import { type OptionProblem, describeProblem, widgetOptionsProblem } from '../protocol/options.js';

/**
 * Where the widget runs and how it talks to what embeds it: framed (postMessage to the parent
 * SDK, with the checks of README “Widgets and the host SDK” and docs/engines.md) or top-level in a mobile webview (options
 * from the fragment, events to the native bridge).
 */
export interface Host {
  framed: boolean;
  /** The parent page's origin, sent to the API as Pin-Widget-Parent-Origin; null top-level. */
  parentOrigin: string | null;
  send<K extends keyof WidgetMessages>(type: K, payload: WidgetMessages[K]): void;
  /**
   * Every valid message from the host goes to `handler`; an `init` or `update` from the real
   * host whose options break the protocol's rules goes to `refused`, to be answered, not dropped.
   */
  listen(handler: (message: HostMessage) => void, refused: (problem: OptionProblem) => void): void;
  /**
   * Webview mode: the options read from the fragment, and a token when the app put one there
   * (bearer products only); without one the document asks the app for a DPoP-bound token.
   */
  initial?: { token?: string; options: WidgetOptions };
}

/** Why a widget cannot start, with the stable code the host's `error` event carries. */
export type StartCode = 'PARENT_MISMATCH' | 'INVALID_OPTIONS' | 'NOT_EMBEDDED' | 'INSECURE_CONTEXT';

export class HostError extends Error {
  constructor(
    readonly code: StartCode,
    message: string,
  ) {
    super(message);
  }
}

declare global {
  interface Window {
    ReactNativeWebView?: { postMessage(message: string): void };
    webkit?: { messageHandlers?: { pinWidgets?: { postMessage(message: unknown): void } } };
    PinWidgetsAndroid?: { postMessage(message: string): void };
    /** Webview mode: the native app calls e.g. `pinWidgetsCommand('submit')`. */
    pinWidgetsCommand?: (type: string) => void;
    /** Webview mode: the app answers a `tokenRequest` (null when it could not mint one). */
    pinWidgetsToken?: (token: string | null) => void;
  }
}

/**
 * The parent's origin as the browser reports it, or undefined where it gives no usable signal:
 * Firefox 140 ESR has no `location.ancestorOrigins`, and newer engines mask it as "null" in an
 * iframe with `referrerpolicy="no-referrer"` (as the SDK makes it). Then the
 * other checks decide (docs/engines.md): the origin of every message, the handshake posted only
 * to the claimed origin, CSP frame-ancestors, and the token's origin binding on the server.
 */
function reportedParentOrigin(): string | undefined {
  const reported = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
  const first = reported?.[0];
  return first && first !== 'null' ? first : undefined;
}

function framedHost(): Host {
  const params = new URLSearchParams(location.search);
  const channel = params.get('channel');
  const parentOrigin = params.get('parentOrigin');
  if (
    !isChannel(channel) ||
    !parentOrigin ||
    !URL.canParse(parentOrigin) ||
    new URL(parentOrigin).origin !== parentOrigin
  ) {
    throw new HostError('NOT_EMBEDDED', 'missing channel or parent origin');
  }
  const reported = reportedParentOrigin();
  if (reported !== undefined && reported !== parentOrigin) {
    // Tell the page that really framed us why nothing starts: to its exact origin (never "*"),
    // and only the code (nothing about the session).
    window.parent.postMessage(
      envelope(channel, 'error', {
        code: 'PARENT_MISMATCH',
        message: `This widget was opened for ${parentOrigin}, not for this page (${reported}).`,
        failedFields: [],
      }),
      reported,
    );
    throw new HostError('PARENT_MISMATCH', 'unexpected parent');
  }
  return {
    framed: true,
    parentOrigin,
    send(type, payload) {
      // Always to the parent's exact origin, never "*".
      window.parent.postMessage(envelope(channel, type, payload), parentOrigin);
    },
    listen(handler, refused) {
      window.addEventListener('message', (event) => {
        // Fixed order: source window, then shape, then origin; anything else is dropped.
        if (event.source !== window.parent) return;
        const message = parseHostMessage(event.data, channel);
        if (event.origin !== parentOrigin) return;
        if (message) return handler(message);
        const problem = hostOptionsProblem(event.data, channel);
        if (problem) refused(problem);
      });
    },
  };
}

const COMMANDS: ReadonlySet<string> = new Set(WEBVIEW_COMMANDS);

/** The webview's options, from the fragment's text values, checked by the protocol's rules. */
function fragmentOptions(params: URLSearchParams): WidgetOptions {
  const options: Record<string, unknown> = {};
  for (const [name, text] of params) {
    if (name === 'token') continue;
    if (name === 'labels' || name === 'styles') {
      try {
        options[name] = JSON.parse(text);
      } catch {
        throw new HostError('INVALID_OPTIONS', `${name}: pass JSON`);
      }
    } else if (name === 'autoHideSeconds') options[name] = Number(text);
    else if (name === 'showToggle' || name === 'syncOfflinePin') {
      options[name] = text === 'true' ? true : text === 'false' ? false : text;
    } else options[name] = text;
  }
  const problem = widgetOptionsProblem(options);
  if (problem) throw new HostError('INVALID_OPTIONS', describeProblem(problem));
  return options as WidgetOptions;
}

function webviewHost(): Host {
  const params = new URLSearchParams(location.hash.slice(1));
  // The fragment holds the token: drop it from the address bar and history at once.
  history.replaceState(null, '', location.pathname + location.search);
  const send: Host['send'] = (type, payload) => {
    const message = { type, payload };
    window.ReactNativeWebView?.postMessage(JSON.stringify(message));
    window.webkit?.messageHandlers?.pinWidgets?.postMessage(message);
    window.PinWidgetsAndroid?.postMessage(JSON.stringify(message));
  };
  const token = params.get('token') ?? undefined;
  let options: WidgetOptions;
  try {
    if (token === '') throw new HostError('INVALID_OPTIONS', 'token: leave it out or pass one');
    options = fragmentOptions(params);
  } catch (error) {
    // Top-level there is no origin to protect: the bridge is the app's own.
    if (error instanceof HostError) {
      send('error', { code: error.code, message: error.message, failedFields: [] });
    }
    throw error;
  }
  return {
    framed: false,
    parentOrigin: null,
    initial: { ...(token ? { token } : {}), options },
    send,
    listen(handler) {
      window.pinWidgetsCommand = (type) => {
        if (COMMANDS.has(type)) handler(envelope('webview', type, {}) as HostMessage);
      };
      // The bridge's answer to `tokenRequest`, checked like the SDK's `token` message.
      window.pinWidgetsToken = (minted) => {
        const message =
          typeof minted === 'string'
            ? parseHostMessage(envelope('webview', 'token', { token: minted }), 'webview')
            : parseHostMessage(
                envelope('webview', 'tokenError', { message: 'no token' }),
                'webview',
              );
        if (message) handler(message);
      };
    },
  };
}

export function connectHost(): Host {
  return window.parent === window ? webviewHost() : framedHost();
}
