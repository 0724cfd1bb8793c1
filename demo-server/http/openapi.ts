import type { SwaggerTransform, SwaggerTransformObject } from '@fastify/swagger';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifySchema, RouteOptions } from 'fastify';
import { SCOPES } from './auth.js';
import { type ErrorBody, type ErrorCode, ErrorCodes } from './errors.js';
import { refuseBody } from './no-body.js';

/**
 * The OpenAPI document's side of each route (SPEC §16): an operation id, a summary, one tag, the
 * success responses and the error codes, all beside the route in `operation({ … })`. None of it
 * reaches Fastify's serializer: `documentRoute` adds the responses to the document only, so a
 * reply is never cut down to a documented shape (error details such as `retry_after` stay).
 *
 * A route lists the codes its own checks answer (`errors`); the codes its shape implies (a body,
 * path parameters, its credential) are added by `impliedErrorCodes`, from the table below.
 */

export const TAGS = [
  { name: 'cards', description: 'Card products and cards: issuance and status changes.' },
  {
    name: 'widget sessions',
    description: 'Widget tokens: minted by the program’s backend for one card and one widget.',
  },
  {
    name: 'widget',
    description:
      'What the widgets call from the platform’s own documents, with a widget token (bearer, or DPoP-bound).',
  },
  { name: 'pins', description: 'PIN-transport keys, PIN-block export and unblocking.' },
  { name: 'passkeys', description: 'The customers’ passkeys for reveal step-up.' },
  { name: 'webhooks', description: 'Webhook subscriptions and their signing secrets.' },
  { name: 'events', description: 'The event log, with each event’s deliveries.' },
  { name: 'offline-pin', description: 'Account tokens for the processor-compatible endpoints.' },
  {
    name: 'PCI',
    description: 'Processor-compatible card endpoints (account token, not the API key).',
  },
  { name: 'simulations', description: 'Tests and demos only: not served outside DEMO_MODE.' },
] as const;
export type Tag = (typeof TAGS)[number]['name'];

/** A success response as the document shows it; `schema` omitted: no body (a 204). */
export interface DocumentedResponse {
  description: string;
  schema?: TSchema;
}

/** What `operation()` hands `documentRoute`: read for the document, never for a reply. */
export interface Documented {
  errors: readonly ErrorCode[];
  responses: Readonly<Record<number, DocumentedResponse>>;
}

declare module 'fastify' {
  interface FastifySchema {
    /** The route's responses in the OpenAPI document (http/openapi.ts): not used to serialize. */
    documented?: Documented;
  }
}

export interface OperationDoc {
  /** Stable, camelCase: generated clients name their methods after it. */
  id: string;
  summary: string;
  tag: Tag;
  description?: string;
  /** The codes this route's own checks answer; the ones its shape implies are added. */
  errors?: readonly ErrorCode[];
  responses: Readonly<Record<number, DocumentedResponse>>;
}

/** The documentation fields of a route's `schema`: spread them beside `body`, `params`, …. */
export function operation(doc: OperationDoc): FastifySchema {
  return {
    operationId: doc.id,
    summary: doc.summary,
    tags: [doc.tag],
    ...(doc.description === undefined ? {} : { description: doc.description }),
    documented: { errors: doc.errors ?? [], responses: doc.responses },
  };
}

/** A schema the document names under `components.schemas` (app.ts registers them). */
export const schemaRef = (name: string): TSchema =>
  Type.Unsafe({ $ref: `#/components/schemas/${name}` });

/** `schema` with request or response examples, checked against its static type. */
export const withExamples = <T extends TSchema>(schema: T, ...examples: Static<T>[]): T => ({
  ...schema,
  examples,
});

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
export const Timestamp = Type.String({ format: 'date-time' });

/** A page of a list route (http/schemas.ts `listResponse`). */
export const listOf = (items: TSchema) =>
  Type.Object(
    {
      data: Type.Array(items),
      has_more: Type.Boolean(),
      next_cursor: Type.Union([Type.String(), Type.Null()], {
        description: 'Pass it as starting_after for the next page; null on the last one',
      }),
    },
    { additionalProperties: false },
  );

// ---------------------------------------------------------------------------------------------
// Error codes per route.

