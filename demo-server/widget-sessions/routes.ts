import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Timestamp, operation, schemaRef, withExamples } from '../http/openapi.js';
import { IdParam, StrictObject } from '../http/schemas.js';
import type { WidgetSessions } from './tokens.js';

const WidgetType = Type.Union([
  Type.Literal('SET_PIN'),
  Type.Literal('REVEAL_PIN'),
  Type.Literal('ENROLL_PASSKEY', {
    description: 'Enroll a passkey for the card’s customer: DPoP-bound always (docs/step-up.md)',
  }),
]);
const TokenBody = withExamples(
  StrictObject({
    widget_type: WidgetType,
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
  }),
  {
    widget_type: 'SET_PIN',
    origin: 'https://program.example',
    jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
  },
);
const CardParams = IdParam('card');

export const widgetTokenSchemas = {
  WidgetToken: withExamples(
    Type.Object(
      {
        widget_token: Type.String({
          pattern: '^wt_[A-Za-z0-9_-]{43}$',
          description: 'Single use: hand it to the widget, never store or log it',
        }),
        widget_type: WidgetType,
        expires_at: Timestamp,
      },
      { additionalProperties: false, description: 'A widget token for one card and widget type' },
    ),
    {
      widget_token: 'wt_5yFQ0r2bM8kVt1cXhW3nJ9aLpZs7eD4gU6oRiT0qYvE',
      widget_type: 'SET_PIN',
      expires_at: '2026-05-04T09:23:02.481Z',
    },
  ),
};

/** `POST /v1/cards/{card_id}/widget_token`: the program's backend (API key) mints a token. */
export function widgetTokenRoutes(app: FastifyInstance, sessions: WidgetSessions): void {
  app.post<{ Params: Static<typeof CardParams>; Body: Static<typeof TokenBody> }>(
    '/v1/cards/:id/widget_token',
    {
      schema: {
        ...operation({
          id: 'createWidgetToken',
          summary: 'Mint a single-use widget token for one card and one widget type',
          tag: 'widget sessions',
          errors: [
            'NOT_FOUND',
            'CARD_IS_VIRTUAL',
            'CARD_TERMINATED',
            'DPOP_BINDING_REQUIRED',
            'CARD_HAS_NO_CUSTOMER',
          ],
          responses: {
            201: { description: 'The widget token (no-store)', schema: schemaRef('WidgetToken') },
          },
        }),
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
