import { afterEach, describe, expect, it, vi } from 'vitest';
import { widgetOptionsProblem } from '../../../widgets/protocol/options.js';
import {
  EVENT_NAMES,
  LOAD_TIMEOUT_MS,
  PinWidgetsError,
  type Refusal,
  type WebViewBridgeOptions,
  type WidgetDocument,
  type WidgetEvent,
  type WidgetKind,
  commandScript,
  createWebViewBridge,
  handlerName,
  misuseEvent,
  parseBridgeMessage,
  parseHttpUrl,
  tokenAnswerScript,
  widgetDocument,
  widgetUrl,
} from './bridge.js';

const PLATFORM = 'https://platform.example';
const SET_PIN: WidgetDocument = { origin: PLATFORM, path: '/widgets/set-pin/' };
const DOCUMENT_URL = `${PLATFORM}/widgets/set-pin/`;
const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
const PIN = '7392';

const post = (type: string, payload: unknown = {}) => JSON.stringify({ type, payload });

/**
 * Runs an injected script against a stand-in document: `location` and the two functions the
 * top-level widget defines (widgets/runtime/host.ts). Returns what the document was called with.
 */
function runInDocument(script: string, url = DOCUMENT_URL) {
  const { origin, path } = parseHttpUrl(url)!;
  const calls: [string, unknown][] = [];
  const window = {
    pinWidgetsCommand: (type: unknown) => calls.push(['pinWidgetsCommand', type]),
    pinWidgetsToken: (token: unknown) => calls.push(['pinWidgetsToken', token]),
  };
  const result = new Function('location', 'window', script)({ origin, pathname: path }, window);
  return { calls, result };
}

function harness(overrides: Partial<WebViewBridgeOptions> = {}) {
  const emitted: WidgetEvent[] = [];
  const injected: string[] = [];
  const refused: Refusal[] = [];
  const bridge = createWebViewBridge({
    widget: 'set-pin',
    document: SET_PIN,
    inject: (script) => injected.push(script),
    emit: (event) => emitted.push(event),
    refused: (refusal) => refused.push(refusal),
    ...overrides,
  });
  bridge.start();
  const receive = (type: string, payload: unknown = {}, url = DOCUMENT_URL) =>
    bridge.receive(post(type, payload), url);
  return { bridge, emitted, injected, refused, receive };
}

