import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { credential } from '../http/auth.js';
import { ApiError } from '../http/errors.js';
import { ErrorBody, StrictObject } from '../http/schemas.js';
import type { AccountTokens } from './account-tokens.js';
import type { IssuerScripts } from './issuer-scripts.js';
import { refuseBody } from '../http/no-body.js';

const AccountParams = StrictObject({
  account_id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' }),
});
const CardIdParams = StrictObject({
  cardId: Type.String({ minLength: 1, description: 'The card id (card_…)' }),
});
/** `POST /v1/accounts/{account_id}/tokens` (API key): a short-lived account token. */
export function accountTokenRoutes(app: FastifyInstance, tokens: AccountTokens): void {
  app.post<{ Params: Static<typeof AccountParams> }>(
    '/v1/accounts/:account_id/tokens',
    {
      schema: {
        tags: ['offline-pin'],
        summary: 'Mint an account token (a short-lived JWT) for the /pcicards endpoints',
        description: 'Send no body (or `{}`).',
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
          tags: ['PCI'],
          operationId: 'post-v1-sync-offline-pin',
          summary: 'Synchronize offline PIN',
          description:
            'Synchronize the offline PIN with the current online PIN value. The platform generates a script with the current online PIN, sends the script in response to the next authorization made with a chip (contact), and generates the "Card issuer script notification received" event (CARD.ISSUER_SCRIPT.UPDATED). Send no body.',
          params: CardIdParams,
          security: [{ accountToken: [] }],
          response: {
            204: Type.Null({ description: 'The script is queued: no body' }),
            400: { ...ErrorBody, description: 'Bad request: a body, or a card that cannot sync' },
            401: { ...ErrorBody, description: 'The account token is missing, invalid or expired' },
            403: { ...ErrorBody, description: 'The card does not belong to the token’s account' },
            404: { ...ErrorBody, description: 'No such card' },
            500: { ...ErrorBody, description: 'Internal server error' },
          },
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
