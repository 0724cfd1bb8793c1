import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DemoSiteError } from './errors.js';
import type { PlatformClient, RevealAssertion } from './platform-client.js';
import { parseHostileRevealRequest } from './requests.js';
import { type DemoSession, tokenDigest } from './sessions.js';

/**
 * The demo program's side of passkey step-up (docs/step-up.md): the cardholder's passkeys, the
 * back office's removal, and the hostile-host demo, which shows what a page taken over by
 * script can and cannot do. Registered in the cardholder scope: a session and its CSRF token
 * guard every route, and a route acts only on the session's own customer and cards.
 */
export interface StepUpRouteDeps {
  platform: PlatformClient;
  sessionFor: (request: FastifyRequest) => DemoSession;
  ownedCard: (request: FastifyRequest, value: unknown) => string;
  relay: (status: number, body: unknown, reply: FastifyReply) => FastifyReply;
  pageOrigin: (request: FastifyRequest) => string;
}

/** Whom the relay says it is (ASCII: a header), so the reveal's audit event names it; an attacker would lie. */
const RELAY_USER_AGENT = 'Lumen Bank demo: hostile-host relay (stands in for an attacker server)';

export function stepUpRoutes(cardholder: FastifyInstance, deps: StepUpRouteDeps): void {
  const { platform, sessionFor, ownedCard, relay, pageOrigin } = deps;
  const ofCustomer = (request: FastifyRequest) => ({
    params: { path: { customer_id: sessionFor(request).customerId } },
  });

  // The session's own customer only: the route takes no customer id a caller could change.
  cardholder.get('/api/passkeys', async (request, reply) => {
    const listed = await platform.GET('/v1/customers/{customer_id}/passkeys', ofCustomer(request));
    return relay(listed.response.status, listed.data ?? listed.error, reply);
  });

  // The program's back office (here, for the demo, on the cardholder's page): a lost device's
  // passkeys removed. A REAL PROGRAM puts this behind its staff sign-in, checks who is calling
  // first, and audits it; never in the cardholder's backend, which a compromised page could
  // then use to remove them (reveals are then refused, 409 PASSKEY_NOT_ENROLLED, not allowed).
  cardholder.delete('/api/passkeys', async (request, reply) => {
    const removed = await platform.DELETE(
      '/v1/customers/{customer_id}/passkeys',
      ofCustomer(request),
    );
    return relay(removed.response.status, removed.data ?? removed.error, reply);
  });

  /**
   * The hostile host's way out. Script that has taken over the page holds a REVEAL_PIN token it
   * had this program mint for its own DPoP key, and a proof it signed; it cannot send them to
   * the platform from the page (this page's CSP connects only to this site, and the platform's
   * widget endpoints refuse every browser origin but their own), so it hands them to a server of
   * its own, which calls the platform outside a browser, where no Origin header goes. This route
   * plays that server, and only for REVEAL_PIN tokens this session minted for its own card, so
   * the demo relays nobody else's.
   *
   * The platform's answer comes back as it is, except the encrypted PIN: this route keeps the
   * ciphertext and drops it, so no PIN reaches this page even in the attacker's demo. A real
   * attacker's server would hand it to the script, whose key decrypts it.
   */
  cardholder.post('/api/hostile-host/reveal', async (request) => {
    const attack = parseHostileRevealRequest(request.body);
    const cardId = ownedCard(request, attack.card_id);
    if (sessionFor(request).revealTokens.get(tokenDigest(attack.token)) !== cardId)
      throw new DemoSiteError(
        400,
        'WIDGET_TOKEN_NOT_MINTED_HERE',
        'The demo relays only REVEAL_PIN tokens this session minted for that card',
      );
    const { data, error, response } = await platform.POST('/v1/widget/pin/reveal', {
      body: {
        public_key: attack.public_key,
        // Relayed as the script captured it: checking its shape is the platform's part here.
        ...(attack.assertion === undefined
          ? {}
          : { assertion: attack.assertion as unknown as RevealAssertion }),
      },
      // The widget token in place of the API key, so this call does not carry the key. The
      // document has the DPoP scheme but no header parameters: the proof and the parent origin
      // go as plain headers.
      headers: {
        authorization: `DPoP ${attack.token}`,
        dpop: attack.dpop,
        // What the widget reports; outside a browser a caller claims any parent it likes.
        'pin-widget-parent-origin': pageOrigin(request),
        'user-agent': RELAY_USER_AGENT,
      },
    });
    // Every answer is the platform's to show, its 401s included: they are the point here, not
    // a sign that this backend's API key is wrong (this call does not carry it).
    if (data) {
      const jwe = data.encrypted_pin;
      const header = JSON.parse(Buffer.from(jwe.split('.')[0]!, 'base64url').toString('utf8'));
      return {
        platform_status: response.status,
        encrypted_pin: { alg: header.alg, enc: header.enc, characters: jwe.length },
      };
    }
    return {
      platform_status: response.status,
      code: error?.code ?? null,
      message: error?.message ?? null,
    };
  });
}
