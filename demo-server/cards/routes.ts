import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { refuseBody } from '../http/no-body.js';
import {
  Nullable,
  Timestamp,
  operation,
  listOf,
  schemaRef,
  withExamples,
} from '../http/openapi.js';
import { IdParam, PageQuery, StrictObject, listResponse, pageOf } from '../http/schemas.js';
import { cardResource, productResource } from './resources.js';
import type { CardService } from './service.js';

const Policy = Type.Union([
  Type.Literal('NOT_REQUIRED'),
  Type.Literal('RANDOM'),
  Type.Literal('REQUIRED'),
]);
const Status = Type.Union([
  Type.Literal('PENDING'),
  Type.Literal('UNACTIVATED'),
  Type.Literal('ACTIVE'),
  Type.Literal('SUSPENDED'),
  Type.Literal('TERMINATED'),
]);

const Form = Type.Union([Type.Literal('PHYSICAL'), Type.Literal('VIRTUAL')]);
const EmvProfile = Type.Union([
  Type.Literal('EMV_CCD'),
  Type.Literal('MASTERCARD'),
  Type.Literal('VISA'),
]);
const RevealStepUp = Type.Union([Type.Literal('NONE'), Type.Literal('PASSKEY')], {
  description:
    'Default NONE. PASSKEY: a reveal needs the cardholder’s passkey, asserted inside the platform’s document (docs/step-up.md)',
});

const NewProductFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  form: Form,
  pin_issuance_policy: Type.Optional(Policy),
  offline_pin: Type.Optional(Type.Boolean()),
  pin_length: Type.Optional(Type.Integer({ minimum: 4, maximum: 12 })),
  emv_profile: Type.Optional(EmvProfile),
  allow_bearer_widget_tokens: Type.Optional(
    Type.Boolean({
      description:
        'Compatibility mode, default false: widget tokens without jkt (bearer) may be minted. A stolen bearer token is usable by whoever holds it; DPoP-bound ones are not.',
    }),
  ),
  pin_try_limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 10,
      description:
        'Default 3: wrong PINs in a row before the PIN blocks (online, and the chip’s PIN Try Limit)',
    }),
  ),
  pin_change_requires_current_pin: Type.Optional(
    Type.Boolean({
      description:
        'Default false: the Set PIN widget asks for the current PIN when the card has one (a wrong one uses a try)',
    }),
  ),
  reveal_step_up: Type.Optional(RevealStepUp),
};
const NewProductBody = withExamples(StrictObject(NewProductFields), {
  name: 'Debit, physical',
  form: 'PHYSICAL',
  pin_issuance_policy: 'REQUIRED',
  offline_pin: true,
  pin_length: 4,
  emv_profile: 'VISA',
  pin_try_limit: 3,
});

const ExternalId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });

const NewCardBody = withExamples(
  StrictObject({
    card_product_id: Type.String({ minLength: 1, maxLength: 64 }),
    account_id: ExternalId,
    customer_id: Type.Optional(ExternalId),
    pan: Type.Optional(
      Type.String({ pattern: '^[0-9]{12,19}$', description: 'Tests and demos only' }),
    ),
    pan_sequence_number: Type.Optional(
      Type.String({ pattern: '^[0-9]{2}$', description: 'Tests and demos only' }),
    ),
  }),
  {
    card_product_id: 'cp_01k2m3n4p5q6r7s8t9v0w1x2y3',
    account_id: 'acct_1042',
    customer_id: 'cust_77',
  },
);

const CardPatchBody = withExamples(
  StrictObject({
    card_status: Type.Optional(Status),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    memo: Type.Optional(Type.String({ maxLength: 500 })),
  }),
  { card_status: 'SUSPENDED', reason: 'Reported lost by the cardholder' },
);

const CardListQuery = StrictObject({
  ...PageQuery,
  account_id: Type.Optional(ExternalId),
  card_status: Type.Optional(Status),
});

const ProductParams = IdParam('cp');
const CardParams = IdParam('card');
const security = [{ apiKey: [] }];

