import { type APIRequestContext, type Page, expect } from '@playwright/test';
import { E2E_API_KEY, E2E_PLATFORM_URL } from '../playwright.config.js';

export const auth = { authorization: `Bearer ${E2E_API_KEY}` };

/** Issues a card through the platform API, optionally activated; returns its id and last four. */
export async function issueCard(
  request: APIRequestContext,
  product: Record<string, unknown>,
  { activate = false }: { activate?: boolean } = {},
): Promise<{ id: string; last_four: string }> {
  const created = await request.post(`${E2E_PLATFORM_URL}/v1/card_products`, {
    headers: auth,
    data: { name: 'E2E', form: 'PHYSICAL', ...product },
  });
  const card = await request.post(`${E2E_PLATFORM_URL}/v1/cards`, {
    headers: auth,
    data: { card_product_id: (await created.json()).id, account_id: 'acct_e2e' },
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
