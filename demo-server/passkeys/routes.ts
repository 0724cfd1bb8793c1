import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { refuseBody } from '../http/no-body.js';
import { StrictObject } from '../http/schemas.js';
import type { WidgetSessions } from '../widget-sessions/tokens.js';
import type { PasskeyService } from './service.js';

const base64url = (maxLength: number, description?: string) =>
  Type.String({
    pattern: '^[A-Za-z0-9_-]+$',
    maxLength,
    ...(description ? { description } : {}),
  });

/** What browsers add beside the standard fields: accepted, bounded, not read. */
const Extensions = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), {
  description: 'clientExtensionResults, as the browser returns them',
});
const Attachment = Type.Optional(
  Type.Union([Type.Literal('platform'), Type.Literal('cross-platform')]),
);

/** A `PublicKeyCredential` from `navigator.credentials.create()`, as JSON (WebAuthn L3 §5.1). */
export const RegistrationResponseBody = StrictObject(
  {
    id: base64url(1366),
    rawId: base64url(1366),
    type: Type.Literal('public-key'),
    response: StrictObject({
      clientDataJSON: base64url(4096),
      attestationObject: base64url(8192),
      authenticatorData: Type.Optional(base64url(8192)),
      transports: Type.Optional(
        Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8, uniqueItems: true }),
      ),
      publicKeyAlgorithm: Type.Optional(Type.Integer()),
      publicKey: Type.Optional(base64url(4096)),
    }),
    authenticatorAttachment: Attachment,
    clientExtensionResults: Extensions,
  },
  'The credential navigator.credentials.create() made, as JSON',
);

/** A `PublicKeyCredential` from `navigator.credentials.get()`, as JSON. */
export const AuthenticationResponseBody = StrictObject(
  {
    id: base64url(1366),
    rawId: base64url(1366),
    type: Type.Literal('public-key'),
    response: StrictObject({
      clientDataJSON: base64url(4096),
      authenticatorData: base64url(8192),
      signature: base64url(1024),
      userHandle: Type.Optional(base64url(128)),
    }),
    authenticatorAttachment: Attachment,
    clientExtensionResults: Extensions,
  },
  'The assertion navigator.credentials.get() made for the reveal challenge, as JSON',
);

const EnrollBody = StrictObject({ credential: RegistrationResponseBody });
const CustomerParams = StrictObject({
  customer_id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' }),
});
const PasskeyParams = StrictObject({
  customer_id: CustomerParams.properties.customer_id,
  id: Type.String({ pattern: '^pk_[0-9a-z]{26}$' }),
});
const widgetSecurity: Record<string, string[]>[] = [{ widgetToken: [] }, { dpop: [] }];
const security = [{ apiKey: [] }];

/**
 * The widget side of passkeys, registered inside the widget routes' scope (platform documents
 * only, no-store): enrollment's two steps and the reveal's challenge.
 */
export function passkeyWidgetRoutes(
  widget: FastifyInstance,
  deps: { passkeys: PasskeyService; sessions: WidgetSessions },
): void {
  const { passkeys, sessions } = deps;
  widget.post(
    '/v1/widget/passkeys/registration_options',
    {
      schema: {
        tags: ['widget'],
        summary: 'WebAuthn creation options for the card’s customer, with a one-time challenge',
        security: widgetSecurity,
      },
      preValidation: refuseBody,
    },
    async (request) =>
      passkeys.registrationOptions(await sessions.authenticate(request, 'ENROLL_PASSKEY')),
  );

  widget.post<{ Body: Static<typeof EnrollBody> }>(
    '/v1/widget/passkeys',
    {
      schema: {
        tags: ['widget'],
        summary: 'Enroll the passkey just created (uses up the token)',
        body: EnrollBody,
        security: widgetSecurity,
      },
    },
    async (request, reply) => {
      const session = await sessions.authenticate(request, 'ENROLL_PASSKEY');
      const passkey = await passkeys.register(
        session,
        request.body.credential as RegistrationResponseJSON,
      );
      return reply.status(201).send(passkey);
    },
  );

  widget.post(
    '/v1/widget/pin/reveal/challenge',
    {
      schema: {
        tags: ['widget'],
        summary:
          'WebAuthn request options for a PASSKEY product’s reveal, with a one-time challenge',
        security: widgetSecurity,
      },
      preValidation: refuseBody,
    },
    async (request) =>
      passkeys.authenticationOptions(await sessions.authenticate(request, 'REVEAL_PIN')),
  );
}

/** `GET`/`DELETE /v1/customers/{customer_id}/passkeys[/{id}]` (API key). */
export function customerPasskeyRoutes(app: FastifyInstance, passkeys: PasskeyService): void {
  app.get<{ Params: Static<typeof CustomerParams> }>(
    '/v1/customers/:customer_id/passkeys',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'The customer’s passkeys (reveal step-up)',
        params: CustomerParams,
        security,
      },
      preValidation: refuseBody,
    },
    async (request) => ({ data: await passkeys.list(request.params.customer_id) }),
  );

  app.delete<{ Params: Static<typeof CustomerParams> }>(
    '/v1/customers/:customer_id/passkeys',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Remove all the customer’s passkeys (a lost device)',
        params: CustomerParams,
        security,
      },
      preValidation: refuseBody,
    },
    async (request) => ({ deleted: await passkeys.remove(request.params.customer_id) }),
  );

  app.delete<{ Params: Static<typeof PasskeyParams> }>(
    '/v1/customers/:customer_id/passkeys/:id',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Remove one of the customer’s passkeys',
        params: PasskeyParams,
        security,
      },
      preValidation: refuseBody,
    },
    async (request, reply) => {
      await passkeys.remove(request.params.customer_id, request.params.id);
      return reply.status(204).send();
    },
  );
}
