import { type MountOptions, type PinWidget, EVENT_NAMES, PinWidgetsError, mount } from './index.js';
import { misuseEvent } from './misuse.js';
import { WIDGET_KINDS, type WidgetKind, type WidgetOptions } from '../protocol/messages.js';

/**
 * `<set-pin>`, `<reveal-pin>` and `<enroll-passkey>`: the same widgets as elements. Options come
 * from attributes (`token`, `theme`, `locale`, `labels` as JSON, `auto-hide-seconds`,
 * `show-toggle`, `sync-offline-pin`, `platform-url`) or, for `fetchToken`, the property (the only
 * way in for `<enroll-passkey>`); events are DOM CustomEvents with the payload in `detail`.
 */
function defineElements(): void {
  class PinWidgetElement extends HTMLElement {
    private widget: PinWidget | undefined;
    private tokenCallback: MountOptions['fetchToken'];

    constructor(private readonly kind: WidgetKind) {
      super();
    }

    /** The recommended way in: a JS property, so no token sits in the DOM (README “PINs”). */
    get fetchToken(): MountOptions['fetchToken'] {
      return this.tokenCallback;
    }
    set fetchToken(callback: MountOptions['fetchToken']) {
      this.tokenCallback = callback;
      if (this.isConnected) this.connectedCallback();
    }

    connectedCallback(): void {
      const token = this.getAttribute('token') ?? undefined;
      if (this.widget || (!token && !this.tokenCallback)) return;
      const attr = (name: string) => this.getAttribute(name) ?? undefined;
      const flag = (name: string) =>
        this.hasAttribute(name) ? { [camel(name)]: attr(name) !== 'false' } : {};
      try {
        const labels = attr('labels');
        const seconds = attr('auto-hide-seconds');
        this.widget = mount(this, {
          widget: this.kind,
          ...(token ? { token } : { fetchToken: this.tokenCallback! }),
          ...(attr('platform-url') ? { platformUrl: attr('platform-url')! } : {}),
          ...(attr('theme') ? { theme: attr('theme') as WidgetOptions['theme'] } : {}),
          ...(attr('locale') ? { locale: attr('locale')! } : {}),
          ...(labels ? { labels: parseLabels(labels) } : {}),
          ...(seconds ? { autoHideSeconds: Number(seconds) } : {}),
          ...flag('show-toggle'),
          ...flag('sync-offline-pin'),
        });
      } catch (error) {
        // An element has no caller to throw to: the same reason arrives as its `error` event,
        // after the current task so listeners added right after the element still hear it.
        const detail = misuseEvent(error as PinWidgetsError);
        setTimeout(() => this.dispatchEvent(new CustomEvent('error', { detail })));
        return;
      }
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
  for (const kind of WIDGET_KINDS) {
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

const camel = (name: string) => name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

function parseLabels(json: string): Record<string, string> {
  try {
    return JSON.parse(json) as Record<string, string>;
  } catch {
    throw new PinWidgetsError('labels: pass a JSON object', 'INVALID_OPTIONS', 'labels');
  }
}

// SSR-safe: on a server (no window) importing this module does nothing.
if (typeof window !== 'undefined' && typeof customElements !== 'undefined') defineElements();
