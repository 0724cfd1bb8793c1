/**
 * The PIN policy (README “PINs”), one module for both sides: the server is the authority
 * (demo-server/pins/policy.ts re-exports it), the widget runs the same rules for instant
 * feedback. No dependencies: it is bundled into the widget documents.
 */
export const PinPolicyCodes = {
  PIN_NOT_DIGITS: 'PIN_NOT_DIGITS',
  PIN_WRONG_LENGTH: 'PIN_WRONG_LENGTH',
  PIN_TOO_WEAK: 'PIN_TOO_WEAK',
  PIN_MATCHES_CARD_NUMBER: 'PIN_MATCHES_CARD_NUMBER',
} as const;
export type PinPolicyCode = keyof typeof PinPolicyCodes;

/** The most common 4-digit PINs after repeats and runs (published PIN-frequency studies). */
export const COMMON_PINS: readonly string[] = [
  '1212',
  '1004',
  '2000',
  '6969',
  '1122',
  '1313',
  '2001',
  '1010',
  '2580',
  '0852',
  '5683',
  '0007',
  '1230',
  '0070',
  '1984',
  '1986',
  '2468',
  '1357',
  '1000',
  '1001',
  '2020',
  '2021',
  '2112',
  '1990',
  '4545',
  '5150',
  '7410',
  '1369',
  '1985',
  '1987',
  '1988',
  '1989',
  '1991',
  '2002',
  '2323',
  '1213',
  '123123',
  '121212',
  '112233',
  '159753',
  '147258',
  '111222',
  '654321',
  '696969',
  '102030',
];

function isRun(pin: string, step: 1 | -1): boolean {
  for (let i = 1; i < pin.length; i++) {
    if ((Number(pin[i - 1]) + step + 10) % 10 !== Number(pin[i])) return false;
  }
  return true;
}

/**
 * Why `pin` is refused for a card whose PIN is `length` digits long and whose PAN ends with
 * `lastFour`, or undefined when it is acceptable. Runs wrap around (8901, 2109) as keypads do.
 */
export function pinPolicyViolation(
  pin: string,
  length: number,
  lastFour: string,
): PinPolicyCode | undefined {
  if (!/^[0-9]*$/.test(pin)) return 'PIN_NOT_DIGITS';
  if (pin.length !== length) return 'PIN_WRONG_LENGTH';
  if (/^(\d)\1+$/.test(pin) || isRun(pin, 1) || isRun(pin, -1)) return 'PIN_TOO_WEAK';
  if (COMMON_PINS.includes(pin)) return 'PIN_TOO_WEAK';
  if (pin.endsWith(lastFour)) return 'PIN_MATCHES_CARD_NUMBER';
  return undefined;
}
