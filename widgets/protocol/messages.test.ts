import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES, envelope, parseHostMessage, parseWidgetMessage } from './messages.js';

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
