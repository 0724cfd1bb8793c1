// @vitest-environment happy-dom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act } from 'react';
import { type Root, createRoot } from 'react-dom/client';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiFailure } from '../runtime/api.js';
import type { WidgetContext } from '../runtime/boot.js';
import { fakeWebAuthn, noWebAuthn } from '../runtime/fake-webauthn.js';
import { loadLocale, messages } from '../ui/i18n.js';
import { EnrollPasskeyApp } from './EnrollPasskeyApp.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const OPTIONS = {
  rp: { id: 'localhost', name: 'Card PIN' },
  user: { id: 'dXNlcg', name: 'Card ending 0005', displayName: 'Card ending 0005' },
  pubKeyCredParams: [{ alg: -7, type: 'public-key' }],
  authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
  attestation: 'none',
  excludeCredentials: [],
};

let mounted: Root | undefined;
afterEach(async () => {
  await act(async () => mounted?.unmount());
  mounted = undefined;
  document.body.replaceChildren();
  vi.unstubAllGlobals();
});
beforeAll(() => loadLocale('ar'));

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) {
    await act(() => new Promise((resolve) => setTimeout(resolve, 10)));
  }
  expect(check()).toBe(true);
};

/**
 * The enroll widget on a session for card 0005: each registration_options call answers with a
 * new challenge, each POST /v1/widget/passkeys with the next of `answers` (an ApiFailure throws).
 */
