import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cardResource, pinStatus } from '../cards/resources.js';
import type { CardService } from '../cards/service.js';
import { refuseBody } from '../http/no-body.js';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { AuthenticationResponseBody, passkeyWidgetRoutes } from '../passkeys/routes.js';
import type { PasskeyService } from '../passkeys/service.js';
import { ApiError } from '../http/errors.js';
import { IdParam, StrictObject } from '../http/schemas.js';
import type { WidgetSessions } from '../widget-sessions/tokens.js';
import type { PinService } from './service.js';
import type { TransportKeys } from './transport-keys.js';

const SetPinBody = StrictObject({
  encrypted_pin: Type.String({
    minLength: 1,
    maxLength: 4096,
    description: 'Compact JWE (ECDH-ES, A256GCM, kid, wst)',
  }),
  sync_offline_pin: Type.Optional(Type.Boolean()),
});
const base64url = (description: string) =>
  Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description });
const RevealBody = StrictObject({
  public_key: StrictObject(
    {
      kty: Type.Literal('EC'),
      crv: Type.Literal('P-256'),
      x: base64url('x coordinate'),
      y: base64url('y coordinate'),
      // WebCrypto's exportKey('jwk') adds these; they are accepted and ignored.
      ext: Type.Optional(Type.Boolean()),
      key_ops: Type.Optional(Type.Array(Type.String({ maxLength: 16 }), { maxItems: 4 })),
      alg: Type.Optional(Type.String({ maxLength: 16 })),
      use: Type.Optional(Type.String({ maxLength: 8 })),
    },
    'The widget’s ephemeral ECDH P-256 public key (JWK, no private part)',
  ),
  assertion: Type.Optional(AuthenticationResponseBody),
});
const PinBlockQuery = StrictObject({
  format: Type.Union([Type.Literal('ISO_9564_4'), Type.Literal('ISO_9564_0')]),
});
const CardParams = IdParam('card');
const widgetSecurity: Record<string, string[]>[] = [{ widgetToken: [] }, { dpop: [] }];

export function pinRoutes(
  app: FastifyInstance,
  deps: {
    pins: PinService;
    cards: CardService;
    sessions: WidgetSessions;
    transportKeys: TransportKeys;
    passkeys: PasskeyService;
    publicUrl: string;
  },
): void {
  const { pins, cards, sessions, transportKeys, passkeys } = deps;
  const platformOrigin = new URL(deps.publicUrl).origin;

  app.get(
    '/v1/pin_keys',
    {
      schema: {
        tags: ['pins'],
        summary: 'JWKS of the PIN-transport keys (encrypt set-PIN JWEs to the first)',
      },
    },
    async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=300').send(transportKeys.jwks()),
  );

  app.register(async (widget) => {
    // Widget calls come from the widget documents, which the platform serves: a browser call
    // from any other origin is refused before the token is even looked at.
    widget.addHook('onRequest', async (request) => {
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== platformOrigin) {
        throw new ApiError('FORBIDDEN', 'Widget endpoints answer only the widget documents');
      }
    });
    widget.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });

    widget.get(
      '/v1/widget/session',
      {
        schema: {
          tags: ['widget'],
          summary: 'What the widget needs to render (does not use up the token)',
          security: widgetSecurity,
        },
      },
      async (request) => {
        const session = await sessions.authenticate(request);
        const product = await cards.getProduct(session.card.cardProductId);
        return {
          widget_type: session.token.widgetType,
          expires_at: new Date(session.token.expiresAt).toISOString(),
          card: {
            last_four: session.card.lastFour,
            card_status: session.card.cardStatus,
            is_pin_set: session.card.isPinSet,
            pin_status: pinStatus(session.card),
            pin_length: product.pinLength,
            offline_pin: session.card.offlinePinEnabled,
            // A change that needs the current PIN shows its field (docs/point-of-sale.md).
            requires_current_pin: product.pinChangeRequiresCurrentPin && session.card.isPinSet,
            // A reveal first asks for the cardholder's passkey (docs/step-up.md).
            reveal_step_up: product.revealStepUp,
          },
        };
      },
    );

    widget.post<{ Body: Static<typeof SetPinBody> }>(
      '/v1/widget/pin',
      {
        schema: {
          tags: ['widget'],
          summary: 'Set the PIN (encrypted in the widget)',
          body: SetPinBody,
          security: widgetSecurity,
        },
      },
      async (request) => pins.setPin(await sessions.authenticate(request, 'SET_PIN'), request.body),
    );

    widget.post<{ Body: Static<typeof RevealBody> }>(
      '/v1/widget/pin/reveal',
      {
        schema: {
          tags: ['widget'],
          summary: 'Reveal the PIN, encrypted to the widget’s ephemeral key',
          body: RevealBody,
          security: widgetSecurity,
        },
      },
      async (request) =>
        pins.reveal(
          await sessions.authenticate(request, 'REVEAL_PIN'),
          request.body.public_key,
          requester(request),
          request.body.assertion as AuthenticationResponseJSON | undefined,
        ),
    );

    passkeyWidgetRoutes(widget, { passkeys, sessions });
  });
}

/**
 * The program's PIN routes (API key): `GET /v1/cards/{id}/pin_block`, the PIN block for a
 * processor, and `POST /v1/cards/{id}/pin/unblock`, the back office's unblock.
 */
export function cardPinRoutes(app: FastifyInstance, pins: PinService): void {
  app.post<{ Params: Static<typeof CardParams> }>(
    '/v1/cards/:id/pin/unblock',
    {
      schema: {
        tags: ['pins'],
        summary:
          'Unblock the PIN: all tries back; an issued offline-PIN card also gets a PIN UNBLOCK script for its chip',
        params: CardParams,
        security: [{ apiKey: [] }],
      },
      preValidation: refuseBody,
    },
    async (request) => cardResource(await pins.unblock(request.params.id)),
  );

  app.get<{ Params: Static<typeof CardParams>; Querystring: Static<typeof PinBlockQuery> }>(
    '/v1/cards/:id/pin_block',
    {
      schema: {
        tags: ['pins'],
        summary:
          'Export the PIN block: format 4 under ZONE_PIN_KEY_AES, format 0 under ZONE_PIN_KEY_TDES',
        params: CardParams,
        querystring: PinBlockQuery,
        security: [{ apiKey: [] }],
      },
    },
    async (request, reply) =>
      reply.header('cache-control', 'no-store').send(
        await pins.exportPinBlock(request.params.id, request.query.format, {
          ...requester(request),
          apiKeyId: request.apiKey?.id ?? null,
        }),
      ),
  );
}

/** Where a request came from, for audit events: the socket's address (no proxy trusted). */
function requester(request: FastifyRequest) {
  const agent = request.headers['user-agent'];
  return {
    clientIp: request.ip,
    userAgent: typeof agent === 'string' ? agent.slice(0, 256) : null,
  };
}
