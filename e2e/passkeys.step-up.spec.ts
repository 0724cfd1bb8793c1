import { createHash, createPrivateKey, sign } from 'node:crypto';
import { type APIRequestContext, type Page, type Route, expect, test } from '@playwright/test';
import { dpopKey, ephemeralKey } from '../demo-server/testing/independent-jose.js';
import { SoftwareAuthenticator } from '../demo-server/testing/webauthn.js';
import { E2E_FIXTURE_URL, E2E_PLATFORM_URL } from '../playwright.config.js';
import { auth, passkeyCard, virtualAuthenticator, waitForEvent, watchConsole } from './support.js';

/**
 * Passkey step-up (docs/step-up.md) in Chromium, with a virtual authenticator: the enroll widget
 * runs create() and the reveal widget get() inside the platform's documents, framed on the
 * program's page (a token bound to its origin) and top-level as in a webview (a token without
 * one). Then every way around it a hijacked host page could try is refused: a replayed
 * assertion, another RP ID or origin, a counter gone backwards, an attacker's own key, another
 * customer's passkey.
 */

const REVEAL = '/v1/widget/pin/reveal';
const CHALLENGE = '/v1/widget/pin/reveal/challenge';
const RP_ID = new URL(E2E_PLATFORM_URL).hostname;

type Card = Awaited<ReturnType<typeof passkeyCard>>;
const frame = (page: Page) => page.frameLocator('#slot iframe');
const events = (page: Page) => page.evaluate(() => (window as any).events as any[]);
const failures = async (page: Page) =>
  (await events(page)).filter((e) => e.name === 'failure').map((e) => e.payload.code);

/** The SDK on the program's page (the fixture origin), fetchToken mode: DPoP-bound tokens. */
async function mount(page: Page, widget: string, card: Card, options: object = {}) {
  const query = new URLSearchParams({
    widget,
    mode: 'fetch',
    card: card.id,
    options: JSON.stringify(options),
  });
  await page.goto(`${E2E_FIXTURE_URL}/sdk.html?${query}`);
  await waitForEvent(page, 'load');
}

/** Enrolls the virtual authenticator's passkey for the card's customer, framed. */
async function enroll(page: Page, card: Card) {
  await mount(page, 'enroll-passkey', card);
  await frame(page).getByRole('button', { name: 'Set up a passkey' }).click();
  await expect(frame(page).getByRole('status')).toHaveText(
    'Your passkey is set up. From now on, you’ll confirm it’s you before your PIN is shown.',
  );
  await waitForEvent(page, 'success');
}

async function pressShowPin(page: Page) {
  await frame(page).getByRole('button', { name: 'Show PIN' }).click();
}

/** The last reveal audit event of the card. */
async function lastReveal(request: APIRequestContext, cardId: string) {
  const listed = await request.get(`${E2E_PLATFORM_URL}/v1/events?type=CARD.PIN.REVEALED`, {
    headers: auth,
  });
  const { data } = (await listed.json()) as { data: { data: Record<string, any> }[] };
  return data.map((event) => event.data).find((event) => JSON.stringify(event).includes(cardId));
}

/**
 * What a script on the program's page can do with the program's own backend: mint a token bound
 * to a key it holds (the fixture's /token, for its origin) and call the widget API with it.
 */
async function attacker(request: APIRequestContext, card: Card) {
  const key = await dpopKey();
  const minted = await request.get(
    `${E2E_FIXTURE_URL}/token?card=${card.id}&type=REVEAL_PIN&jkt=${key.jkt}`,
  );
  const token = ((await minted.json()) as { widget_token: string }).widget_token;
  expect(token).toMatch(/^wt_/);
  const call = async (path: string, body?: unknown) => {
    const url = `${E2E_PLATFORM_URL}${path}`;
    const response = await request.post(url, {
      headers: {
        authorization: `DPoP ${token}`,
        dpop: await key.proof('POST', url, token),
        'pin-widget-parent-origin': E2E_FIXTURE_URL,
      },
      ...(body === undefined ? {} : { data: body }),
    });
    return { status: response.status(), body: (await response.json()) as Record<string, any> };
  };
  return { call };
}