/**
 * The codes a route's shape implies, whatever its handler does. Every route: a fault, and in
 * DEMO_MODE the Host check (app.ts). The rest follow from the route's schema and credential.
 */
export const IMPLIED_ERRORS = {
  everyRoute: ['MISDIRECTED_REQUEST', 'INTERNAL_ERROR'],
  /**
   * A query schema refuses unknown parameters (app.ts gives every route one); any path or query
   * parameter with a U+0000 or a lone surrogate is refused (json-body.ts).
   */
  query: ['UNKNOWN_FIELD', 'INVALID_FIELD'],
  requiredQuery: ['MISSING_FIELD'],
  /** A parameter that breaks its pattern; a path that is not UTF-8 or a parameter too long. */
  pathParameters: ['INVALID_FIELD', 'INVALID_REQUEST'],
  /** Any body read by the JSON parser (json-body.ts), also where the route takes none. */
  jsonBody: ['UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE', 'MALFORMED_JSON', 'INVALID_REQUEST'],
  /** A route that takes no body refuses any field (no-body.ts). */
  noBody: ['UNKNOWN_FIELD'],
  bodyFields: ['INVALID_FIELD'],
  strictBody: ['UNKNOWN_FIELD'],
  requiredBodyField: ['MISSING_FIELD'],
  apiKey: ['UNAUTHORIZED'],
  /** Only `admin` routes: every key holds `cards` or `admin`, and `admin` grants all. */
  adminScope: ['INSUFFICIENT_SCOPE'],
  /** `WidgetSessions.authenticate` and the widget routes' origin check (pins/routes.ts). */
  widgetToken: [
    'FORBIDDEN',
    'WIDGET_TOKEN_MISSING',
    'WIDGET_TOKEN_INVALID',
    'WIDGET_TOKEN_EXPIRED',
    'WIDGET_TOKEN_USED',
    'WIDGET_TOKEN_LOCKED',
    'ORIGIN_MISMATCH',
    'DPOP_PROOF_MISSING',
    'DPOP_PROOF_INVALID',
    'DPOP_PROOF_STALE',
    'DPOP_PROOF_REPLAYED',
    'DPOP_PROOF_WRONG_KEY',
    'DPOP_PROOF_WRONG_REQUEST',
    'DPOP_PROOF_WRONG_TOKEN',
  ],
  accountToken: ['ACCOUNT_TOKEN_MISSING', 'ACCOUNT_TOKEN_INVALID', 'ACCOUNT_TOKEN_EXPIRED'],
} as const satisfies Record<string, readonly ErrorCode[]>;

/** Codes one mode never answers: left out of the other mode's document. */
const ONLY_IN_DEMO_MODE: readonly ErrorCode[] = ['MISDIRECTED_REQUEST'];
const ONLY_OUTSIDE_DEMO_MODE: readonly ErrorCode[] = ['TEST_ONLY_FIELD', 'WEBHOOK_URL_FORBIDDEN'];

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
}

/** Whether `test` holds for `schema` or any schema nested in it. */
function anywhere(schema: SchemaNode, test: (node: SchemaNode) => boolean): boolean {
  if (test(schema)) return true;
  const children = [
    ...Object.values(schema.properties ?? {}),
    ...(schema.items ? [schema.items] : []),
    ...(schema.anyOf ?? []),
    ...(typeof schema.additionalProperties === 'object' ? [schema.additionalProperties] : []),
  ];
  return children.some((child) => anywhere(child, test));
}

const hasRequired = (node: SchemaNode) => (node.required?.length ?? 0) > 0;

/** A route without a body schema that refuses any body (no-body.ts). */
const refusesBodies = (route: Pick<RouteOptions, 'preValidation'>) =>
  [route.preValidation].flat().includes(refuseBody);

