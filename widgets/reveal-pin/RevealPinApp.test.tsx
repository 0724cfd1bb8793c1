// @vitest-environment happy-dom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { CompactEncrypt, importJWK } from 'jose';
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiFailure } from '../runtime/api.js';
import type { WidgetContext } from '../runtime/boot.js';
import { sha256Base64url } from '../runtime/crypto.js';
import { fakeWebAuthn, noWebAuthn } from '../runtime/fake-webauthn.js';
import { messages } from '../ui/i18n.js';
import { RevealPinApp } from './RevealPinApp.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const PIN = '4829';
const TOKEN = 'wt_reveal_test';

/** The platform's side of a reveal: the PIN as a JWE to the widget's ephemeral key, with `wst`. */
async function platformReveal(body: { public_key: Record<string, string> }) {
  const key = await importJWK(body.public_key, 'ECDH-ES');
  const encrypted_pin = await new CompactEncrypt(
    new TextEncoder().encode(JSON.stringify({ pin: PIN })),
  )
    .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', wst: await sha256Base64url(TOKEN) })
    .encrypt(key);
  return { encrypted_pin };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) {
    await act(() => new Promise((resolve) => setTimeout(resolve, 10)));
  }
  expect(check()).toBe(true);
};

it('after hidden, no PIN is left in the DOM or in any mutation or query the widget keeps', async () => {
  const sent: string[] = [];
  const ctx = {
    host: { send: (type: string) => sent.push(type), framed: true, parentOrigin: null },
    api: {
      credentials: { token: async () => TOKEN, spend: () => undefined },
      call: async (_method: string, path: string, body?: unknown) =>
        path.endsWith('/reveal')
          ? platformReveal(body as { public_key: Record<string, string> })
          : {
              card: { last_four: '0005', card_status: 'ACTIVE', is_pin_set: true, pin_length: 4 },
            },
    },
    options: { showToggle: true, autoHideSeconds: 30 },
    t: messages('en'),
    onCommand: () => () => undefined,
  } as unknown as WidgetContext;
  const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  await act(async () =>
    root.render(
      <QueryClientProvider client={queries}>
        <RevealPinApp ctx={ctx} />
      </QueryClientProvider>,
    ),
  );
  const button = (name: string) =>
    [...container.querySelectorAll('button')].find((b) => b.textContent === name);
  await until(() => button('Show PIN') !== undefined);
  await act(async () => button('Show PIN')!.click());
  await until(() => container.textContent!.includes(PIN));
  expect(sent).toContain('revealed');

  await act(async () => button('Hide PIN')!.click());
  expect(sent.at(-1)).toBe('hidden');
  expect(container.textContent).not.toContain(PIN);
  const kept = JSON.stringify([
    queries
      .getMutationCache()
      .getAll()
      .map((mutation) => mutation.state),
    queries
      .getQueryCache()
      .getAll()
      .map((query) => query.state),
  ]);
  expect(kept).not.toContain(PIN);
  await act(async () => root.unmount());
});

