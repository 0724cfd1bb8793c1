import {
  type Appearance,
  type ErrorPayload,
  type HostMessages,
  type WidgetKind,
  type WidgetMessages,
  type WidgetOptions,
  type WidgetType,
  WIDGET_EVENTS,
  WIDGET_KINDS,
  envelope,
  parseWidgetMessage,
} from '../protocol/messages.js';
import { appearanceProblem, isRecord, widgetOptionsProblem } from '../protocol/options.js';
import { PinWidgetsError, invalid } from './misuse.js';

export { PinWidgetsError };

export type { Appearance, ErrorPayload, WidgetKind, WidgetOptions, WidgetType };

export interface MountOptions extends WidgetOptions {
  widget: WidgetKind;
  /** A token the program's backend minted (bearer mode). */
  token?: string;
  /** Recommended: mint a DPoP-bound token for the iframe's key thumbprint `jkt` (README “PINs”). */
  fetchToken?: (request: { jkt: string; widgetType: WidgetType }) => Promise<string>;
  /** Default: the origin this SDK was loaded from. */
  platformUrl?: string;
}

export type WidgetEvents = Omit<WidgetMessages, 'ready' | 'tokenRequest'>;
export type WidgetEventName = keyof WidgetEvents;

export interface PinWidget {
  on<E extends WidgetEventName>(event: E, handler: (payload: WidgetEvents[E]) => void): () => void;
  submit(): void;
  requestPin(): void;
  hide(): void;
  focus(): void;
  clear(): void;
  update(appearance: Appearance): void;
  destroy(): void;
}

/**
 * The bound on start-up (docs/sdk.md): `load` or `error` reaches the host within this long of
 * mount(), whatever happens to the frame. A frame that loaded without saying `ready` (refused by
 * the platform's frame-ancestors, an error page) is reported sooner, READY_GRACE_MS after.
 */
export const LOAD_TIMEOUT_MS = 10_000;
const READY_GRACE_MS = 1_000;

/**
 * Checks `options` by the protocol's rules (the widget checks `init` by the same ones) and
 * returns what the widget gets in `init`: the options but the SDK's own four.
 */
function checkMountOptions(options: MountOptions): WidgetOptions {
  if (!isRecord(options)) throw invalid('', 'pass an object');
  const { widget, token, fetchToken, platformUrl, ...rest } = options;
  if (!WIDGET_KINDS.includes(widget)) {
    throw invalid('widget', `use one of ${WIDGET_KINDS.join(', ')}`);
  }
  if (!token === !fetchToken) throw invalid('token', 'pass exactly one of token or fetchToken');
  if (token !== undefined && (typeof token !== 'string' || token.length > 512)) {
    throw invalid('token', 'pass the minted widget_token');
  }
  // Enrollment tokens are always bound to the iframe's own DPoP key (docs/step-up.md).
  if (token && widget === 'enroll-passkey') {
    throw invalid('token', 'use fetchToken for enroll-passkey');
  }
  if (fetchToken !== undefined && typeof fetchToken !== 'function') {
    throw invalid('fetchToken', 'pass a function');
  }
  if (platformUrl !== undefined && !/^https?:\/\/[^/]/.test(String(platformUrl))) {
    throw invalid('platformUrl', 'pass an http(s) URL');
  }
  const problem = widgetOptionsProblem(rest);
  if (problem) throw invalid(problem.option, problem.fix);
  return rest;
}

// Where this script came from: the default platform. Read once, while the script runs.
const scriptUrl =
  typeof document === 'undefined'
    ? undefined
    : ((document.currentScript as HTMLScriptElement | null)?.src ?? import.meta.url);

const TITLES: Record<WidgetKind, string> = {
  'set-pin': 'Set your card PIN',
  'reveal-pin': 'Your card PIN',
  'enroll-passkey': 'Set up a passkey',
};

function randomChannel(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return Array.from(bytes, (b) => (b | 256).toString(16).slice(1)).join('');
}