/** The codes `route`'s shape implies (IMPLIED_ERRORS), in any mode. */
function impliedErrorCodes(
  route: Pick<RouteOptions, 'method' | 'preValidation'>,
  schema: FastifySchema,
): ErrorCode[] {
  const codes: ErrorCode[] = [...IMPLIED_ERRORS.everyRoute];
  const query = schema.querystring as SchemaNode | undefined;
  if (query) {
    codes.push(...IMPLIED_ERRORS.query);
    if (hasRequired(query)) codes.push(...IMPLIED_ERRORS.requiredQuery);
  }
  if (schema.params) codes.push(...IMPLIED_ERRORS.pathParameters);
  const body = schema.body as SchemaNode | undefined;
  const methods = [route.method].flat();
  if (body) {
    codes.push(...IMPLIED_ERRORS.jsonBody, ...IMPLIED_ERRORS.bodyFields);
    if (anywhere(body, (node) => node.additionalProperties === false)) {
      codes.push(...IMPLIED_ERRORS.strictBody);
    }
    if (anywhere(body, hasRequired)) codes.push(...IMPLIED_ERRORS.requiredBodyField);
  } else if (!methods.includes('GET') && refusesBodies(route)) {
    // Read, then refused; not on GET, where Fastify reads no body at all.
    codes.push(...IMPLIED_ERRORS.jsonBody, ...IMPLIED_ERRORS.noBody);
  }
  for (const requirement of schema.security ?? []) {
    for (const [scheme, scopes] of Object.entries(requirement)) {
      if (scheme === 'apiKey') {
        codes.push(...IMPLIED_ERRORS.apiKey);
        if (scopes.includes('admin')) codes.push(...IMPLIED_ERRORS.adminScope);
      }
      if (scheme === 'widgetToken' || scheme === 'dpop') codes.push(...IMPLIED_ERRORS.widgetToken);
      if (scheme === 'accountToken') codes.push(...IMPLIED_ERRORS.accountToken);
    }
  }
  return codes;
}

const ORDER = new Map(Object.keys(ErrorCodes).map((code, index) => [code, index]));

/** Every code `route` can answer in this mode: implied and its own, by status then as listed. */
function routeErrorCodes(
  route: Pick<RouteOptions, 'method' | 'preValidation'>,
  schema: FastifySchema,
  demoMode: boolean,
): ErrorCode[] {
  const never = demoMode ? ONLY_OUTSIDE_DEMO_MODE : ONLY_IN_DEMO_MODE;
  const codes = new Set([
    ...impliedErrorCodes(route, schema),
    ...(schema.documented?.errors ?? []),
  ]);
  return [...codes]
    .filter((code) => !never.includes(code))
    .sort((a, b) => ErrorCodes[a] - ErrorCodes[b] || ORDER.get(a)! - ORDER.get(b)!);
}

type Status = (typeof ErrorCodes)[ErrorCode];

const STATUS_MEANINGS: Readonly<Record<Status, string>> = {
  400: 'The request is not valid',
  401: 'Not authenticated',
  403: 'The credential may not do this',
  404: 'No such resource',
  405: 'The method is not allowed',
  409: 'The resource’s state does not allow it',
  413: 'The body is larger than the limit',
  415: 'The body is not JSON in UTF-8',
  421: 'DEMO_MODE: this demo does not answer for that Host',
  429: 'Too many attempts',
  500: 'A fault on the platform’s side (no internals are shown)',
};

/** The detail fields some codes carry beside `code`, `message` and `field`. */
const ERROR_DETAILS: Partial<Record<ErrorCode, Record<string, unknown>>> = {
  INSUFFICIENT_SCOPE: { required_scope: { type: 'string', enum: [...SCOPES] } },
  INVALID_STATUS_TRANSITION: {
    current_status: { type: 'string', description: 'With INVALID_STATUS_TRANSITION' },
    requested_status: { type: 'string', description: 'With INVALID_STATUS_TRANSITION' },
  },
  CURRENT_PIN_INCORRECT: {
    pin_tries_remaining: {
      type: 'integer',
      minimum: 0,
      description: 'With CURRENT_PIN_INCORRECT: 0 means the PIN is now blocked',
    },
  },
  CARD_NOT_ACTIVE: { card_status: { type: 'string', description: 'With CARD_NOT_ACTIVE' } },
  CARD_NOT_ISSUED: {
    card_fulfillment_status: { type: 'string', description: 'With CARD_NOT_ISSUED' },
  },
  RATE_LIMITED: {
    retry_after: {
      type: 'integer',
      minimum: 1,
      description: 'With RATE_LIMITED: seconds until a retry can pass (also Retry-After)',
    },
    quota: { type: 'string', enum: ['card', 'account', 'platform'] },
  },
};

