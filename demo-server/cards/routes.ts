import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { refuseBody } from '../http/no-body.js';
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

const NewProductBody = StrictObject({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  form: Type.Union([Type.Literal('PHYSICAL'), Type.Literal('VIRTUAL')]),
  pin_issuance_policy: Type.Optional(Policy),
  offline_pin: Type.Optional(Type.Boolean()),
  pin_length: Type.Optional(Type.Integer({ minimum: 4, maximum: 12 })),
  emv_profile: Type.Optional(
    Type.Union([Type.Literal('EMV_CCD'), Type.Literal('MASTERCARD'), Type.Literal('VISA')]),
  ),
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
  reveal_step_up: Type.Optional(
    Type.Union([Type.Literal('NONE'), Type.Literal('PASSKEY')], {
      description:
        'Default NONE. PASSKEY: a reveal needs the cardholder’s passkey, asserted inside the platform’s document (docs/step-up.md)',
    }),
  ),
});

const ExternalId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' });

const NewCardBody = StrictObject({
  card_product_id: Type.String({ minLength: 1, maxLength: 64 }),
  account_id: ExternalId,
  customer_id: Type.Optional(ExternalId),
  pan: Type.Optional(
    Type.String({ pattern: '^[0-9]{12,19}$', description: 'Tests and demos only' }),
  ),
  pan_sequence_number: Type.Optional(
    Type.String({ pattern: '^[0-9]{2}$', description: 'Tests and demos only' }),
  ),
});

const CardPatchBody = StrictObject({
  card_status: Type.Optional(Status),
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  memo: Type.Optional(Type.String({ maxLength: 500 })),
});

const CardListQuery = StrictObject({
  ...PageQuery,
  account_id: Type.Optional(ExternalId),
  card_status: Type.Optional(Status),
});

const ProductParams = IdParam('cp');
const CardParams = IdParam('card');
const security = [{ apiKey: [] }];

export function cardRoutes(
  app: FastifyInstance,
  cards: CardService,
  options: { simulations: boolean },
): void {
  app.post<{ Body: Static<typeof NewProductBody> }>(
    '/v1/card_products',
    {
      schema: { tags: ['cards'], summary: 'Create a card product', body: NewProductBody, security },
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
        tags: ['cards'],
        summary: 'List card products',
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
    { schema: { tags: ['cards'], summary: 'Get a card product', params: ProductParams, security } },
    async (request) => productResource(await cards.getProduct(request.params.id)),
  );

  app.post<{ Body: Static<typeof NewCardBody> }>(
    '/v1/cards',
    { schema: { tags: ['cards'], summary: 'Issue a card', body: NewCardBody, security } },
    async (request, reply) => {
      const card = await cards.createCard(request.body);
      return reply.status(201).send(cardResource(card));
    },
  );

  app.get<{ Querystring: Static<typeof CardListQuery> }>(
    '/v1/cards',
    { schema: { tags: ['cards'], summary: 'List cards', querystring: CardListQuery, security } },
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
    { schema: { tags: ['cards'], summary: 'Get a card', params: CardParams, security } },
    async (request) => cardResource(await cards.getCard(request.params.id)),
  );

  app.patch<{ Params: Static<typeof CardParams>; Body: Static<typeof CardPatchBody> }>(
    '/v1/cards/:id',
    {
      schema: {
        tags: ['cards'],
        summary: 'Change a card’s status (activate, suspend, terminate) or memo',
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
        tags: ['simulations'],
        summary: 'Run the card’s scheduled jobs now (tests and demos)',
        params: CardParams,
        security,
      },
      preValidation: refuseBody,
    },
    async (request) => cardResource(await cards.advance(request.params.id)),
  );
}

const PageQueryObject = StrictObject(PageQuery);
