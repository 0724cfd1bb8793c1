import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { refuseBody } from '../http/no-body.js';
import { IdParam, PageQuery, StrictObject, listResponse, pageOf } from '../http/schemas.js';
import type { Delivery, DeliveryAttempt, EventRecord, Webhook } from '../store/types.js';
import type { WebhookService } from './service.js';

const EventPatterns = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  minItems: 1,
  maxItems: 20,
});
const Url = Type.String({ minLength: 1, maxLength: 2048 });
const Description = Type.Union([Type.String({ maxLength: 500 }), Type.Null()]);

const NewWebhookBody = StrictObject({
  url: Url,
  enabled_events: EventPatterns,
  is_enabled: Type.Optional(Type.Boolean()),
  description: Type.Optional(Description),
});
const WebhookPatchBody = StrictObject({
  url: Type.Optional(Url),
  enabled_events: Type.Optional(EventPatterns),
  is_enabled: Type.Optional(Type.Boolean()),
  description: Type.Optional(Description),
});
const RotateBody = Type.Optional(
  StrictObject({
    overlap_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 24 * 3600 })),
  }),
);
const RedeliverBody = Type.Optional(
  StrictObject({ webhook_id: Type.Optional(Type.String({ maxLength: 64 })) }),
);
const WebhookParams = IdParam('wh');
const EventParams = IdParam('evt');
const PageQueryObject = StrictObject(PageQuery);
const EventListQuery = StrictObject({
  ...PageQuery,
  type: Type.Optional(Type.String({ maxLength: 64 })),
});
const security = [{ apiKey: [] }];

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
        tags: ['webhooks'],
        summary: 'Subscribe a URL to events',
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
        tags: ['webhooks'],
        summary: 'List webhooks',
        querystring: PageQueryObject,
        security,
      },
    },
    async (request) =>
      listResponse(await webhooks.list(pageOf(request.query)), (w) => webhookResource(w)),
  );

  app.get<{ Params: Static<typeof WebhookParams> }>(
    '/v1/webhooks/:id',
    { schema: { tags: ['webhooks'], summary: 'Get a webhook', params: WebhookParams, security } },
    async (request) => webhookResource(await webhooks.get(request.params.id)),
  );

  app.patch<{ Params: Static<typeof WebhookParams>; Body: Static<typeof WebhookPatchBody> }>(
    '/v1/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Update a webhook',
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
      schema: { tags: ['webhooks'], summary: 'Delete a webhook', params: WebhookParams, security },
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
        tags: ['webhooks'],
        summary:
          'Rotate the signing secret; the old one keeps signing for overlap_seconds (default 24 h)',
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
        tags: ['events'],
        summary: 'List events, newest first',
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
        tags: ['events'],
        summary: 'Get an event with its deliveries and response history',
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
        tags: ['events'],
        summary: 'Deliver an event again (to one webhook, or to every subscribed one)',
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
