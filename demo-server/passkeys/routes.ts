import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { refuseBody } from '../http/no-body.js';
import { Nullable, Timestamp, operation, schemaRef, withExamples } from '../http/openapi.js';
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

const EnrollBody = withExamples(StrictObject({ credential: RegistrationResponseBody }), {
  credential: {
    id: 'q2WbZ3vN8sKd1Lr0Yh5mTg',
    rawId: 'q2WbZ3vN8sKd1Lr0Yh5mTg',
    type: 'public-key',
    response: {
      clientDataJSON: 'eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiLi4uIn0',
      attestationObject: 'o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVjE',
      transports: ['internal', 'hybrid'],
    },
    authenticatorAttachment: 'platform',
    clientExtensionResults: {},
  },
});
const CustomerParams = StrictObject({
  customer_id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' }),
});
const PasskeyParams = StrictObject({
  customer_id: CustomerParams.properties.customer_id,
  id: Type.String({ pattern: '^pk_[0-9a-z]{26}$' }),
});
const widgetSecurity: Record<string, string[]>[] = [{ widgetToken: [] }, { dpop: [] }];
const security = [{ apiKey: [] }];

export const passkeySchemas = {
  Passkey: withExamples(
    Type.Object(
      {
        id: Type.String({ pattern: '^pk_[0-9a-z]{26}$' }),
        customer_id: Type.String(),
        card_id: Type.String({ description: 'The card whose enrollment widget registered it' }),
        device_type: Type.Union([Type.Literal('singleDevice'), Type.Literal('multiDevice')]),
        backed_up: Type.Boolean(),
        transports: Type.Array(Type.String()),
        created_time: Timestamp,
        last_used_time: Nullable(Timestamp),
      },
      { additionalProperties: false, description: 'A customer’s passkey (reveal step-up)' },
    ),
    {
      id: 'pk_01k2m3p8q9r0s1t2v3w4x5y6z7',
      customer_id: 'cust_77',
      card_id: 'card_01k2m3n6a7b8c9d0e1f2g3h4j5',
      device_type: 'multiDevice',
      backed_up: true,
      transports: ['internal', 'hybrid'],
      created_time: '2026-05-04T09:30:11.004Z',
      last_used_time: null,
    },
  ),
};
const Passkey = schemaRef('Passkey');
/** WebAuthn options JSON (WebAuthn L3 §5.4, §5.5), as @simplewebauthn/server makes them. */
const ceremonyOptions = (description: string) =>
  Type.Object({ challenge: Type.String(), timeout: Type.Integer() }, { description });

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
        ...operation({
          id: 'createPasskeyRegistrationOptions',
          summary: 'WebAuthn creation options for the card’s customer, with a one-time challenge',
          tag: 'widget',
          description: 'Send no body (or `{}`).',
          errors: ['WIDGET_TOKEN_WRONG_TYPE'],
          responses: {
            200: {
              description: 'Options for navigator.credentials.create()',
              schema: ceremonyOptions('PublicKeyCredentialCreationOptionsJSON'),
            },
          },
        }),
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
        ...operation({
          id: 'enrollPasskey',
          summary: 'Enroll the passkey just created (uses up the token)',
          tag: 'widget',
          errors: [
            'WIDGET_TOKEN_WRONG_TYPE',
            'PASSKEY_REGISTRATION_FAILED',
            'PASSKEY_ALREADY_ENROLLED',
            'TOO_MANY_ATTEMPTS',
          ],
          responses: { 201: { description: 'The enrolled passkey', schema: Passkey } },
        }),
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
        ...operation({
          id: 'createRevealChallenge',
          summary:
            'WebAuthn request options for a PASSKEY product’s reveal, with a one-time challenge',
          tag: 'widget',
          description: 'Send no body (or `{}`).',
          errors: ['WIDGET_TOKEN_WRONG_TYPE', 'PASSKEY_NOT_ENROLLED'],
          responses: {
            200: {
              description: 'Options for navigator.credentials.get()',
              schema: ceremonyOptions('PublicKeyCredentialRequestOptionsJSON'),
            },
          },
        }),
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
        ...operation({
          id: 'listCustomerPasskeys',
          summary: 'The customer’s passkeys (reveal step-up)',
          tag: 'passkeys',
          responses: {
            200: {
              description: 'Every passkey of the customer',
              schema: Type.Object({ data: Type.Array(Passkey) }, { additionalProperties: false }),
            },
          },
        }),
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
        ...operation({
          id: 'deleteCustomerPasskeys',
          summary: 'Remove all the customer’s passkeys (a lost device)',
          tag: 'passkeys',
          description: 'Send no body (or `{}`).',
          responses: {
            200: {
              description: 'How many were removed (each is a CUSTOMER.PASSKEY.DELETED event)',
              schema: Type.Object(
                { deleted: Type.Integer({ minimum: 0 }) },
                { additionalProperties: false },
              ),
            },
          },
        }),
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
        ...operation({
          id: 'deleteCustomerPasskey',
          summary: 'Remove one of the customer’s passkeys',
          tag: 'passkeys',
          description: 'Send no body (or `{}`).',
          errors: ['NOT_FOUND'],
          responses: { 204: { description: 'Removed' } },
        }),
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
