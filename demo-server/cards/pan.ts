import { randomInt } from 'node:crypto';
import type { EmvProfile } from '../store/types.js';

export function luhnCheckDigit(partial: string): string {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    let digit = Number(partial[partial.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

export function isLuhnValid(pan: string): boolean {
  return /^\d{12,19}$/.test(pan) && luhnCheckDigit(pan.slice(0, -1)) === pan.at(-1);
}

/** Test-range IINs per profile, so a generated PAN can never be a live card number's IIN. */
const TEST_IIN: Record<EmvProfile, string> = {
  VISA: '499999',
  MASTERCARD: '559999',
  EMV_CCD: '699999',
};

/** A 16-digit, Luhn-valid test PAN from a CSPRNG. */
export function generatePan(profile: EmvProfile): string {
  let body = TEST_IIN[profile];
  while (body.length < 15) body += String(randomInt(10));
  return body + luhnCheckDigit(body);
}