/** The resources of this module as the document names them (`resources.ts` builds them). */
export const cardSchemas = {
  CardProduct: withExamples(
    Type.Object(
      {
        id: Type.String({ pattern: '^cp_[0-9a-z]{26}$' }),
        name: Type.String(),
        form: Form,
        pin_issuance_policy: Nullable(Policy),
        offline_pin: Type.Boolean(),
        pin_length: Type.Integer({ minimum: 4, maximum: 12 }),
        emv_profile: EmvProfile,
        allow_bearer_widget_tokens: Type.Boolean(),
        pin_try_limit: Type.Integer({ minimum: 1, maximum: 10 }),
        pin_change_requires_current_pin: Type.Boolean(),
        reveal_step_up: RevealStepUp,
        created_time: Timestamp,
      },
      { additionalProperties: false, description: 'A card product' },
    ),
    {
      id: 'cp_01k2m3n4p5q6r7s8t9v0w1x2y3',
      name: 'Debit, physical',
      form: 'PHYSICAL',
      pin_issuance_policy: 'REQUIRED',
      offline_pin: true,
      pin_length: 4,
      emv_profile: 'VISA',
      allow_bearer_widget_tokens: false,
      pin_try_limit: 3,
      pin_change_requires_current_pin: false,
      reveal_step_up: 'NONE',
      created_time: '2026-05-04T09:12:30.120Z',
    },
  ),
  Card: withExamples(
    Type.Object(
      {
        id: Type.String({ pattern: '^card_[0-9a-z]{26}$' }),
        account_id: Type.String(),
        customer_id: Nullable(Type.String()),
        card_product_id: Type.String(),
        form: Form,
        last_four: Type.String({ pattern: '^[0-9]{4}$' }),
        card_status: Status,
        status_reason: Nullable(Type.String()),
        memo: Nullable(Type.String()),
        pending_reasons: Type.Object(
          { is_waiting_for_pin: Type.Boolean() },
          { additionalProperties: false },
        ),
        card_fulfillment_status: Type.Union([
          Type.Literal('ORDERED'),
          Type.Literal('ISSUED'),
          Type.Literal('SHIPPED'),
          Type.Literal('DIGITALLY_PRESENTED'),
        ]),
        is_pin_set: Type.Boolean(),
        timestamp_pin_set: Nullable(Timestamp),
        pin_status: Type.Union([
          Type.Literal('NOT_SET'),
          Type.Literal('OK'),
          Type.Literal('BLOCKED'),
        ]),
        pin_tries_remaining: Type.Integer({ minimum: 0 }),
        offline_pin: Type.Optional(
          Type.Object(
            {
              enabled: Type.Literal(true),
              in_sync: Type.Boolean(),
              pending_script_id: Nullable(Type.String()),
            },
            {
              additionalProperties: false,
              description: 'Physical cards of an offline-PIN product only',
            },
          ),
        ),
        created_time: Timestamp,
        last_modified_time: Timestamp,
      },
      { additionalProperties: false, description: 'A card: never its full PAN' },
    ),
    {
      id: 'card_01k2m3n6a7b8c9d0e1f2g3h4j5',
      account_id: 'acct_1042',
      customer_id: 'cust_77',
      card_product_id: 'cp_01k2m3n4p5q6r7s8t9v0w1x2y3',
      form: 'PHYSICAL',
      last_four: '4242',
      card_status: 'PENDING',
      status_reason: null,
      memo: null,
      pending_reasons: { is_waiting_for_pin: true },
      card_fulfillment_status: 'ORDERED',
      is_pin_set: false,
      timestamp_pin_set: null,
      pin_status: 'NOT_SET',
      pin_tries_remaining: 3,
      offline_pin: { enabled: true, in_sync: false, pending_script_id: null },
      created_time: '2026-05-04T09:13:02.481Z',
      last_modified_time: '2026-05-04T09:13:02.481Z',
    },
  ),
};
const CardProduct = schemaRef('CardProduct');
const Card = schemaRef('Card');

