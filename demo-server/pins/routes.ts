import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cardResource, pinStatus } from '../cards/resources.js';
import type { CardService } from '../cards/service.js';
import { refuseBody } from '../http/no-body.js';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { AuthenticationResponseBody, passkeyWidgetRoutes } from '../passkeys/routes.js';
import type { PasskeyService } from '../passkeys/service.js';
import { ApiError } from '../http/errors.js';
import { Timestamp, operation, schemaRef, withExamples } from '../http/openapi.js';
import { IdParam, StrictObject } from '../http/schemas.js';
import type { WidgetSessions } from '../widget-sessions/tokens.js';
import type { PinService } from './service.js';
import type { TransportKeys } from './transport-keys.js';

/** A compact JWE as the examples show one (shortened: the parts are base64url). */
const EXAMPLE_JWE =
  'eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTI1NkdDTSIsImtpZCI6InB0azEifQ..cXdlcnR5dWlvcGFz.VGhlIFBJTg.aGVsbG8td29ybGQtdGFn';

const SetPinBody = withExamples(
  StrictObject({
    encrypted_pin: Type.String({
      minLength: 1,
      maxLength: 4096,
      description: 'Compact JWE (ECDH-ES, A256GCM, kid, wst)',
    }),
    sync_offline_pin: Type.Optional(Type.Boolean()),
  }),
  { encrypted_pin: EXAMPLE_JWE, sync_offline_pin: true },
);
const base64url = (description: string) =>
  Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description });
