import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { type ComponentType, StrictMode, useEffect, useMemo, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { Appearance, HostMessage, WidgetKind, WidgetOptions } from '../protocol/messages.js';
import { type Catalog, loadLocale, messages } from '../ui/i18n.js';
import { applyAppearance } from '../ui/theme.js';
import { ApiFailure, Credentials, WidgetApi, sessionQuery } from './api.js';
import { hasPrefixedCrypto, startWidget } from './early.js';
import type { Host } from './host.js';

export interface WidgetContext {
  host: Host;
  api: WidgetApi;
  options: WidgetOptions;
  t: Catalog;
  /** Subscribes to host commands (submit, requestPin, hide, focus, clear). */
  onCommand(handler: (type: HostMessage['type']) => void): () => void;
}

/**
 * Tells the host once that the widget is ready (`load`) or could not start (`error`), however
 * often the queries behind `ready` and `error` settle or re-render.
 */
export function useAnnounce(ctx: WidgetContext, ready: boolean, error: unknown): void {
  const announced = useRef(false);
  useEffect(() => {
    if (announced.current || (!ready && !error)) return;
    announced.current = true;
    if (error) {
      const { code, text } = messageFor(error, ctx.t);
      ctx.host.send('error', { code, message: text, failedFields: [] });
    } else {
      ctx.host.send('load', {});
    }
  }, [ctx, ready, error]);
}

/** Maps a platform error code to the catalog message a person reads. */
export function messageFor(
  error: unknown,
  t: Catalog,
): { code: string; text: string; retryAfter?: number } {
  const code = error instanceof ApiFailure ? error.code : 'SERVER_ERROR';
  const key = (
    {
      PIN_TOO_WEAK: 'weak',
      PIN_MATCHES_CARD_NUMBER: 'lastFour',
      PIN_WRONG_LENGTH: 'length',
      PIN_NOT_DIGITS: 'digits',
      WIDGET_TOKEN_EXPIRED: 'expired',
      WIDGET_TOKEN_USED: 'used',
      WIDGET_TOKEN_LOCKED: 'tooMany',
      TOO_MANY_ATTEMPTS: 'tooMany',
      CARD_NOT_ACTIVE: 'notActive',
      PIN_NOT_SET: 'noPin',
      RATE_LIMITED: 'rateLimited',
      NETWORK_ERROR: 'network',
    } as const
  )[code as 'PIN_TOO_WEAK'];
  return {
    code,
    text: t[key ?? 'server'],
    ...(error instanceof ApiFailure && error.retryAfterSeconds
      ? { retryAfter: error.retryAfterSeconds }
      : {}),
  };
}

function fatal(text: string): void {
  const main = document.createElement('main');
  main.className = 'pw-fatal';
  main.setAttribute('role', 'alert');
  main.textContent = text;
  document.body.replaceChildren(main);
}

/** Lazily loads the WebCrypto shim, only where crypto.subtle is missing but a prefixed one exists. */
async function ensureWebCrypto(): Promise<boolean> {
  if (globalThis.crypto?.subtle) return true;
  if (hasPrefixedCrypto()) {
    await import('webcrypto-shim');
    return Boolean(globalThis.crypto?.subtle);
  }
  return false;
}

/**
 * Starts a widget document: checks the context, connects to the host, waits for `init` (framed)
 * or reads the fragment (webview), then renders `App` and keeps the host told of its height.
 */
export async function boot(
  widget: WidgetKind,
  App: ComponentType<{ ctx: WidgetContext }>,
): Promise<void> {
  const english = messages('en');
  // Usually started already by the document's early script (early.ts): the same start.
  const started = startWidget(widget);
  if (started === 'insecure' || !(await ensureWebCrypto())) {
    fatal(english.insecure);
    return;
  }
  if (started === 'host') {
    fatal(english.server);
    return;
  }
  const { host } = started;

  const commandHandlers = new Set<(type: HostMessage['type']) => void>();
  let appearanceListener: ((appearance: Appearance) => void) | undefined;
  let credentials: Credentials | undefined;
  started.onMessage((message) => {
    switch (message.type) {
      case 'init':
        return;
      case 'token':
        credentials?.deliver(message.payload.token);
        return;
      case 'tokenError':
        credentials?.refuse();
        return;
      case 'update':
        appearanceListener?.(message.payload);
        return;
      default:
        commandHandlers.forEach((handler) => handler(message.type));
    }
  });
  const init = await started.init;
  const { options } = init;
  const token = init.fetchToken ? undefined : init.token;
  await loadLocale(options.locale);

  const widgetType = widget === 'set-pin' ? 'SET_PIN' : 'REVEAL_PIN';
  credentials = new Credentials(host, widgetType, token ? { token } : { fetchToken: true });
  const api = new WidgetApi(host, credentials);
  const queries = new QueryClient({
    defaultOptions: {
      // retryOnMount: false: a session call that failed before the first render is not repeated.
      queries: { retry: false, retryOnMount: false, staleTime: Infinity },
      mutations: { retry: false },
    },
  });
  // On the path to `load`: the early script's call when it made one, else one now, while React
  // renders (not in the first render's effect).
  const session = sessionQuery(api);
  const early = started.session() as ReturnType<typeof session.queryFn> | undefined;
  void queries.prefetchQuery(early ? { ...session, queryFn: () => early } : session);

  function Root() {
    const [appearance, setAppearance] = useState<Appearance>(options);
    useEffect(() => {
      appearanceListener = (next) =>
        void loadLocale(next.locale).then(() =>
          setAppearance((current) => ({ ...current, ...next })),
        );
      return () => {
        appearanceListener = undefined;
      };
    }, []);
    useEffect(() => {
      applyAppearance(appearance.theme, appearance.styles);
      document.documentElement.lang = appearance.locale?.slice(0, 2) ?? 'en';
    }, [appearance]);
    // One context per appearance: effects that depend on it run again only when it changes.
    const ctx = useMemo<WidgetContext>(
      () => ({
        host,
        api,
        options,
        t: messages(appearance.locale, appearance.labels),
        onCommand(handler) {
          commandHandlers.add(handler);
          return () => commandHandlers.delete(handler);
        },
      }),
      [appearance],
    );
    return <App ctx={ctx} />;
  }

  const container = document.getElementById('root')!;
  createRoot(container).render(
    <StrictMode>
      <QueryClientProvider client={queries}>
        <Root />
      </QueryClientProvider>
    </StrictMode>,
  );

  let lastHeight = -1;
  new ResizeObserver(() => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== lastHeight) host.send('resize', { height: (lastHeight = height) });
  }).observe(document.documentElement);
}
