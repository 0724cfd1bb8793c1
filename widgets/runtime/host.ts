import {
  type HostMessage,
  type WidgetMessages,
  type WidgetOptions,
  envelope,
  isChannel,
  parseHostMessage,
} from '../protocol/messages.js';

/**
 * Where the widget runs and how it talks to what embeds it: framed (postMessage to the parent
 * SDK, with the checks of SPEC §7) or top-level in a mobile webview (options from the fragment,
 * events to the native bridge).
 */
export interface Host {
  framed: boolean;
  /** The parent page's origin, sent to the API as Pin-Widget-Parent-Origin; null top-level. */
  parentOrigin: string | null;
  send<K extends keyof WidgetMessages>(type: K, payload: WidgetMessages[K]): void;
  listen(handler: (message: HostMessage) => void): void;
  /** Webview mode: the options and token read from the fragment. */
  initial?: { token: string; options: WidgetOptions };
}

export class HostError extends Error {}

declare global {
  interface Window {
    ReactNativeWebView?: { postMessage(message: string): void };
    webkit?: { messageHandlers?: { pinWidgets?: { postMessage(message: unknown): void } } };
    PinWidgetsAndroid?: { postMessage(message: string): void };
    /** Webview mode: the native app calls e.g. `pinWidgetsCommand('submit')`. */
    pinWidgetsCommand?: (type: string) => void;
  }
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
    throw new HostError('missing channel or parent origin');
  }
  // Where the browser tells us who framed us, refuse to run under any other parent.
  const ancestor = location.ancestorOrigins?.[0];
  if (ancestor !== undefined && ancestor !== parentOrigin) throw new HostError('unexpected parent');
  return {
    framed: true,
    parentOrigin,
    send(type, payload) {
      // Always to the parent's exact origin, never "*".
      window.parent.postMessage(envelope(channel, type, payload), parentOrigin);
    },
    listen(handler) {
      window.addEventListener('message', (event) => {
        // Fixed order: source window, then shape, then origin; anything else is dropped.
        if (event.source !== window.parent) return;
        const message = parseHostMessage(event.data, channel);
        if (!message || event.origin !== parentOrigin) return;
        handler(message);
      });
    },
  };
}

const COMMANDS = new Set(['submit', 'requestPin', 'hide', 'focus', 'clear']);

function webviewHost(): Host {
  const params = new URLSearchParams(location.hash.slice(1));
  // The fragment holds the token: drop it from the address bar and history at once.
  history.replaceState(null, '', location.pathname + location.search);
  const token = params.get('token');
  if (!token) throw new HostError('missing token');
  const json = (name: string) => {
    try {
      const value: unknown = JSON.parse(params.get(name) ?? 'null');
      return value && typeof value === 'object' ? (value as Record<string, string>) : undefined;
    } catch {
      return undefined;
    }
  };
  const seconds = Number(params.get('autoHideSeconds'));
  const options: WidgetOptions = {
    theme: params.get('theme') === 'night-shift' ? 'night-shift' : 'default',
    ...(params.get('locale') ? { locale: params.get('locale')! } : {}),
    ...(json('labels') ? { labels: json('labels') } : {}),
    ...(json('styles') ? { styles: json('styles') } : {}),
    ...(seconds >= 1 && seconds <= 60 ? { autoHideSeconds: seconds } : {}),
    showToggle: params.get('showToggle') !== 'false',
    ...(params.has('syncOfflinePin')
      ? { syncOfflinePin: params.get('syncOfflinePin') === 'true' }
      : {}),
  };
  return {
    framed: false,
    parentOrigin: null,
    initial: { token, options },
    send(type, payload) {
      const message = { type, payload };
      window.ReactNativeWebView?.postMessage(JSON.stringify(message));
      window.webkit?.messageHandlers?.pinWidgets?.postMessage(message);
      window.PinWidgetsAndroid?.postMessage(JSON.stringify(message));
    },
    listen(handler) {
      window.pinWidgetsCommand = (type) => {
        if (COMMANDS.has(type)) handler(envelope('webview', type, {}) as HostMessage);
      };
    },
  };
}

export function connectHost(): Host {
  return window.parent === window ? webviewHost() : framedHost();
}
