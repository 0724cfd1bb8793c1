import type { JWK } from 'jose';

/** An API refusal, with the platform's stable code (or NETWORK_ERROR when it never answered). */
export class ApiFailure extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly retryAfterSeconds?: number,
    /** The refusal's other fields (`pin_tries_remaining`, …): facts about the card, never a PIN. */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(code);
  }
}

/**
 * One widget API call on the wire: no cookies, no cache, JSON both ways, a refusal as an
 * ApiFailure with the platform's code. Kept free of dependencies: the early script uses it.
 */
export async function send<T>(
  method: 'GET' | 'POST',
  url: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      credentials: 'omit',
      cache: 'no-store',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiFailure('NETWORK_ERROR', 0);
  }
  const data = (await response.json().catch(() => ({}))) as { code?: string };
  if (!response.ok) {
    const retry = Number(response.headers.get('retry-after'));
    const { code, message: _message, ...details } = data as Record<string, unknown>;
    throw new ApiFailure(
      typeof code === 'string' ? code : 'SERVER_ERROR',
      response.status,
      retry > 0 ? retry : undefined,
      details,
    );
  }
  return data as T;
}

/** The headers of a bearer-mode call, with the parent origin the token is bound to. */
export function bearerHeaders(token: string, parentOrigin: string | null): Record<string, string> {
  return {
    accept: 'application/json',
    authorization: `Bearer ${token}`,
    ...(parentOrigin ? { 'pin-widget-parent-origin': parentOrigin } : {}),
  };
}

/** The platform's PIN-transport key, as /v1/pin_keys lists it. */
export type PlatformKey = JWK & { kid: string };

/**
 * The platform key. Public, so the early script asks for it at once, beside the handshake, and
 * the document preloads it: Set PIN is usable only with it.
 */
export async function fetchPlatformKey(): Promise<PlatformKey> {
  let response: Response;
  try {
    response = await fetch('/v1/pin_keys', { credentials: 'same-origin' });
  } catch {
    throw new ApiFailure('NETWORK_ERROR', 0);
  }
  const jwks = (await response.json().catch(() => ({}))) as { keys?: PlatformKey[] };
  const key = jwks.keys?.[0];
  if (!response.ok || !key) throw new ApiFailure('SERVER_ERROR', response.status);
  return key;
}

/**
 * A chunk of the widget's own (`load`: its dynamic import), fetched once, by the first caller.
 * A failed fetch is a network error, and the next call tries again.
 */
export function lazyChunk<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch(() => {
      loading = undefined;
      throw new ApiFailure('NETWORK_ERROR', 0);
    });
    return loading;
  };
}
