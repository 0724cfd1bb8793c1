// @vitest-environment happy-dom
import { StrictMode, act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import './elements.js';
import { EVENT_NAMES, LOAD_TIMEOUT_MS, PinWidgetsError, mount } from './index.js';
import { EnrollPasskey, RevealPin, SetPin } from './react.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

afterEach(() => {
  document.body.innerHTML = '';
});

describe('mount', () => {
  it('creates one titled iframe whose URL carries the channel and parent origin, never the token', () => {
    document.body.innerHTML = '<div id="slot"></div>';
    const widget = mount('#slot', {
      widget: 'set-pin',
      token: 'wt_secret',
      platformUrl: 'https://platform.example',
    });
    const frame = document.querySelector('iframe')!;
    const url = new URL(frame.src);
    expect(url.origin).toBe('https://platform.example');
    expect(url.pathname).toBe('/widgets/set-pin/');
    expect(url.searchParams.get('channel')).toMatch(/^[0-9a-f]{36}$/);
    expect(url.searchParams.get('parentOrigin')).toBe(location.origin);
    expect(frame.src).not.toContain('wt_secret');
    expect(frame.title).toBe('Set your card PIN');
    widget.destroy();
    expect(document.querySelector('iframe')).toBeNull();
  });

  it('frames every widget allowed to run passkey ceremonies (docs/step-up.md), and nothing more', () => {
    document.body.innerHTML = '<div id="slot"></div>';
    for (const widget of ['set-pin', 'reveal-pin'] as const) {
      mount('#slot', { widget, token: 'wt_x', platformUrl: 'https://platform.example' });
    }
    mount('#slot', {
      widget: 'enroll-passkey',
      fetchToken: async () => 'wt_x',
      platformUrl: 'https://platform.example',
    });
    const frames = [...document.querySelectorAll('iframe')];
    expect(frames.map((frame) => frame.getAttribute('allow'))).toEqual(
      Array(3).fill('publickey-credentials-get; publickey-credentials-create'),
    );
    expect(frames.map((frame) => frame.getAttribute('sandbox'))).toEqual(
      Array(3).fill('allow-scripts allow-same-origin allow-forms'),
    );
    expect(new URL(frames[2]!.src).pathname).toBe('/widgets/enroll-passkey/');
    expect(frames[2]!.title).toBe('Set up a passkey');
  });

  it('hosts hear every widget event, and never the handshake', () => {
    expect(EVENT_NAMES).toEqual([
      'load',
      'error',
      'change',
      'focus',
      'blur',
      'submit',
      'success',
      'failure',
      'revealed',
      'hidden',
      'resize',
    ]);
  });

  it('names the fix when it is misused', () => {
    expect(() => mount('#missing', { widget: 'set-pin', token: 't' })).toThrow(
      /no element matches "#missing"/,
    );
    document.body.innerHTML = '<div id="slot"></div>';
    expect(() => mount('#slot', { widget: 'set-pin' })).toThrow(PinWidgetsError);
    expect(() => mount('#slot', { widget: 'pay' as 'set-pin', token: 't' })).toThrow(
      /widget: use one of set-pin, reveal-pin, enroll-passkey/,
    );
    // An enrollment token is always bound to the iframe's own key: a minted one cannot serve.
    expect(() => mount('#slot', { widget: 'enroll-passkey', token: 'wt_x' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        option: 'token',
        message: expect.stringContaining('use fetchToken for enroll-passkey'),
      }),
    );
    expect(document.querySelector('iframe')).toBeNull();
  });
});

describe('mount checks every option before anything is framed', () => {
  const base = { widget: 'reveal-pin', token: 'wt_x', platformUrl: 'https://platform.example' };

  it.each([
    [{ autoHideSeconds: 120 }, 'autoHideSeconds', /autoHideSeconds: use a whole number .* 1 to 60/],
    [{ labels: { widgetTitle: 'x'.repeat(201) } }, 'labels.widgetTitle', /at most 100/],
    [{ autohideSeconds: 5 }, 'autohideSeconds', /unknown/],
    [{ styles: { colorPrimary: 'red;x' } }, 'styles.colorPrimary', /#hex or rgb/],
    [{ platformUrl: 'javascript:alert(1)' }, 'platformUrl', /http\(s\) URL/],
    [{ token: 42 }, 'token', /minted widget_token/],
  ])('refuses %j with INVALID_OPTIONS naming %s', (bad, option, message) => {
    document.body.innerHTML = '<div id="slot"></div>';
    const attempt = () => mount('#slot', { ...base, ...bad } as never);
    expect(attempt).toThrow(PinWidgetsError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS', option });
    }
    expect(document.querySelector('iframe')).toBeNull();
  });

  it('update() refuses what mount() would, and sends nothing', () => {
    document.body.innerHTML = '<div id="slot"></div>';
    const widget = mount('#slot', base as never);
    expect(() => widget.update({ theme: 'dark' as 'default' })).toThrow(/theme/);
    widget.destroy();
  });

  it('the custom element reports a bad attribute as an error event', async () => {
    const element = document.createElement('reveal-pin');
    element.setAttribute('token', 'wt_x');
    element.setAttribute('platform-url', 'https://platform.example');
    element.setAttribute('auto-hide-seconds', '120');
    const detail = new Promise((resolve) =>
      element.addEventListener('error', (event) =>
        resolve((event as unknown as CustomEvent).detail),
      ),
    );
    document.body.append(element);
    expect(await detail).toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringContaining('autoHideSeconds'),
      failedFields: ['autoHideSeconds'],
    });
    expect(element.querySelector('iframe')).toBeNull();
  });

  it('<enroll-passkey> mounts the enroll document once its fetchToken is set', () => {
    const element = document.createElement('enroll-passkey') as HTMLElement & {
      fetchToken?: () => Promise<string>;
    };
    element.setAttribute('platform-url', 'https://platform.example');
    document.body.append(element);
    element.fetchToken = async () => 'wt_x';
    const frame = element.querySelector('iframe')!;
    expect(new URL(frame.src).pathname).toBe('/widgets/enroll-passkey/');
  });

  it('the custom element mounts when fetchToken is set as a property after connection', () => {
    const element = document.createElement('set-pin') as HTMLElement & {
      fetchToken?: () => Promise<string>;
    };
    element.setAttribute('platform-url', 'https://platform.example');
    document.body.append(element);
    expect(element.querySelector('iframe')).toBeNull();
    element.fetchToken = async () => 'wt_x';
    expect(element.querySelector('iframe')).not.toBeNull();
  });
});