export function cardRoutes(
  app: FastifyInstance,
  cards: CardService,
  options: { simulations: boolean },
): void {
  app.post<{ Body: Static<typeof NewProductBody> }>(
    '/v1/card_products',
    {
      schema: {
        ...operation({
          id: 'createCardProduct',
          summary: 'Create a card product',
          tag: 'cards',
          errors: ['OFFLINE_PIN_REQUIRES_PIN_POLICY', 'VIRTUAL_PRODUCT_HAS_NO_PIN_POLICY'],
          responses: { 201: { description: 'The new card product', schema: CardProduct } },
        }),
        body: NewProductBody,
        security,
      },
    },
    async (request, reply) => {
      const product = await cards.createProduct(request.body);
      return reply.status(201).send(productResource(product));
    },
  );

  app.get<{ Querystring: Static<typeof PageQueryObject> }>(
    '/v1/card_products',
    {
      schema: {
        ...operation({
          id: 'listCardProducts',
          summary: 'List card products',
          tag: 'cards',
          responses: {
            200: { description: 'A page of card products', schema: listOf(CardProduct) },
          },
        }),
        querystring: PageQueryObject,
        security,
      },
    },
    async (request) => {
      const page = await cards.listProducts(pageOf(request.query));
      return listResponse(page, productResource);
    },
  );

  app.get<{ Params: Static<typeof ProductParams> }>(
    '/v1/card_products/:id',
    {
      schema: {
        ...operation({
          id: 'getCardProduct',
          summary: 'Get a card product',
          tag: 'cards',
          errors: ['NOT_FOUND'],
          responses: { 200: { description: 'The card product', schema: CardProduct } },
        }),
        params: ProductParams,
        security,
      },
    },
    async (request) => productResource(await cards.getProduct(request.params.id)),
  );

  app.post<{ Body: Static<typeof NewCardBody> }>(
    '/v1/cards',
    {
      schema: {
        ...operation({
          id: 'createCard',
          summary: 'Issue a card',
          tag: 'cards',
          errors: ['CARD_PRODUCT_NOT_FOUND', 'TEST_ONLY_FIELD', 'PAN_ALREADY_ISSUED'],
          responses: { 201: { description: 'The new card', schema: Card } },
        }),
        body: NewCardBody,
        security,
      },
    },
    async (request, reply) => {
      const card = await cards.createCard(request.body);
      return reply.status(201).send(cardResource(card));
    },
  );

  app.get<{ Querystring: Static<typeof CardListQuery> }>(
    '/v1/cards',
    {
      schema: {
        ...operation({
          id: 'listCards',
          summary: 'List cards',
          tag: 'cards',
          responses: { 200: { description: 'A page of cards', schema: listOf(Card) } },
        }),
        querystring: CardListQuery,
        security,
      },
    },
    async (request) => {
      const page = await cards.listCards({
        ...pageOf(request.query),
        accountId: request.query.account_id,
        cardStatus: request.query.card_status,
      });
      return listResponse(page, cardResource);
    },
  );

  app.get<{ Params: Static<typeof CardParams> }>(
    '/v1/cards/:id',
    {
      schema: {
        ...operation({
          id: 'getCard',
          summary: 'Get a card',
          tag: 'cards',
          errors: ['NOT_FOUND'],
          responses: { 200: { description: 'The card', schema: Card } },
        }),
        params: CardParams,
        security,
      },
    },
    async (request) => cardResource(await cards.getCard(request.params.id)),
  );

  app.patch<{ Params: Static<typeof CardParams>; Body: Static<typeof CardPatchBody> }>(
    '/v1/cards/:id',
    {
      schema: {
        ...operation({
          id: 'updateCard',
          summary: 'Change a card’s status (activate, suspend, terminate) or memo',
          tag: 'cards',
          errors: ['NOT_FOUND', 'INVALID_STATUS_TRANSITION'],
          responses: { 200: { description: 'The card after the change', schema: Card } },
        }),
        params: CardParams,
        body: CardPatchBody,
        security,
      },
    },
    async (request) => cardResource(await cards.updateCard(request.params.id, request.body)),
  );

  if (!options.simulations) return;
  app.post<{ Params: Static<typeof CardParams> }>(
    '/v1/simulations/cards/:id/advance',
    {
      schema: {
        ...operation({
          id: 'advanceCard',
          summary: 'Run the card’s scheduled jobs now (tests and demos)',
          tag: 'simulations',
          description: 'Send no body (or `{}`).',
          errors: ['NOT_FOUND'],
          responses: { 200: { description: 'The card after its jobs ran', schema: Card } },
        }),
        params: CardParams,
        security,
      },
      preValidation: refuseBody,
    },
    async (request) => cardResource(await cards.advance(request.params.id)),
  );
}

const PageQueryObject = StrictObject(PageQuery);
