import { type Frame, type Page, expect, test } from '@playwright/test';
import { E2E_FIXTURE_URL, E2E_HOSTILE_URL, E2E_PLATFORM_URL } from '../playwright.config.js';
import { auth, countMessages, getCard, issueCard, waitForEvent, widgetFrame } from './support.js';

/**
 * Forged postMessages against a legitimately mounted widget (README “Widgets and the host SDK”: the iframe accepts only
 * messages from window.parent, from the parent's origin, in a valid shape; the SDK only from its
 * iframe and the platform origin). Every forged message is sent with the real channel id (the
 * worst case: an attacker who guessed it), and each would have a visible effect if accepted: a
 * submit of the filled-in form, a clear, a theme change, another card's token. After all of them
 * the widget must be untouched and still work for the legitimate host.
 */

const PIN = '7392';
const envelope = (channel: string, type: string, payload: unknown) => ({
  ns: 'pin-widgets',
  v: 1,
  channel,
  type,
  payload,
});

/** Mints a token for another card, bound to the fixture's origin: a usable token to inject. */
async function otherCardToken(request: Parameters<typeof issueCard>[0]) {
  const other = await issueCard(request, { pin_issuance_policy: 'REQUIRED' });
  const minted = await request.post(`${E2E_PLATFORM_URL}/v1/cards/${other.id}/widget_token`, {
    headers: auth,
    data: { widget_type: 'SET_PIN', origin: E2E_FIXTURE_URL },
  });
  return { other, token: (await minted.json()).widget_token as string };
}

/** A set-PIN widget on the fixture page with a valid PIN typed in, ready to be attacked. */
async function mountFilledSetPin(page: Page, cardId: string, attacker?: string) {
  await page.goto(
    `${E2E_FIXTURE_URL}/sdk.html?widget=set-pin&card=${cardId}${attacker ? `&attacker=${encodeURIComponent(attacker)}` : ''}`,
  );
  await waitForEvent(page, 'load');
  const widget = page.frameLocator('#slot iframe');
  await widget.getByRole('textbox', { name: 'New PIN', exact: true }).fill(PIN);
  await widget.getByRole('textbox', { name: 'Confirm new PIN' }).fill(PIN);
  const src = (await page.locator('#slot iframe').getAttribute('src'))!;
  const channel = new URL(src).searchParams.get('channel')!;
  return { widget, channel, frame: await widgetFrame(page) };
}

/** After the forged messages: nothing happened, and the legitimate host still sets the PIN. */
async function expectUntouchedThenWorking(
  page: Page,
  frame: Frame,
  cardId: string,
  otherCardId: string,
) {
  const widget = page.frameLocator('#slot iframe');
  const names = () => page.evaluate(() => (window as any).events.map((e: any) => e.name));
  expect(await names()).not.toContain('submit');
  await expect(widget.getByRole('textbox', { name: 'New PIN', exact: true })).toHaveValue(PIN);
  await expect(widget.getByRole('textbox', { name: 'Confirm new PIN' })).toHaveValue(PIN);
  expect((await getCard(page.request, cardId)).is_pin_set).toBe(false);
  // A legitimate update goes the same (async) way a forged one would have: once it shows, any
  // forged theme change before it would show too.
  await page.evaluate(() => (window as any).widget.update({ styles: { colorPrimary: '#123456' } }));
  await expect
    .poll(() =>
      frame.evaluate(() =>
        getComputedStyle(document.documentElement).getPropertyValue('--pw-primary'),
      ),
    )
    .toBe('#123456');
  expect(await frame.evaluate(() => document.documentElement.dataset.theme ?? 'default')).toBe(
    'default',
  );
  await page.evaluate(() => (window as any).widget.submit());
  await waitForEvent(page, 'success');
  expect((await names()).filter((name: string) => name === 'submit')).toHaveLength(1);
  expect((await getCard(page.request, cardId)).is_pin_set).toBe(true);
  expect((await getCard(page.request, otherCardId)).is_pin_set).toBe(false);
}