/** Response headers some codes set. */
const ERROR_HEADERS: Partial<Record<ErrorCode, [string, Record<string, unknown>]>> = {
  RATE_LIMITED: ['retry-after', { type: 'integer', description: 'With RATE_LIMITED: seconds' }],
  ACCOUNT_TOKEN_MISSING: [
    'www-authenticate',
    { type: 'string', description: 'With ACCOUNT_TOKEN_*: the Bearer challenge (RFC 6750)' },
  ],
};
ERROR_HEADERS.ACCOUNT_TOKEN_INVALID = ERROR_HEADERS.ACCOUNT_TOKEN_MISSING;
ERROR_HEADERS.ACCOUNT_TOKEN_EXPIRED = ERROR_HEADERS.ACCOUNT_TOKEN_MISSING;

/** One example body per code: what the platform answers (the messages are the real ones). */
const ERROR_EXAMPLES: Readonly<Record<ErrorCode, Omit<ErrorBody, 'code'>>> = {
  INVALID_REQUEST: { message: 'The request body must be object' },
  MALFORMED_JSON: { message: 'The body is not valid JSON' },
  MISSING_FIELD: { message: 'Missing required field "form"', field: 'form' },
  UNKNOWN_FIELD: { message: 'Unknown query parameter "expand": remove it', field: 'expand' },
  INVALID_FIELD: {
    message: 'The field "pin_length" must be <= 12',
    field: 'pin_length',
  },
  OFFLINE_PIN_REQUIRES_PIN_POLICY: {
    message: 'offline_pin requires pin_issuance_policy RANDOM or REQUIRED',
    field: 'offline_pin',
  },
  VIRTUAL_PRODUCT_HAS_NO_PIN_POLICY: {
    message: 'A VIRTUAL product has no PIN: remove pin_issuance_policy',
    field: 'pin_issuance_policy',
  },
  CARD_PRODUCT_NOT_FOUND: {
    message: 'No card product with id "cp_01k2m3n4p5q6r7s8t9v0w1x2y3"',
    field: 'card_product_id',
  },
  TEST_ONLY_FIELD: {
    message: 'pan and pan_sequence_number are for tests and demos only (DEMO_MODE=1)',
    field: 'pan',
  },
  CARD_IS_VIRTUAL: { message: 'Virtual cards have no PIN' },
  CARD_TERMINATED: { message: 'The card is terminated: its PIN can no longer be used' },
  PIN_DECRYPTION_FAILED: { message: 'The encrypted PIN could not be decrypted' },
  UNKNOWN_KEY_ID: {
    message: 'The PIN was encrypted to an unknown key: fetch /v1/pin_keys again',
  },
  SESSION_MISMATCH: { message: 'This encrypted PIN was made for another widget session' },
  INVALID_PIN_PAYLOAD: { message: 'The encrypted payload must be {"pin":"<digits>"}' },
  PIN_NOT_DIGITS: { message: 'The PIN must be digits only', field: 'pin' },
  PIN_WRONG_LENGTH: { message: 'The PIN must be exactly 4 digits', field: 'pin' },
  PIN_TOO_WEAK: {
    message: 'This PIN is too easy to guess: avoid repeats, sequences and common PINs',
    field: 'pin',
  },
  PIN_MATCHES_CARD_NUMBER: {
    message: 'The PIN must not be the last digits of the card number',
    field: 'pin',
  },
  INVALID_PUBLIC_KEY: {
    message: 'public_key must be a public EC P-256 JWK',
    field: 'public_key',
  },
  BODY_NOT_ALLOWED: { message: 'This endpoint takes no body: send none' },
  OFFLINE_PIN_NOT_ENABLED: {
    message: 'This card has no offline PIN: its product was created without offline_pin',
  },
  NO_PIN_TO_SYNC: { message: 'This card has no PIN yet: set one first' },
  INVALID_PIN_BLOCK: {
    message: 'pin_block.block must be 32 hex digits for ISO_9564_4',
    field: 'pin_block.block',
  },
  CURRENT_PIN_REQUIRED: {
    message: 'This card program asks for the current PIN to change it',
    field: 'current_pin',
  },
  CURRENT_PIN_INCORRECT: {
    message: 'The current PIN is wrong',
    field: 'current_pin',
    pin_tries_remaining: 2,
  },
  PIN_PAD_CARD_MISMATCH: {
    message: 'This PIN was entered at the pad for another card',
    field: 'encrypted_pin',
  },
  PIN_PAD_ENTRY_EXPIRED: {
    message: 'The PIN must be translated within 120 s of its entry: enter it again',
    field: 'encrypted_pin',
  },
  PASSKEY_REGISTRATION_FAILED: {
    message: 'The passkey could not be registered: try again on this device',
  },
  WEBHOOK_URL_FORBIDDEN: {
    message: 'url must be https outside DEMO_MODE, got "http:"',
    field: 'url',
  },
  WIDGET_TOKEN_MISSING: {
    message:
      'Send the widget token as "Authorization: Bearer <token>" (or "DPoP <token>" with a DPoP proof)',
  },
  WIDGET_TOKEN_INVALID: { message: 'The widget token is not valid' },
  WIDGET_TOKEN_EXPIRED: { message: 'The widget token has expired: ask for a new one' },
  WIDGET_TOKEN_USED: { message: 'The widget token was already used: ask for a new one' },
  WIDGET_TOKEN_LOCKED: { message: 'Too many failed attempts with this widget token' },
  DPOP_PROOF_MISSING: { message: 'A DPoP proof is required for this token (DPoP header)' },
  DPOP_PROOF_INVALID: { message: 'The DPoP proof is not a valid ES256 dpop+jwt' },
  DPOP_PROOF_STALE: { message: 'The DPoP proof is not fresh (iat must be within 60 seconds)' },
  DPOP_PROOF_REPLAYED: { message: 'The DPoP proof was already used (jti seen before)' },
  DPOP_PROOF_WRONG_KEY: {
    message: 'The DPoP proof is signed by a key this token is not bound to',
  },
  DPOP_PROOF_WRONG_REQUEST: { message: 'The DPoP proof is for another request (htm/htu)' },
  DPOP_PROOF_WRONG_TOKEN: { message: 'The DPoP proof is for another token (ath)' },
  DPOP_BINDING_REQUIRED: {
    message:
      'Pass jkt, the RFC 7638 thumbprint of the widget’s DPoP key (the SDK’s fetchToken gives it to you): bearer widget tokens are off for this card’s product (allow_bearer_widget_tokens)',
    field: 'jkt',
  },
  ACCOUNT_TOKEN_MISSING: {
    message:
      'Send an account token as "Authorization: Bearer <token>" (POST /v1/accounts/{account_id}/tokens)',
  },
  ACCOUNT_TOKEN_INVALID: { message: 'The account token is not valid' },
  ACCOUNT_TOKEN_EXPIRED: { message: 'The account token has expired: get a new one' },
  STEP_UP_REQUIRED: {
    message: 'This card program asks the cardholder to confirm with a passkey before a reveal',
  },
  STEP_UP_FAILED: { message: 'The passkey confirmation could not be verified: try again' },
  UNAUTHORIZED: { message: 'Send the API key as "Authorization: Bearer <API_KEY>"' },
  FORBIDDEN: { message: 'Widget endpoints answer only the widget documents' },
  INSUFFICIENT_SCOPE: {
    message: 'This route needs an API key with the "admin" scope',
    required_scope: 'admin',
  },
  WIDGET_TOKEN_WRONG_TYPE: { message: 'This widget token is for SET_PIN, not REVEAL_PIN' },
  ORIGIN_MISMATCH: { message: 'The widget runs under an origin this token was not minted for' },
  CARD_NOT_IN_ACCOUNT: { message: 'This card does not belong to the token’s account' },
  NOT_FOUND: { message: 'No card with id "card_01k2m3n4p5q6r7s8t9v0w1x2y3"' },
  ROUTE_NOT_FOUND: { message: 'No route GET /v1/card' },
  METHOD_NOT_ALLOWED: { message: 'The method is not allowed' },
  INVALID_STATUS_TRANSITION: {
    message: 'A TERMINATED card cannot become ACTIVE',
    field: 'card_status',
    current_status: 'TERMINATED',
    requested_status: 'ACTIVE',
  },
  CARD_NOT_ACTIVE: {
    message: 'The PIN can be revealed only for an ACTIVE card: activate the card first',
    card_status: 'UNACTIVATED',
  },
  PIN_NOT_SET: { message: 'This card has no PIN yet' },
  PIN_BLOCKED: {
    message:
      'The PIN is blocked after too many wrong tries: the card program must unblock it first',
  },
  PASSKEY_NOT_ENROLLED: {
    message: 'The cardholder has no passkey yet: enroll one with the enroll-passkey widget first',
  },
  PASSKEY_ALREADY_ENROLLED: { message: 'This passkey is already enrolled' },
  CARD_HAS_NO_CUSTOMER: {
    message: 'Passkeys belong to the card’s customer: issue the card with a customer_id',
  },
  CARD_NOT_ISSUED: {
    message: 'The physical card has not been issued yet: there is no chip or stripe to read',
    card_fulfillment_status: 'ORDERED',
  },
  PAN_ALREADY_ISSUED: { message: 'A card with this pan already exists', field: 'pan' },
  PAYLOAD_TOO_LARGE: { message: 'The request body is too large' },
  MISDIRECTED_REQUEST: {
    message: 'This demo platform answers only for localhost, 127.0.0.1, [::1]',
  },
  UNSUPPORTED_MEDIA_TYPE: { message: 'Send the body as Content-Type: application/json' },
  RATE_LIMITED: {
    message: 'Too many PIN reveals for this card: try again in 1800 seconds',
    retry_after: 1800,
    quota: 'card',
  },
  TOO_MANY_ATTEMPTS: {
    message: 'Too many failed attempts: this widget session is closed, start a new one',
  },
  INTERNAL_ERROR: { message: 'Something went wrong on our side; try again' },
};

