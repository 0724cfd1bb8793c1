import { type APIRequestContext, type Frame, type Page, expect } from '@playwright/test';
import { E2E_API_KEY, E2E_PLATFORM_URL, E2E_SITE_URL } from '../playwright.config.js';

export const auth = { authorization: `Bearer ${E2E_API_KEY}` };

/**
 * Issues a card through the platform API, optionally activated and for a customer (passkeys are
 * the customer's: docs/step-up.md); returns its id and last four.
 */
export async function issueCard(
  request: APIRequestContext,
  product: Record<string, unknown>,
  { activate = false, customerId }: { activate?: boolean; customerId?: string } = {},
): Promise<{ id: string; last_four: string }> {
  const created = await request.post(`${E2E_PLATFORM_URL}/v1/card_products`, {
    headers: auth,
    // Bearer tokens allowed: the specs mint plain tokens too (DPoP-only: webview.top-level.spec.ts).
    data: { name: 'E2E', form: 'PHYSICAL', allow_bearer_widget_tokens: true, ...product },
  });
  const card = await request.post(`${E2E_PLATFORM_URL}/v1/cards`, {
    headers: auth,
    data: {
      card_product_id: (await created.json()).id,
      account_id: 'acct_e2e',
      ...(customerId ? { customer_id: customerId } : {}),
    },
  });
  const body = await card.json();
  if (activate) {
    await request.post(`${E2E_PLATFORM_URL}/v1/simulations/cards/${body.id}/advance`, {
      headers: auth,
    });
    await request.patch(`${E2E_PLATFORM_URL}/v1/cards/${body.id}`, {
      headers: auth,
      data: { card_status: 'ACTIVE' },
    });
  }
  return body;
}

/** On the demo site: issue a RANDOM card, skip the wait and activate it (the reveal step shows). */
export async function activeRandomCardOnDemo(page: Page): Promise<void> {
  await page.goto(E2E_SITE_URL);
  await page.getByRole('radio', { name: /Random/ }).check();
  await page.getByRole('button', { name: 'Issue card' }).click();
  await expect(page.locator('#card-status')).toHaveText('Pending');
  await page.getByRole('button', { name: /Skip the wait/ }).click();
  await expect(page.locator('#card-status')).toHaveText('Not activated');
  await page.getByRole('button', { name: 'Activate card' }).click();
  await expect(page.locator('#card-status')).toHaveText('Active');
}

export async function getCard(request: APIRequestContext, id: string) {
  return (await request.get(`${E2E_PLATFORM_URL}/v1/cards/${id}`, { headers: auth })).json();
}

/** Collects CSP violations and page errors, to assert none happened. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !/favicon/.test(message.location().url))
      problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}

export async function waitForEvent(page: Page, name: string, count = 1) {
  await expect
    .poll(() =>
      page.evaluate((n) => (window as any).events.filter((e: any) => e.name === n).length, name),
    )
    .toBeGreaterThanOrEqual(count);
}

/** The Frame of the (first) widget document on the page, once the browser has loaded it. */
export async function widgetFrame(page: Page): Promise<Frame> {
  let found: Frame | undefined;
  await expect
    .poll(() => {
      found = page.frames().find((frame) => frame.url().startsWith(`${E2E_PLATFORM_URL}/widgets/`));
      return found !== undefined;
    })
    .toBe(true);
  return found!;
}

/**
 * Counts the message events a window receives, from a listener added after the page's own: once
 * the count has passed a message, the page's own handler has already run for it.
 */
export async function countMessages(frame: Frame): Promise<() => Promise<number>> {
  await frame.evaluate(() => {
    (window as any).__messagesSeen = 0;
    addEventListener('message', () => (window as any).__messagesSeen++);
  });
  return () => frame.evaluate(() => (window as any).__messagesSeen as number);
}

/**
 * Everything the page (and its frames) logs and sends or receives over the network, for a
 * secret to be searched in: console text, request URLs, headers and bodies, response bodies.
 */
export function recordTraffic(page: Page) {
  const texts: string[] = [];
  const pending: Promise<void>[] = [];
  page.on('console', (message) => texts.push(`console: ${message.text()}`));
  page.on('request', (request) =>
    texts.push(
      `request: ${request.url()} ${JSON.stringify(request.headers())} ${request.postData() ?? ''}`,
    ),
  );
  page.on('response', (response) => {
    pending.push(
      response.text().then(
        (body) => void texts.push(`response: ${response.url()} ${body}`),
        () => undefined, // redirects and aborted loads have no body
      ),
    );
  });
  return {
    async all(): Promise<string[]> {
      await Promise.all(pending);
      return texts;
    },
  };
}

/**
 * A virtual authenticator for the page (CDP WebAuthn domain): a platform authenticator that
 * keeps resident keys and verifies the user, touched automatically. Added through the page's own
 * session, it also serves the page's cross-origin widget frames (checked in passkeys.*.spec.ts).
 */
export async function virtualAuthenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    cdp,
    authenticatorId,
    async credentials() {
      return (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    },
    /** false: the next ceremony fails as a refused fingerprint does (NotAllowedError). */
    async userVerifies(verified: boolean) {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: verified });
    },
  };
}

let customers = 0;

/** An ACTIVE card with a random PIN on a PASSKEY product, for a customer of its own. */
export async function passkeyCard(request: APIRequestContext) {
  const customerId = `cust_e2e_${Date.now().toString(36)}_${++customers}`;
  const card = await issueCard(
    request,
    { pin_issuance_policy: 'RANDOM', reveal_step_up: 'PASSKEY' },
    { activate: true, customerId },
  );
  return { ...card, customerId };
}