/** Holds the widget's requests to `path`, for the test to let through, change or keep. */
function intercept(page: Page, path: string) {
  const held: Route[] = [];
  void page.route(`${E2E_PLATFORM_URL}${path}`, (route) => void held.push(route));
  return {
    async next(): Promise<Route> {
      await expect.poll(() => held.length).toBeGreaterThan(0);
      return held.shift()!;
    },
    stop: () => page.unroute(`${E2E_PLATFORM_URL}${path}`),
  };
}

const b64u = (data: Buffer) => data.toString('base64url');
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();

/**
 * An assertion signed with the enrolled credential's own private key (read off the virtual
 * authenticator), for the challenge the widget was given, but naming `rpId` and `origin` of
 * the test's choosing: the signature is good, only where it claims to come from is wrong.
 */
function forgedAssertion(
  credential: { credentialId: string; privateKey: string; signCount: number },
  clientDataJSON: string,
  where: { rpId: string; origin: string },
) {
  const seen = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
  const clientData = Buffer.from(JSON.stringify({ ...seen, origin: where.origin }));
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(credential.signCount + 10);
  // Flags: user present (0x01) and verified (0x04).
  const authData = Buffer.concat([sha256(where.rpId), Buffer.from([0x05]), counter]);
  const key = createPrivateKey({
    key: Buffer.from(credential.privateKey, 'base64'),
    format: 'der',
    type: 'pkcs8',
  });
  const id = b64u(Buffer.from(credential.credentialId, 'base64'));
  return {
    id,
    rawId: id,
    type: 'public-key',
    response: {
      clientDataJSON: b64u(clientData),
      authenticatorData: b64u(authData),
      signature: b64u(sign('sha256', Buffer.concat([authData, sha256(clientData)]), key)),
    },
    clientExtensionResults: {},
  };
}

test('the enroll document is served as the others are: passkeys for the platform’s documents only', async ({
  request,
}) => {
  const enroll = (await request.get(`${E2E_PLATFORM_URL}/widgets/enroll-passkey/`)).headers();
  const reveal = (await request.get(`${E2E_PLATFORM_URL}/widgets/reveal-pin/`)).headers();
  for (const name of ['content-security-policy', 'permissions-policy', 'referrer-policy']) {
    expect(enroll[name], name).toBe(reveal[name]);
  }
  expect(enroll['permissions-policy']).toContain(
    'publickey-credentials-get=(self), publickey-credentials-create=(self), camera=()',
  );
  expect(enroll['content-security-policy']).toContain("default-src 'none'");
  expect(enroll['x-content-type-options']).toBe('nosniff');
});