/**
 * Where a route's INVALID_REQUEST, INVALID_FIELD and MISSING_FIELD come from, so its examples show
 * a message it can really answer: its body, the no-body check, or its path and query parameters.
 */
type ExampleContext = 'body' | 'noBody' | 'parameters';

const CONTEXT_EXAMPLES: Readonly<
  Record<Exclude<ExampleContext, 'body'>, Partial<Record<ErrorCode, Omit<ErrorBody, 'code'>>>>
> = {
  noBody: { INVALID_REQUEST: { message: 'Send no body, or an empty JSON object' } },
  parameters: {
    INVALID_REQUEST: { message: 'The URL path is not valid percent-encoded UTF-8' },
    INVALID_FIELD: {
      message: 'id holds a character no parameter of this API takes (U+0000 or a lone surrogate)',
      field: 'id',
    },
    MISSING_FIELD: { message: 'Missing required query parameter "format"', field: 'format' },
  },
};

function exampleContext(route: Pick<RouteOptions, 'preValidation'>, schema: FastifySchema) {
  if (schema.body) return 'body';
  return refusesBodies(route) ? 'noBody' : 'parameters';
}

/** The name under `components.examples` of `code`'s example in `context`. */
function exampleName(code: ErrorCode, context: ExampleContext): string {
  return context !== 'body' && CONTEXT_EXAMPLES[context][code] ? `${code}.${context}` : code;
}

