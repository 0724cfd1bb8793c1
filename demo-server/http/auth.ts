import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CallerKey } from '../api-keys/registry.js';
import { ApiError } from './errors.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Constant-time equality for secrets of any length (compares fixed-size digests). */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The credential of `Authorization: <scheme> <credential>`, or undefined. */
export function credential(request: FastifyRequest, scheme: string): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return undefined;
  const value = header.slice(space + 1).trim();
  return value === '' ? undefined : value;
}

/**
 * API-key scopes. `cards` is for the backend that serves cardholders: it reads cards and
 * products and mints widget and account tokens. `admin` is for the operator: everything else
 * (products, issuing and changing cards, PIN-block export, webhooks, events, simulations), and
 * it includes `cards`.
 */
export const SCOPES = ['cards', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * The one route → scope map, keyed by method and Fastify route pattern. Every route behind the
 * API-key guard must be here: a route that is not is refused to every key (fail closed), and
 * `scopes.test.ts` walks every registered route against this table. HEAD follows GET.
 */
export const ROUTE_SCOPES: Readonly<Record<string, Scope>> = {
  'GET /v1/card_products': 'cards',
  'GET /v1/card_products/:id': 'cards',
  'POST /v1/card_products': 'admin',
  'GET /v1/cards': 'cards',
  'GET /v1/cards/:id': 'cards',
  // Issuing a card creates a PAN and a chip: an operator act, not a cardholder-session one.
  'POST /v1/cards': 'admin',
  'PATCH /v1/cards/:id': 'admin',
  'POST /v1/cards/:id/widget_token': 'cards',
  'POST /v1/accounts/:account_id/tokens': 'cards',
  'GET /v1/cards/:id/pin_block': 'admin',
  // Unblocking is the program's back office, not the cardholder's session.
  'POST /v1/cards/:id/pin/unblock': 'admin',
  // The cardholder's backend lists them; removing a passkey weakens reveals: the back office.
  'GET /v1/customers/:customer_id/passkeys': 'cards',
  'DELETE /v1/customers/:customer_id/passkeys': 'admin',
  'DELETE /v1/customers/:customer_id/passkeys/:id': 'admin',
  'POST /v1/webhooks': 'admin',
  'GET /v1/webhooks': 'admin',
  'GET /v1/webhooks/:id': 'admin',
  'PATCH /v1/webhooks/:id': 'admin',
  'DELETE /v1/webhooks/:id': 'admin',
  'POST /v1/webhooks/:id/rotate_secret': 'admin',
  'GET /v1/events': 'admin',
  'GET /v1/events/:id': 'admin',
  'POST /v1/events/:id/redeliver': 'admin',
  'POST /v1/simulations/cards/:id/advance': 'admin',
  'POST /v1/simulations/authorizations': 'admin',
  'POST /v1/simulations/pin_pad/pin_block': 'admin',
};

/** The scope a route needs; undefined for a route missing from the map. */
export function requiredScope(method: string, url: string | undefined): Scope | undefined {
  if (url === undefined) return undefined;
  const key = `${method === 'HEAD' ? 'GET' : method} ${url}`;
  return Object.hasOwn(ROUTE_SCOPES, key) ? ROUTE_SCOPES[key] : undefined;
}

export const grants = (scopes: readonly Scope[], needed: Scope): boolean =>
  scopes.includes(needed) || scopes.includes('admin');

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key that called: set on every route behind the API-key guard, null elsewhere. */
    apiKey: CallerKey | null;
  }
}

/**
 * Guards every route registered on `api` afterwards: `Authorization: Bearer <key>` must name a
 * live key (401 `UNAUTHORIZED`) whose scopes grant the route's (403 `INSUFFICIENT_SCOPE`).
 * Runs on `onRequest`, before the body is read. Returns the guarded routes (`METHOD /url`).
 */
export function installApiKeyGuard(
  api: FastifyInstance,
  keys: { authenticate(presented: string): Promise<CallerKey | undefined> },
): readonly string[] {
  const guarded: string[] = [];
  api.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    for (const method of methods) guarded.push(`${method} ${route.url}`);
    // OpenAPI 3.1 lets any scheme list the roles it needs: the document shows each route's scope.
    const scope = requiredScope(methods[0]!, route.url);
    if (scope !== undefined && route.schema?.security) {
      route.schema = { ...route.schema, security: [{ apiKey: [scope] }] };
    }
  });
  api.decorateRequest('apiKey', null);
  api.addHook('onRequest', async (request) => {
    const given = credential(request, 'Bearer');
    const key = given === undefined ? undefined : await keys.authenticate(given);
    if (key === undefined) {
      throw new ApiError('UNAUTHORIZED', 'Send the API key as "Authorization: Bearer <API_KEY>"');
    }
    request.apiKey = key;
    const needed = requiredScope(request.method, request.routeOptions.url);
    if (needed === undefined) {
      request.log.error({ route: request.routeOptions.url }, 'route missing from ROUTE_SCOPES');
      throw new ApiError('FORBIDDEN', 'No API-key scope opens this route');
    }
    if (!grants(key.scopes, needed)) {
      throw new ApiError(
        'INSUFFICIENT_SCOPE',
        `This route needs an API key with the "${needed}" scope`,
        undefined,
        { required_scope: needed },
      );
    }
  });
  return guarded;
}
