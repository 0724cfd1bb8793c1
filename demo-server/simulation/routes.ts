import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { operation, withExamples } from '../http/openapi.js';
import { StrictObject } from '../http/schemas.js';
import type { AuthorizationSimulator } from './authorizations.js';

const hexString = (digits: string, description: string) =>
  Type.String({ pattern: `^[0-9A-Fa-f]${digits}$`, description });
const AuthorizationBody = withExamples(
  StrictObject({
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
  }),
  {
    card_id: 'card_01k2m3n6a7b8c9d0e1f2g3h4j5',
    amount: 2500,
    entry_mode: 'CHIP_CONTACT',
    pin_block: { format: 'ISO_9564_4', block: '3E9A7C1D5B2F80416CA9E3D7B25F0148' },
  },
);

const Verification = (values: string[]) => Type.Union(values.map((value) => Type.Literal(value)));
const AuthorizationResult = withExamples(
  Type.Object(
    {
      approved: Type.Boolean(),
      decline_reason: Type.Optional(
        Verification([
          'CARD_NOT_ACTIVE',
          'PIN_NOT_SET',
          'INCORRECT_PIN',
          'PIN_TRIES_EXCEEDED',
          'OFFLINE_PIN_INCORRECT',
          'OFFLINE_PIN_BLOCKED',
        ]),
      ),
      pin_verification: Type.Optional(
        Verification(['VERIFIED', 'INCORRECT', 'BLOCKED', 'NOT_SET']),
      ),
      pin_tries_remaining: Type.Optional(Type.Integer({ minimum: 0 })),
      pin_status: Type.Optional(Verification(['NOT_SET', 'OK', 'BLOCKED'])),
      offline_pin_verification: Type.Optional(Verification(['VERIFIED', 'INCORRECT', 'BLOCKED'])),
      chip_pin_tries_remaining: Type.Optional(Type.Integer({ minimum: 0 })),
      atc: Type.Union([Type.String({ pattern: '^[0-9A-F]{4}$' }), Type.Null()]),
      arqc: Type.Union([Type.String({ pattern: '^[0-9A-F]{16}$' }), Type.Null()]),
      issuer_script_template: Type.Optional(
        Type.String({ description: 'Issuer Script Template 2 (tag 72), hex: the chip ran it' }),
      ),
    },
    { additionalProperties: false },
  ),
  {
    approved: true,
    pin_verification: 'VERIFIED',
    pin_tries_remaining: 3,
    pin_status: 'OK',
    atc: '002A',
    arqc: '8F3A11C07D52E6B4',
  },
);

/** `POST /v1/simulations/authorizations` (API key, not in production). */
export function authorizationSimulationRoutes(
  app: FastifyInstance,
  simulator: AuthorizationSimulator,
): void {
  app.post<{ Body: Static<typeof AuthorizationBody> }>(
    '/v1/simulations/authorizations',
    {
      schema: {
        ...operation({
          id: 'simulateAuthorization',
          summary:
            'Simulate an authorization; a CHIP_CONTACT one carries the waiting issuer script (tests and demos)',
          tag: 'simulations',
          errors: [
            'NOT_FOUND',
            'CARD_IS_VIRTUAL',
            'CARD_NOT_ISSUED',
            'OFFLINE_PIN_NOT_ENABLED',
            'INVALID_PIN_BLOCK',
          ],
          responses: {
            200: { description: 'The authorization’s outcome', schema: AuthorizationResult },
          },
        }),
        body: AuthorizationBody,
        security: [{ apiKey: [] }],
      },
    },
    async (request) => simulator.authorize(request.body),
  );
}
