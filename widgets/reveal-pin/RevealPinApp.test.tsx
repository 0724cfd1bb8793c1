// @vitest-environment happy-dom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { CompactEncrypt, importJWK } from 'jose';
import { act } from 'react';
import { createRoot } from 'react-dom/client';
import { expect, it } from 'vitest';
import type { WidgetContext } from '../runtime/boot.js';
import { sha256Base64url } from '../runtime/crypto.js';
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
