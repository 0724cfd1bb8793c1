import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { DIST_DIR } from '../http/widget-assets.js';

/**
 * The demo card program: its own small backend (it alone holds the API key), its page on a
 * second origin, and a webhook receiver that verifies signatures and streams events to the page.
 */
export interface DemoSiteOptions {
  port: number;
  host: string;
  platformUrl: string;
  apiKey: string;
  dataDir: string;
}

interface DemoState {
  webhookId: string;
  secret: string;
}

type Json = Record<string, any>;

class Platform {
  constructor(
    private readonly url: string,
    private readonly apiKey: string,
  ) {}

  async call(method: string, route: string, body?: unknown, auth = `Bearer ${this.apiKey}`) {
    const response = await fetch(`${this.url}${route}`, {
      method,
      headers: {
        authorization: auth,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Json };
  }
}

/** Subscribes the demo site to every event once, keeping the secret in DATA_DIR. */
async function ensureWebhook(platform: Platform, file: string, url: string): Promise<DemoState> {
  if (fs.existsSync(file)) {
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as DemoState;
    const existing = await platform.call('GET', `/v1/webhooks/${state.webhookId}`);
    if (existing.status === 200 && existing.body.url === url) return state;
  }
  const created = await platform.call('POST', '/v1/webhooks', {
    url,
    enabled_events: ['*'],
    description: 'Demo card-program site',
  });
  if (created.status !== 201)
    throw new Error(`demo site: cannot subscribe to webhooks (${created.status})`);
  const state = { webhookId: created.body.id as string, secret: created.body.secret as string };
  fs.writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
  return state;
}

export async function startDemoSite(options: DemoSiteOptions): Promise<FastifyInstance> {
  const origin = `http://${options.host}:${options.port}`;
  const platformOrigin = new URL(options.platformUrl).origin;
  const platform = new Platform(options.platformUrl, options.apiKey);
  const app = Fastify({ logger: { level: 'warn' }, bodyLimit: 64 * 1024 });
  const streams = new Set<FastifyReply>();
  const recent: Json[] = [];
  const products = new Map<string, string>();

  const relay = (status: number, body: Json | undefined, reply: FastifyReply) =>
    reply.status(status).send(body ?? {});

  app.addHook('onSend', async (_request, reply) => {
    reply.header(
      'content-security-policy',
      [
        "default-src 'none'",
        `script-src 'self' ${platformOrigin}`,
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        `frame-src ${platformOrigin}`,
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
    );
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-content-type-options', 'nosniff');
  });

  app.get('/api/config', async () => ({ platformUrl: options.platformUrl }));
  app.get('/favicon.ico', async (_request, reply) => reply.status(204).send());

  app.post<{ Body: { policy: string; offline_pin: boolean; emv_profile?: string } }>(
    '/api/cards',
    async (request, reply) => {
      const { policy, offline_pin, emv_profile = 'EMV_CCD' } = request.body;
      const key = `${policy}:${offline_pin}:${emv_profile}`;
      if (!products.has(key)) {
        const product = await platform.call('POST', '/v1/card_products', {
          name: `Demo ${policy.toLowerCase().replace('_', ' ')} card${offline_pin ? ' with offline PIN' : ''}`,
          form: 'PHYSICAL',
          pin_issuance_policy: policy,
          offline_pin,
          emv_profile,
        });
        if (product.status !== 201) return relay(product.status, product.body, reply);
        products.set(key, product.body.id);
      }
      const card = await platform.call('POST', '/v1/cards', {
        card_product_id: products.get(key),
        account_id: 'acct_demo',
        customer_id: 'cust_demo',
      });
      return relay(card.status, card.body, reply);
    },
  );

  app.get<{ Params: { id: string } }>('/api/cards/:id', async (request, reply) => {
    const card = await platform.call('GET', `/v1/cards/${encodeURIComponent(request.params.id)}`);
    return relay(card.status, card.body, reply);
  });

  app.post<{ Params: { id: string } }>('/api/cards/:id/advance', async (request, reply) => {
    const card = await platform.call(
      'POST',
      `/v1/simulations/cards/${encodeURIComponent(request.params.id)}/advance`,
    );
    return relay(card.status, card.body, reply);
  });

  app.post<{ Params: { id: string } }>('/api/cards/:id/activate', async (request, reply) => {
    const card = await platform.call(
      'PATCH',
      `/v1/cards/${encodeURIComponent(request.params.id)}`,
      {
        card_status: 'ACTIVE',
        reason: 'Activated by the cardholder',
      },
    );
    return relay(card.status, card.body, reply);
  });

  // The program's backend mints a sender-constrained token for the iframe's key (SPEC §5).
  app.post<{ Body: { card_id: string; widget_type: string; jkt: string } }>(
    '/api/widget-token',
    async (request, reply) => {
      const { card_id, widget_type, jkt } = request.body;
      const minted = await platform.call(
        'POST',
        `/v1/cards/${encodeURIComponent(card_id)}/widget_token`,
        {
          widget_type,
          origin,
          jkt,
        },
      );
      return relay(
        minted.status,
        minted.status === 201 ? { token: minted.body.widget_token } : minted.body,
        reply,
      );
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/cards/:id/sync-offline-pin',
    async (request, reply) => {
      const card = await platform.call('GET', `/v1/cards/${encodeURIComponent(request.params.id)}`);
      if (card.status !== 200) return relay(card.status, card.body, reply);
      const token = await platform.call(
        'POST',
        `/v1/accounts/${encodeURIComponent(card.body.account_id)}/tokens`,
      );
      if (token.status !== 201 && token.status !== 200)
        return relay(token.status, token.body, reply);
      const synced = await platform.call(
        'POST',
        `/pcicards/v1/pcicards/${encodeURIComponent(request.params.id)}/scripts/sync-offline-pin`,
        undefined,
        `Bearer ${token.body.access_token}`,
      );
      return relay(synced.status === 204 ? 200 : synced.status, synced.body ?? { ok: true }, reply);
    },
  );

  app.post<{ Params: { id: string }; Body: { entry_mode: string } }>(
    '/api/cards/:id/authorize',
    async (request, reply) => {
      const authorization = await platform.call('POST', '/v1/simulations/authorizations', {
        card_id: request.params.id,
        amount: 1250,
        entry_mode: request.body.entry_mode,
      });
      return relay(authorization.status, authorization.body, reply);
    },
  );

  // Webhooks: verified with the public standardwebhooks library over the raw body, then
  // streamed to the page. Its own scope, so only this route reads bodies as raw text.
  let verifier: Webhook | undefined;
  await app.register(async (receiver) => {
    receiver.addContentTypeParser(
      'application/json',
      { parseAs: 'string' },
      (_request, body, done) => done(null, body),
    );
    receiver.post('/webhooks', async (request, reply) => {
      if (!verifier) return reply.status(503).send({ code: 'NOT_READY' });
      let event: Json;
      try {
        event = verifier.verify(
          request.body as string,
          request.headers as Record<string, string>,
        ) as Json;
      } catch {
        return reply.status(400).send({ code: 'BAD_SIGNATURE' });
      }
      const entry = { id: request.headers['webhook-id'], verified: true, ...event };
      if (recent.some((seen) => seen.id === entry.id)) return reply.status(204).send();
      recent.push(entry);
      if (recent.length > 200) recent.shift();
      for (const stream of streams) stream.raw.write(`data: ${JSON.stringify(entry)}\n\n`);
      return reply.status(204).send();
    });
  });

  app.get('/api/events', async () => recent);
  app.get('/api/stream', (request, reply) => {
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    reply.raw.write(': connected\n\n');
    streams.add(reply);
    request.raw.on('close', () => streams.delete(reply));
    return reply;
  });

  const pageDir = path.join(DIST_DIR, 'demo-site');
  if (fs.existsSync(pageDir)) {
    await app.register(fastifyStatic, { root: pageDir, prefix: '/', index: 'index.html' });
  }

  await app.listen({ port: options.port, host: options.host });
  const state = await ensureWebhook(
    platform,
    path.join(options.dataDir, 'demo-site.json'),
    `${origin}/webhooks`,
  );
  verifier = new Webhook(state.secret);
  return app;
}
