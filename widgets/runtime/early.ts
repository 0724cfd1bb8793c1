import type { HostMessage, HostMessages, WidgetKind } from '../protocol/messages.js';
import { describeProblem } from '../protocol/options.js';
import { type Host, HostError, type StartCode, connectHost } from './host.js';
import { type PlatformKey, bearerHeaders, fetchPlatformKey, send } from './request.js';

/**
 * The start of a widget document that does not wait for the app's bundle. The documents load
 * this small module as their first script (async: it runs as soon as it is fetched), so the
 * handshake with the host, the session call and Set PIN's platform key happen while React (most
 * of the bytes) is still downloading: the app's first render then has what it reads.
 */
export interface WidgetStart {
  host: Host;
  /** `init` from the host (framed) or the options read from the fragment (webview). */
  init: Promise<HostMessages['init']>;
  /** The session call, started as soon as a bearer token arrived (fetchToken mode: none). */
  session(): Promise<unknown> | undefined;
  /** Set PIN's platform key, asked for at once: it is public (other widgets: none). */
  platformKey(): Promise<PlatformKey> | undefined;
  /** Every later host message goes to `handler`; those that came before are replayed first. */
  onMessage(handler: (message: HostMessage) => void): void;
}

/** A widget that cannot start: the host was told `code` (where there is one to tell). */
export class StartFailure extends Error {
  constructor(
    readonly code: StartCode,
    message: string,
  ) {
    super(message);
  }
}

let started: WidgetStart | StartFailure | undefined;

/** A prefixed WebCrypto (old Safari, IE 11) that webcrypto-shim can wrap. */
export function hasPrefixedCrypto(): boolean {
  const legacy = globalThis as { crypto?: { webkitSubtle?: unknown }; msCrypto?: unknown };
  return Boolean(legacy.crypto?.webkitSubtle || legacy.msCrypto);
}

/** WebCrypto (or a prefixed one the shim can wrap) needs a secure context. */
function cryptoPossible(): boolean {
  return window.isSecureContext && Boolean(globalThis.crypto?.subtle || hasPrefixedCrypto());
}

/** Tells the host why the widget stops, and hands boot the failure to show the cardholder. */
export function refuse(host: Host, code: StartCode, message: string, option?: string) {
  host.send('error', { code, message, failedFields: option ? [option] : [] });
  return new StartFailure(code, message);
}

function start(widget: WidgetKind): WidgetStart | StartFailure {
  let host: Host;
  try {
    host = connectHost();
  } catch (error) {
    return error instanceof HostError
      ? new StartFailure(error.code, error.message)
      : new StartFailure('NOT_EMBEDDED', 'cannot reach the host');
  }
  // Told to the host through the checked channel, so it never waits for a `load` that can't come.
  if (!cryptoPossible()) {
    return refuse(host, 'INSECURE_CONTEXT', 'The widget needs a secure context (https).');
  }
  const platformKey = widget === 'set-pin' ? fetchPlatformKey() : undefined;
  platformKey?.catch(() => undefined);
  const inbox: HostMessage[] = [];
  let deliver: ((message: HostMessage) => void) | undefined;
  let session: Promise<unknown> | undefined;
  let initialized = false;
  let resolveInit!: (payload: HostMessages['init']) => void;
  let rejectInit!: (failure: StartFailure) => void;
  const init = new Promise<HostMessages['init']>((resolve, reject) => {
    resolveInit = resolve;
    rejectInit = reject;
  });
  // Read by boot; never an unhandled rejection if the page goes away first.
  init.catch(() => undefined);
  // Only the first `init` counts: a later one (another card's token, say) changes nothing.
  const begin = (payload: HostMessages['init']) => {
    if (initialized) return;
    initialized = true;
    if (payload.token && !payload.fetchToken) {
      const url = new URL('/v1/widget/session', location.origin).href;
      session = send('GET', url, bearerHeaders(payload.token, host.parentOrigin));
      session.catch(() => undefined);
    }
    resolveInit(payload);
  };
  if (host.initial) begin({ ...host.initial, fetchToken: host.initial.token === undefined });
  host.listen(
    (message) => {
      if (message.type === 'init') begin(message.payload);
      else if (deliver) deliver(message);
      else inbox.push(message);
    },
    (problem) => {
      // An `init` whose options break the rules stops the widget with a reason, never silence.
      // (The SDK checks `update()` before sending, so a bad one later is simply dropped.)
      if (initialized) return;
      initialized = true;
      rejectInit(refuse(host, 'INVALID_OPTIONS', describeProblem(problem), problem.option));
    },
  );
  if (host.framed) host.send('ready', { widget });
  return {
    host,
    init,
    session: () => session,
    platformKey: () => platformKey,
    onMessage(handler) {
      deliver = handler;
      inbox.splice(0).forEach(handler);
    },
  };
}

/** Starts the widget once; boot gets the same start the early script made. */
export function startWidget(widget: WidgetKind): WidgetStart | StartFailure {
  started ??= start(widget);
  return started;
}

const fromPath = /\/widgets\/(set-pin|reveal-pin|enroll-passkey)\/$/.exec(location.pathname)?.[1];
if (fromPath) startWidget(fromPath as WidgetKind);