const ref = (kind: 'schemas' | 'examples', name: string) => ({
  $ref: `#/components/${kind}/${name}`,
});

/** The document's response for one status: its codes as an enum, an example of each. */
function errorResponse(status: Status, codes: readonly ErrorCode[], context: ExampleContext) {
  const headers = Object.fromEntries(
    codes.flatMap((code) => (ERROR_HEADERS[code] ? [ERROR_HEADERS[code]] : [])),
  );
  return {
    'x-response-description': `${STATUS_MEANINGS[status]}: ${codes.map((code) => `\`${code}\``).join(', ')}.`,
    allOf: [ref('schemas', 'Error')],
    required: ['code'],
    properties: {
      code: { type: 'string', enum: codes },
      ...Object.assign({}, ...codes.map((code) => ERROR_DETAILS[code] ?? {})),
    },
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    'x-examples': Object.fromEntries(
      codes.map((code) => [code, ref('examples', exampleName(code, context))]),
    ),
  };
}

/** The error body every error response extends. */
const ErrorSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', description: 'Stable: switch on it' },
    message: { type: 'string', description: 'For people: may change' },
    field: { type: 'string', description: 'The field at fault, as a dotted path' },
  },
  // Some codes carry details (ERROR_DETAILS): a client must accept fields it does not know.
  additionalProperties: true,
  description: 'Every error: `{ code, message, field? }`, with details for some codes',
};

/** The document's success response: its schema, or none (no body). */
function successResponse({ description, schema }: DocumentedResponse) {
  return schema === undefined ? { type: 'null', description } : { ...schema, description };
}

/**
 * @fastify/swagger's `transform`: every documented route gets its operation fields, its success
 * responses and one response per error status, for the document only. A route left without
 * `operation()` fails the document, so none goes out undocumented.
 */
export function documentRoute(mode: { demoMode: boolean }): SwaggerTransform {
  return ({ schema, url, route }) => {
    if (!schema || schema.hide) return { schema, url };
    const { documented, ...rest } = schema;
    if (!documented) {
      throw new Error(`${String(route.method)} ${url}: describe it with operation() (openapi.ts)`);
    }
    const byStatus = new Map<Status, ErrorCode[]>();
    for (const code of routeErrorCodes(route, schema, mode.demoMode)) {
      byStatus.set(ErrorCodes[code], [...(byStatus.get(ErrorCodes[code]) ?? []), code]);
    }
    const context = exampleContext(route, schema);
    const widget = (schema.security ?? []).some((requirement) => 'dpop' in requirement);
    const response = {
      ...Object.fromEntries(
        Object.entries(documented.responses).map(([status, doc]) => [status, successResponse(doc)]),
      ),
      ...Object.fromEntries(
        [...byStatus].map(([status, codes]) => [status, errorResponse(status, codes, context)]),
      ),
    };
    return { schema: { ...rest, ...(widget ? { headers: WIDGET_HEADERS } : {}), response }, url };
  };
}

/**
 * The headers a widget call carries beside `Authorization` (README “PINs”): the DPoP proof of a
 * sender-constrained token, and the parent origin a token minted with `origin` must be used under.
 * Documented only: the token check reads them.
 */
const WIDGET_HEADERS = {
  type: 'object',
  properties: {
    dpop: {
      type: 'string',
      description: 'The DPoP proof (RFC 9449) for this request, with `Authorization: DPoP <token>`',
    },
    'pin-widget-parent-origin': {
      type: 'string',
      description:
        'The origin of the page framing the widget; required for a token minted with `origin`, absent top-level',
    },
  },
} as const;

/**
 * @fastify/swagger's `transformObject`: the `Error` schema, and the examples the error responses
 * refer to (only those: an unused component is a lint warning).
 */
export const addErrorComponents: SwaggerTransformObject = (document) => {
  if (!('openapiObject' in document)) throw new Error('an OpenAPI document is expected');
  // Read as plain JSON: the document's typings are a union of every OpenAPI version's.
  const openapi = document.openapiObject as {
    paths?: Record<string, Record<string, { responses?: unknown }>>;
    components?: Record<string, Record<string, unknown>>;
  };
  const used = new Set<string>();
  for (const operations of Object.values(openapi.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      const text = JSON.stringify(operation.responses ?? {});
      for (const [, name] of text.matchAll(/"#\/components\/examples\/([^"]+)"/g)) used.add(name!);
    }
  }
  const examples = Object.fromEntries(
    [...used].sort().map((name) => {
      const [code, context] = name.split('.') as [ErrorCode, Exclude<ExampleContext, 'body'>?];
      const body = (context && CONTEXT_EXAMPLES[context][code]) ?? ERROR_EXAMPLES[code];
      return [name, { summary: code, value: { code, ...body } }];
    }),
  );
  return {
    ...document.openapiObject,
    components: {
      ...openapi.components,
      schemas: { ...openapi.components?.schemas, Error: ErrorSchema },
      examples: { ...openapi.components?.examples, ...examples },
    },
  } as typeof document.openapiObject;
};
