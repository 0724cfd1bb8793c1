import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { CardService } from './cards/service.js';
import { cardRoutes, cardSchemas } from './cards/routes.js';
import type { Config } from './config.js';
import { ApiError } from './http/errors.js';
import { ApiKeys } from './api-keys/registry.js';
import { installApiKeyGuard } from './http/auth.js';
import { frameworkErrors, installErrorHandler } from './http/error-handler.js';
import { installJsonBodyParser, refuseUnstorableParams } from './http/json-body.js';
import { TAGS, addErrorComponents, documentRoute } from './http/openapi.js';
import { StrictObject } from './http/schemas.js';
import { validatorCompiler } from './http/validation.js';
import { Scheduler } from './scheduler/scheduler.js';
import type { Store } from './store/types.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';
import type { ResolveHost } from './webhooks/egress-lookup.js';
import { webhookRoutes, webhookSchemas } from './webhooks/routes.js';
import { WebhookService } from './webhooks/service.js';
import { landingPage } from './http/landing.js';
import { widgetAssetRoutes } from './http/widget-assets.js';
import { PinVault, loadPinEncryptionKey } from './pins/at-rest.js';
import { PanVault } from './cards/pan-vault.js';
import { loadDataKey, restrictDataDir } from './lib/private-files.js';
import { cardPinRoutes, pinRoutes } from './pins/routes.js';
import { PinService } from './pins/service.js';
import { TransportKeys } from './pins/transport-keys.js';
import { widgetTokenRoutes, widgetTokenSchemas } from './widget-sessions/routes.js';
import { WidgetSessions } from './widget-sessions/tokens.js';
import { AccountTokens } from './offline-pin/account-tokens.js';
import { IssuerScripts } from './offline-pin/issuer-scripts.js';
import { accountTokenRoutes, syncOfflinePinRoutes } from './offline-pin/routes.js';
import { PinRecords } from './pins/records.js';
import { AuthorizationSimulator } from './simulation/authorizations.js';
import { authorizationSimulationRoutes } from './simulation/routes.js';
import { pinPadDocumentRoutes, pinPadRoutes } from './simulation/pin-pad.js';
import { VirtualChip } from './simulation/virtual-chip.js';
import { customerPasskeyRoutes, passkeySchemas } from './passkeys/routes.js';
import { PasskeyService } from './passkeys/service.js';
import { pinJwe } from './pins/jwe-workers.js';

/** Log fields that may carry secrets: censored wherever they appear. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.dpop',
  'req.headers.cookie',
  '*.authorization',
  '*.encrypted_pin',
  '*.pin',
  '*.widget_token',
  '*.secret',
  '*.pan',
];

export interface Platform {
  app: FastifyInstance;
  cards: CardService;
  pins: PinService;
  pinRecords: PinRecords;
  sessions: WidgetSessions;
  transportKeys: TransportKeys;
  apiKeys: ApiKeys;
  /** Every `METHOD /url` behind the API-key guard: what the scope map must cover. */
  guardedRoutes: readonly string[];
  webhooks: WebhookService;
  dispatcher: WebhookDispatcher;
  scheduler: Scheduler;
  offlinePin: {
    accountTokens: AccountTokens;
    scripts: IssuerScripts;
    /** The card side of the simulation and the authorization simulator: DEMO_MODE only. */
    chip: VirtualChip | undefined;
    simulator: AuthorizationSimulator | undefined;
  };
  /** Starts the background workers (scheduled jobs, webhook delivery). */
  startWorkers(): void;
  /**
   * Graceful shutdown: readiness turns 503, the workers stop claiming and finish what they hold
   * (a due job's transaction, every webhook attempt under lease), then the server stops
   * accepting connections and waits for the requests in flight. The store stays open.
   */
  close(drainDelayMs?: number): Promise<void>;
}

export interface PlatformDeps {
  config: Config;
  store: Store;
  apiKey: string;
  /** false: no logging; a stream: structured logs there (tests read them); default stdout. */
  /**
   * false: no logging; a stream: structured logs there (tests read them); `pretty`: readable
   * lines for a person at a terminal (pino-pretty, the same redaction); default JSON on stdout.
   */
  log?: false | { level?: string; stream?: NodeJS.WritableStream; pretty?: boolean };
  /** DNS for webhook targets (default: the system resolver); tests inject answers. */
  resolveHost?: ResolveHost;
}

