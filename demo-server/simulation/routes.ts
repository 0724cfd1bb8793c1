import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { StrictObject } from '../http/schemas.js';
import type { AuthorizationSimulator } from './authorizations.js';

const hexString = (digits: string, description: string) =>
  Type.String({ pattern: `^[0-9A-Fa-f]${digits}$`, description });
const AuthorizationBody = StrictObject({
  card_id: Type.String({ minLength: 1, maxLength: 64 }),
  amount: Type.Integer({ minimum: 0, maximum: 999_999_999_999, description: 'Minor units' }),
  entry_mode: Type.Union([
    Type.Literal('CHIP_CONTACT'),
    Type.Literal('CONTACTLESS'),
    Type.Literal('MAGSTRIPE'),
    Type.Literal('ECOMMERCE'),
  ]),
  atc: Type.Optional(hexString('{4}', 'ATC (9F36); default: the virtual chip’s next')),
  arqc: Type.Optional(hexString('{16}', 'ARQC (9F26); default: the virtual chip’s')),
  issuer_script_results: Type.Optional(
    Type.String({
      pattern: '^([0-9A-Fa-f]{2})+$',
      maxLength: 512,
      description: 'Issuer Script Results (9F5B, TLV or value); default: the virtual chip’s',
    }),
  ),
});

/** `POST /v1/simulations/authorizations` (API key, not in production). */
export function authorizationSimulationRoutes(
  app: FastifyInstance,
  simulator: AuthorizationSimulator,
): void {
  app.post<{ Body: Static<typeof AuthorizationBody> }>(
    '/v1/simulations/authorizations',
    {
      schema: {
        tags: ['simulations'],
        summary:
          'Simulate an authorization; a CHIP_CONTACT one carries the waiting issuer script (tests and demos)',
        body: AuthorizationBody,
        security: [{ apiKey: [] }],
      },
    },
    async (request) => simulator.authorize(request.body),
  );
}
