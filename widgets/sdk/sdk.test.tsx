// @vitest-environment happy-dom
import { StrictMode, act } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, describe, expect, it } from 'vitest';
import { PinWidgetsError, mount } from './index.js';
import { RevealPin, SetPin } from './react.js';

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

  it('names the fix when it is misused', () => {
    expect(() => mount('#missing', { widget: 'set-pin', token: 't' })).toThrow(
      /no element matches "#missing"/,
    );
    document.body.innerHTML = '<div id="slot"></div>';
    expect(() => mount('#slot', { widget: 'set-pin' })).toThrow(PinWidgetsError);
    expect(() => mount('#slot', { widget: 'pay' as 'set-pin', token: 't' })).toThrow(
      /"set-pin" or "reveal-pin"/,
    );
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
        </StrictMode>,
      );
    });
    expect(container.querySelectorAll('iframe')).toHaveLength(2);
    // A new callback prop does not remount the iframe.
    const before = container.querySelector('iframe');
    await act(async () => {
      root.render(
        <StrictMode>
          <SetPin token="wt_a" platformUrl="https://platform.example" onSuccess={() => undefined} />
          <RevealPin token="wt_b" platformUrl="https://platform.example" showToggle />
        </StrictMode>,
      );
    });
    expect(container.querySelector('iframe')).toBe(before);
    await act(async () => root.unmount());
    expect(container.querySelectorAll('iframe')).toHaveLength(0);
  });
});