export async function buildPlatform(deps: PlatformDeps): Promise<Platform> {
  const { config, store } = deps;
  const app = Fastify({
    logger:
      deps.log === false
        ? false
        : {
            level: deps.log?.level ?? config.logLevel,
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            ...(deps.log?.stream ? { stream: deps.log.stream } : {}),
            ...(deps.log?.pretty
              ? {
                  transport: {
                    target: 'pino-pretty',
                    options: { translateTime: 'HH:MM:ss', ignore: 'pid,hostname' },
                  },
                }
              : {}),
          },
    bodyLimit: config.bodyLimitBytes,
    trustProxy: false,
    frameworkErrors,
  });
  app.setValidatorCompiler(validatorCompiler);
  // Only JSON bodies: anything else is a 415, not a string the schema then refuses.
  app.removeContentTypeParser(['text/plain']);
  installJsonBodyParser(app);
  refuseUnstorableParams(app);
  installErrorHandler(app);
  if (config.demoMode) {
    // A demo listens on this machine: a page whose own name was rebound to 127.0.0.1 (DNS
    // rebinding) must not reach it. Only the names the demo is served under are answered.
    const names = new Set(['localhost', '127.0.0.1', '[::1]', new URL(config.publicUrl).hostname]);
    // Hooks on every request take `done` rather than return a promise (docs/performance.md).
    app.addHook('onRequest', (request, _reply, done) => {
      const host = request.headers.host ?? '';
      const hostname = host.startsWith('[')
        ? host.slice(0, host.indexOf(']') + 1)
        : host.split(':')[0];
      if (names.has(hostname!.toLowerCase())) return done();
      done(
        new ApiError(
          'MISDIRECTED_REQUEST',
          `This demo platform answers only for ${[...names].join(', ')}`,
        ),
      );
    });
  }
  if (!config.demoMode) {
    // Strict mode is served over https only (config.ts): browsers must never downgrade.
    app.addHook('onSend', (_request, reply, payload, done) => {
      reply.header('strict-transport-security', 'max-age=63072000; includeSubDomains');
      done(null, payload);
    });
  }
  // Unknown query parameters are refused like unknown body fields (README “API overview”): an API route that
  // declares none gets an empty strict querystring schema, so `?anything` is a 400, not ignored.
  app.addHook('onRoute', (route) => {
    if (route.schema?.hide || route.schema?.querystring) return;
    route.schema = { ...route.schema, querystring: StrictObject({}) };
  });

  // The document (SPEC §16): each route's operation, error codes and examples come from its
  // `operation()` (http/openapi.ts); `redocly.yaml` is the lint it must pass (openapi.test.ts).
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'PIN Widgets platform API',
        version: '1.0.0',
        description:
          'Card products, cards, PIN issuance, widget sessions, webhooks and events. Every error is JSON `{ code, message, field? }` with a stable `code`; each operation lists the codes it can answer, by status. A path no route serves is 404 `ROUTE_NOT_FOUND`.',
        // The repository publishes no licence: the API description is not offered under one.
        license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
      },
      servers: [{ url: config.publicUrl, description: 'This platform (PUBLIC_URL)' }],
      tags: [...TAGS],
      components: {
        schemas: { ...cardSchemas, ...widgetTokenSchemas, ...passkeySchemas, ...webhookSchemas },
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'The program’s API key' },
          widgetToken: {
            type: 'http',
            scheme: 'bearer',
            description: 'A widget token (bearer mode)',
          },
          dpop: {
            type: 'http',
            scheme: 'dpop',
            description: 'A sender-constrained widget token with a DPoP proof (RFC 9449)',
          },
          accountToken: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'An account token (POST /v1/accounts/{account_id}/tokens)',
          },
        },
      },
    },
    transform: documentRoute({ demoMode: config.demoMode }),
    transformObject: addErrorComponents,
  });

  const dispatcher = new WebhookDispatcher(
    store,
    {
      timeoutMs: config.webhookTimeoutMs,
      retryBaseMs: config.webhookRetryBaseMs,
      retryMaxMs: config.webhookRetryMaxMs,
      maxAttempts: config.webhookMaxAttempts,
      pollMs: config.schedulerPollMs,
      demoMode: config.demoMode,
      resolveHost: deps.resolveHost,
    },
    app.log,
  );
  const vault = new PinVault(
    loadPinEncryptionKey(config.dataDir, config.pinEncryptionKey, config.demoMode),
    config.pinEncryptionKeysPrevious.map((hex) => Buffer.from(hex, 'hex')),
  );
  const pans = new PanVault(
    loadDataKey({
      dataDir: config.dataDir,
      fileName: 'pan_encryption_key',
      variable: 'PAN_ENCRYPTION_KEY',
      configured: config.panEncryptionKey,
      demoMode: config.demoMode,
    }),
    config.panEncryptionKeysPrevious.map((hex) => Buffer.from(hex, 'hex')),
    loadDataKey({
      dataDir: config.dataDir,
      fileName: 'pan_hash_key',
      variable: 'PAN_HASH_KEY',
      configured: config.panHashKey,
      demoMode: config.demoMode,
    }),
  );
  const transportKeys = await TransportKeys.open(config.pinTransportKeysFile);
  // Every key file in DATA_DIR exists now: the folder 0700, each file 0600, whatever they were.
  restrictDataDir(config.dataDir);
  const sessions = new WidgetSessions(store, {
    ttlSeconds: config.widgetTokenTtlS,
    maxFailures: config.widgetTokenMaxFailures,
    publicUrl: config.publicUrl,
  });
  // Wired bottom-up, each service built from the ones below it: PIN records (keys only), the
  // simulated chips (DEMO_MODE: personalized when a card is issued), the card core, the
  // offline-PIN issuer side, the PIN service, and the authorization simulator.
  const pinRecords = new PinRecords(vault, pans);
  const issuerKeys = {
    imkAc: Buffer.from(config.imkAc, 'hex'),
    imkSmi: Buffer.from(config.imkSmi, 'hex'),
    imkSmc: Buffer.from(config.imkSmc, 'hex'),
  };
  const chip = config.demoMode
    ? new VirtualChip(
        issuerKeys,
        pans,
        pinRecords,
        new PinVault(
          loadDataKey({
            dataDir: config.dataDir,
            fileName: 'chip_pin_key',
            variable: 'CHIP_PIN_KEY',
            configured: config.chipPinKey,
            demoMode: config.demoMode,
          }),
          config.chipPinKeysPrevious.map((hex) => Buffer.from(hex, 'hex')),
        ),
      )
    : undefined;
  const cards = new CardService(
    store,
    { issuanceDelayMs: config.issuanceDelayMs, demoMode: config.demoMode },
    pans,
    pinRecords,
    chip,
  );
  await cards.sealLegacyPans();
  const scripts = new IssuerScripts(store, cards, pinRecords, issuerKeys);
  const platformUrl = new URL(config.publicUrl);
  const passkeys = new PasskeyService(store, sessions, {
    origin: platformUrl.origin,
    rpId: platformUrl.hostname,
    challengeTtlMs: 120_000,
  });
  // The keys shared with processors and acquirers: PIN-block export, online verification, and
  // the simulated terminal's PIN pad.
  const zonePinKeys = {
    aes: Buffer.from(config.zonePinKeyAes, 'hex'),
    tdes: Buffer.from(config.zonePinKeyTdes, 'hex'),
  };
  const jwe = pinJwe(config.cryptoWorkers);
  const pins = new PinService(
    store,
    cards,
    sessions,
    transportKeys,
    pinRecords,
    scripts,
    passkeys,
    {
      revealLimit: config.revealLimitPerHour,
      revealLimitPerAccount: config.revealLimitPerAccountPerHour,
      revealLimitTotal: config.revealLimitTotalPerHour,
      revealWindowMs: 3600_000,
      zonePinKeys,
      jwe,
    },
  );
  const webhooks = new WebhookService(store, {
    demoMode: config.demoMode,
    resolveHost: deps.resolveHost,
    onQueued: () => dispatcher.nudge(),
  });
  const scheduler = new Scheduler(() => cards.runDueJobs(), config.schedulerPollMs, app.log);
  const apiKeys = new ApiKeys(store, deps.apiKey);
  const accountTokens = new AccountTokens(store, {
    issuer: config.publicUrl,
    ttlSeconds: config.accountTokenTtlS,
  });
  await accountTokens.ensureSigningKey();
  const simulator =
    chip && new AuthorizationSimulator(store, cards, pins, scripts, chip, zonePinKeys.aes);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header(
        'content-security-policy',
        "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      )
      .send(landingPage(config)),
  );
  // Liveness: the process answers. Readiness: it can serve (its database answers) and is not
  // draining; a load balancer stops sending it requests when this turns 503 (docs/deployment.md).
  let draining = false;
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    if (draining) return reply.status(503).send({ ready: false, reason: 'draining' });
    try {
      await store.ping();
    } catch {
      return reply.status(503).send({ ready: false, reason: 'database unreachable' });
    }
    return { ready: true };
  });

  pinRoutes(app, { pins, cards, sessions, transportKeys, passkeys, publicUrl: config.publicUrl });
  syncOfflinePinRoutes(app, { tokens: accountTokens, scripts });
  await widgetAssetRoutes(app, config.frameAncestors);
  if (config.demoMode) await pinPadDocumentRoutes(app, config.frameAncestors);
  let guardedRoutes: readonly string[] = [];
  await app.register(async (api) => {
    guardedRoutes = installApiKeyGuard(api, apiKeys);
    cardRoutes(api, cards, { simulations: config.demoMode });
    widgetTokenRoutes(api, sessions);
    cardPinRoutes(api, pins);
    customerPasskeyRoutes(api, passkeys);
    webhookRoutes(api, webhooks);
    accountTokenRoutes(api, accountTokens);
    if (simulator) {
      authorizationSimulationRoutes(api, simulator);
      pinPadRoutes(api, {
        cards,
        transportKeys,
        zonePinKeys,
      });
    }
  });

  return {
    app,
    cards,
    pins,
    pinRecords,
    sessions,
    transportKeys,
    apiKeys,
    guardedRoutes,
    webhooks,
    dispatcher,
    scheduler,
    offlinePin: { accountTokens, scripts, chip, simulator },
    startWorkers() {
      scheduler.start();
      dispatcher.start();
    },
    async close(drainDelayMs = 0) {
      draining = true;
      // Time for a load balancer's next readiness probe to take this instance out of rotation.
      if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
      await scheduler.stop();
      await dispatcher.stop();
      await app.close();
      await jwe.close();
    },
  };
}
