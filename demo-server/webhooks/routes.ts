import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { refuseBody } from '../http/no-body.js';
import {
  Nullable,
  Timestamp,
  listOf,
  operation,
  schemaRef,
  withExamples,
} from '../http/openapi.js';
import { IdParam, PageQuery, StrictObject, listResponse, pageOf } from '../http/schemas.js';
import type { Delivery, DeliveryAttempt, EventRecord, Webhook } from '../store/types.js';
import type { WebhookService } from './service.js';

const EventPatterns = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  minItems: 1,
  maxItems: 20,
});
const Url = Type.String({ minLength: 1, maxLength: 2048 });
const Description = Type.Union([Type.String({ maxLength: 500 }), Type.Null()]);

const NewWebhookBody = withExamples(
  StrictObject({
    url: Url,
    enabled_events: EventPatterns,
    is_enabled: Type.Optional(Type.Boolean()),
    description: Type.Optional(Description),
  }),
  {
    url: 'https://program.example/hooks/pin-widgets',
    enabled_events: ['CARD.*'],
    description: 'Card changes for the back office',
  },
);
const WebhookPatchBody = withExamples(
  StrictObject({
    url: Type.Optional(Url),
    enabled_events: Type.Optional(EventPatterns),
    is_enabled: Type.Optional(Type.Boolean()),
    description: Type.Optional(Description),
  }),
  { is_enabled: false },
);
const RotateBody = Type.Optional(
  withExamples(
    StrictObject({
      overlap_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600 })),
    }),
    { overlap_seconds: 3600 },
  ),
);
const RedeliverBody = Type.Optional(
  withExamples(StrictObject({ webhook_id: Type.Optional(Type.String({ maxLength: 64 })) }), {
    webhook_id: 'wh_01k2m3q1r2s3t4v5w6x7y8z9a0',
  }),
);
const WebhookParams = IdParam('wh');
const EventParams = IdParam('evt');
const PageQueryObject = StrictObject(PageQuery);
const EventListQuery = StrictObject({
  ...PageQuery,
  type: Type.Optional(Type.String({ maxLength: 64 })),
});
const security = [{ apiKey: [] }];

const webhookFields = {
  id: Type.String({ pattern: '^wh_[0-9a-z]{26}$' }),
  url: Type.String(),
  enabled_events: Type.Array(Type.String()),
  is_enabled: Type.Boolean(),
  description: Nullable(Type.String()),
  created_time: Timestamp,
};
const webhookExample = {
  id: 'wh_01k2m3q1r2s3t4v5w6x7y8z9a0',
  url: 'https://program.example/hooks/pin-widgets',
  enabled_events: ['CARD.*'],
  is_enabled: true,
  description: 'Card changes for the back office',
  created_time: '2026-05-04T09:40:00.000Z',
};
const eventFields = {
  id: Type.String({ pattern: '^evt_[0-9a-z]{26}$' }),
  type: Type.String({ description: 'CARD.CREATED, CARD.UPDATED, CARD.PIN.REVEALED, …' }),
  created_time: Timestamp,
  data: Type.Record(Type.String(), Type.Unknown()),
};
const eventExample = {
  id: 'evt_01k2m3n6a7b8c9d0e1f2g3h4j6',
  type: 'CARD.UPDATED',
  created_time: '2026-05-04T09:41:12.250Z',
  data: {
    card: { id: 'card_01k2m3n6a7b8c9d0e1f2g3h4j5', card_status: 'ACTIVE' },
    changed_fields: { card_status: 'UNACTIVATED' },
  },
};

