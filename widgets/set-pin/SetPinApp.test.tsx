// @vitest-environment happy-dom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { type JWK, compactDecrypt, exportJWK } from 'jose';
import { act } from 'react';
import { type Root, createRoot } from 'react-dom/client';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiFailure } from '../runtime/api.js';
import type { WidgetContext } from '../runtime/boot.js';
import { sha256Base64url } from '../runtime/crypto.js';
import { loadLocale, messages } from '../ui/i18n.js';
import { SetPinApp } from './SetPinApp.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const TOKEN = 'wt_set_test';
const CURRENT = '4829';
const NEW = '3850';

let platform: { privateKey: CryptoKey; jwk: JWK & { kid: string } };
beforeAll(async () => {
  const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, [
    'deriveBits',
  ]);
  platform = {
    privateKey: pair.privateKey,
    jwk: { ...(await exportJWK(pair.publicKey)), kid: 'k1' },
  };
  // fetchPlatformKey reads the platform's JWKS from the document's origin.
  vi.stubGlobal('fetch', async () => Response.json({ keys: [platform.jwk] }));
  await loadLocale('ar');
});

/** What the platform reads in a set-PIN body: the JWE's plaintext, checked to be this session's. */
async function opened(body: { encrypted_pin: string }): Promise<unknown> {
  const { plaintext, protectedHeader } = await compactDecrypt(
    body.encrypted_pin,
    platform.privateKey,
  );
  expect(protectedHeader).toMatchObject({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'k1' });
  expect(protectedHeader.wst).toBe(await sha256Base64url(TOKEN));
  return JSON.parse(new TextDecoder().decode(plaintext));
}

/** A refusal as the platform sends it: its code, and the details beside it. */
const refusal = (code: string, status: number, details?: Record<string, unknown>) =>
  Object.assign(new ApiFailure(code, status), details ? { details } : {});

interface Rendered {
  container: HTMLElement;
  sent: { type: string; payload: unknown }[];
  posted: unknown[];
  command(type: string): Promise<void>;
  field(label: string): HTMLInputElement;
  type(label: string, value: string): Promise<void>;
  submit(): Promise<void>;
}

let mounted: Root | undefined;
afterEach(async () => {
  await act(async () => mounted?.unmount());
  mounted = undefined;
  document.body.replaceChildren();
});

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) {
    await act(() => new Promise((resolve) => setTimeout(resolve, 10)));
  }
  expect(check()).toBe(true);
};

/**
 * Renders the widget on a session whose card has `card`; each POST /v1/widget/pin answers with
 * the next of `answers` (an ApiFailure is thrown, as the API client does).
 */