/** Creates the widget iframe in `target` and talks to it over the checked message channel. */
export function mount(target: string | Element, options: MountOptions): PinWidget {
  const container = typeof target === 'string' ? document.querySelector(target) : target;
  if (!container)
    throw new PinWidgetsError(`mount: no element matches "${target as string}"`, 'NO_CONTAINER');
  const widgetOptions = checkMountOptions(options);
  if (location.origin === 'null') {
    throw new PinWidgetsError(
      'mount from an http(s) page, not an opaque origin',
      'PARENT_MISMATCH',
    );
  }
  const platform = new URL(options.platformUrl ?? scriptUrl ?? location.href).origin;
  const channel = randomChannel();
  const listeners = new Map<WidgetEventName, Set<(payload: never) => void>>();
  const pending: [keyof HostMessages, HostMessages[keyof HostMessages]][] = [];
  let ready = false;
  // `load` or `error` reaches the host exactly once, and always (LOAD_TIMEOUT_MS).
  let settled = false;
  const timers: ReturnType<typeof setTimeout>[] = [];

  const frame = document.createElement('iframe');
  const query = new URLSearchParams({ channel, parentOrigin: location.origin });
  frame.src = `${platform}/widgets/${options.widget}/?${query}`;
  frame.title = options.labels?.widgetTitle ?? TITLES[options.widget];
  frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms');
  // Passkey ceremonies run in the platform's documents only (docs/step-up.md); their
  // Permissions-Policy keeps them from anything those documents embed.
  frame.allow = 'publickey-credentials-get; publickey-credentials-create';
  frame.referrerPolicy = 'no-referrer';
  frame.loading = 'eager';
  // A sensible height while loading; the widget then reports its own (no layout jump).
  frame.style.cssText = 'border:0;width:100%;min-height:180px;display:block;color-scheme:normal';

  const post = (type: keyof HostMessages, payload: HostMessages[keyof HostMessages] = {}) => {
    if (!ready) {
      pending.push([type, payload]);
      return;
    }
    frame.contentWindow?.postMessage(envelope(channel, type, payload), platform);
  };
  const emit = (event: WidgetEventName, payload: unknown) => {
    if (event === 'load' || event === 'error') {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
    }
    listeners.get(event)?.forEach((handler) => handler(payload as never));
  };
  const unreachable = () =>
    emit('error', {
      code: ready ? 'LOAD_TIMEOUT' : 'WIDGET_UNREACHABLE',
      message: ready
        ? 'The widget did not load in time.'
        : `The widget did not start: is ${location.origin} in the platform's FRAME_ANCESTORS?`,
      failedFields: [],
    });

  const onMessage = (event: MessageEvent) => {
    // Fixed order: our iframe's window, then the shape, then the platform origin.
    if (event.source !== frame.contentWindow) return;
    const message = parseWidgetMessage(event.data, channel);
    if (!message || event.origin !== platform) return;
    switch (message.type) {
      case 'ready': {
        const { token, fetchToken } = options;
        ready = true;
        frame.contentWindow?.postMessage(
          envelope(channel, 'init', {
            options: widgetOptions,
            fetchToken: Boolean(fetchToken),
            ...(token ? { token } : {}),
          }),
          platform,
        );
        pending.splice(0).forEach((queued) => post(...queued));
        return;
      }
      case 'tokenRequest':
        options.fetchToken?.(message.payload).then(
          (minted) => post('token', { token: minted }),
          () => post('tokenError', { message: 'fetchToken failed' }),
        );
        return;
      case 'resize':
        frame.style.height = `${message.payload.height}px`;
        frame.style.minHeight = '0';
        break;
    }
    emit(message.type, message.payload);
  };
  window.addEventListener('message', onMessage);
  frame.addEventListener('load', () => {
    if (!ready) timers.push(setTimeout(() => ready || unreachable(), READY_GRACE_MS));
  });
  timers.push(setTimeout(unreachable, LOAD_TIMEOUT_MS));
  container.appendChild(frame);

  return {
    on(event, handler) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set.add(handler as (payload: never) => void));
      return () => set.delete(handler as (payload: never) => void);
    },
    submit: () => post('submit'),
    requestPin: () => post('requestPin'),
    hide: () => post('hide'),
    focus: () => post('focus'),
    clear: () => post('clear'),
    update(appearance) {
      const problem = appearanceProblem(appearance);
      if (problem) throw invalid(problem.option, problem.fix);
      post('update', appearance);
    },
    destroy() {
      timers.forEach(clearTimeout);
      window.removeEventListener('message', onMessage);
      frame.remove();
      listeners.clear();
    },
  };
}

/** Every event a widget emits, in one list for the custom elements and the React props. */
export const EVENT_NAMES: readonly WidgetEventName[] = WIDGET_EVENTS;