test.describe('passkey step-up through the SDK', () => {
  test.setTimeout(60_000);

  test('framed on the program’s page: enroll, then Show PIN asks the passkey and shows the PIN', async ({
    page,
    request,
  }) => {
    const problems = watchConsole(page);
    const authenticator = await virtualAuthenticator(page);
    const card = await passkeyCard(request);

    await mount(page, 'enroll-passkey', card);
    const enrollFrame = frame(page);
    await expect(enrollFrame.getByRole('heading')).toHaveText('Set up a passkey');
    await expect(
      enrollFrame.getByText(
        'Confirm it’s you with your fingerprint, face or screen lock before your PIN is shown.',
      ),
    ).toBeVisible();
    await expect(page.locator('#slot iframe')).toHaveAttribute(
      'allow',
      'publickey-credentials-get; publickey-credentials-create',
    );
    await page.locator('#slot iframe').screenshot({ path: '/tmp/passkey-enroll.png' });
    await enrollFrame.getByRole('button', { name: 'Set up a passkey' }).click();
    await expect(enrollFrame.getByRole('status')).toContainText('Your passkey is set up');
    await page.locator('#slot iframe').screenshot({ path: '/tmp/passkey-enroll-done.png' });
    await waitForEvent(page, 'success');
    expect((await events(page)).map((e) => e.name).filter((n) => n !== 'resize')).toEqual([
      'load',
      'focus',
      'submit',
      'success',
    ]);

    const [credential] = await authenticator.credentials();
    expect(credential).toMatchObject({ rpId: RP_ID, isResidentCredential: true });
    const listed = await request.get(
      `${E2E_PLATFORM_URL}/v1/customers/${card.customerId}/passkeys`,
      { headers: auth },
    );
    expect((await listed.json()).data).toEqual([
      expect.objectContaining({ customer_id: card.customerId, card_id: card.id }),
    ]);

    await mount(page, 'reveal-pin', card, { autoHideSeconds: 30 });
    const revealFrame = frame(page);
    await expect(
      revealFrame.getByRole('button', { name: 'Show PIN', description: /passkey first/ }),
    ).toBeVisible();
    await page.locator('#slot iframe').screenshot({ path: '/tmp/passkey-reveal-ask.png' });
    await pressShowPin(page);
    await waitForEvent(page, 'revealed');
    await expect(revealFrame.locator('.pw-pin')).toHaveText(/^\d{4}$/);
    await page.locator('#slot iframe').screenshot({ path: '/tmp/passkey-reveal-shown.png' });
    const revealed = await lastReveal(request, card.id);
    expect(revealed).toMatchObject({
      origin: E2E_FIXTURE_URL,
      step_up: { method: 'PASSKEY', passkey_id: expect.stringMatching(/^pk_/) },
    });
    // The counter and last use are recorded with the reveal.
    const after = await request.get(
      `${E2E_PLATFORM_URL}/v1/customers/${card.customerId}/passkeys`,
      { headers: auth },
    );
    expect((await after.json()).data[0].last_used_time).not.toBeNull();
    expect(problems).toEqual([]);
  });

  test('top-level as in a webview: enroll and reveal over the bridge, tokens minted without origin', async ({
    page,
    request,
  }) => {
    await virtualAuthenticator(page);
    const card = await passkeyCard(request);
    await page.addInitScript(() => {
      (window as any).bridged = [];
      (window as any).ReactNativeWebView = {
        postMessage: (json: string) => (window as any).bridged.push(JSON.parse(json)),
      };
    });
    const bridged = () => page.evaluate(() => (window as any).bridged as any[]);
    /** The app's side: answer the document's tokenRequest with a token for its key, no origin. */
    const answerTokenRequest = async () => {
      await expect
        .poll(async () => (await bridged()).some((m) => m.type === 'tokenRequest'))
        .toBe(true);
      const { jkt, widgetType } = (await bridged()).find((m) => m.type === 'tokenRequest').payload;
      const minted = await request.post(`${E2E_PLATFORM_URL}/v1/cards/${card.id}/widget_token`, {
        headers: auth,
        data: { widget_type: widgetType, jkt },
      });
      const { widget_token } = await minted.json();
      await page.evaluate((token) => (window as any).pinWidgetsToken(token), widget_token);
      return widgetType as string;
    };

    await page.goto(`${E2E_PLATFORM_URL}/widgets/enroll-passkey/#locale=en`);
    expect(await answerTokenRequest()).toBe('ENROLL_PASSKEY');
    await page.getByRole('button', { name: 'Set up a passkey' }).click();
    await expect(page.getByRole('status')).toContainText('Your passkey is set up');
    await page.screenshot({ path: '/tmp/passkey-webview-enrolled.png' });
    expect((await bridged()).map((m) => m.type)).toEqual(
      expect.arrayContaining(['tokenRequest', 'load', 'submit', 'success']),
    );

    await page.goto(`${E2E_PLATFORM_URL}/widgets/reveal-pin/#showToggle=true&autoHideSeconds=30`);
    expect(await answerTokenRequest()).toBe('REVEAL_PIN');
    await page.getByRole('button', { name: 'Show PIN' }).click();
    await expect(page.locator('.pw-pin')).toHaveText(/^\d{4}$/);
    expect((await bridged()).map((m) => m.type)).toContain('revealed');
    expect(await lastReveal(request, card.id)).toMatchObject({
      origin: null,
      step_up: { method: 'PASSKEY' },
    });
  });

  test('a webview without WebAuthn: the app hears PASSKEY_UNSUPPORTED as an error, never a hang', async ({
    page,
    request,
  }) => {
    const card = await passkeyCard(request);
    await page.addInitScript(() => {
      delete (window as any).PublicKeyCredential;
      (window as any).bridged = [];
      (window as any).ReactNativeWebView = {
        postMessage: (json: string) => (window as any).bridged.push(JSON.parse(json)),
      };
    });
    const bridged = () => page.evaluate(() => (window as any).bridged as any[]);
    const unsupported = {
      type: 'error',
      payload: {
        code: 'PASSKEY_UNSUPPORTED',
        message: 'Passkeys don’t work in this browser or app, so this step can’t be done here.',
        failedFields: [],
      },
    };

    await page.goto(`${E2E_PLATFORM_URL}/widgets/enroll-passkey/#locale=en`);
    await expect.poll(bridged).toContainEqual(unsupported);
    await expect(page.getByRole('alert')).toHaveText(unsupported.payload.message);
    await page.screenshot({ path: '/tmp/passkey-webview-unsupported.png' });
    expect((await bridged()).map((m) => m.type)).not.toContain('load');

    // The reveal document learns of the PASSKEY product from its session, then says the same.
    const minted = await request.post(`${E2E_PLATFORM_URL}/v1/cards/${card.id}/widget_token`, {
      headers: auth,
      data: { widget_type: 'REVEAL_PIN' },
    });
    const { widget_token } = await minted.json();
    await page.goto(`${E2E_PLATFORM_URL}/widgets/reveal-pin/#token=${widget_token}`);
    await expect.poll(bridged).toContainEqual(unsupported);
    await expect(page.getByRole('button', { name: 'Show PIN' })).toBeDisabled();
    expect((await bridged()).map((m) => m.type)).not.toContain('load');
  });

  test('a cancelled ceremony says so in plain words, and the cardholder tries again', async ({
    page,
    request,
  }) => {
    const authenticator = await virtualAuthenticator(page);
    const card = await passkeyCard(request);

    // The fingerprint is refused: create() fails as a cancelled prompt does.
    await authenticator.userVerifies(false);
    await mount(page, 'enroll-passkey', card);
    const button = frame(page).getByRole('button', { name: 'Set up a passkey' });
    await button.click();
    await expect(frame(page).getByRole('status')).toHaveText(
      'Passkey setup cancelled. You can try again.',
    );
    await page.locator('#slot iframe').screenshot({ path: '/tmp/passkey-enroll-cancelled.png' });
    expect(await failures(page)).toEqual(['STEP_UP_CANCELLED']);
    await authenticator.userVerifies(true);
    await button.click();
    await expect(frame(page).getByRole('status')).toContainText('Your passkey is set up');

    await authenticator.userVerifies(false);
    await mount(page, 'reveal-pin', card);
    await pressShowPin(page);
    await expect(frame(page).getByRole('status')).toHaveText(
      'Passkey confirmation cancelled. You can try again.',
    );
    await page.locator('#slot iframe').screenshot({ path: '/tmp/passkey-reveal-cancelled.png' });
    expect(await failures(page)).toEqual(['STEP_UP_CANCELLED']);
    await expect(frame(page).locator('.pw-pin')).toHaveText('••••');
    await authenticator.userVerifies(true);
    await pressShowPin(page);
    await waitForEvent(page, 'revealed');
    await expect(frame(page).locator('.pw-pin')).toHaveText(/^\d{4}$/);
  });
});

