import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './platform-api.js';

/**
 * The platform as this backend calls it (SPEC §16): an openapi-fetch client typed by the
 * platform's own /openapi.json (platform-api.d.ts, `npm run openapi:types`), so a route, a path
 * parameter, a body field or a response field the document does not have does not compile.
 *
 * Every call carries the API key, except where a call passes its own `authorization`: the
 * processor-compatible endpoints take an account token, the hostile-host relay a widget token.
 */
export type PlatformClient = Client<paths>;

export type Card = components['schemas']['Card'];
export type CardProduct = components['schemas']['CardProduct'];
/** What a payment at the demo terminal sends. */
export type AuthorizationRequest =
  operations['simulateAuthorization']['requestBody']['content']['application/json'];
/** The WebAuthn assertion a reveal carries. */
export type RevealAssertion = NonNullable<
  operations['revealPin']['requestBody']['content']['application/json']['assertion']
>;

export const platformClient = (url: string, apiKey: string): PlatformClient =>
  createClient<paths>({ baseUrl: url, headers: { authorization: `Bearer ${apiKey}` } });