const RevealBody = withExamples(
  StrictObject({
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
  }),
  {
    public_key: {
      kty: 'EC',
      crv: 'P-256',
      x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
      y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
    },
  },
);
const PinBlockQuery = StrictObject({
  format: Type.Union([Type.Literal('ISO_9564_4'), Type.Literal('ISO_9564_0')]),
});
const CardParams = IdParam('card');
const CardStatus = Type.Union([
  Type.Literal('PENDING'),
  Type.Literal('UNACTIVATED'),
  Type.Literal('ACTIVE'),
  Type.Literal('SUSPENDED'),
  Type.Literal('TERMINATED'),
]);
const PinStatus = Type.Union([
  Type.Literal('NOT_SET'),
  Type.Literal('OK'),
  Type.Literal('BLOCKED'),
]);
const Jwks = withExamples(
  Type.Object(
    {
      keys: Type.Array(
        Type.Object({
          kty: Type.Literal('EC'),
          crv: Type.Literal('P-256'),
          x: Type.String(),
          y: Type.String(),
          kid: Type.String(),
          use: Type.Literal('enc'),
          alg: Type.Literal('ECDH-ES'),
        }),
      ),
    },
    { additionalProperties: false },
  ),
  {
    keys: [
      {
        kty: 'EC',
        crv: 'P-256',
        x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
        y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
        kid: 'ptk1',
        use: 'enc',
        alg: 'ECDH-ES',
      },
    ],
  },
);
const WidgetSession = Type.Object(
  {
    widget_type: Type.Union([
      Type.Literal('SET_PIN'),
      Type.Literal('REVEAL_PIN'),
      Type.Literal('ENROLL_PASSKEY'),
    ]),
    expires_at: Timestamp,
    card: Type.Object(
      {
        last_four: Type.String(),
        card_status: CardStatus,
        is_pin_set: Type.Boolean(),
        pin_status: PinStatus,
        pin_length: Type.Integer(),
        offline_pin: Type.Boolean(),
        requires_current_pin: Type.Boolean(),
        reveal_step_up: Type.Union([Type.Literal('NONE'), Type.Literal('PASSKEY')]),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
const PinSet = Type.Object(
  { card_id: Type.String(), is_pin_set: Type.Literal(true), timestamp_pin_set: Timestamp },
  { additionalProperties: false },
);
const RevealedPin = Type.Object(
  {
    encrypted_pin: Type.String({
      description: 'Compact JWE to the widget’s ephemeral key (ECDH-ES, A256GCM, wst)',
    }),
  },
  { additionalProperties: false },
);
const ExportedPinBlock = withExamples(
  Type.Object(
    {
      format: PinBlockQuery.properties.format,
      key_id: Type.String({ description: 'The zone key’s check value (hex)' }),
      pin_block: Type.String({ pattern: '^[0-9A-F]+$' }),
    },
    { additionalProperties: false },
  ),
  { format: 'ISO_9564_4', key_id: '4F1C2A', pin_block: '3E9A7C1D5B2F80416CA9E3D7B25F0148' },
);
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
        ...operation({
          id: 'getPinKeys',
          summary: 'JWKS of the PIN-transport keys (encrypt set-PIN JWEs to the first)',
          tag: 'pins',
          responses: { 200: { description: 'The JWKS (cached 5 minutes)', schema: Jwks } },
        }),
        // Public: the widgets fetch it before they hold anything but a widget token.
        security: [],
      },
    },
    async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=300').send(transportKeys.jwks()),
  );

  app.register(async (widget) => {
    // Widget calls come from the widget documents, which the platform serves: a browser call
    // from any other origin is refused before the token is even looked at.
    widget.addHook('onRequest', (request, _reply, done) => {
      const origin = request.headers.origin;
      if (origin === undefined || origin === platformOrigin) return done();
      done(new ApiError('FORBIDDEN', 'Widget endpoints answer only the widget documents'));
    });
    widget.addHook('onSend', (_request, reply, payload, done) => {
      reply.header('cache-control', 'no-store');
      done(null, payload);
    });

    widget.get(
      '/v1/widget/session',
      {
        schema: {
          ...operation({
            id: 'getWidgetSession',
            summary: 'What the widget needs to render (does not use up the token)',
            tag: 'widget',
            responses: { 200: { description: 'The session and its card', schema: WidgetSession } },
          }),
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
          ...operation({
            id: 'setPin',
            summary: 'Set the PIN (encrypted in the widget)',
            tag: 'widget',
            errors: [
              'WIDGET_TOKEN_WRONG_TYPE',
              'CARD_TERMINATED',
              'SESSION_MISMATCH',
              'UNKNOWN_KEY_ID',
              'PIN_DECRYPTION_FAILED',
              'INVALID_PIN_PAYLOAD',
              'PIN_NOT_DIGITS',
              'PIN_WRONG_LENGTH',
              'PIN_TOO_WEAK',
              'PIN_MATCHES_CARD_NUMBER',
              'CURRENT_PIN_REQUIRED',
              'CURRENT_PIN_INCORRECT',
              'PIN_BLOCKED',
              'TOO_MANY_ATTEMPTS',
            ],
            responses: {
              200: { description: 'The PIN is set (uses up the token)', schema: PinSet },
            },
          }),
          body: SetPinBody,
          security: widgetSecurity,
        },
      },
      // The DPoP `jti` goes into the PIN's own transaction (docs/store.md).
      async (request) =>
        sessions.serve(request, 'SET_PIN', (session) => pins.setPin(session, request.body)),
    );

    widget.post<{ Body: Static<typeof RevealBody> }>(
      '/v1/widget/pin/reveal',
      {
        schema: {
          ...operation({
            id: 'revealPin',
            summary: 'Reveal the PIN, encrypted to the widget’s ephemeral key',
            tag: 'widget',
            errors: [
              'WIDGET_TOKEN_WRONG_TYPE',
              'CARD_TERMINATED',
              'INVALID_PUBLIC_KEY',
              'PASSKEY_NOT_ENROLLED',
              'STEP_UP_REQUIRED',
              'STEP_UP_FAILED',
              'CARD_NOT_ACTIVE',
              'PIN_NOT_SET',
              'RATE_LIMITED',
              'TOO_MANY_ATTEMPTS',
            ],
            responses: {
              200: { description: 'The PIN (uses up the token)', schema: RevealedPin },
            },
          }),
          body: RevealBody,
          security: widgetSecurity,
        },
      },
      async (request) =>
        sessions.serve(request, 'REVEAL_PIN', (session) =>
          pins.reveal(
            session,
            request.body.public_key,
            requester(request),
            request.body.assertion as AuthenticationResponseJSON | undefined,
          ),
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
        ...operation({
          id: 'unblockPin',
          summary:
            'Unblock the PIN: all tries back; an issued offline-PIN card also gets a PIN UNBLOCK script for its chip',
          tag: 'pins',
          description: 'Send no body (or `{}`).',
          errors: ['NOT_FOUND', 'CARD_IS_VIRTUAL', 'CARD_TERMINATED', 'PIN_NOT_SET'],
          responses: {
            200: { description: 'The card after the unblock', schema: schemaRef('Card') },
          },
        }),
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
        ...operation({
          id: 'exportPinBlock',
          summary:
            'Export the PIN block: format 4 under ZONE_PIN_KEY_AES, format 0 under ZONE_PIN_KEY_TDES',
          tag: 'pins',
          errors: ['NOT_FOUND', 'CARD_IS_VIRTUAL', 'CARD_TERMINATED', 'PIN_NOT_SET'],
          responses: {
            200: { description: 'The PIN block (audited, no-store)', schema: ExportedPinBlock },
          },
        }),
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