const settle = () => new Promise<void>((resolve) => setTimeout(() => resolve(), 0));

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('widgetUrl: the document and the fragment a top-level widget reads', () => {
  it.each<[WidgetKind, string]>([
    ['set-pin', '/widgets/set-pin/'],
    ['reveal-pin', '/widgets/reveal-pin/'],
    ['enroll-passkey', '/widgets/enroll-passkey/'],
  ])('%s loads %s on the platform origin, with no query', (widget, path) => {
    const { document, url } = widgetUrl(widget, {
      platformUrl: `${PLATFORM}/any/path?x=1`,
      fetchToken: async () => 'wt_x',
    });
    expect(document).toEqual({ origin: PLATFORM, path });
    expect(url).toBe(`${PLATFORM}${path}`);
  });

  it('puts the options in the fragment in the form widgets/runtime/host.ts reads them back', () => {
    const options = {
      locale: 'fr',
      theme: 'night-shift',
      labels: { pinLabel: 'Nouveau code & plus', submitButtonText: 'Enregistrer' },
      styles: { colorPrimary: '#0b3d91', fontFamily: "'Inter', sans-serif" },
      autoHideSeconds: 5,
      showToggle: true,
      syncOfflinePin: false,
    } as const;
    const { url } = widgetUrl('reveal-pin', {
      platformUrl: PLATFORM,
      token: 'wt_abc+/=',
      ...options,
    });
    expect(url.split('#')[0]).toBe(`${PLATFORM}/widgets/reveal-pin/`);
    const params = new URLSearchParams(url.split('#')[1]);
    expect(params.get('token')).toBe('wt_abc+/=');
    // What fragmentOptions in host.ts does with each text value.
    const read: Record<string, unknown> = {};
    for (const [name, text] of params) {
      if (name === 'token') continue;
      if (name === 'labels' || name === 'styles') read[name] = JSON.parse(text);
      else if (name === 'autoHideSeconds') read[name] = Number(text);
      else if (name === 'showToggle' || name === 'syncOfflinePin') read[name] = text === 'true';
      else read[name] = text;
    }
    expect(read).toEqual(options);
    expect(widgetOptionsProblem(read)).toBeUndefined();
  });

  it('keeps the token out of the URL in DPoP mode (the document asks for one bound to its key)', () => {
    const { url } = widgetUrl('set-pin', {
      platformUrl: PLATFORM,
      fetchToken: async () => 'wt_x',
      locale: 'en',
    });
    expect(url).toBe(`${PLATFORM}/widgets/set-pin/#locale=en`);
  });

  it('spells the platform origin as the browser does', () => {
    expect(widgetDocument('set-pin', 'HTTPS://Platform.Example:443/x').origin).toBe(PLATFORM);
    expect(widgetDocument('set-pin', 'http://localhost:4000').origin).toBe('http://localhost:4000');
    expect(widgetDocument('set-pin', 'http://[::1]:80/').origin).toBe('http://[::1]');
  });

  it.each([
    [{ platformUrl: 'javascript:alert(1)' }, 'platformUrl', /http\(s\) URL/],
    [{ platformUrl: 'https://user@platform.example' }, 'platformUrl', /http\(s\) URL/],
    [{ platformUrl: 'https://plätform.example' }, 'platformUrl', /ASCII host/],
    [{ platformUrl: 'file:///widgets/set-pin/' }, 'platformUrl', /http\(s\) URL/],
    [{ platformUrl: 'https://platform.example:99999' }, 'platformUrl', /http\(s\) URL/],
    [{ fetchToken: undefined }, 'token', /exactly one of token or fetchToken/],
    [{ token: 'wt_x' }, 'token', /exactly one of token or fetchToken/],
    [{ fetchToken: undefined, token: 'wt with spaces' }, 'token', /minted widget_token/],
    [{ fetchToken: 'mint' }, 'fetchToken', /pass a function/],
    [{ autoHideSeconds: 120 }, 'autoHideSeconds', /whole number .* 1 to 60/],
    [{ labels: { pinLabel: 'x'.repeat(101) } }, 'labels.pinLabel', /at most 100/],
    [{ styles: { colorPrimary: 'red;background:url(x)' } }, 'styles.colorPrimary', /#hex or rgb/],
    [{ autohideSeconds: 5 }, 'autohideSeconds', /unknown/],
  ])('refuses %j with INVALID_OPTIONS naming %s and the fix', (bad, option, message) => {
    const attempt = () =>
      widgetUrl('reveal-pin', {
        platformUrl: PLATFORM,
        fetchToken: async () => 'wt_x',
        ...bad,
      } as never);
    expect(attempt).toThrow(PinWidgetsError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS', option });
      expect(misuseEvent(error as PinWidgetsError)).toEqual({
        code: 'INVALID_OPTIONS',
        message: (error as Error).message,
        failedFields: [option],
      });
    }
  });

  it('refuses a bearer token for enroll-passkey: enrollment is always DPoP-bound', () => {
    expect(() => widgetUrl('enroll-passkey', { platformUrl: PLATFORM, token: 'wt_x' })).toThrow(
      /use fetchToken for enroll-passkey/,
    );
  });
});

describe('events in: what the document posts reaches the app as the web SDK reports it', () => {
  it.each<[string, unknown]>([
    ['load', {}],
    ['change', { complete: true, valid: false }],
    ['focus', {}],
    ['blur', {}],
    ['submit', {}],
    ['success', {}],
    ['failure', { code: 'PIN_REJECTED', message: 'Choose another PIN.', failedFields: ['pin'] }],
    ['error', { code: 'PASSKEY_UNSUPPORTED', message: 'No passkeys here.', failedFields: [] }],
    ['revealed', {}],
    ['hidden', {}],
    ['resize', { height: 312 }],
  ])('%s %j', (type, payload) => {
    const { emitted, refused, receive } = harness();
    receive(type, payload);
    expect(refused).toEqual([]);
    expect(emitted).toEqual([{ type, payload }]);
  });

  it('names the prop each event calls, for every event the protocol has', () => {
    expect(EVENT_NAMES.map(handlerName)).toEqual([
      'onLoad',
      'onError',
      'onChange',
      'onFocus',
      'onBlur',
      'onSubmit',
      'onSuccess',
      'onFailure',
      'onRevealed',
      'onHidden',
      'onResize',
    ]);
  });

  it('hears from the document once its fragment is gone, and with it', () => {
    const { emitted, receive } = harness();
    receive('load', {}, `${DOCUMENT_URL}#locale=fr`);
    receive('focus', {}, `${DOCUMENT_URL}?from=app`);
    expect(emitted.map((event) => event.type)).toEqual(['load', 'focus']);
  });
});

describe('messages from the wrong document or with the wrong shape are refused', () => {
  it.each<[string, unknown, unknown]>([
    ['WRONG_DOCUMENT', post('load'), 'https://evil.example/widgets/set-pin/'],
    ['WRONG_DOCUMENT', post('load'), 'https://platform.example.evil.example/widgets/set-pin/'],
    ['WRONG_DOCUMENT', post('load'), 'https://platform.example@evil.example/widgets/set-pin/'],
    ['WRONG_DOCUMENT', post('load'), 'http://platform.example/widgets/set-pin/'],
    ['WRONG_DOCUMENT', post('load'), 'https://platform.example:8443/widgets/set-pin/'],
    ['WRONG_DOCUMENT', post('load'), `${PLATFORM}/widgets/reveal-pin/`],
    ['WRONG_DOCUMENT', post('load'), `${PLATFORM}/demo/`],
    ['WRONG_DOCUMENT', post('load'), 'about:blank'],
    ['WRONG_DOCUMENT', post('load'), undefined],
    ['NOT_JSON', '{"type":"load"', DOCUMENT_URL],
    ['NOT_JSON', { type: 'load', payload: {} }, DOCUMENT_URL],
    [
      'TOO_LARGE',
      post('failure', { code: 'X', message: 'x'.repeat(20_000), failedFields: [] }),
      DOCUMENT_URL,
    ],
    ['WRONG_SHAPE', '[]', DOCUMENT_URL],
    ['WRONG_SHAPE', '"load"', DOCUMENT_URL],
    ['WRONG_SHAPE', JSON.stringify({ type: 'load' }), DOCUMENT_URL],
    ['WRONG_SHAPE', JSON.stringify({ type: 'load', payload: {}, pin: PIN }), DOCUMENT_URL],
    ['WRONG_SHAPE', JSON.stringify({ type: 7, payload: {} }), DOCUMENT_URL],
    [
      'WRONG_CHANNEL',
      JSON.stringify({
        ns: 'pin-widgets',
        v: 1,
        channel: 'c'.repeat(16),
        type: 'load',
        payload: {},
      }),
      DOCUMENT_URL,
    ],
    ['WRONG_CHANNEL', JSON.stringify({ channel: 'webview', type: 'load' }), DOCUMENT_URL],
    ['UNKNOWN_TYPE', post('ready', { widget: 'set-pin' }), DOCUMENT_URL],
    ['UNKNOWN_TYPE', post('init', { options: {}, fetchToken: true }), DOCUMENT_URL],
    ['UNKNOWN_TYPE', post('__proto__'), DOCUMENT_URL],
    ['UNKNOWN_TYPE', post('toString'), DOCUMENT_URL],
    ['INVALID_PAYLOAD', post('change', { complete: true, valid: true, pin: PIN }), DOCUMENT_URL],
    ['INVALID_PAYLOAD', post('load', { pin: PIN }), DOCUMENT_URL],
    ['INVALID_PAYLOAD', post('resize', { height: -1 }), DOCUMENT_URL],
    ['INVALID_PAYLOAD', post('failure', { code: 'PIN_REJECTED', message: 'x' }), DOCUMENT_URL],
    [
      'INVALID_PAYLOAD',
      post('error', { code: `pin ${PIN}`, message: 'x', failedFields: [] }),
      DOCUMENT_URL,
    ],
    [
      'INVALID_PAYLOAD',
      post('tokenRequest', { jkt: 'short', widgetType: 'SET_PIN' }),
      DOCUMENT_URL,
    ],
    ['INVALID_PAYLOAD', post('load', []), DOCUMENT_URL],
    [
      'WRONG_WIDGET_TYPE',
      post('tokenRequest', { jkt: JKT, widgetType: 'REVEAL_PIN' }),
      DOCUMENT_URL,
    ],
  ])('%s: %j from %j', (reason, data, url) => {
    const parsed = parseBridgeMessage('set-pin', SET_PIN, data, url);
    expect(parsed).toMatchObject({ ok: false, reason });
    const { emitted, injected, refused, bridge } = harness();
    bridge.receive(data, url);
    expect(emitted).toEqual([]);
    expect(injected).toEqual([]);
    expect(refused.map((refusal) => refusal.reason)).toEqual([reason]);
  });

  it('says what to check, never what the message held', () => {
    const { refused, bridge } = harness();
    bridge.receive(post('change', { complete: true, valid: true, pin: PIN }), DOCUMENT_URL);
    bridge.receive(post('load', { pin: PIN }), `https://evil.example/?pin=${PIN}`);
    expect(refused).toHaveLength(2);
    expect(JSON.stringify(refused)).not.toContain(PIN);
  });

  it('passes on only the protocol fields of a valid message', () => {
    const parsed = parseBridgeMessage(
      'set-pin',
      SET_PIN,
      post('failure', {
        code: 'PIN_MISMATCH',
        message: 'The PINs differ.',
        failedFields: [],
        pin: PIN,
      }),
      DOCUMENT_URL,
    );
    expect(parsed).toEqual({
      ok: true,
      message: {
        type: 'failure',
        payload: { code: 'PIN_MISMATCH', message: 'The PINs differ.', failedFields: [] },
      },
    });
  });

  it('hears nothing before start() or after stop()', () => {
    const { bridge, emitted, refused } = harness();
    bridge.stop();
    bridge.receive(post('load'), DOCUMENT_URL);
    bridge.receive('nonsense', 'https://evil.example/');
    expect(emitted).toEqual([]);
    expect(refused).toEqual([]);
  });
});

describe('commands out: run in the widget document, and nowhere else', () => {
  it.each(['submit', 'requestPin', 'hide', 'focus', 'clear'] as const)(
    '%s calls pinWidgetsCommand in the widget document',
    (command) => {
      const script = commandScript(SET_PIN, command);
      expect(runInDocument(script)).toEqual({
        calls: [['pinWidgetsCommand', command]],
        result: undefined,
      });
      expect(script.trimEnd().endsWith('true;')).toBe(true);
    },
  );

  it.each([
    'https://evil.example/widgets/set-pin/',
    `${PLATFORM}/widgets/reveal-pin/`,
    'https://platform.example:8443/widgets/set-pin/',
  ])('does nothing in %s', (url) => {
    expect(runInDocument(commandScript(SET_PIN, 'submit'), url).calls).toEqual([]);
  });

  it('refuses a command the document does not know', () => {
    expect(() => commandScript(SET_PIN, 'update' as never)).toThrow(/unknown command/);
    const { bridge, injected, receive } = harness();
    receive('load');
    bridge.command('destroy' as never);
    expect(injected).toEqual([]);
  });

  it('holds commands until the document has spoken, then runs them in order', () => {
    const { bridge, injected, receive } = harness();
    bridge.command('focus');
    bridge.command('submit');
    expect(injected).toEqual([]);
    receive('load');
    expect(injected.map((script) => runInDocument(script).calls[0])).toEqual([
      ['pinWidgetsCommand', 'focus'],
      ['pinWidgetsCommand', 'submit'],
    ]);
    bridge.command('clear');
    expect(runInDocument(injected[2]!).calls).toEqual([['pinWidgetsCommand', 'clear']]);
  });

  it('drops held commands of a document that went away', () => {
    const { bridge, injected, receive } = harness();
    bridge.command('submit');
    bridge.start();
    receive('load');
    expect(injected).toEqual([]);
  });
});

describe('token requests: fetchToken mints for the document key, the answer goes to that document', () => {
  it('asks fetchToken for the jkt and widget type, and hands the token to the document only', async () => {
    const fetchToken = vi.fn(async () => 'wt_dpop_bound');
    const { emitted, injected, receive } = harness({ fetchToken });
    receive('tokenRequest', { jkt: JKT, widgetType: 'SET_PIN' });
    await settle();
    expect(fetchToken).toHaveBeenCalledWith({ jkt: JKT, widgetType: 'SET_PIN' });
    expect(emitted).toEqual([]);
    expect(injected).toHaveLength(1);
    expect(runInDocument(injected[0]!).calls).toEqual([['pinWidgetsToken', 'wt_dpop_bound']]);
    expect(runInDocument(injected[0]!, 'https://evil.example/widgets/set-pin/').calls).toEqual([]);
    expect(runInDocument(injected[0]!, `${PLATFORM}/widgets/reveal-pin/`).calls).toEqual([]);
  });

  it('asks for the kind of token the view is for', async () => {
    const fetchToken = vi.fn(async () => 'wt_enroll');
    const bridge = createWebViewBridge({
      widget: 'enroll-passkey',
      document: widgetDocument('enroll-passkey', PLATFORM),
      fetchToken,
      inject: () => undefined,
      emit: () => undefined,
    });
    bridge.start();
    bridge.receive(
      post('tokenRequest', { jkt: JKT, widgetType: 'ENROLL_PASSKEY' }),
      `${PLATFORM}/widgets/enroll-passkey/`,
    );
    await settle();
    expect(fetchToken).toHaveBeenCalledWith({ jkt: JKT, widgetType: 'ENROLL_PASSKEY' });
    bridge.stop();
  });

  it.each<[string, WebViewBridgeOptions['fetchToken']]>([
    ['fetchToken rejects', async () => Promise.reject(new Error('backend down'))],
    [
      'fetchToken throws',
      () => {
        throw new Error('not async');
      },
    ],
    ['no fetchToken (a bearer view)', undefined],
  ])(
    'answers null when %s: the document then says TOKEN_UNAVAILABLE',
    async (_case, fetchToken) => {
      const { injected, refused, receive } = harness(fetchToken ? { fetchToken } : {});
      receive('tokenRequest', { jkt: JKT, widgetType: 'SET_PIN' });
      await settle();
      expect(injected.map((script) => runInDocument(script).calls)).toEqual([
        [['pinWidgetsToken', null]],
      ]);
      expect(refused).toEqual([]);
    },
  );

  it.each([[{ token: 'wt_x' }], [''], ['wt with spaces'], ['x'.repeat(513)], [42]])(
    'answers null, and says why, when fetchToken resolves %j',
    async (minted) => {
      const { injected, refused, receive } = harness({ fetchToken: async () => minted as string });
      receive('tokenRequest', { jkt: JKT, widgetType: 'SET_PIN' });
      await settle();
      expect(injected.map((script) => runInDocument(script).calls)).toEqual([
        [['pinWidgetsToken', null]],
      ]);
      expect(refused.map((refusal) => refusal.reason)).toEqual(['NOT_A_TOKEN']);
    },
  );

  it('never delivers a token minted for a document that has gone (new options, a reload)', async () => {
    let resolve!: (token: string) => void;
    const fetchToken = vi.fn(() => new Promise<string>((done) => (resolve = done)));
    const { bridge, injected, receive } = harness({ fetchToken });
    receive('tokenRequest', { jkt: JKT, widgetType: 'SET_PIN' });
    bridge.start();
    resolve('wt_for_the_old_key');
    await settle();
    expect(injected).toEqual([]);

    receive('tokenRequest', { jkt: JKT, widgetType: 'SET_PIN' });
    bridge.stop();
    resolve('wt_after_unmount');
    await settle();
    expect(injected).toEqual([]);
  });

  it('quotes the token as data: nothing in it runs as script', () => {
    const script = tokenAnswerScript(SET_PIN, `wt_");window.stolen=("`);
    expect(runInDocument(script).calls).toEqual([['pinWidgetsToken', `wt_");window.stolen=("`]]);
  });
});

describe('load or error, always', () => {
  it('reports LOAD_TIMEOUT once when the document never speaks, and drops a late load', () => {
    vi.useFakeTimers();
    const { emitted, receive } = harness();
    vi.advanceTimersByTime(LOAD_TIMEOUT_MS);
    receive('load');
    vi.advanceTimersByTime(LOAD_TIMEOUT_MS);
    expect(emitted).toEqual([
      {
        type: 'error',
        payload: {
          code: 'LOAD_TIMEOUT',
          message: 'The widget did not load in time.',
          failedFields: [],
        },
      },
    ]);
  });

  it('reports nothing more once the document has loaded, but a later error still (passkey at reveal)', () => {
    vi.useFakeTimers();
    const { bridge, emitted, receive } = harness({
      widget: 'reveal-pin',
      document: widgetDocument('reveal-pin', PLATFORM),
    });
    receive('load', {}, `${PLATFORM}/widgets/reveal-pin/`);
    receive('load', {}, `${PLATFORM}/widgets/reveal-pin/`);
    bridge.unreachable();
    vi.advanceTimersByTime(LOAD_TIMEOUT_MS * 2);
    const unsupported = {
      code: 'PASSKEY_UNSUPPORTED',
      message: 'Passkeys are not available here.',
      failedFields: [],
    };
    receive('error', unsupported, `${PLATFORM}/widgets/reveal-pin/`);
    expect(emitted).toEqual([
      { type: 'load', payload: {} },
      { type: 'error', payload: unsupported },
    ]);
  });

  it('reports WIDGET_UNREACHABLE when the WebView cannot load the document', () => {
    vi.useFakeTimers();
    const { bridge, emitted } = harness();
    bridge.unreachable();
    vi.advanceTimersByTime(LOAD_TIMEOUT_MS);
    expect(emitted).toEqual([
      {
        type: 'error',
        payload: {
          code: 'WIDGET_UNREACHABLE',
          message: `The widget document did not load from ${PLATFORM}: check platformUrl and the network.`,
          failedFields: [],
        },
      },
    ]);
  });

  it('reports WIDGET_TERMINATED when the content process ends, even after load', async () => {
    const fetchToken = vi.fn(async () => 'wt_for_the_dead_document');
    const { bridge, emitted, injected, receive } = harness({ fetchToken });
    receive('load');
    receive('tokenRequest', { jkt: JKT, widgetType: 'SET_PIN' });
    bridge.terminated();
    await settle();
    expect(injected).toEqual([]);
    expect(emitted).toEqual([
      { type: 'load', payload: {} },
      {
        type: 'error',
        payload: {
          code: 'WIDGET_TERMINATED',
          message: "The WebView's content process ended; the widget has to load again.",
          failedFields: [],
        },
      },
    ]);
  });

  it('starts the clock again for each document, and stops it with the view', () => {
    vi.useFakeTimers();
    const { bridge, emitted, receive } = harness();
    receive('load');
    bridge.start();
    receive('load');
    bridge.stop();
    vi.advanceTimersByTime(LOAD_TIMEOUT_MS * 2);
    expect(emitted.map((event) => event.type)).toEqual(['load', 'load']);
  });
});

describe('navigation: the view shows this widget document and nothing else', () => {
  const bridge = createWebViewBridge({
    widget: 'set-pin',
    document: SET_PIN,
    inject: () => undefined,
    emit: () => undefined,
  });

  it.each([
    [`${DOCUMENT_URL}#token=wt_x&locale=fr`, true, true],
    [DOCUMENT_URL, undefined, true],
    [DOCUMENT_URL, false, false],
    [`${PLATFORM}/widgets/reveal-pin/`, true, false],
    [`${PLATFORM}/`, true, false],
    ['https://platform.example.evil.example/widgets/set-pin/', true, false],
    ['https://evil.example/', true, false],
    ['about:blank', true, false],
    ['file:///data/local/tmp/x.html', true, false],
    ['javascript:alert(1)', true, false],
  ])('%s (top frame: %s) → %s', (url, isTopFrame, allowed) => {
    expect(
      bridge.allowsNavigation({ url, ...(isTopFrame === undefined ? {} : { isTopFrame }) }),
    ).toBe(allowed);
  });
});

describe('a PIN never leaves the document through the bridge', () => {
  it('is in nothing the bridge emits, injects, refuses or logs, whatever a message carries', async () => {
    const logs = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation(() => undefined),
    );
    const { bridge, emitted, injected, refused, receive } = harness({
      fetchToken: async () => 'wt_dpop',
    });
    bridge.command('focus');
    receive('tokenRequest', { jkt: JKT, widgetType: 'SET_PIN', pin: PIN });
    receive('load', { pin: PIN });
    receive('load');
    receive('change', { complete: true, valid: true, pin: PIN, confirm: PIN });
    receive('change', { complete: true, valid: true });
    receive('submit');
    receive('failure', {
      code: 'PIN_REJECTED',
      message: 'Choose another PIN.',
      failedFields: ['pin'],
      pin: PIN,
    });
    receive('success', {});
    receive('resize', { height: 240, pin: PIN });
    bridge.receive(JSON.stringify({ type: 'success', payload: {}, pin: PIN }), DOCUMENT_URL);
    bridge.receive(`{"type":"load","payload":{},"pin":"${PIN}"`, DOCUMENT_URL);
    bridge.receive(post('load'), `https://evil.example/#${PIN}`);
    bridge.command('submit');
    await settle();

    expect(emitted.map((event) => event.type)).toEqual([
      'load',
      'change',
      'submit',
      'failure',
      'success',
      'resize',
    ]);
    expect(refused.length).toBeGreaterThan(0);
    expect(injected.length).toBeGreaterThan(0);
    expect(JSON.stringify([emitted, injected, refused])).not.toContain(PIN);
    for (const log of logs) expect(log).not.toHaveBeenCalled();
  });
});