describe('a PASSKEY product (docs/step-up.md)', () => {
  const REQUEST_OPTIONS = { rpId: 'localhost', userVerification: 'required', allowCredentials: [] };

  /** The reveal widget on a PASSKEY product; each reveal answers with the next of `answers`. */
  async function renderStepUp(answers: unknown[] = []) {
    const sent: { type: string; payload: unknown }[] = [];
    const calls: { path: string; body?: unknown }[] = [];
    let spent = 0;
    let challenges = 0;
    const ctx = {
      host: {
        send: (type: string, payload: unknown) => sent.push({ type, payload }),
        framed: true,
      },
      api: {
        credentials: { token: async () => TOKEN, spend: () => spent++ },
        call: async (_method: string, path: string, body?: unknown) => {
          calls.push({ path, body });
          if (path === '/v1/widget/session') {
            return {
              card: {
                last_four: '0005',
                card_status: 'ACTIVE',
                is_pin_set: true,
                pin_length: 4,
                reveal_step_up: 'PASSKEY',
              },
            };
          }
          if (path.endsWith('/challenge')) {
            challenges++;
            return {
              ...REQUEST_OPTIONS,
              challenge: Buffer.from(`challenge-${challenges}`).toString('base64url'),
            };
          }
          const answer = answers.shift();
          if (answer instanceof Error) throw answer;
          return platformReveal(body as { public_key: Record<string, string> });
        },
      },
      options: { showToggle: true, autoHideSeconds: 30 },
      t: messages('en'),
      onCommand: () => () => undefined,
    } as unknown as WidgetContext;
    const queries = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    await act(async () =>
      root.render(
        <QueryClientProvider client={queries}>
          <RevealPinApp ctx={ctx} />
        </QueryClientProvider>,
      ),
    );
    await until(() => sent.some(({ type }) => type === 'load' || type === 'error'));
    return {
      container,
      sent,
      calls,
      root,
      spent: () => spent,
      status: () => container.querySelector('[role="status"]')!.textContent,
      button: () =>
        [...container.querySelectorAll('button')].find((b) => b.textContent === 'Show PIN'),
      reveals: () => calls.filter(({ path }) => path === '/v1/widget/pin/reveal'),
    };
  }

  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.replaceChildren();
  });

  it('says a passkey will be asked, asserts with the challenge, and sends the assertion', async () => {
    const webauthn = fakeWebAuthn(['ok']);
    const widget = await renderStepUp();
    const button = widget.button()!;
    expect(document.getElementById(button.getAttribute('aria-describedby')!)!.textContent).toBe(
      'You’ll confirm it’s you with your passkey first.',
    );
    await act(async () => button.click());
    await until(() => widget.container.textContent!.includes(PIN));
    expect(webauthn.asked).toEqual([
      { ceremony: 'get', challenge: Buffer.from('challenge-1').toString('base64url') },
    ]);
    expect(widget.reveals()).toEqual([
      {
        path: '/v1/widget/pin/reveal',
        body: {
          public_key: expect.objectContaining({ kty: 'EC' }),
          assertion: expect.objectContaining({
            id: 'Y3JlZGVudGlhbA',
            response: expect.objectContaining({ signature: expect.any(String) }),
          }),
        },
      },
    ]);
    expect(widget.sent.map(({ type }) => type)).toEqual(['load', 'revealed']);
    expect(widget.spent()).toBe(1);
    await act(async () => widget.root.unmount());
  });

  it('a cancelled prompt says so, costs no token, and the next press asks again', async () => {
    const webauthn = fakeWebAuthn(['NotAllowedError', 'ok']);
    const widget = await renderStepUp();
    await act(async () => widget.button()!.click());
    await until(() => widget.sent.some(({ type }) => type === 'failure'));
    expect(widget.sent.at(-1)!.payload).toEqual({
      code: 'STEP_UP_CANCELLED',
      message: 'Passkey confirmation cancelled. You can try again.',
      failedFields: [],
    });
    await until(() => widget.status() === 'Passkey confirmation cancelled. You can try again.');
    expect(widget.reveals()).toEqual([]);
    expect(widget.spent()).toBe(0);

    await act(async () => widget.button()!.click());
    await until(() => widget.container.textContent!.includes(PIN));
    // Each try has its own challenge: the server's are single use.
    expect(webauthn.asked.map(({ challenge }) => challenge)).toEqual([
      Buffer.from('challenge-1').toString('base64url'),
      Buffer.from('challenge-2').toString('base64url'),
    ]);
    await act(async () => widget.root.unmount());
  });

  it.each([
    ['STEP_UP_FAILED', 401, 'Your passkey confirmation couldn’t be checked. Please try again.'],
    ['STEP_UP_REQUIRED', 401, 'Confirm it’s you with your passkey to see your PIN.'],
    [
      'PASSKEY_NOT_ENROLLED',
      409,
      'Set up a passkey first: your card program asks for one before your PIN is shown.',
    ],
  ])('%s reads plainly', async (code, status, text) => {
    fakeWebAuthn(['ok']);
    const widget = await renderStepUp([new ApiFailure(code, status)]);
    await act(async () => widget.button()!.click());
    await until(() => widget.status() === text);
    expect(widget.sent.at(-1)).toEqual({
      type: 'failure',
      payload: { code, message: text, failedFields: [] },
    });
    expect(widget.spent()).toBe(1);
    await act(async () => widget.root.unmount());
  });

  it('without WebAuthn: PASSKEY_UNSUPPORTED at once, a plain message, no reveal', async () => {
    noWebAuthn();
    const widget = await renderStepUp();
    expect(widget.sent).toEqual([
      {
        type: 'error',
        payload: {
          code: 'PASSKEY_UNSUPPORTED',
          message: 'Passkeys don’t work in this browser or app, so this step can’t be done here.',
          failedFields: [],
        },
      },
    ]);
    expect(widget.status()).toContain('Passkeys don’t work');
    expect(widget.button()!.disabled).toBe(true);
    await act(async () => widget.root.unmount());
  });
});
