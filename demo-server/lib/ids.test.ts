import { describe, expect, it } from 'vitest';
import { newId, timeOfId } from './ids.js';

describe('newId', () => {
  it('is prefixed, 26 characters of Crockford base32 after the prefix', () => {
    expect(newId('card')).toMatch(/^card_[0-9a-hjkmnp-tv-z]{26}$/);
  });

  it('is strictly increasing, also within one millisecond and when the clock steps back', () => {
    const ids = [
      newId('x', 1000),
      newId('x', 1000),
      newId('x', 1000),
      newId('x', 999),
      newId('x', 1001),
    ];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sorts by time across milliseconds', () => {
    const early = newId('evt', Date.UTC(2026, 0, 1));
    const late = newId('evt', Date.UTC(2026, 0, 2));
    expect(early < late).toBe(true);
  });

  it('carries its time: timeOfId reads back the millisecond it was made with, or a later one', () => {
    const at = Date.UTC(2031, 0, 1, 0, 0, 0, 123); // ahead of every id this process made
    expect(timeOfId(newId('evt', at))).toBeGreaterThanOrEqual(at);
    expect(timeOfId(newId('evt', at + 10_000))).toBe(at + 10_000);
    expect(() => timeOfId('evt_!!!!!!!!!!')).toThrow(/not an id/);
  });
});
