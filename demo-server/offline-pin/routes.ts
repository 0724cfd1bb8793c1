import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { credential } from '../http/auth.js';
import { ApiError } from '../http/errors.js';
import { operation, withExamples } from '../http/openapi.js';
import { StrictObject } from '../http/schemas.js';
import type { AccountTokens } from './account-tokens.js';
import type { IssuerScripts } from './issuer-scripts.js';
import { refuseBody } from '../http/no-body.js';

const AccountParams = StrictObject({
  account_id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' }),
});
const CardIdParams = StrictObject({
  cardId: Type.String({ minLength: 1, description: 'The card id (card_…)' }),
});
const AccountToken = withExamples(
  Type.Object(
    {
      access_token: Type.String({ description: 'A JWT (typ at+jwt) for the /pcicards endpoints' }),
      token_type: Type.Literal('Bearer'),
      expires_in: Type.Integer({ minimum: 1, description: 'Seconds' }),
    },
    { additionalProperties: false },
  ),
  {
    access_token:
      'eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImF0a18wMSJ9.eyJzdWIiOiJhY2N0XzEwNDIifQ.c2lnbmF0dXJl',
    token_type: 'Bearer',
    expires_in: 300,
  },
);

/** `POST /v1/accounts/{account_id}/tokens` (API key): a short-lived account token. */
export function accountTokenRoutes(app: FastifyInstance, tokens: AccountTokens): void {
  app.post<{ Params: Static<typeof AccountParams> }>(
    '/v1/accounts/:account_id/tokens',
    {
      schema: {
        ...operation({
          id: 'createAccountToken',
          summary: 'Mint an account token (a short-lived JWT) for the /pcicards endpoints',
          tag: 'offline-pin',
          description: 'Send no body (or `{}`).',
          responses: { 200: { description: 'The account token (no-store)', schema: AccountToken } },
        }),
        params: AccountParams,
        security: [{ apiKey: [] }],
      },
      preValidation: refuseBody,
    },
    async (request, reply) => {
      return reply
        .header('cache-control', 'no-store')
        .send(await tokens.issue(request.params.account_id));
    },
  );
}

/**
 * `POST /pcicards/v1/pcicards/{cardId}/scripts/sync-offline-pin`, the processor-compatible
 * endpoint: account token (not the API key), no body, 204. Checks run in the documented order:
 * 401 token → 400 body → 404 card → 403 account → 400 card state.
 */
export function syncOfflinePinRoutes(
  app: FastifyInstance,
  deps: { tokens: AccountTokens; scripts: IssuerScripts },
): void {
  app.register(async (pci) => {
    // The endpoint takes no body. Every content type is read as raw bytes here, so an empty
    // body passes whatever its Content-Type says, and any content gets one clear 400.
    pci.removeAllContentTypeParsers();
    pci.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
      done(null, body.length === 0 ? undefined : body);
    });
    const accounts = new WeakMap<FastifyRequest, string>();
    pci.addHook('onRequest', async (request, reply) => {
      reply.header('cache-control', 'no-store');
      accounts.set(request, await deps.tokens.verify(credential(request, 'Bearer')));
    });

    pci.post<{ Params: Static<typeof CardIdParams> }>(
      '/pcicards/v1/pcicards/:cardId/scripts/sync-offline-pin',
      {
        schema: {
          ...operation({
            // The processor's own operation id, kept so its clients' generated names still fit.
            id: 'post-v1-sync-offline-pin',
            summary: 'Synchronize offline PIN',
            tag: 'PCI',
            description:
              'Synchronize the offline PIN with the current online PIN value. The platform generates a script with the current online PIN, sends the script in response to the next authorization made with a chip (contact), and generates the "Card issuer script notification received" event (CARD.ISSUER_SCRIPT.UPDATED). Send no body.',
            // Its own content parsers read any body as bytes: a body is BODY_NOT_ALLOWED, a huge
            // one is stopped by the body limit first.
            errors: [
              'BODY_NOT_ALLOWED',
              'PAYLOAD_TOO_LARGE',
              'NOT_FOUND',
              'CARD_NOT_IN_ACCOUNT',
              'CARD_IS_VIRTUAL',
              'CARD_TERMINATED',
              'OFFLINE_PIN_NOT_ENABLED',
              'NO_PIN_TO_SYNC',
            ],
            responses: { 204: { description: 'The script is queued: no body' } },
          }),
          params: CardIdParams,
          security: [{ accountToken: [] }],
        },
      },
      async (request, reply) => {
        if (request.body !== undefined) {
          throw new ApiError('BODY_NOT_ALLOWED', 'This endpoint takes no body: send none');
        }
        await deps.scripts.requestSync(request.params.cardId, accounts.get(request)!);
        return reply.status(204).send();
      },
    );
  });
}
