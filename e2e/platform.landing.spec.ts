import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';

test('the platform front page renders in Chromium, links the API description, passes axe', async ({
  page,
}) => {
  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('PIN Widgets platform');

  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations).toEqual([]);

  await page.getByRole('link', { name: /OpenAPI/ }).click();
  const doc = JSON.parse((await page.locator('body').textContent()) ?? '{}');
  expect(doc.openapi).toBe('3.1.0');
});

test('the API refuses the browser without the key and answers JSON', async ({ request }) => {
  const response = await request.get('/v1/card_products');
  expect(response.status()).toBe(401);
  expect(await response.json()).toMatchObject({ code: 'UNAUTHORIZED' });
});