async function render(
  card: Record<string, unknown>,
  answers: unknown[] = [],
  locale = 'en',
): Promise<Rendered> {
  const sent: Rendered['sent'] = [];
  const posted: unknown[] = [];
  const handlers = new Set<(type: string) => void>();
  const ctx = {
    host: {
      send: (type: string, payload: unknown) => sent.push({ type, payload }),
      framed: true,
      parentOrigin: null,
    },
    api: {
      credentials: { token: async () => TOKEN, spend: () => undefined },
      call: async (method: string, path: string, body?: unknown) => {
        if (method === 'GET' && path === '/v1/widget/session') {
          return {
            widget_type: 'SET_PIN',
            card: {
              last_four: '0005',
              card_status: 'ACTIVE',
              is_pin_set: true,
              pin_length: 4,
              offline_pin: false,
              requires_current_pin: false,
              pin_status: 'OK',
              ...card,
            },
          };
        }
        posted.push(await opened(body as { encrypted_pin: string }));
        const answer = answers.shift() ?? { is_pin_set: true };
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
        <SetPinApp ctx={ctx} />
      </QueryClientProvider>,
    ),
  );
  await until(() => container.querySelector('form') !== null);

  const field = (label: string) => {
    const element = [...container.querySelectorAll('label')].find((l) => l.textContent === label);
    expect(element, `a label "${label}"`).toBeDefined();
    return container.ownerDocument.getElementById(element!.htmlFor) as HTMLInputElement;
  };
  const valueSetter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
  return {
    container,
    sent,
    posted,
    field,
    command: async (type) => {
      await act(async () => handlers.forEach((handler) => handler(type)));
    },
    async type(label, value) {
      const input = field(label);
      await act(async () => {
        valueSetter.call(input, value);
        input.dispatchEvent(new Event('input', { bubbles: true }));
      });
    },
    async submit() {
      const button = container.querySelector('button')!;
      await act(async () => button.click());
    },
  };
}

const failures = (sent: Rendered['sent']) =>
  sent.filter((message) => message.type === 'failure').map((message) => message.payload);

describe('without requires_current_pin', () => {
  it('shows no current-PIN field and encrypts exactly {"pin"}', async () => {
    const widget = await render({ requires_current_pin: false, is_pin_set: false });
    expect(widget.container.textContent).not.toContain('Current PIN');
    expect(widget.container.querySelectorAll('input')).toHaveLength(2);
    await widget.type('New PIN', NEW);
    await widget.type('Confirm new PIN', NEW);
    await widget.submit();
    await until(() => widget.sent.some((message) => message.type === 'success'));
    expect(widget.posted).toEqual([{ pin: NEW }]);
  });
});

describe('with requires_current_pin', () => {
  const CHANGE = { requires_current_pin: true, is_pin_set: true, pin_status: 'OK' };

  it('asks for the current PIN first: its own label and hint, numeric, never autofilled', async () => {
    const widget = await render(CHANGE);
    const inputs = [...widget.container.querySelectorAll('input')];
    const current = widget.field('Current PIN');
    expect(inputs).toEqual([current, widget.field('New PIN'), widget.field('Confirm new PIN')]);
    expect(current.getAttribute('autocomplete')).toBe('off');
    expect(current.getAttribute('inputmode')).toBe('numeric');
    expect(current.type).toBe('password');
    expect(current.maxLength).toBe(4);
    const hint = document.getElementById(current.getAttribute('aria-describedby')!)!;
    expect(hint.textContent).toBe('To change your PIN, first enter the one you use now.');
    // The new PIN keeps its one-time-code autocomplete and its own hint.
    expect(widget.field('New PIN').getAttribute('autocomplete')).toBe('one-time-code');

    await widget.command('focus');
    expect(document.activeElement).toBe(current);
  });

  it('refuses to submit without a complete current PIN, naming currentPin to the host', async () => {
    const widget = await render(CHANGE);
    await widget.type('Current PIN', '48');
    await widget.type('New PIN', NEW);
    await widget.type('Confirm new PIN', NEW);
    expect(widget.sent.filter((m) => m.type === 'change').at(-1)?.payload).toEqual({
      complete: false,
      valid: false,
    });
    await widget.submit();
    expect(widget.posted).toEqual([]);
    expect(failures(widget.sent)).toEqual([
      { code: 'PIN_INCOMPLETE', message: 'Enter exactly 4 digits.', failedFields: ['currentPin'] },
    ]);
    const current = widget.field('Current PIN');
    expect(current.getAttribute('aria-invalid')).toBe('true');
    const described = current.getAttribute('aria-describedby')!.split(' ');
    expect(described.map((id) => document.getElementById(id)!.textContent)).toEqual([
      'To change your PIN, first enter the one you use now.',
      'Enter exactly 4 digits.',
    ]);
  });

  it('encrypts {"pin","current_pin"} and succeeds', async () => {
    const widget = await render(CHANGE);
    await widget.type('Current PIN', CURRENT);
    await widget.type('New PIN', NEW);
    await widget.type('Confirm new PIN', NEW);
    expect(widget.sent.filter((m) => m.type === 'change').at(-1)?.payload).toEqual({
      complete: true,
      valid: true,
    });
    await widget.submit();
    await until(() => widget.sent.some((message) => message.type === 'success'));
    expect(widget.posted).toEqual([{ pin: NEW, current_pin: CURRENT }]);
    expect(widget.field('Current PIN').value).toBe('');
    expect(widget.container.querySelector('[role="status"]')!.textContent).toBe('Your PIN is set.');
  });

  it('a wrong current PIN: says so with the tries left, clears and focuses the field, tells the host no digits', async () => {
    const widget = await render(CHANGE, [
      refusal('CURRENT_PIN_INCORRECT', 400, { pin_tries_remaining: 2 }),
    ]);
    await widget.type('Current PIN', '1357');
    await widget.type('New PIN', NEW);
    await widget.type('Confirm new PIN', NEW);
    await widget.submit();
    await until(() => failures(widget.sent).length > 0);

    const current = widget.field('Current PIN');
    await until(() => document.activeElement === current);
    expect(current.value).toBe('');
    expect(current.getAttribute('aria-invalid')).toBe('true');
    const alert = widget.container.querySelector('[role="alert"]')!;
    expect(alert.textContent).toBe('That is not your current PIN. 2 tries left.');
    expect(current.getAttribute('aria-describedby')).toContain(alert.id);
    // Said once, by the field: not again in the status line.
    expect(widget.container.querySelector('[role="status"]')!.textContent).toBe('');
    // The new PIN the person chose stays; only the try is gone.
    expect(widget.field('New PIN').value).toBe(NEW);

    expect(failures(widget.sent)).toEqual([
      {
        code: 'CURRENT_PIN_INCORRECT',
        message: 'That is not your current PIN.',
        failedFields: ['currentPin'],
      },
    ]);
    const told = JSON.stringify(widget.sent);
    for (const digits of ['1357', NEW]) expect(told).not.toContain(digits);
    expect(told).not.toMatch(/\d/);

    // The right one next: the same session, the form sends again.
    await widget.type('Current PIN', CURRENT);
    await widget.submit();
    await until(() => widget.sent.some((message) => message.type === 'success'));
    expect(widget.posted).toEqual([
      { pin: NEW, current_pin: '1357' },
      { pin: NEW, current_pin: CURRENT },
    ]);
    expect(widget.container.querySelector('[role="alert"]')).toBeNull();
  });

  it('the last try is said as such; without details the message has no count', async () => {
    const widget = await render(CHANGE, [
      refusal('CURRENT_PIN_INCORRECT', 400, { pin_tries_remaining: 1 }),
      refusal('CURRENT_PIN_INCORRECT', 400),
    ]);
    await widget.type('New PIN', NEW);
    await widget.type('Confirm new PIN', NEW);
    await widget.type('Current PIN', '1357');
    await widget.submit();
    await until(() => widget.container.querySelector('[role="alert"]') !== null);
    expect(widget.container.querySelector('[role="alert"]')!.textContent).toBe(
      'That is not your current PIN. 1 try left: one more wrong PIN blocks it.',
    );
    await widget.type('Current PIN', '2468');
    await widget.submit();
    await until(() => failures(widget.sent).length === 2);
    await until(
      () =>
        widget.container.querySelector('[role="alert"]')?.textContent ===
        'That is not your current PIN.',
    );
  });

  for (const [name, answer] of [
    ['PIN_BLOCKED', refusal('PIN_BLOCKED', 409)],
    [
      'a wrong current PIN with no try left',
      refusal('CURRENT_PIN_INCORRECT', 400, { pin_tries_remaining: 0 }),
    ],
  ] as const) {
    it(`${name}: explains the program must unblock it, and the form is disabled`, async () => {
      const widget = await render(CHANGE, [answer]);
      await widget.type('Current PIN', '1357');
      await widget.type('New PIN', NEW);
      await widget.type('Confirm new PIN', NEW);
      await widget.submit();
      await until(() => failures(widget.sent).length > 0);
      expect(widget.container.querySelector('button')!.disabled).toBe(true);
      // Said once, first, above the fields it puts out of use; no field claims the blame.
      const said = [...widget.container.querySelectorAll('[role="alert"], .pw-error')].filter(
        (element) => element.textContent !== '',
      );
      expect(said).toHaveLength(1);
      const alert = widget.container.querySelector('[role="alert"]')!;
      expect(alert.textContent).toBe(
        'Your PIN is blocked after too many wrong tries. Your card program has to unblock it before you can change it.',
      );
      expect(alert.previousElementSibling?.tagName).toBe('H1');
      expect(widget.container.querySelector('[role="status"]')!.textContent).toBe('');
      for (const input of widget.container.querySelectorAll('input'))
        expect(input.disabled).toBe(true);
      expect(failures(widget.sent)).toEqual([
        {
          code: answer.code,
          message: expect.not.stringMatching(/\d/),
          failedFields: ['currentPin'],
        },
      ]);
      // A host's submit() now hears why, and nothing is sent.
      await widget.command('submit');
      expect(failures(widget.sent).at(-1)).toEqual({
        code: 'PIN_BLOCKED',
        message: expect.stringContaining('blocked'),
        failedFields: ['currentPin'],
      });
      expect(widget.posted).toHaveLength(1);
    });
  }

  it('a card already blocked when the widget opens shows it and sends nothing', async () => {
    const widget = await render({ ...CHANGE, pin_status: 'BLOCKED' });
    expect(widget.container.querySelector('[role="alert"]')!.textContent).toMatch(/blocked/);
    expect(widget.container.querySelector('button')!.disabled).toBe(true);
    expect(widget.field('Current PIN').disabled).toBe(true);
    await widget.command('submit');
    expect(failures(widget.sent)).toEqual([
      { code: 'PIN_BLOCKED', message: expect.any(String), failedFields: ['currentPin'] },
    ]);
    expect(widget.posted).toEqual([]);
  });

  it('CURRENT_PIN_REQUIRED: the session is read again and its field shows why', async () => {
    let requires = false;
    const widget = await render(
      {
        get requires_current_pin() {
          return requires;
        },
      },
      [refusal('CURRENT_PIN_REQUIRED', 400)],
    );
    await widget.type('New PIN', NEW);
    await widget.type('Confirm new PIN', NEW);
    requires = true;
    await widget.submit();
    await until(() => widget.container.querySelector('[role="alert"]') !== null);
    expect(widget.field('Current PIN').getAttribute('aria-invalid')).toBe('true');
    expect(widget.container.querySelector('[role="alert"]')!.textContent).toBe(
      'Enter your current PIN to change it.',
    );
    expect(failures(widget.sent)).toEqual([
      {
        code: 'CURRENT_PIN_REQUIRED',
        message: 'Enter your current PIN to change it.',
        failedFields: ['currentPin'],
      },
    ]);
  });

  it('Arabic: the current-PIN field and the wrong-PIN message come from the Arabic catalog', async () => {
    const widget = await render(
      CHANGE,
      [refusal('CURRENT_PIN_INCORRECT', 400, { pin_tries_remaining: 2 })],
      'ar',
    );
    const current = widget.field('الرقم السري الحالي');
    expect(current).toBe(widget.container.querySelector('input'));
    await widget.type('الرقم السري الحالي', '1357');
    await widget.type('الرقم السري الجديد', NEW);
    await widget.type('تأكيد الرقم السري الجديد', NEW);
    await widget.submit();
    await until(() => widget.container.querySelector('[role="alert"]') !== null);
    expect(widget.container.querySelector('[role="alert"]')!.textContent).toBe(
      'هذا ليس رقمك السري الحالي. عدد المحاولات المتبقية: 2.',
    );
  });
});

it('every catalog has the new strings, none left in English', async () => {
  const english = messages('en');
  for (const locale of ['es', 'fr', 'de', 'ar']) {
    await loadLocale(locale);
    const catalog = messages(locale);
    for (const key of [
      'currentPinLabel',
      'currentPinHint',
      'currentPinIncorrect',
      'currentPinTriesLeft',
      'currentPinLastTry',
      'currentPinRequired',
      'pinBlocked',
    ] as const) {
      expect(catalog[key], `${locale}.${key}`).not.toBe('');
      expect(catalog[key], `${locale}.${key}`).not.toBe(english[key]);
    }
    expect(catalog.currentPinTriesLeft).toContain('{count}');
  }
});
