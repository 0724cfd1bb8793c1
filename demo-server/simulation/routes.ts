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
  pin_block: Type.Optional(
    StrictObject(
      {
        format: Type.Union([Type.Literal('ISO_9564_0'), Type.Literal('ISO_9564_4')]),
        block: Type.String({
          minLength: 1,
          maxLength: 64,
          description:
            'Hex: format 0 under ZONE_PIN_KEY_TDES (16 digits) or format 4 under ZONE_PIN_KEY_AES (32), with the card’s PAN',
        }),
      },
      'The terminal’s PIN block, enciphered under the zone PIN key (docs/point-of-sale.md)',
    ),
  ),
  cvm: Type.Optional(
    Type.Union([Type.Literal('ONLINE_PIN'), Type.Literal('OFFLINE_PIN')], {
      description:
        'Who verifies the PIN: the issuer (ONLINE_PIN, the default with a pin_block) or the chip (OFFLINE_PIN, CHIP_CONTACT and ISO_9564_4 only)',
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
