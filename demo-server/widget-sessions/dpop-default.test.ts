import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCard, mintToken, widgetCall } from '../testing/cards.js';
import { dpopKey } from '../testing/independent-jose.js';
import { type TestPlatform, startTestPlatform } from '../testing/platform.js';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({ ISSUANCE_DELAY_MS: '3600000' });
});
afterAll(() => platform.dispose());

const JKT = 'A'.repeat(43);

/** Widget tokens in the database, read as another process would (committed rows only). */
async function countTokens(): Promise<number> {
  const [row] = await platform.db.rows<{ n: number }>('SELECT count(*) AS n FROM widget_tokens');
  return row!.n;
}

describe('DPoP by default (README “PINs”)', () => {
  it('a product is created without bearer tokens unless it opts in', async () => {
    const created = await platform.call('POST', '/v1/card_products', {
      name: 'Default',
      form: 'PHYSICAL',
      pin_issuance_policy: 'REQUIRED',
    });
    expect(created.body.allow_bearer_widget_tokens).toBe(false);
    const fetched = await platform.call('GET', `/v1/card_products/${created.body.id}`);
    expect(fetched.body.allow_bearer_widget_tokens).toBe(false);
  });

  it('minting without jkt is 400 DPOP_BINDING_REQUIRED and stores nothing; with jkt it works', async () => {
    const card = await issueCard(platform, {
      pin_issuance_policy: 'REQUIRED',
      allow_bearer_widget_tokens: false,
    });
    const tokensBefore = await countTokens();
    for (const body of [
      { widget_type: 'SET_PIN' },
      { widget_type: 'REVEAL_PIN', origin: 'https://program.example' },
    ]) {
      const refused = await platform.call('POST', `/v1/cards/${card.id}/widget_token`, body);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'DPOP_BINDING_REQUIRED', field: 'jkt' });
      expect(refused.body.message).toContain('allow_bearer_widget_tokens');
    }
    expect(await countTokens()).toBe(tokensBefore);
    const bound = await platform.call('POST', `/v1/cards/${card.id}/widget_token`, {
      widget_type: 'SET_PIN',
      jkt: JKT,
    });
    expect(bound.status).toBe(201);
  });

  it('a bound token works only with its DPoP proof; a bearer product still takes plain tokens', async () => {
    const strictCard = await issueCard(platform, {
      pin_issuance_policy: 'REQUIRED',
      allow_bearer_widget_tokens: false,
    });
    const key = await dpopKey();
    const token = await mintToken(platform, strictCard.id, {
      widget_type: 'SET_PIN',
      jkt: key.jkt,
    });
    const url = 'http://localhost:4000/v1/widget/session';
    expect((await widgetCall(platform, 'GET', '/v1/widget/session', token)).status).toBe(401);
    const proof = await key.proof('GET', url, token);
    const bound = await widgetCall(platform, 'GET', '/v1/widget/session', token, undefined, {
      authorization: `DPoP ${token}`,
      dpop: proof,
    });
    expect(bound.status).toBe(200);

    const compatible = await issueCard(platform, { pin_issuance_policy: 'REQUIRED' });
    const plain = await mintToken(platform, compatible.id, { widget_type: 'SET_PIN' });
    expect((await widgetCall(platform, 'GET', '/v1/widget/session', plain)).status).toBe(200);
  });
});
