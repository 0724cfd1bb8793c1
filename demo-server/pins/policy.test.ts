import { describe, expect, it } from 'vitest';
import { COMMON_PINS, pinPolicyViolation, randomPin } from './policy.js';

describe('pinPolicyViolation', () => {
  it.each([
    ['1111', 'PIN_TOO_WEAK'],
    ['0000', 'PIN_TOO_WEAK'],
    ['1234', 'PIN_TOO_WEAK'],
    ['9876', 'PIN_TOO_WEAK'],
    ['0123', 'PIN_TOO_WEAK'],
    ['8901', 'PIN_TOO_WEAK'],
    ['1212', 'PIN_TOO_WEAK'],
    ['2000', 'PIN_TOO_WEAK'],
    ['6969', 'PIN_TOO_WEAK'],
    ['1004', 'PIN_TOO_WEAK'],
    ['4821', 'PIN_MATCHES_CARD_NUMBER'],
    ['12a4', 'PIN_NOT_DIGITS'],
    ['١٢٣٤', 'PIN_NOT_DIGITS'],
    ['385', 'PIN_WRONG_LENGTH'],
    ['38501', 'PIN_WRONG_LENGTH'],
  ])('%s → %s', (pin, code) => {
    expect(pinPolicyViolation(pin, 4, '4821')).toBe(code);
  });

  it('accepts ordinary PINs', () => {
    for (const pin of ['3850', '7392', '0417'])
      expect(pinPolicyViolation(pin, 4, '4821')).toBeUndefined();
    expect(pinPolicyViolation('385017', 6, '4821')).toBeUndefined();
    expect(pinPolicyViolation('123456', 6, '4821')).toBe('PIN_TOO_WEAK');
    expect(pinPolicyViolation('994821', 6, '4821')).toBe('PIN_MATCHES_CARD_NUMBER');
  });
});

describe('randomPin', () => {
  it('is never weak, always the right length', () => {
    for (let i = 0; i < 2000; i++) {
      const pin = randomPin(4, '4821');
      expect(pin).toMatch(/^\d{4}$/);
      expect(pinPolicyViolation(pin, 4, '4821')).toBeUndefined();
      expect(COMMON_PINS).not.toContain(pin);
    }
  });

  it('is uniform over the acceptable PINs: digit frequencies per position pass a chi-square test', () => {
    // The exact expectation: every 4-digit PIN the policy accepts for this card, equally likely.
    const acceptable = Array.from({ length: 10_000 }, (_, n) => String(n).padStart(4, '0')).filter(
      (pin) => pinPolicyViolation(pin, 4, '4821') === undefined,
    );
    const share = Array.from({ length: 4 }, (_, p) =>
      Array.from(
        { length: 10 },
        (_, digit) =>
          acceptable.filter((pin) => pin[p] === String(digit)).length / acceptable.length,
      ),
    );
    const samples = 20_000;
    const counts = Array.from({ length: 4 }, () => new Array<number>(10).fill(0));
    for (let i = 0; i < samples; i++) {
      const pin = randomPin(4, '4821');
      for (let p = 0; p < 4; p++) counts[p]![Number(pin[p])]!++;
    }
    for (const [p, position] of counts.entries()) {
      const chi2 = position.reduce((sum, observed, digit) => {
        const expected = samples * share[p]![digit]!;
        return sum + (observed - expected) ** 2 / expected;
      }, 0);
      // 9 degrees of freedom: 45.97 is the 10⁻⁶ critical value (Wilson–Hilferty), so a fair
      // generator fails this test about once in 250,000 runs, and a biased one almost always.
      expect(chi2).toBeLessThan(45.97);
    }
  });
});
