import { describe, expect, it } from 'vitest';
import {
  MAX_MESSAGE_BYTES,
  WIDGET_KINDS,
  envelope,
  hostOptionsProblem,
  parseHostMessage,
  parseWidgetMessage,
  widgetTypeOf,
} from './messages.js';

const channel = 'c'.repeat(24);

describe('parseHostMessage', () => {
  it('accepts each valid host message', () => {
    const valid = [
      envelope(channel, 'init', {
        options: { theme: 'night-shift', locale: 'fr' },
        fetchToken: true,
      }),
      envelope(channel, 'init', { options: {}, fetchToken: false, token: 'wt_x' }),
      envelope(channel, 'token', { token: 'wt_x' }),
      envelope(channel, 'submit', {}),
      envelope(channel, 'requestPin', {}),
      envelope(channel, 'update', { styles: { colorPrimary: '#000' } }),
    ];
    for (const message of valid)
      expect(parseHostMessage(message, channel), message.type).toEqual(message);
  });

  it.each([
    ['another channel', envelope('d'.repeat(24), 'submit', {})],
    ['another namespace', { ...envelope(channel, 'submit', {}), ns: 'other' }],
    ['another version', { ...envelope(channel, 'submit', {}), v: 2 }],
    ['unknown type', envelope(channel, 'steal', {})],
    ['prototype type', envelope(channel, '__proto__', {})],
    ['toString type', envelope(channel, 'toString', {})],
    ['payload not an object', envelope(channel, 'submit', 'x')],
    ['extra payload on a command', envelope(channel, 'submit', { pin: '1234' })],
    ['bad theme', envelope(channel, 'update', { theme: 'url(x)' })],
    ['style value not a string', envelope(channel, 'update', { styles: { colorPrimary: 1 } })],
    ['token too long', envelope(channel, 'token', { token: 'x'.repeat(600) })],
    ['init without fetchToken flag', envelope(channel, 'init', { options: {} })],
    [
      'autoHideSeconds out of range',
      envelope(channel, 'init', { options: { autoHideSeconds: 0 }, fetchToken: true }),
    ],
    [
      'oversized',
      envelope(channel, 'update', { labels: { pinLabel: 'x'.repeat(MAX_MESSAGE_BYTES) } }),
    ],
    [
      'a label longer than the rule allows',
      envelope(channel, 'init', {
        options: { labels: { pinLabel: 'x'.repeat(201) } },
        fetchToken: true,
      }),
    ],
    [
      'an unknown option',
      envelope(channel, 'init', { options: { colour: 'red' }, fetchToken: true }),
    ],
    ['a string', 'submit'],
    ['null', null],
  ])('drops %s', (_name, data) => {
    expect(parseHostMessage(data, channel)).toBeUndefined();
  });
});

describe('parseWidgetMessage', () => {
  it('accepts events and drops malformed ones', () => {
    expect(parseWidgetMessage(envelope(channel, 'resize', { height: 200 }), channel)).toBeDefined();
    expect(
      parseWidgetMessage(
        envelope(channel, 'tokenRequest', { jkt: 'a'.repeat(43), widgetType: 'SET_PIN' }),
        channel,
      ),
    ).toBeDefined();
    expect(
      parseWidgetMessage(envelope(channel, 'resize', { height: -1 }), channel),
    ).toBeUndefined();
    expect(
      parseWidgetMessage(
        envelope(channel, 'tokenRequest', { jkt: 'short', widgetType: 'SET_PIN' }),
        channel,
      ),
    ).toBeUndefined();
    expect(
      parseWidgetMessage(envelope(channel, 'failure', { code: 'X', message: 'm' }), channel),
    ).toBeUndefined();
  });
});

describe('widget kinds', () => {
  it.each(WIDGET_KINDS)('%s says ready and asks for a token of its own type', (kind) => {
    expect(parseWidgetMessage(envelope(channel, 'ready', { widget: kind }), channel)).toBeDefined();
    const widgetType = widgetTypeOf(kind);
    expect(
      parseWidgetMessage(
        envelope(channel, 'tokenRequest', { jkt: 'a'.repeat(43), widgetType }),
        channel,
      ),
    ).toBeDefined();
  });

  it('names the token types the platform mints', () => {
    expect(WIDGET_KINDS.map(widgetTypeOf)).toEqual(['SET_PIN', 'REVEAL_PIN', 'ENROLL_PASSKEY']);
  });

  it.each([
    ['an unknown widget', envelope(channel, 'ready', { widget: 'pay' })],
    [
      'an unknown token type',
      envelope(channel, 'tokenRequest', { jkt: 'a'.repeat(43), widgetType: 'enroll-passkey' }),
    ],
  ])('drops %s', (_name, message) => {
    expect(parseWidgetMessage(message, channel)).toBeUndefined();
  });
});

describe('hostOptionsProblem', () => {
  it('names the option of a refused init or update, so the widget can answer it', () => {
    const init = envelope(channel, 'init', { options: { autoHideSeconds: 120 }, fetchToken: true });
    expect(hostOptionsProblem(init, channel)).toEqual({
      option: 'autoHideSeconds',
      fix: expect.stringContaining('from 1 to 60'),
    });
    expect(hostOptionsProblem(envelope(channel, 'update', { theme: 'x' }), channel)?.option).toBe(
      'theme',
    );
  });

  it('says nothing of messages for another channel or of other types', () => {
    const init = envelope('d'.repeat(24), 'init', { options: { autoHideSeconds: 120 } });
    expect(hostOptionsProblem(init, channel)).toBeUndefined();
    expect(hostOptionsProblem(envelope(channel, 'submit', { x: 1 }), channel)).toBeUndefined();
  });
});

describe('the change event', () => {
  it('carries only complete and valid: a rule broken is never told to the host', () => {
    expect(
      parseWidgetMessage(envelope(channel, 'change', { complete: true, valid: false }), channel),
    ).toBeDefined();
    expect(
      parseWidgetMessage(
        envelope(channel, 'change', {
          complete: true,
          valid: false,
          error: 'PIN_MATCHES_CARD_NUMBER',
        }),
        channel,
      ),
    ).toBeUndefined();
  });
});