test('host → widget: forged commands from other windows are dropped (attacker frames and popups, any origin)', async ({
  page,
  request,
}) => {
  const card = await issueCard(request, { pin_issuance_policy: 'REQUIRED' });
  const { other, token } = await otherCardToken(request);
  const { channel, frame } = await mountFilledSetPin(
    page,
    card.id,
    `${E2E_HOSTILE_URL}/attacker.html`,
  );
  const seen = await countMessages(frame);

  const forged = [
    envelope(channel, 'submit', {}),
    envelope(channel, 'clear', {}),
    envelope(channel, 'update', { theme: 'night-shift' }),
    envelope(channel, 'init', { options: { theme: 'night-shift' }, token, fetchToken: false }),
    envelope(channel, 'token', { token }),
    envelope(channel, 'requestPin', {}),
  ];
  // Same-origin attacker frame and popups: a script on the program's own origin (an ad, a
  // compromised dependency) is still not window.parent.
  await page.evaluate((src) => {
    const sibling = document.createElement('iframe');
    sibling.src = src;
    document.body.append(sibling);
  }, `${E2E_FIXTURE_URL}/attacker.html`);
  const senders: { name: string; frame: Frame; via: 'parent' | 'opener' }[] = [];
  await expect
    .poll(() => page.frames().filter((f) => f.url().endsWith('/attacker.html')).length)
    .toBe(2);
  for (const attacker of page.frames().filter((f) => f.url().endsWith('/attacker.html'))) {
    senders.push({
      name: `nested frame on ${new URL(attacker.url()).origin}`,
      frame: attacker,
      via: 'parent',
    });
  }
  // A popup on the platform's own origin stands for any other platform window (script in it).
  for (const url of [
    `${E2E_HOSTILE_URL}/attacker.html`,
    `${E2E_FIXTURE_URL}/attacker.html`,
    `${E2E_PLATFORM_URL}/`,
  ]) {
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      page.evaluate((target) => void window.open(target, '_blank'), url),
    ]);
    await popup.waitForLoadState();
    senders.push({
      name: `popup on ${new URL(url).origin}`,
      frame: popup.mainFrame(),
      via: 'opener',
    });
  }

  let sent = 0;
  for (const sender of senders) {
    await sender.frame.evaluate(
      ({ messages, via }) => {
        const host = via === 'parent' ? window.parent : window.opener;
        // The widget is the host page's first frame; '*' because the attacker may not care.
        for (const message of messages) host.frames[0].postMessage(message, '*');
      },
      { messages: forged, via: sender.via },
    );
    sent += forged.length;
  }
  await expect.poll(seen).toBe(sent);
  expect(sent).toBe(30);
  console.info(`forged host → widget messages from other windows: ${sent}`);
  await expectUntouchedThenWorking(page, frame, card.id, other.id);
});

test('host → widget: malformed, oversized or replayed messages from the real parent are dropped', async ({
  page,
  request,
}) => {
  const card = await issueCard(request, { pin_issuance_policy: 'REQUIRED' });
  const { other, token } = await otherCardToken(request);
  const { channel, frame } = await mountFilledSetPin(page, card.id);
  const seen = await countMessages(frame);
  const clear = envelope(channel, 'clear', {});
  const submit = envelope(channel, 'submit', {});
  const night = envelope(channel, 'update', { theme: 'night-shift' });
  const many = Object.fromEntries(
    Array.from({ length: 120 }, (_, i) => [`l${i}`, 'x'.repeat(150)]),
  );
  const malformed: [string, unknown][] = [
    ['another namespace', { ...clear, ns: 'pin-widget' }],
    ['version 2', { ...clear, v: 2 }],
    ['version as text', { ...clear, v: '1' }],
    ['another channel', { ...clear, channel: 'x'.repeat(36) }],
    ['no channel', { ...clear, channel: undefined }],
    ['an unknown type', { ...clear, type: 'eval' }],
    ['type __proto__', { ...clear, type: '__proto__' }],
    ['type constructor', { ...clear, type: 'constructor' }],
    ['type toString', { ...clear, type: 'toString' }],
    ['type hasOwnProperty', { ...clear, type: 'hasOwnProperty' }],
    ['no payload', { ...clear, payload: undefined }],
    ['payload null', { ...clear, payload: null }],
    ['payload an array', { ...clear, payload: [] }],
    ['payload a string', { ...clear, payload: '{}' }],
    ['submit with a field', { ...submit, payload: { force: true } }],
    ['clear with a field', { ...clear, payload: { all: true } }],
    ['an unknown theme', { ...night, payload: { theme: 'evil' } }],
    [
      'a style that is not text',
      { ...night, payload: { theme: 'night-shift', styles: { colorText: { url: 'x' } } } },
    ],
    [
      'a 300-character style',
      { ...night, payload: { theme: 'night-shift', styles: { colorText: 'x'.repeat(300) } } },
    ],
    ['a path as locale', { ...night, payload: { theme: 'night-shift', locale: '../../etc' } }],
    [
      'labels that are not text',
      { ...night, payload: { theme: 'night-shift', labels: { pinLabel: ['x'] } } },
    ],
    ['oversized (18 KB) update', { ...night, payload: { theme: 'night-shift', labels: many } }],
    ['a whole message as JSON text', JSON.stringify(clear)],
    ['null', null],
    ['a number', 42],
    ['an array of messages', [clear, submit]],
    ['a cyclic object', 'CYCLIC'],
    [
      'init with a 600-character token',
      envelope(channel, 'init', { options: {}, token: 't'.repeat(600), fetchToken: false }),
    ],
    [
      'init with fetchToken as text',
      envelope(channel, 'init', { options: {}, token, fetchToken: 'false' }),
    ],
    // Valid shape, right window and origin, but after the real init: a second init changes nothing.
    [
      'a replayed init with another card’s token',
      envelope(channel, 'init', { options: { theme: 'night-shift' }, token, fetchToken: false }),
    ],
    ['a token message in bearer mode', envelope(channel, 'token', { token })],
  ];
  await page.evaluate(
    ({ messages, platform }) => {
      const target = (document.querySelector('#slot iframe') as HTMLIFrameElement).contentWindow!;
      for (const message of messages) {
        if (message === 'CYCLIC') {
          const cyclic: any = { ns: 'pin-widgets', v: 1, type: 'clear', payload: {} };
          cyclic.self = cyclic;
          target.postMessage(cyclic, platform);
        } else target.postMessage(message, platform);
      }
    },
    { messages: malformed.map(([, message]) => message), platform: E2E_PLATFORM_URL },
  );
  await expect.poll(seen).toBe(malformed.length);
  console.info(`malformed, oversized or replayed host → widget messages: ${malformed.length}`);
  await expectUntouchedThenWorking(page, frame, card.id, other.id);
});