describe('load or error always comes', () => {
  it('a frame that never says ready gives WIDGET_UNREACHABLE within the bound', () => {
    vi.useFakeTimers();
    try {
      document.body.innerHTML = '<div id="slot"></div>';
      const widget = mount('#slot', {
        widget: 'set-pin',
        token: 'wt_x',
        platformUrl: 'https://platform.example',
      });
      const errors: unknown[] = [];
      widget.on('error', (payload) => errors.push(payload));
      vi.advanceTimersByTime(LOAD_TIMEOUT_MS - 1);
      expect(errors).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(errors).toEqual([
        {
          code: 'WIDGET_UNREACHABLE',
          message: expect.stringContaining('FRAME_ANCESTORS'),
          failedFields: [],
        },
      ]);
      vi.advanceTimersByTime(LOAD_TIMEOUT_MS);
      expect(errors).toHaveLength(1);
      widget.destroy();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('React components', () => {
  it('StrictMode double mount leaves exactly one iframe; unmount leaves none', async () => {
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    await act(async () => {
      root.render(
        <StrictMode>
          <SetPin token="wt_a" platformUrl="https://platform.example" />
          <RevealPin token="wt_b" platformUrl="https://platform.example" showToggle />
          <EnrollPasskey fetchToken={async () => 'wt_c'} platformUrl="https://platform.example" />
        </StrictMode>,
      );
    });
    expect(container.querySelectorAll('iframe')).toHaveLength(3);
    expect(EnrollPasskey.displayName).toBe('EnrollPasskey');
    // A new callback prop does not remount the iframe.
    const before = container.querySelector('iframe');
    await act(async () => {
      root.render(
        <StrictMode>
          <SetPin token="wt_a" platformUrl="https://platform.example" onSuccess={() => undefined} />
          <RevealPin token="wt_b" platformUrl="https://platform.example" showToggle />
          <EnrollPasskey fetchToken={async () => 'wt_c'} platformUrl="https://platform.example" />
        </StrictMode>,
      );
    });
    expect(container.querySelector('iframe')).toBe(before);
    await act(async () => root.unmount());
    expect(container.querySelectorAll('iframe')).toHaveLength(0);
  });

  it('a bad option reaches onError instead of throwing during render', async () => {
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    const errors: unknown[] = [];
    await act(async () => {
      root.render(
        <RevealPin
          token="wt_b"
          platformUrl="https://platform.example"
          autoHideSeconds={120}
          onError={(payload) => errors.push(payload)}
        />,
      );
    });
    expect(errors).toEqual([
      { code: 'INVALID_OPTIONS', message: expect.any(String), failedFields: ['autoHideSeconds'] },
    ]);
    expect(container.querySelector('iframe')).toBeNull();
    await act(async () => root.unmount());
  });
});
