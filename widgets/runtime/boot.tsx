import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { type ComponentType, StrictMode, useEffect, useMemo, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import { createRoot } from 'react-dom/client';
import {
  type Appearance,
  type HostMessage,
  type WidgetKind,
  type WidgetOptions,
  widgetTypeOf,
} from '../protocol/messages.js';
import {
  type Catalog,
  type MessageKey,
  directionOf,
  languageOf,
  loadLocale,
  messages,
} from '../ui/i18n.js';
import { applyAppearance } from '../ui/theme.js';
import {
  ApiFailure,
  Credentials,
  WidgetApi,
  type WidgetSession,
  platformKeyQuery,
  sessionQuery,
} from './api.js';
import { preloadJose } from './crypto.js';
import { StartFailure, type WidgetStart, hasPrefixedCrypto, refuse, startWidget } from './early.js';
import type { Host } from './host.js';
import { CeremonyFailure } from './passkey.js';

export interface WidgetContext {
  host: Host;
  api: WidgetApi;
  options: WidgetOptions;
  t: Catalog;
  /** Subscribes to host commands (submit, requestPin, hide, focus, clear). */
  onCommand(handler: (type: HostMessage['type']) => void): () => void;
}

/** The User Timing mark of the moment `load` is sent (bench/tti.ts: what was fetched before). */
const LOAD_MARK = 'pin-widgets:load';

/**
 * Tells the host once that the widget is ready (`load`) or could not start (`error`), however
 * often the queries behind `ready` and `error` settle or re-render. Once usable, the widget
 * loads what only a submit or a reveal needs (jose), in a task after `load`'s.
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
      performance.mark(LOAD_MARK);
      ctx.host.send('load', {});
      setTimeout(preloadJose, 0);
    }
  }, [ctx, ready, error]);
}

/**
 * What the widget reads on its first render, each query answered by the request the early
 * script already made for it (the session; Set PIN's platform key). With a bearer token those
 * requests are on their way before the bundle runs: boot waits for them, so the first render is
 * the usable widget (or why it cannot be), with no loading state and no second render on the
 * path to `load`.
 */
function startupQueries(
  api: WidgetApi,
  started: WidgetStart,
): { queryKey: string[]; queryFn: () => Promise<unknown> }[] {
  const session = sessionQuery(api, started.session() as Promise<WidgetSession> | undefined);
  const platformKey = started.platformKey();
  return platformKey ? [session, platformKeyQuery(platformKey)] : [session];
}

/** How long a framed widget waits for its host's `init` (the SDK's own bound is 10 s). */
const INIT_TIMEOUT_MS = 10_000;

/** What a person reads for each code: a client-side cause is never "wrong on our side". */
const MESSAGE_KEYS: Record<string, MessageKey> = {
  PIN_TOO_WEAK: 'weak',
  PIN_MATCHES_CARD_NUMBER: 'lastFour',
  PIN_WRONG_LENGTH: 'length',
  PIN_NOT_DIGITS: 'digits',
  CURRENT_PIN_INCORRECT: 'currentPinIncorrect',
  CURRENT_PIN_REQUIRED: 'currentPinRequired',
  PIN_BLOCKED: 'pinBlocked',
  WIDGET_TOKEN_EXPIRED: 'expired',
  WIDGET_TOKEN_USED: 'used',
  WIDGET_TOKEN_LOCKED: 'tooMany',
  WIDGET_TOKEN_MISSING: 'invalidSession',
  WIDGET_TOKEN_INVALID: 'invalidSession',
  WIDGET_TOKEN_WRONG_TYPE: 'invalidSession',
  DPOP_PROOF_MISSING: 'invalidSession',
  DPOP_PROOF_INVALID: 'invalidSession',
  DPOP_PROOF_REPLAYED: 'invalidSession',
  DPOP_PROOF_WRONG_KEY: 'invalidSession',
  DPOP_PROOF_WRONG_REQUEST: 'invalidSession',
  DPOP_PROOF_WRONG_TOKEN: 'invalidSession',
  DPOP_PROOF_STALE: 'clock',
  ORIGIN_MISMATCH: 'parentMismatch',
  PARENT_MISMATCH: 'parentMismatch',
  PIN_DECRYPTION_FAILED: 'cryptoFailed',
  UNKNOWN_KEY_ID: 'cryptoFailed',
  SESSION_MISMATCH: 'cryptoFailed',
  INVALID_PIN_PAYLOAD: 'cryptoFailed',
  INVALID_PUBLIC_KEY: 'cryptoFailed',
  TOO_MANY_ATTEMPTS: 'tooMany',
  CARD_NOT_ACTIVE: 'notActive',
  PIN_NOT_SET: 'noPin',
  RATE_LIMITED: 'rateLimited',
  NETWORK_ERROR: 'network',
  TOKEN_UNAVAILABLE: 'tokenUnavailable',
  INSECURE_CONTEXT: 'insecure',
  INVALID_OPTIONS: 'invalidSetup',
  NOT_EMBEDDED: 'invalidSetup',
  // Passkeys (docs/step-up.md): the platform's refusals, then the ceremony's own outcomes.
  PASSKEY_NOT_ENROLLED: 'passkeyNotEnrolled',
  STEP_UP_REQUIRED: 'stepUpRequired',
  STEP_UP_FAILED: 'stepUpFailed',
  PASSKEY_REGISTRATION_FAILED: 'enrollFailed',
  PASSKEY_ALREADY_ENROLLED: 'alreadyEnrolled',
  CARD_HAS_NO_CUSTOMER: 'noCustomer',
  STEP_UP_CANCELLED: 'stepUpCancelled',
  PASSKEY_UNSUPPORTED: 'passkeyUnsupported',
};

/**
 * Maps an error to its stable code and the catalog message a person reads. A platform refusal
 * keeps the platform's code, a passkey ceremony's outcome its own (STEP_UP_CANCELLED, …); anything
 * else thrown in this document is WIDGET_ERROR, not a server error.
 */
export function messageFor(
  error: unknown,
  t: Catalog,
): { code: string; text: string; retryAfter?: number } {
  if (
    !(error instanceof ApiFailure) &&
    !(error instanceof StartFailure) &&
    !(error instanceof CeremonyFailure)
  ) {
    return { code: 'WIDGET_ERROR', text: t.unexpected };
  }
  const { code } = error;
  const server = error instanceof ApiFailure && error.status >= 500;
  return {
    code,
    text: t[MESSAGE_KEYS[code] ?? (server ? 'server' : 'unexpected')],
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
  if (started instanceof StartFailure) {
    fatal(messageFor(started, english).text);
    return;
  }
  const { host } = started;
  if (!(await ensureWebCrypto())) {
    fatal(messageFor(refuse(host, 'INSECURE_CONTEXT', 'WebCrypto is unavailable.'), english).text);
    return;
  }

  const commandHandlers = new Set<(type: HostMessage['type']) => void>();
  let appearanceListener: ((appearance: Appearance) => void) | undefined;
  // `update`s that come before the first render are applied by it, not dropped.
  const earlyUpdates: Appearance[] = [];
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
        if (appearanceListener) appearanceListener(message.payload);
        else earlyUpdates.push(message.payload);
        return;
      default:
        commandHandlers.forEach((handler) => handler(message.type));
    }
  });
  let init: Awaited<typeof started.init>;
  // A parent that never sends a valid `init` (one that lied about its origin, in an engine with
  // no ancestorOrigins, never receives our `ready`) still leaves the cardholder a reason.
  const silence = setTimeout(() => fatal(english.invalidSetup), INIT_TIMEOUT_MS);
  try {
    init = await started.init;
    clearTimeout(silence);
  } catch (failure) {
    clearTimeout(silence);
    // INVALID_OPTIONS: the host was told why; the cardholder reads it in the catalog language.
    fatal(messageFor(failure, english).text);
    return;
  }
  const { options } = init;
  const token = init.fetchToken ? undefined : init.token;
  if (widget === 'enroll-passkey' && token) {
    // An ENROLL_PASSKEY token is always bound to this document's own key (docs/step-up.md): a
    // token handed in could only be some other key's, so say so instead of failing on the API.
    const message = 'token: enroll-passkey asks for its token (fetchToken, or the bridge)';
    fatal(messageFor(refuse(host, 'INVALID_OPTIONS', message, 'token'), english).text);
    return;
  }
  credentials = new Credentials(
    host,
    widgetTypeOf(widget),
    token ? { token } : { fetchToken: true },
  );
  const api = new WidgetApi(host, credentials);
  const queries = new QueryClient({
    defaultOptions: {
      // retryOnMount: false: a session call that failed before the first render is not repeated.
      queries: { retry: false, retryOnMount: false, staleTime: Infinity },
      mutations: { retry: false },
    },
  });
  // A failed query is kept as such (the first render shows why, and `error` tells the host).
  const startup = startupQueries(api, started).map((query) => queries.prefetchQuery(query));
  // A DPoP widget's session waits for the host to mint a token: meanwhile it renders, so it
  // shows it is loading, or says at once why it cannot run (a webview without passkeys).
  await Promise.all([loadLocale(options.locale), ...(token ? startup : [])]);

  function Root() {
    const [appearance, setAppearance] = useState<Appearance>(options);
    useEffect(() => {
      appearanceListener = (next) =>
        void loadLocale(next.locale).then(() =>
          setAppearance((current) => ({ ...current, ...next })),
        );
      earlyUpdates.splice(0).forEach(appearanceListener);
      return () => {
        appearanceListener = undefined;
      };
    }, []);
    useEffect(() => {
      applyAppearance(appearance.theme, appearance.styles);
      // The language shown, not the one asked for: `he` without a catalog reads in English.
      document.documentElement.lang = languageOf(appearance.locale);
      document.documentElement.dir = directionOf(appearance.locale);
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

  // A task of its own. When everything was fetched before the bundle ran, this is still the
  // parser's task, and Blink ends it with DOMContentLoaded's work (a forced layout of whatever
  // was rendered): Chromium hands the host our `load` only when the task is over.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const root = createRoot(document.getElementById('root')!);
  // Rendered now, not in a task React schedules: what it reads is all there, and its effects
  // (useAnnounce's `load`) run before this task ends.
  flushSync(() =>
    root.render(
      <StrictMode>
        <QueryClientProvider client={queries}>
          <Root />
        </QueryClientProvider>
      </StrictMode>,
    ),
  );

  let lastHeight = -1;
  new ResizeObserver(() => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== lastHeight) host.send('resize', { height: (lastHeight = height) });
  }).observe(document.documentElement);
}
