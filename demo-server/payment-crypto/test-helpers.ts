import { expect } from 'vitest';

import { PaymentCryptoError } from './errors.js';
import type { PaymentCryptoErrorCode } from './errors.js';

/**
 * Runs `fn`, expects a PaymentCryptoError with `code`, and checks that nothing sensitive
 * reached the message or any serialised form of the error.
 */
export function expectRefusal(
  fn: () => unknown,
  code: PaymentCryptoErrorCode,
  secrets: readonly string[] = [],
): PaymentCryptoError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PaymentCryptoError);
  const error = caught as PaymentCryptoError;
  expect(error.code).toBe(code);
  // The stack is left out: past its first line (the message) it only holds file paths.
  const rendered = [error.message, String(error), JSON.stringify(error)];
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const text of rendered) expect(text).not.toContain(secret);
  }
  return error;
}

/** The `code` a call fails with (NOT_PAYMENT_CRYPTO_ERROR for any other error), or undefined. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof PaymentCryptoError ? err.code : 'NOT_PAYMENT_CRYPTO_ERROR';
  }
  return undefined;
}
