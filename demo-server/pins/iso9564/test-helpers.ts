import { expect } from 'vitest';

import { PinBlockError } from './errors.js';
import type { PinBlockErrorCode } from './errors.js';

export const hex = (value: string): Buffer => Buffer.from(value, 'hex');
export const toHex = (value: Buffer): string => value.toString('hex').toUpperCase();

/**
 * Runs `fn`, expects a PinBlockError with `code`, and checks that nothing sensitive reached
 * the message or any serialised form of the error.
 */
export function expectRefusal(
  fn: () => unknown,
  code: PinBlockErrorCode,
  secrets: readonly string[] = [],
): PinBlockError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PinBlockError);
  const error = caught as PinBlockError;
  expect(error.code).toBe(code);
  // The stack is left out: past its first line (the message) it only holds file paths.
  const rendered = [error.message, String(error), JSON.stringify(error)];
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const text of rendered) expect(text).not.toContain(secret);
  }
  return error;
}