/** The resources of this module as the document names them. */
export const webhookSchemas = {
  Webhook: withExamples(
    Type.Object(webhookFields, { additionalProperties: false, description: 'A subscription' }),
    webhookExample,
  ),
  WebhookWithSecret: withExamples(
    Type.Object(
      {
        ...webhookFields,
        secret: Type.String({
          pattern: '^whsec_',
          description:
            'The signing secret (Standard Webhooks): shown on creation and rotation only',
        }),
      },
      { additionalProperties: false, description: 'A subscription with its new signing secret' },
    ),
    { ...webhookExample, secret: 'whsec_MfKQ9r4IDCJ3UR6ZtEGgZzLPwHbO3Gt0dcOaUMkz2i0=' },
  ),
  Event: withExamples(
    Type.Object(eventFields, { additionalProperties: false, description: 'An event' }),
    eventExample,
  ),
  EventWithDeliveries: withExamples(
    Type.Object(
      {
        ...eventFields,
        deliveries: Type.Array(
          Type.Object(
            {
              id: Type.String(),
              webhook_id: Type.String(),
              status: Type.Union([
                Type.Literal('PENDING'),
                Type.Literal('SUCCEEDED'),
                Type.Literal('FAILED'),
              ]),
              attempt_count: Type.Integer({ minimum: 0 }),
              next_attempt_time: Nullable(Timestamp),
            },
            { additionalProperties: false },
          ),
        ),
        response_history: Type.Array(
          Type.Object(
            {
              delivery_id: Type.String(),
              webhook_id: Type.String(),
              attempt: Type.Integer({ minimum: 1 }),
              attempted_time: Timestamp,
              status_code: Nullable(Type.Integer()),
              error: Nullable(Type.String()),
              duration_ms: Type.Integer({ minimum: 0 }),
              response_body: Nullable(Type.String()),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false, description: 'An event, its deliveries and every attempt' },
    ),
    {
      ...eventExample,
      deliveries: [
        {
          id: 'dlv_01k2m3n6a7b8c9d0e1f2g3h4j7',
          webhook_id: 'wh_01k2m3q1r2s3t4v5w6x7y8z9a0',
          status: 'SUCCEEDED',
          attempt_count: 1,
          next_attempt_time: null,
        },
      ],
      response_history: [
        {
          delivery_id: 'dlv_01k2m3n6a7b8c9d0e1f2g3h4j7',
          webhook_id: 'wh_01k2m3q1r2s3t4v5w6x7y8z9a0',
          attempt: 1,
          attempted_time: '2026-05-04T09:41:12.402Z',
          status_code: 200,
          error: null,
          duration_ms: 87,
          response_body: 'ok',
        },
      ],
    },
  ),
};
const Webhook = schemaRef('Webhook');
const WebhookWithSecret = schemaRef('WebhookWithSecret');
const Event = schemaRef('Event');

function webhookResource(webhook: Webhook, withSecret = false) {
  return {
    id: webhook.id,
    url: webhook.url,
    enabled_events: webhook.enabledEvents,
    is_enabled: webhook.isEnabled,
    description: webhook.description,
    created_time: webhook.createdTime,
    // The signing secret is shown once: on creation and on rotation.
    ...(withSecret ? { secret: webhook.secret } : {}),
  };
}

function eventResource(event: EventRecord) {
  return { id: event.id, type: event.type, created_time: event.createdTime, data: event.data };
}

function deliveryResource(delivery: Delivery) {
  return {
    id: delivery.id,
    webhook_id: delivery.webhookId,
    status: delivery.status,
    attempt_count: delivery.attemptCount,
    next_attempt_time:
      delivery.status === 'PENDING' ? new Date(delivery.nextAttemptAt).toISOString() : null,
  };
}

function attemptResource(attempt: DeliveryAttempt) {
  return {
    delivery_id: attempt.deliveryId,
    webhook_id: attempt.webhookId,
    attempt: attempt.attemptNumber,
    attempted_time: attempt.attemptedTime,
    status_code: attempt.statusCode,
    error: attempt.error,
    duration_ms: attempt.durationMs,
    response_body: attempt.responseBody,
  };
}

export function webhookRoutes(app: FastifyInstance, webhooks: WebhookService): void {
  app.post<{ Body: Static<typeof NewWebhookBody> }>(
    '/v1/webhooks',
    {
      schema: {
        ...operation({
          id: 'createWebhook',
          summary: 'Subscribe a URL to events',
          tag: 'webhooks',
          errors: ['WEBHOOK_URL_FORBIDDEN'],
          responses: {
            201: { description: 'The subscription and its secret', schema: WebhookWithSecret },
          },
        }),
        body: NewWebhookBody,
        security,
      },
    },
    async (request, reply) =>
      reply.status(201).send(webhookResource(await webhooks.create(request.body), true)),
  );

  app.get<{ Querystring: Static<typeof PageQueryObject> }>(
    '/v1/webhooks',
    {
      schema: {
        ...operation({
          id: 'listWebhooks',
          summary: 'List webhooks',
          tag: 'webhooks',
          responses: { 200: { description: 'A page of webhooks', schema: listOf(Webhook) } },
        }),
        querystring: PageQueryObject,
        security,
      },
    },
    async (request) =>
      listResponse(await webhooks.list(pageOf(request.query)), (w) => webhookResource(w)),
  );

  app.get<{ Params: Static<typeof WebhookParams> }>(
    '/v1/webhooks/:id',
    {
      schema: {
        ...operation({
          id: 'getWebhook',
          summary: 'Get a webhook',
          tag: 'webhooks',
          errors: ['NOT_FOUND'],
          responses: { 200: { description: 'The subscription', schema: Webhook } },
        }),
        params: WebhookParams,
        security,
      },
    },
    async (request) => webhookResource(await webhooks.get(request.params.id)),
  );

  app.patch<{ Params: Static<typeof WebhookParams>; Body: Static<typeof WebhookPatchBody> }>(
    '/v1/webhooks/:id',
    {
      schema: {
        ...operation({
          id: 'updateWebhook',
          summary: 'Update a webhook',
          tag: 'webhooks',
          errors: ['NOT_FOUND', 'WEBHOOK_URL_FORBIDDEN'],
          responses: { 200: { description: 'The subscription after the change', schema: Webhook } },
        }),
        params: WebhookParams,
        body: WebhookPatchBody,
        security,
      },
    },
    async (request) => webhookResource(await webhooks.update(request.params.id, request.body)),
  );

  app.delete<{ Params: Static<typeof WebhookParams> }>(
    '/v1/webhooks/:id',
    {
      schema: {
        ...operation({
          id: 'deleteWebhook',
          summary: 'Delete a webhook',
          tag: 'webhooks',
          description: 'Send no body (or `{}`).',
          errors: ['NOT_FOUND'],
          responses: {
            200: {
              description: 'Deleted: nothing more is delivered to it',
              schema: Type.Object(
                { id: Type.String(), deleted: Type.Literal(true) },
                { additionalProperties: false },
              ),
            },
          },
        }),
        params: WebhookParams,
        security,
      },
      preValidation: refuseBody,
    },
    async (request) => {
      const webhook = await webhooks.remove(request.params.id);
      return { id: webhook.id, deleted: true };
    },
  );

  app.post<{ Params: Static<typeof WebhookParams>; Body: Static<typeof RotateBody> }>(
    '/v1/webhooks/:id/rotate_secret',
    {
      schema: {
        ...operation({
          id: 'rotateWebhookSecret',
          summary:
            'Rotate the signing secret; the old one keeps signing for overlap_seconds (default 24 h)',
          tag: 'webhooks',
          errors: ['NOT_FOUND'],
          responses: {
            200: { description: 'The subscription and its new secret', schema: WebhookWithSecret },
          },
        }),
        params: WebhookParams,
        body: RotateBody,
        security,
      },
    },
    async (request) => {
      const overlap = request.body?.overlap_seconds ?? 24 * 3600;
      return webhookResource(await webhooks.rotateSecret(request.params.id, overlap), true);
    },
  );

  app.get<{ Querystring: Static<typeof EventListQuery> }>(
    '/v1/events',
    {
      schema: {
        ...operation({
          id: 'listEvents',
          summary: 'List events, newest first',
          tag: 'events',
          responses: { 200: { description: 'A page of events', schema: listOf(Event) } },
        }),
        querystring: EventListQuery,
        security,
      },
    },
    async (request) =>
      listResponse(
        await webhooks.listEvents({
          ...pageOf(request.query),
          type: request.query.type,
        }),
        eventResource,
      ),
  );

  app.get<{ Params: Static<typeof EventParams> }>(
    '/v1/events/:id',
    {
      schema: {
        ...operation({
          id: 'getEvent',
          summary: 'Get an event with its deliveries and response history',
          tag: 'events',
          errors: ['NOT_FOUND'],
          responses: {
            200: {
              description: 'The event, its deliveries and every attempt',
              schema: schemaRef('EventWithDeliveries'),
            },
          },
        }),
        params: EventParams,
        security,
      },
    },
    async (request) => {
      const { event, deliveries, attempts } = await webhooks.getEvent(request.params.id);
      return {
        ...eventResource(event),
        deliveries: deliveries.map(deliveryResource),
        response_history: attempts.map(attemptResource),
      };
    },
  );

  app.post<{ Params: Static<typeof EventParams>; Body: Static<typeof RedeliverBody> }>(
    '/v1/events/:id/redeliver',
    {
      schema: {
        ...operation({
          id: 'redeliverEvent',
          summary: 'Deliver an event again (to one webhook, or to every subscribed one)',
          tag: 'events',
          errors: ['NOT_FOUND'],
          responses: { 202: { description: 'Queued for delivery', schema: Event } },
        }),
        params: EventParams,
        body: RedeliverBody,
        security,
      },
    },
    async (request, reply) => {
      const event = await webhooks.redeliver(request.params.id, request.body?.webhook_id);
      return reply.status(202).send(eventResource(event));
    },
  );
}
