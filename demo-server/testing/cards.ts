import { luhnCheckDigit } from '../cards/pan.js';
import type { TestPlatform } from './platform.js';

/** A Luhn-valid test PAN ending in `lastFour`'s digits before the check digit. */
export function testPan(body15: string): string {
  return body15 + luhnCheckDigit(body15);
}

/**
 * Creates a product and a card on it through the API; returns the card resource. The product
 * allows bearer widget tokens unless `product` says otherwise: most tests mint plain tokens,
 * the DPoP-by-default rule has its own tests (widget-sessions/dpop-default.test.ts).
 */
export async function issueCard(
  platform: TestPlatform,
  product: Record<string, unknown>,
  card: Record<string, unknown> = {},
) {
  const created = await platform.call('POST', '/v1/card_products', {
    name: 'Test product',
    form: 'PHYSICAL',
    ...(product.form === 'VIRTUAL' ? {} : { allow_bearer_widget_tokens: true }),
    ...product,
  });
  if (created.status !== 201) throw new Error(`product: ${JSON.stringify(created.body)}`);
  const issued = await platform.call('POST', '/v1/cards', {
    card_product_id: created.body.id,
    account_id: 'acct_1',
    ...card,
  });
  if (issued.status !== 201) throw new Error(`card: ${JSON.stringify(issued.body)}`);
  return issued.body as {
    id: string;
    last_four: string;
    card_status: string;
    [key: string]: unknown;
  };
}

export async function mintToken(
  platform: TestPlatform,
  cardId: string,
  body: Record<string, unknown>,
): Promise<string> {
  const minted = await platform.call('POST', `/v1/cards/${cardId}/widget_token`, body);
  if (minted.status !== 201) throw new Error(`token: ${JSON.stringify(minted.body)}`);
  return minted.body.widget_token as string;
}

/** A widget API call as the widget makes it (token in Authorization, optional extra headers). */
export async function widgetCall(
  platform: TestPlatform,
  method: 'GET' | 'POST',
  url: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await platform.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, ...headers },
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    body: response.body === '' ? undefined : response.json(),
  };
}

/** Every form a PAN could take in stored bytes: ASCII digits, their hex (both cases), packed BCD. */
export function panForms(pan: string): Buffer[] {
  const ascii = Buffer.from(pan, 'latin1');
  const forms = [
    ascii,
    Buffer.from(ascii.toString('hex'), 'latin1'),
    Buffer.from(ascii.toString('hex').toUpperCase(), 'latin1'),
  ];
  if (pan.length % 2 === 0) forms.push(Buffer.from(pan, 'hex'));
  return forms;
}