async function render(answers: unknown[] = [], locale = 'en') {
  const sent: { type: string; payload: unknown }[] = [];
  const calls: { path: string; body?: unknown }[] = [];
  let spent = 0;
  let challenges = 0;
  const handlers = new Set<(type: string) => void>();
  const ctx = {
    host: { send: (type: string, payload: unknown) => sent.push({ type, payload }), framed: true },
    api: {
      credentials: { token: async () => 'wt_enroll', spend: () => spent++ },
      call: async (_method: string, path: string, body?: unknown) => {
        calls.push({ path, body });
        if (path === '/v1/widget/session') {
          return { widget_type: 'ENROLL_PASSKEY', card: { last_four: '0005' } };
        }
        if (path.endsWith('/registration_options')) {
          challenges++;
          return {
            ...OPTIONS,
            challenge: Buffer.from(`challenge-${challenges}`).toString('base64url'),
          };
        }
        const answer = answers.shift() ?? { id: 'pk_1' };
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
    options: {},
    t: messages(locale),
    onCommand: (handler: (type: string) => void) => {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  } as unknown as WidgetContext;
  const queries = new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  });
  const container = document.createElement('div');
  document.body.append(container);
  mounted = createRoot(container);
  await act(async () =>
    mounted!.render(
      <QueryClientProvider client={queries}>
        <EnrollPasskeyApp ctx={ctx} />
      </QueryClientProvider>,
    ),
  );
  await until(() => sent.some(({ type }) => type === 'load' || type === 'error'));
  return {
    container,
    sent,
    calls,
    spent: () => spent,
    status: () => container.querySelector('[role="status"]')?.textContent ?? '',
    button: () => container.querySelector('button'),
    async press() {
      await act(async () => container.querySelector('button')!.click());
    },
    command: async (type: string) => {
      await act(async () => handlers.forEach((handler) => handler(type)));
    },
  };
}

const types = (sent: { type: string }[]) => sent.map(({ type }) => type);
const registrations = (calls: { path: string }[]) =>
  calls.filter(({ path }) => path === '/v1/widget/passkeys');

describe('enroll-passkey', () => {
  it('says what a passkey is for, creates one on a press and sends the credential', async () => {
    const webauthn = fakeWebAuthn(['ok']);
    const widget = await render();
    expect(widget.container.querySelector('h1')!.textContent).toBe('Set up a passkey');
    expect(widget.container.textContent).toContain(
      'Confirm it’s you with your fingerprint, face or screen lock before your PIN is shown.',
    );
    const button = widget.button()!;
    expect(button.textContent).toBe('Set up a passkey');
    expect(
      document.getElementById(button.getAttribute('aria-describedby')!)!.textContent,
    ).toContain('never leaves your device');
    await widget.press();
    await until(() => widget.sent.some(({ type }) => type === 'success'));
    expect(types(widget.sent)).toEqual(['load', 'submit', 'success']);
    expect(webauthn.asked).toEqual([
      { ceremony: 'create', challenge: Buffer.from('challenge-1').toString('base64url') },
    ]);
    expect(registrations(widget.calls)).toEqual([
      {
        path: '/v1/widget/passkeys',
        body: {
          credential: expect.objectContaining({
            id: 'Y3JlZGVudGlhbA',
            type: 'public-key',
            response: expect.objectContaining({ attestationObject: expect.any(String) }),
          }),
        },
      },
    ]);
    await until(() => widget.status().includes('Your passkey is set up'));
    expect(widget.button()).toBeNull();
    expect(widget.spent()).toBe(1);
  });

  it('a cancel says so, keeps the token and the unused challenge, and the next press works', async () => {
    const webauthn = fakeWebAuthn(['NotAllowedError', 'ok']);
    const widget = await render();
    await widget.press();
    await until(() => widget.sent.some(({ type }) => type === 'failure'));
    expect(widget.sent.find(({ type }) => type === 'failure')!.payload).toEqual({
      code: 'STEP_UP_CANCELLED',
      message: 'Passkey setup cancelled. You can try again.',
      failedFields: [],
    });
    await until(() => widget.status() === 'Passkey setup cancelled. You can try again.');
    expect(registrations(widget.calls)).toEqual([]);
    expect(widget.spent()).toBe(0);

    await widget.command('submit');
    await until(() => widget.sent.some(({ type }) => type === 'success'));
    // The challenge the cancel left unused served the second try: one options call in all.
    expect(webauthn.asked.map(({ challenge }) => challenge)).toEqual(
      Array(2).fill(Buffer.from('challenge-1').toString('base64url')),
    );
    expect(widget.calls.filter(({ path }) => path.endsWith('/registration_options'))).toHaveLength(
      1,
    );
  });

  it('a refused registration reads plainly, and the next try gets a fresh challenge', async () => {
    const webauthn = fakeWebAuthn(['ok', 'ok']);
    const widget = await render([new ApiFailure('PASSKEY_REGISTRATION_FAILED', 400)]);
    await widget.press();
    await until(() => widget.sent.some(({ type }) => type === 'failure'));
    expect(widget.sent.find(({ type }) => type === 'failure')!.payload).toMatchObject({
      code: 'PASSKEY_REGISTRATION_FAILED',
      message: 'Your passkey couldn’t be set up. Please try again.',
    });
    expect(widget.spent()).toBe(1);
    await widget.press();
    await until(() => widget.sent.some(({ type }) => type === 'success'));
    expect(webauthn.asked.map(({ challenge }) => challenge)).toEqual([
      Buffer.from('challenge-1').toString('base64url'),
      Buffer.from('challenge-2').toString('base64url'),
    ]);
  });

  it('a device that already holds the passkey is told so', async () => {
    fakeWebAuthn(['InvalidStateError']);
    const widget = await render();
    await widget.press();
    await until(() => widget.sent.some(({ type }) => type === 'failure'));
    expect(widget.sent.at(-1)!.payload).toMatchObject({ code: 'PASSKEY_ALREADY_ENROLLED' });
    await until(() => widget.status() === 'This device already has a passkey for your card.');
  });

  it('without WebAuthn: a plain message and PASSKEY_UNSUPPORTED, never a hang', async () => {
    noWebAuthn();
    const widget = await render();
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
    expect(widget.container.querySelector('[role="alert"]')!.textContent).toContain(
      'Passkeys don’t work',
    );
    expect(widget.button()).toBeNull();
    expect(widget.calls.filter(({ path }) => path.endsWith('/registration_options'))).toEqual([]);
  });

  it('reads in Arabic', async () => {
    fakeWebAuthn();
    const widget = await render([], 'ar');
    expect(widget.container.querySelector('h1')!.textContent).toBe('إعداد مفتاح مرور');
    expect(widget.button()!.textContent).toBe('إعداد مفتاح مرور');
  });
});