test.describe('what a hijacked host page tries is refused', () => {
  test.setTimeout(60_000);

  test('a replayed assertion, with a fresh token for the attacker’s own key: 401 STEP_UP_FAILED', async ({
    page,
    request,
  }) => {
    await virtualAuthenticator(page);
    const card = await passkeyCard(request);
    await enroll(page, card);
    const thief = await attacker(request, card);
    const key = await ephemeralKey();

    // Taken off the wire before the platform saw it: its challenge is unused, but another token's.
    await mount(page, 'reveal-pin', card);
    const reveals = intercept(page, REVEAL);
    await pressShowPin(page);
    const held = await reveals.next();
    const unused = held.request().postDataJSON() as { assertion: unknown };
    await held.abort();
    await expect(frame(page).getByRole('status')).toContainText('couldn’t reach the server');
    const early = await thief.call(REVEAL, {
      public_key: key.publicJwk,
      assertion: unused.assertion,
    });
    expect(early).toMatchObject({ status: 401, body: { code: 'STEP_UP_FAILED' } });
    expect(early.body).not.toHaveProperty('encrypted_pin');

    // Taken after the cardholder's reveal went through: its challenge is used up too.
    await pressShowPin(page);
    const passed = await reveals.next();
    const used = passed.request().postDataJSON() as { assertion: unknown };
    await passed.continue();
    await waitForEvent(page, 'revealed');
    await reveals.stop();
    const late = await thief.call(REVEAL, { public_key: key.publicJwk, assertion: used.assertion });
    expect(late).toMatchObject({ status: 401, body: { code: 'STEP_UP_FAILED' } });
    expect(late.body).not.toHaveProperty('encrypted_pin');
  });

  test('a token minted for the attacker’s key gets a challenge but never an encrypted_pin', async ({
    page,
    request,
  }) => {
    await virtualAuthenticator(page);
    const card = await passkeyCard(request);
    await enroll(page, card);
    const thief = await attacker(request, card);
    const key = await ephemeralKey();

    const options = await thief.call(CHALLENGE);
    expect(options).toMatchObject({ status: 200, body: { rpId: RP_ID } });
    const bare = await thief.call(REVEAL, { public_key: key.publicJwk });
    expect(bare).toMatchObject({ status: 401, body: { code: 'STEP_UP_REQUIRED' } });
    // The best the attacker can make: a perfect assertion from a key of its own.
    const own = new SoftwareAuthenticator().assert({
      challenge: options.body.challenge,
      origin: E2E_PLATFORM_URL,
      rpId: RP_ID,
      crossOrigin: true,
      topOrigin: E2E_FIXTURE_URL,
    });
    const forged = await thief.call(REVEAL, { public_key: key.publicJwk, assertion: own });
    expect(forged).toMatchObject({ status: 401, body: { code: 'STEP_UP_FAILED' } });
    for (const answer of [options, bare, forged]) {
      expect(answer.body).not.toHaveProperty('encrypted_pin');
    }
    expect(await lastReveal(request, card.id)).toBeUndefined();
  });

  for (const { name, where, accepted } of [
    { name: 'another RP ID', where: { rpId: 'evil.example', origin: E2E_PLATFORM_URL } },
    { name: 'another origin (the host page’s)', where: { rpId: RP_ID, origin: E2E_FIXTURE_URL } },
    // The control: forged the same way for the platform's RP ID and origin, it is accepted, so
    // the refusals above are for where the assertion claims to come from, and nothing else.
    {
      name: 'the platform itself',
      where: { rpId: RP_ID, origin: E2E_PLATFORM_URL },
      accepted: true,
    },
  ]) {
    test(`an assertion for ${name}, signed by the enrolled key: ${accepted ? 'accepted' : 'refused'}`, async ({
      page,
      request,
    }) => {
      const authenticator = await virtualAuthenticator(page);
      const card = await passkeyCard(request);
      await enroll(page, card);
      const [credential] = await authenticator.credentials();

      await mount(page, 'reveal-pin', card);
      const reveals = intercept(page, REVEAL);
      await pressShowPin(page);
      const held = await reveals.next();
      const body = held.request().postDataJSON() as {
        public_key: unknown;
        assertion: { response: { clientDataJSON: string } };
      };
      const assertion = forgedAssertion(credential!, body.assertion.response.clientDataJSON, where);
      const answer = await held.fetch({ postData: JSON.stringify({ ...body, assertion }) });
      await held.fulfill({ response: answer });
      await reveals.stop();
      if (accepted) {
        expect(answer.status()).toBe(200);
        await waitForEvent(page, 'revealed');
        return;
      }
      expect(answer.status()).toBe(401);
      const refusal = await answer.json();
      expect(refusal.code).toBe('STEP_UP_FAILED');
      expect(refusal).not.toHaveProperty('encrypted_pin');
      await expect(frame(page).getByRole('status')).toHaveText(
        'Your passkey confirmation couldn’t be checked. Please try again.',
      );
      await page.locator('#slot iframe').screenshot({ path: '/tmp/passkey-reveal-refused.png' });
      expect(await failures(page)).toEqual(['STEP_UP_FAILED']);

      // The cardholder's own next try, untouched, still reveals.
      await pressShowPin(page);
      await waitForEvent(page, 'revealed');
    });
  }

  test('a signature counter gone backwards (a cloned authenticator) is refused', async ({
    page,
    request,
  }) => {
    const authenticator = await virtualAuthenticator(page);
    const card = await passkeyCard(request);
    await enroll(page, card);
    await mount(page, 'reveal-pin', card, { autoHideSeconds: 1 });
    await pressShowPin(page);
    await waitForEvent(page, 'revealed');
    await waitForEvent(page, 'hidden');

    // The same key, its counter back at 0: what a copy made before the last use would hold.
    const [credential] = await authenticator.credentials();
    expect(credential!.signCount).toBeGreaterThan(1);
    const { cdp, authenticatorId } = authenticator;
    await cdp.send('WebAuthn.removeCredential', {
      authenticatorId,
      credentialId: credential!.credentialId,
    });
    await cdp.send('WebAuthn.addCredential', {
      authenticatorId,
      credential: { ...credential!, signCount: 0 },
    });
    await pressShowPin(page);
    await expect(frame(page).getByRole('status')).toHaveText(
      'Your passkey confirmation couldn’t be checked. Please try again.',
    );
    expect(await failures(page)).toEqual(['STEP_UP_FAILED']);
    await expect(frame(page).locator('.pw-pin')).toHaveText('••••');
  });

  test('another customer’s passkey does not unlock this customer’s card', async ({
    page,
    request,
  }) => {
    const authenticator = await virtualAuthenticator(page);
    const mine = await passkeyCard(request);
    const theirs = await passkeyCard(request);
    await enroll(page, mine);
    const [own] = await authenticator.credentials();
    await enroll(page, theirs);
    // One passkey each, one user handle each, on the same device.
    const other = (await authenticator.credentials()).find(
      (c) => c.credentialId !== own!.credentialId,
    )!;
    expect(other.userHandle).not.toBe(own!.userHandle);
    const listed = await request.get(
      `${E2E_PLATFORM_URL}/v1/customers/${theirs.customerId}/passkeys`,
      { headers: auth },
    );
    expect((await listed.json()).data).toHaveLength(1);

    // Only the challenge's allow-list is changed, to the other passkey: the browser then signs
    // this card's challenge with it, for the platform's RP ID, in the platform's frame.
    await mount(page, 'reveal-pin', mine);
    const challenges = intercept(page, CHALLENGE);
    await pressShowPin(page);
    const held = await challenges.next();
    const original = await held.fetch();
    const options = await original.json();
    await held.fulfill({
      response: original,
      json: {
        ...options,
        allowCredentials: [
          { id: b64u(Buffer.from(other.credentialId, 'base64')), type: 'public-key' },
        ],
      },
    });
    await expect(frame(page).getByRole('status')).toHaveText(
      'Your passkey confirmation couldn’t be checked. Please try again.',
    );
    expect(await failures(page)).toEqual(['STEP_UP_FAILED']);
    await expect(frame(page).locator('.pw-pin')).toHaveText('••••');
  });
});
