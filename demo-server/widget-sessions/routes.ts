import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { IdParam, StrictObject } from '../http/schemas.js';
import type { WidgetSessions } from './tokens.js';

const TokenBody = StrictObject({
  widget_type: Type.Union([
    Type.Literal('SET_PIN'),
    Type.Literal('REVEAL_PIN'),
    Type.Literal('ENROLL_PASSKEY', {
      description: 'Enroll a passkey for the card’s customer: DPoP-bound always (docs/step-up.md)',
    }),
  ]),
  origin: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'The parent origin the widget will run under',
    }),
  ),
  jkt: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_-]{43}$',
      description:
        'RFC 7638 SHA-256 thumbprint of the widget’s DPoP key: makes the token sender-constrained',
    }),
  ),
});
const CardParams = IdParam('card');

/** `POST /v1/cards/{card_id}/widget_token`: the program's backend (API key) mints a token. */
export function widgetTokenRoutes(app: FastifyInstance, sessions: WidgetSessions): void {
  app.post<{ Params: Static<typeof CardParams>; Body: Static<typeof TokenBody> }>(
    '/v1/cards/:id/widget_token',
    {
      schema: {
        tags: ['widget sessions'],
        summary: 'Mint a single-use widget token for one card and one widget type',
        params: CardParams,
        body: TokenBody,
        security: [{ apiKey: [] }],
      },
    },
    async (request, reply) => {
      // Which API key minted it: reveals made with the token are audited under that key.
      const apiKeyId = request.apiKey?.id ?? null;
      const minted = await sessions.mint(request.params.id, request.body, apiKeyId);
      return reply.status(201).header('cache-control', 'no-store').send(minted);
    },
  );
}
