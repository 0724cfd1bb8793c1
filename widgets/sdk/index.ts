import {
  type Appearance,
  type ErrorPayload,
  type HostMessages,
  type WidgetKind,
  type WidgetMessages,
  type WidgetOptions,
  type WidgetType,
  envelope,
  parseWidgetMessage,
} from '../protocol/messages.js';

export type { Appearance, ErrorPayload, WidgetKind, WidgetOptions, WidgetType };

export interface MountOptions extends WidgetOptions {
  widget: WidgetKind;
  /** A token the program's backend minted (bearer mode). */
  token?: string;
  /** Recommended: mint a DPoP-bound token for the iframe's key thumbprint `jkt` (SPEC §5). */
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

export class PinWidgetsError extends Error {
  override readonly name = 'PinWidgetsError';
}

// Where this script came from: the default platform. Read once, while the script runs.
const scriptUrl =
  typeof document === 'undefined'
    ? undefined
    : ((document.currentScript as HTMLScriptElement | null)?.src ?? import.meta.url);

const TITLES: Record<WidgetKind, string> = {
  'set-pin': 'Set your card PIN',
  'reveal-pin': 'Your card PIN',
};

function randomChannel(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Creates the widget iframe in `target` and talks to it over the checked message channel. */
export function mount(target: string | Element, options: MountOptions): PinWidget {
  const container = typeof target === 'string' ? document.querySelector(target) : target;
  if (!container)
    throw new PinWidgetsError(`PinWidgets.mount: no element matches "${String(target)}"`);
  if (options.widget !== 'set-pin' && options.widget !== 'reveal-pin') {
    throw new PinWidgetsError('PinWidgets.mount: options.widget must be "set-pin" or "reveal-pin"');
  }
  if (!options.token === !options.fetchToken) {
    throw new PinWidgetsError(
      'PinWidgets.mount: pass exactly one of options.token or options.fetchToken',
    );
  }
  const platform = new URL(options.platformUrl ?? scriptUrl ?? location.href).origin;
  const channel = randomChannel();
  const listeners = new Map<WidgetEventName, Set<(payload: never) => void>>();
  const pending: HostMessage[] = [];
  let ready = false;

  const frame = document.createElement('iframe');
  const query = new URLSearchParams({ channel, parentOrigin: location.origin });
  frame.src = `${platform}/widgets/${options.widget}/?${query}`;
  frame.title = options.labels?.widgetTitle ?? TITLES[options.widget];
  frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms');
  frame.referrerPolicy = 'no-referrer';
  frame.loading = 'eager';
  // A sensible height while loading; the widget then reports its own (no layout jump).
  frame.style.cssText = 'border:0;width:100%;min-height:180px;display:block;color-scheme:normal';

  type HostMessage = { type: keyof HostMessages; payload: HostMessages[keyof HostMessages] };
  const post = (type: keyof HostMessages, payload: HostMessages[keyof HostMessages] = {}) => {
    if (!ready) {
      pending.push({ type, payload });
      return;
    }
    frame.contentWindow?.postMessage(envelope(channel, type, payload), platform);
  };
  const emit = (event: WidgetEventName, payload: unknown) =>
    listeners.get(event)?.forEach((handler) => handler(payload as never));

  const onMessage = (event: MessageEvent) => {
    // Fixed order: our iframe's window, then the shape, then the platform origin.
    if (event.source !== frame.contentWindow) return;
    const message = parseWidgetMessage(event.data, channel);
    if (!message || event.origin !== platform) return;
    switch (message.type) {
      case 'ready': {
        const {
          widget: _widget,
          token,
          fetchToken,
          platformUrl: _platform,
          ...widgetOptions
        } = options;
        ready = true;
        frame.contentWindow?.postMessage(
          envelope(channel, 'init', {
            options: widgetOptions,
            fetchToken: Boolean(fetchToken),
            ...(token ? { token } : {}),
          }),
          platform,
        );
        pending.splice(0).forEach((queued) => post(queued.type, queued.payload));
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
    update: (appearance) => post('update', appearance),
    destroy() {
      window.removeEventListener('message', onMessage);
      frame.remove();
      listeners.clear();
    },
  };
}

/** Every event a widget emits, in one list for the custom elements and the React props. */
export const EVENT_NAMES: readonly WidgetEventName[] = [
  'load',
  'error',
  'change',
  'focus',
  'blur',
  'submit',
  'success',
  'failure',
  'revealed',
  'hidden',
  'resize',
];

/**
 * `<set-pin>` and `<reveal-pin>`: the same widgets as elements. Options come from attributes
 * (`token`, `theme`, `locale`, `labels` as JSON, `auto-hide-seconds`, `show-toggle`,
 * `sync-offline-pin`, `platform-url`) or, for `fetchToken`, the property; events are DOM
 * CustomEvents with the payload in `detail`.
 */
function defineElements(): void {
  class PinWidgetElement extends HTMLElement {
    fetchToken: MountOptions['fetchToken'];
    private widget: PinWidget | undefined;

    constructor(private readonly kind: WidgetKind) {
      super();
    }

    connectedCallback(): void {
      const token = this.getAttribute('token') ?? undefined;
      if (this.widget || (!token && !this.fetchToken)) return;
      const attr = (name: string) => this.getAttribute(name) ?? undefined;
      const labels = attr('labels');
      const seconds = attr('auto-hide-seconds');
      this.widget = mount(this, {
        widget: this.kind,
        ...(token ? { token } : { fetchToken: this.fetchToken! }),
        ...(attr('platform-url') ? { platformUrl: attr('platform-url')! } : {}),
        ...(attr('theme') === 'night-shift' ? { theme: 'night-shift' } : {}),
        ...(attr('locale') ? { locale: attr('locale')! } : {}),
        ...(labels ? { labels: JSON.parse(labels) as Record<string, string> } : {}),
        ...(seconds ? { autoHideSeconds: Number(seconds) } : {}),
        ...(this.hasAttribute('show-toggle')
          ? { showToggle: attr('show-toggle') !== 'false' }
          : {}),
        ...(this.hasAttribute('sync-offline-pin')
          ? { syncOfflinePin: attr('sync-offline-pin') !== 'false' }
          : {}),
      });
      for (const name of EVENT_NAMES) {
        this.widget.on(name, (detail) => this.dispatchEvent(new CustomEvent(name, { detail })));
      }
    }

    disconnectedCallback(): void {
      this.widget?.destroy();
      this.widget = undefined;
    }

    submit(): void {
      this.widget?.submit();
    }
    requestPin(): void {
      this.widget?.requestPin();
    }
    hide(): void {
      this.widget?.hide();
    }
    clear(): void {
      this.widget?.clear();
    }
    override focus(): void {
      this.widget?.focus();
    }
  }
  for (const kind of ['set-pin', 'reveal-pin'] as const) {
    if (!customElements.get(kind)) {
      customElements.define(
        kind,
        class extends PinWidgetElement {
          constructor() {
            super(kind);
          }
        },
      );
    }
  }
}

// SSR-safe: on a server (no window) importing the SDK does nothing.
if (typeof window !== 'undefined' && typeof customElements !== 'undefined') defineElements();