test('widget → host: the SDK drops messages that do not come from its iframe', async ({
  page,
  request,
}) => {
  const card = await issueCard(request, { pin_issuance_policy: 'RANDOM' }, { activate: true });
  const tokenRequests: string[] = [];
  page.on('request', (r) => {
    if (r.url().startsWith(`${E2E_FIXTURE_URL}/token`)) tokenRequests.push(r.url());
  });
  await page.goto(
    `${E2E_FIXTURE_URL}/sdk.html?widget=reveal-pin&mode=fetch&card=${card.id}&attacker=${encodeURIComponent(`${E2E_HOSTILE_URL}/attacker.html`)}`,
  );
  await waitForEvent(page, 'load');
  const src = (await page.locator('#slot iframe').getAttribute('src'))!;
  const channel = new URL(src).searchParams.get('channel')!;
  const before = await page.evaluate(() => (window as any).events.length);
  const height = await page
    .locator('#slot iframe')
    .evaluate((f) => (f as HTMLElement).style.height);
  expect(tokenRequests).toHaveLength(1);
  // Only the forged ones: count what does not come from the real widget's window.
  await page.evaluate(() => {
    const real = (document.querySelector('#slot iframe') as HTMLIFrameElement).contentWindow;
    (window as any).__forgedSeen = 0;
    addEventListener('message', (event) => {
      if (event.source !== real) (window as any).__forgedSeen++;
    });
  });
  const seen = () => page.evaluate(() => (window as any).__forgedSeen as number);

  const jkt = 'A'.repeat(43);
  const forged = [
    envelope(channel, 'ready', { widget: 'reveal-pin' }),
    envelope(channel, 'tokenRequest', { jkt, widgetType: 'REVEAL_PIN' }),
    envelope(channel, 'load', {}),
    envelope(channel, 'success', {}),
    envelope(channel, 'revealed', {}),
    envelope(channel, 'failure', { code: 'X', message: 'forged', failedFields: [] }),
    envelope(channel, 'error', { code: 'X', message: 'forged', failedFields: [] }),
    envelope(channel, 'resize', { height: 5 }),
  ];
  await page.evaluate((src) => {
    const sibling = document.createElement('iframe');
    sibling.src = src;
    document.body.append(sibling);
  }, `${E2E_FIXTURE_URL}/attacker.html`);
  await expect
    .poll(() => page.frames().filter((f) => f.url().endsWith('/attacker.html')).length)
    .toBe(2);
  const senders: { frame: Frame; via: 'parent' | 'opener' }[] = page
    .frames()
    .filter((f) => f.url().endsWith('/attacker.html'))
    .map((frame) => ({ frame, via: 'parent' }));
  // Popups on the attacker's origin and on the platform's own: the second has the right origin,
  // so only the SDK's check of the source window stops it.
  for (const url of [`${E2E_HOSTILE_URL}/attacker.html`, `${E2E_PLATFORM_URL}/`]) {
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      page.evaluate((target) => void window.open(target, '_blank'), url),
    ]);
    await popup.waitForLoadState();
    senders.push({ frame: popup.mainFrame(), via: 'opener' });
  }
  let sent = 0;
  for (const sender of senders) {
    await sender.frame.evaluate(
      ({ messages, via }) => {
        const host = via === 'parent' ? window.parent : window.opener;
        for (const message of messages) host.postMessage(message, '*');
      },
      { messages: forged, via: sender.via },
    );
    sent += forged.length;
  }
  await expect.poll(seen).toBe(sent);
  expect(sent).toBe(32);
  console.info(`forged widget → host messages: ${sent}`);
  expect(await page.evaluate(() => (window as any).events.length)).toBe(before);
  expect(await page.locator('#slot iframe').evaluate((f) => (f as HTMLElement).style.height)).toBe(
    height,
  );
  expect(tokenRequests).toHaveLength(1);
  // The real widget still works, with the one token its real tokenRequest got.
  await page.evaluate(() => (window as any).widget.requestPin());
  await waitForEvent(page, 'revealed');
  await expect(page.frameLocator('#slot iframe').locator('.pw-pin')).toHaveText(/^\d{4}$/);
  expect(tokenRequests).toHaveLength(1);
});
