// @vitest-environment happy-dom
import { StrictMode, act } from 'react';
import { createRoot, hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LOAD_TIMEOUT_MS } from '../../../widgets/sdk/index.js';
import { EnrollPasskey, RevealPin, SetPin } from '../../../widgets/sdk/react.js';

/**
 * @pin-widgets/react is widgets/sdk/react.tsx (packages/react/vite.config.ts), tested here as the
 * package promises it: StrictMode mounts each widget once and leaves nothing behind.
 */
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const PLATFORM = 'https://platform.example';

/** The `message` listeners the widgets hold on window right now. */
function messageListeners() {
  let held = 0;
  const add = window.addEventListener.bind(window);
  const remove = window.removeEventListener.bind(window);
  vi.spyOn(window, 'addEventListener').mockImplementation((type, ...rest) => {
    if (type === 'message') held++;
    add(type, ...rest);
  });
  vi.spyOn(window, 'removeEventListener').mockImplementation((type, ...rest) => {
    if (type === 'message') held--;
    remove(type, ...rest);
  });
  return () => held;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  document.body.innerHTML = '';
});

describe('StrictMode', () => {
  it('mounts each widget once, and unmounting leaves no iframe, listener or timer', async () => {
    const held = messageListeners();
    const errors: string[] = [];
    const container = document.body.appendChild(document.createElement('div'));
    const root = createRoot(container);
    await act(async () => {
      root.render(
        <StrictMode>
          <SetPin
            token="wt_a"
            platformUrl={PLATFORM}
            onError={({ code }) => errors.push(`set-pin ${code}`)}
          />
          <RevealPin
            fetchToken={async () => 'wt_b'}
            platformUrl={PLATFORM}
            onError={({ code }) => errors.push(`reveal-pin ${code}`)}
          />
          <EnrollPasskey fetchToken={async () => 'wt_c'} platformUrl={PLATFORM} />
        </StrictMode>,
      );
    });
    // StrictMode mounted, destroyed and mounted again: one frame and one listener per widget.
    expect(container.querySelectorAll('iframe')).toHaveLength(3);
    expect(held()).toBe(3);

    // The first mounts' load bounds were cleared: each live widget reports its own, once.
    await act(async () => vi.advanceTimersByTime(LOAD_TIMEOUT_MS));
    expect(errors.sort()).toEqual(['reveal-pin WIDGET_UNREACHABLE', 'set-pin WIDGET_UNREACHABLE']);

    await act(async () => root.unmount());
    expect(container.querySelectorAll('iframe')).toHaveLength(0);
    expect(held()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('unmounting before the widget loads cancels its load bound: no error after it is gone', async () => {
    const onError = vi.fn();
    const root = createRoot(document.body.appendChild(document.createElement('div')));
    await act(async () => {
      root.render(
        <StrictMode>
          <SetPin token="wt_a" platformUrl={PLATFORM} onError={onError} />
        </StrictMode>,
      );
    });
    await act(async () => root.unmount());
    vi.advanceTimersByTime(2 * LOAD_TIMEOUT_MS);
    expect(onError).not.toHaveBeenCalled();
  });
});

describe('server-rendered markup', () => {
  it('hydrates the placeholder with no mismatch, then mounts the iframe in it', async () => {
    const app = (
      <StrictMode>
        <SetPin className="pin" token="wt_a" platformUrl={PLATFORM} />
      </StrictMode>
    );
    const container = document.body.appendChild(document.createElement('div'));
    container.innerHTML = renderToString(app);
    expect(container.innerHTML).toBe('<div class="pin"></div>');
    const mismatches: unknown[] = [];
    let root: ReturnType<typeof hydrateRoot> | undefined;
    await act(async () => {
      root = hydrateRoot(container, app, { onRecoverableError: (error) => mismatches.push(error) });
    });
    expect(mismatches).toEqual([]);
    expect(container.querySelectorAll('div.pin > iframe')).toHaveLength(1);
    await act(async () => root!.unmount());
  });
});
