import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { Webhook } from 'standardwebhooks';
import { DIST_DIR } from '../http/widget-assets.js';
import { DemoSiteError, cardNotFound, sessionRequired } from './errors.js';
import {
  type AuthorizationRequest,
  type Card,
  type CardProduct,
  type PlatformClient,
  platformClient,
} from './platform-client.js';
import {
  parseAuthorizeRequest,
  parseCardId,
  parseIssueRequest,
  parseTokenRequest,
} from './requests.js';
import {
  CSRF_HEADER,
  type DemoSession,
  DemoSessions,
  csrfTokenMatches,
  sessionCookie,
  tokenDigest,
} from './sessions.js';
import { stepUpRoutes } from './step-up.js';

/**
 * The demo card program: its own small backend (it alone holds the API key), its page on a
 * second origin, and a webhook receiver that verifies signatures and streams events to the page.
 *
 * Written to be copied, so each guard a real program needs is here in its small form: a
 * cardholder session (cookie + CSRF token), an allow-list of the widgets it embeds, a card
 * ownership check before every platform call, tokens always DPoP-bound and bound to the page's
 * origin, and a Host check. What a REAL PROGRAM must add is said where it goes. step-up.ts holds
 * the passkey routes and the hostile-host demo.
 */
export interface DemoSiteOptions {
  /** 0 picks a free port (tests). */
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

export type Json = Record<string, any>;

/** A demo session issues at most this many cards. */
const MAX_CARDS_PER_SESSION = 25;
/** The webhook events kept for the page's timeline, over all sessions. */
const RECENT_EVENTS = 500;
/** What the demo terminal charges, in minor units (the page shows it as EUR 12.50). */
const TERMINAL_AMOUNT = 1250;
/** The REVEAL_PIN tokens a session remembers for the hostile-host demo: its latest ones. */
const REVEAL_TOKENS_KEPT = 20;

/** Subscribes the demo site to every event once, keeping the secret in DATA_DIR. */
async function ensureWebhook(
  platform: PlatformClient,
  file: string,
  url: string,
): Promise<DemoState> {
  if (fs.existsSync(file)) {
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as DemoState;
    const existing = await platform.GET('/v1/webhooks/{id}', {
      params: { path: { id: state.webhookId } },
    });
    if (existing.data?.url === url) return state;
  }
  const { data: created, response } = await platform.POST('/v1/webhooks', {
    body: { url, enabled_events: ['*'], description: 'Demo card-program site' },
  });
  if (!created) throw new Error(`demo site: cannot subscribe to webhooks (${response.status})`);
  const state = { webhookId: created.id, secret: created.secret };
  fs.writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
  return state;
}

/** The card an event is about: `data.card.id` (CARD.*) or `data.card_id` (issuer scripts). */
const cardOfEvent = (event: Json): unknown => event.data?.card?.id ?? event.data?.card_id;
/** The customer a CUSTOMER.PASSKEY.* event is about. */
const customerOfEvent = (event: Json): unknown => event.data?.passkey?.customer_id;
/** Whether an event is this session's to see: about one of its cards, or its customer. */
const belongsTo = (session: DemoSession, event: Json): boolean =>
  session.cards.has(cardOfEvent(event) as string) ||
  (customerOfEvent(event) !== undefined && customerOfEvent(event) === session.customerId);

export async function startDemoSite(options: DemoSiteOptions): Promise<FastifyInstance> {
  const platformOrigin = new URL(options.platformUrl).origin;
  const platform = platformClient(options.platformUrl, options.apiKey);
  const app = Fastify({ logger: { level: 'warn' }, bodyLimit: 64 * 1024 });
  const sessions = new DemoSessions();
  const sessionOf = new WeakMap<FastifyRequest, DemoSession>();
  const recent: Json[] = [];
  const products = new Map<string, string>();
  /** Each product's reveal_step_up: the page shows it beside the card, which does not carry it. */
  const stepUpOf = new Map<string, CardProduct['reveal_step_up']>();
  /** Known once listening (the port may be 0). */
  let allowedHosts = new Set<string>();

  // DNS rebinding: a hostile name resolving to 127.0.0.1 reaches this server with its own name
  // in Host, and the browser treats that page as same-origin with it. Serve our names only.
  // A REAL PROGRAM behind a proxy checks the public host name it serves, and HTTPS only.
  app.addHook('onRequest', async (request, reply) => {
    if (!allowedHosts.has(request.headers.host?.toLowerCase() ?? '')) {
      return reply
        .status(421)
        .type('text/plain; charset=utf-8')
        .send(`This demo site answers only as ${[...allowedHosts].join(' or ')}.`);
    }
  });
  /** The page's origin, from a Host that passed the check above. */
  const pageOrigin = (request: FastifyRequest) => `http://${request.headers.host!.toLowerCase()}`;

  app.addHook('onSend', async (request, reply) => {
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
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
  });

  app.setErrorHandler((error: FastifyError | DemoSiteError, request, reply) => {
    if (error instanceof DemoSiteError)
      return reply.status(error.status).send({ code: error.code, message: error.message });
    // Fastify's own refusals (malformed JSON, body too large): a 4xx with its message.
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
      return reply
        .status(error.statusCode)
        .send({ code: 'INVALID_REQUEST', message: error.message });
    request.log.error(error);
    return reply.status(500).send({ code: 'INTERNAL', message: 'Something went wrong' });
  });

  /**
   * The platform's answer to the page. Its 401/403 mean this backend's API key is wrong, not
   * the cardholder's fault: the page gets a 502 without the platform's details.
   */
  const relay = (status: number, body: unknown, reply: FastifyReply) => {
    if (status === 401 || status === 403 || status >= 500) {
      app.log.error({ status, body }, 'demo site: the platform refused this backend');
      throw new DemoSiteError(
        502,
        'PLATFORM_UNAVAILABLE',
        'The card platform did not answer: try again',
      );
    }
    return reply.status(status).send(body ?? {});
  };

  /** A card as the page shows it: the platform's card and its product's reveal_step_up. */
  const withStepUp = async (card: Card) => {
    const productId = card.card_product_id;
    if (!stepUpOf.has(productId)) {
      const { data: product } = await platform.GET('/v1/card_products/{id}', {
        params: { path: { id: productId } },
      });
      if (!product) return card;
      stepUpOf.set(productId, product.reveal_step_up);
    }
    return { ...card, reveal_step_up: stepUpOf.get(productId) };
  };
  /** A call that answers a card: the card as the page shows it, or the platform's refusal. */
  const relayCard = async (
    answer: { data?: Card; error?: unknown; response: Response },
    reply: FastifyReply,
  ) =>
    relay(
      answer.response.status,
      answer.data ? await withStepUp(answer.data) : answer.error,
      reply,
    );

  app.get('/api/config', async () => ({
    platformUrl: options.platformUrl,
    terminal: { amount: TERMINAL_AMOUNT, currency: 'EUR' },
  }));
  app.get('/favicon.ico', async (_request, reply) => reply.status(204).send());

  /**
   * "Start as a demo cardholder": a fresh session (a new id every time, so a planted or stale
   * cookie is never carried into it) and its CSRF token for the page, kept in memory there.
   *
   * A REAL PROGRAM signs the cardholder in here (its own authentication, with a second factor
   * before PIN operations), rate-limits attempts per client and per account, and writes an
   * audit record of the sign-in.
   */
  app.post('/api/session', async (request, reply) => {
    // No CSRF token exists yet, so the Origin says who asks: a same-site page on another port
    // must not sign this browser into a new session (or end its current one).
    if (request.headers.origin !== pageOrigin(request))
      throw new DemoSiteError(
        403,
        'ORIGIN_NOT_ALLOWED',
        'Start the demo session from the demo site’s own page',
      );
    sessions.endFrom(request.headers.cookie);
    const { session, cookieValue } = sessions.start();
    return reply
      .header('set-cookie', sessionCookie(cookieValue))
      .status(201)
      .send({ csrf_token: session.csrfToken });
  });

  // Everything the cardholder does: in its own scope, so a route added here is guarded by default.
  await app.register(async (cardholder) => {
    cardholder.addHook('onRequest', async (request) => {
      const session = sessions.find(request.headers.cookie);
      if (!session) throw sessionRequired();
      // The cookie rides along on any same-site request (SameSite does not separate ports);
      // the token in a header proves the page itself sent it. A cross-origin page cannot read
      // the token nor send a custom header without a CORS preflight this server never grants.
      if (
        request.method !== 'GET' &&
        !csrfTokenMatches(session.csrfToken, request.headers[CSRF_HEADER])
      )
        throw new DemoSiteError(
          403,
          'CSRF_TOKEN_INVALID',
          `Send the session’s CSRF token in ${CSRF_HEADER}`,
        );
      sessionOf.set(request, session);
    });
    const sessionFor = (request: FastifyRequest) => sessionOf.get(request)!;

    /**
     * A card of this session, or the same 404 as an unknown card: never a 403 that tells a
     * caller the id exists. A REAL PROGRAM asks its own records (this user's accounts, their
     * cards, a joint holder's rights) and audits every PIN operation with user, card and time.
     */
    const ownedCard = (request: FastifyRequest, value: unknown): string => {
      const cardId = parseCardId(value);
      if (!sessionFor(request).cards.has(cardId)) throw cardNotFound();
      return cardId;
    };

    // A REAL PROGRAM rate-limits every route below per session and per card (issuing cards,
    // minting tokens and payments cost money and PIN tries), beyond this per-session cap.
    cardholder.post('/api/cards', async (request, reply) => {
      const { policy, offline_pin, emv_profile, reveal_step_up } = parseIssueRequest(request.body);
      const session = sessionFor(request);
      if (session.cards.size >= MAX_CARDS_PER_SESSION)
        throw new DemoSiteError(
          429,
          'TOO_MANY_CARDS',
          `A demo session issues at most ${MAX_CARDS_PER_SESSION} cards: reload the page to start over`,
        );
      const key = `${policy}:${offline_pin}:${emv_profile}:${reveal_step_up}`;
      let productId = products.get(key);
      if (productId === undefined) {
        const product = await platform.POST('/v1/card_products', {
          body: {
            name: `Demo ${policy.toLowerCase().replace('_', ' ')} card${offline_pin ? ' with offline PIN' : ''}${reveal_step_up === 'PASSKEY' ? ', reveals behind a passkey' : ''}`,
            form: 'PHYSICAL',
            pin_issuance_policy: policy,
            offline_pin,
            emv_profile,
            reveal_step_up,
          },
        });
        if (!product.data) return relay(product.response.status, product.error, reply);
        productId = product.data.id;
        products.set(key, productId);
        stepUpOf.set(productId, product.data.reveal_step_up);
      }
      // The session's cardholder is the card's customer: passkeys belong to the customer, so
      // one passkey confirms reveals for all of this cardholder's cards.
      const card = await platform.POST('/v1/cards', {
        body: {
          card_product_id: productId,
          account_id: 'acct_demo',
          customer_id: session.customerId,
        },
      });
      if (card.data) {
        const cardId = card.data.id;
        session.cards.add(cardId);
        // Its CARD.CREATED webhook may have arrived before this answer: stream it now.
        for (const event of recent) if (cardOfEvent(event) === cardId) send(session, event);
      }
      return relayCard(card, reply);
    });

    cardholder.get<{ Params: { id: string } }>('/api/cards/:id', async (request, reply) => {
      const cardId = ownedCard(request, request.params.id);
      const card = await platform.GET('/v1/cards/{id}', { params: { path: { id: cardId } } });
      return relayCard(card, reply);
    });

    cardholder.post<{ Params: { id: string } }>(
      '/api/cards/:id/advance',
      async (request, reply) => {
        const cardId = ownedCard(request, request.params.id);
        const card = await platform.POST('/v1/simulations/cards/{id}/advance', {
          params: { path: { id: cardId } },
        });
        return relayCard(card, reply);
      },
    );

    cardholder.post<{ Params: { id: string } }>(
      '/api/cards/:id/activate',
      async (request, reply) => {
        const cardId = ownedCard(request, request.params.id);
        const card = await platform.PATCH('/v1/cards/{id}', {
          params: { path: { id: cardId } },
          body: { card_status: 'ACTIVE', reason: 'Activated by the cardholder' },
        });
        return relayCard(card, reply);
      },
    );

    // The program's backend mints a sender-constrained token for the iframe's key (README “PINs”):
    // always with jkt (never a bearer token) and always bound to the page's origin.
    //
    // ENROLL_PASSKEY: whoever gets this token can enroll a passkey that confirms this customer's
    // reveals from then on (docs/step-up.md, "Enrollment is as strong as the program's
    // authentication at that moment"). A REAL PROGRAM re-authenticates the cardholder strongly
    // right before minting it (a fresh second factor, or an existing passkey of its own) and
    // tells the cardholder a passkey was added (the CUSTOMER.PASSKEY.CREATED webhook); the demo
    // session alone stands in for that here.
    cardholder.post('/api/widget-token', async (request, reply) => {
      const { card_id, widget_type, jkt } = parseTokenRequest(request.body);
      const cardId = ownedCard(request, card_id);
      const minted = await platform.POST('/v1/cards/{id}/widget_token', {
        params: { path: { id: cardId } },
        body: { widget_type, origin: pageOrigin(request), jkt },
      });
      if (!minted.data) return relay(minted.response.status, minted.error, reply);
      const token = minted.data.widget_token;
      if (widget_type === 'REVEAL_PIN') {
        const { revealTokens } = sessionFor(request);
        revealTokens.set(tokenDigest(token), cardId);
        if (revealTokens.size > REVEAL_TOKENS_KEPT)
          revealTokens.delete(revealTokens.keys().next().value!);
      }
      return relay(minted.response.status, { token }, reply);
    });

    cardholder.post<{ Params: { id: string } }>(
      '/api/cards/:id/sync-offline-pin',
      async (request, reply) => {
        const cardId = ownedCard(request, request.params.id);
        const card = await platform.GET('/v1/cards/{id}', { params: { path: { id: cardId } } });
        if (!card.data) return relay(card.response.status, card.error, reply);
        const token = await platform.POST('/v1/accounts/{account_id}/tokens', {
          params: { path: { account_id: card.data.account_id } },
        });
        if (!token.data) return relay(token.response.status, token.error, reply);
        // The processor-compatible endpoint takes the account's token, not the API key.
        const synced = await platform.POST(
          '/pcicards/v1/pcicards/{cardId}/scripts/sync-offline-pin',
          {
            params: { path: { cardId } },
            headers: { authorization: `Bearer ${token.data.access_token}` },
          },
        );
        const { status } = synced.response;
        return relay(status === 204 ? 200 : status, synced.error ?? { ok: true }, reply);
      },
    );

    /**
     * A payment at the demo terminal. With a PIN, the page hands over only the JWE the platform's
     * PIN pad made; this backend, standing in for the acquirer, has the platform's HSM translate
     * it into a zone-key PIN block and sends that with the authorization. No PIN is ever here.
     */
    cardholder.post<{ Params: { id: string } }>(
      '/api/cards/:id/authorize',
      async (request, reply) => {
        const cardId = ownedCard(request, request.params.id);
        const payment = parseAuthorizeRequest(request.body);
        let pinFields: Pick<AuthorizationRequest, 'cvm' | 'pin_block'> = {};
        if ('cvm' in payment) {
          const translated = await platform.POST('/v1/simulations/pin_pad/pin_block', {
            body: {
              card_id: cardId,
              encrypted_pin: payment.encrypted_pin,
              format: payment.pin_block_format,
            },
          });
          if (!translated.data) return relay(translated.response.status, translated.error, reply);
          pinFields = { cvm: payment.cvm, pin_block: translated.data.pin_block };
        }
        const authorized = await platform.POST('/v1/simulations/authorizations', {
          body: {
            card_id: cardId,
            amount: TERMINAL_AMOUNT,
            entry_mode: payment.entry_mode,
            ...pinFields,
          },
        });
        if (!authorized.data) return relay(authorized.response.status, authorized.error, reply);
        return relay(
          authorized.response.status,
          'cvm' in payment
            ? { ...authorized.data, pin_block_format: payment.pin_block_format }
            : authorized.data,
          reply,
        );
      },
    );

    // The program's back office (here, for the demo, on the cardholder's page): a PIN blocked by
    // wrong tries is unblocked by an operator. A REAL PROGRAM puts this behind its staff sign-in,
    // with the customer's identity checked first, and audits who unblocked which card.
    cardholder.post<{ Params: { id: string } }>(
      '/api/cards/:id/unblock-pin',
      async (request, reply) => {
        const cardId = ownedCard(request, request.params.id);
        const card = await platform.POST('/v1/cards/{id}/pin/unblock', {
          params: { path: { id: cardId } },
        });
        return relayCard(card, reply);
      },
    );

    stepUpRoutes(cardholder, { platform, sessionFor, ownedCard, relay, pageOrigin });

    // The timeline: only events about this session's cards and customer, never another's.
    cardholder.get('/api/events', async (request) => {
      const session = sessionFor(request);
      return recent.filter((event) => belongsTo(session, event));
    });

    cardholder.get('/api/stream', (request, reply) => {
      const session = sessionFor(request);
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      reply.raw.write(': connected\n\n');
      session.streams.add(reply.raw);
      request.raw.on('close', () => session.streams.delete(reply.raw));
      return reply;
    });
  });

  const send = (session: DemoSession, event: Json) => {
    for (const stream of session.streams) stream.write(`data: ${JSON.stringify(event)}\n\n`);
  };

  // Webhooks: verified with the public standardwebhooks library over the raw body, then
  // streamed to the session that issued the card. Its own scope, so only this route reads
  // bodies as raw text.
  let verifier: Webhook | undefined;
  await app.register(async (receiver) => {
    receiver.addContentTypeParser(
      'application/json',
      { parseAs: 'string' },
      (_request, body, done) => done(null, body),
    );
    receiver.post('/webhooks', async (request, reply) => {
      if (!verifier) throw new DemoSiteError(503, 'NOT_READY', 'Not subscribed yet');
      let event: Json;
      try {
        event = verifier.verify(
          request.body as string,
          request.headers as Record<string, string>,
        ) as Json;
      } catch {
        throw new DemoSiteError(400, 'BAD_SIGNATURE', 'The webhook signature does not verify');
      }
      const entry = { id: request.headers['webhook-id'], verified: true, ...event };
      if (recent.some((seen) => seen.id === entry.id)) return reply.status(204).send();
      recent.push(entry);
      if (recent.length > RECENT_EVENTS) recent.shift();
      const cardId = cardOfEvent(entry);
      const customerId = customerOfEvent(entry);
      const owner =
        typeof cardId === 'string'
          ? sessions.ownerOf(cardId)
          : typeof customerId === 'string'
            ? sessions.ownerOfCustomer(customerId)
            : undefined;
      if (owner) send(owner, entry);
      return reply.status(204).send();
    });
  });

  const pageDir = path.join(DIST_DIR, 'demo-site');
  if (fs.existsSync(pageDir)) {
    await app.register(fastifyStatic, { root: pageDir, prefix: '/', index: 'index.html' });
  }

  await app.listen({ port: options.port, host: options.host });
  const { port } = app.server.address() as AddressInfo;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const state = await ensureWebhook(
    platform,
    path.join(options.dataDir, 'demo-site.json'),
    `http://${options.host}:${port}/webhooks`,
  );
  verifier = new Webhook(state.secret);
  return app;
}
