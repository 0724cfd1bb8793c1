/**
 * Every error code the API can answer with. Codes are stable: integrators switch on them.
 * The HTTP status lives beside the code so a code always maps to the same status.
 */
export const ErrorCodes = {
  INVALID_REQUEST: 400,
  MALFORMED_JSON: 400,
  MISSING_FIELD: 400,
  UNKNOWN_FIELD: 400,
  INVALID_FIELD: 400,
  OFFLINE_PIN_REQUIRES_PIN_POLICY: 400,
  VIRTUAL_PRODUCT_HAS_NO_PIN_POLICY: 400,
  CARD_PRODUCT_NOT_FOUND: 400,
  TEST_ONLY_FIELD: 400,
  CARD_IS_VIRTUAL: 400,
  CARD_TERMINATED: 400,
  PIN_DECRYPTION_FAILED: 400,
  UNKNOWN_KEY_ID: 400,
  SESSION_MISMATCH: 400,
  INVALID_PIN_PAYLOAD: 400,
  PIN_NOT_DIGITS: 400,
  PIN_WRONG_LENGTH: 400,
  PIN_TOO_WEAK: 400,
  PIN_MATCHES_CARD_NUMBER: 400,
  INVALID_PUBLIC_KEY: 400,
  BODY_NOT_ALLOWED: 400,
  OFFLINE_PIN_NOT_ENABLED: 400,
  NO_PIN_TO_SYNC: 400,
  INVALID_PIN_BLOCK: 400,
  CURRENT_PIN_REQUIRED: 400,
  CURRENT_PIN_INCORRECT: 400,
  PIN_PAD_CARD_MISMATCH: 400,
  PIN_PAD_ENTRY_EXPIRED: 400,
  PASSKEY_REGISTRATION_FAILED: 400,
  WEBHOOK_URL_FORBIDDEN: 400,
  WIDGET_TOKEN_MISSING: 401,
  WIDGET_TOKEN_INVALID: 401,
  WIDGET_TOKEN_EXPIRED: 401,
  WIDGET_TOKEN_USED: 401,
  WIDGET_TOKEN_LOCKED: 401,
  DPOP_PROOF_MISSING: 401,
  DPOP_PROOF_INVALID: 401,
  DPOP_PROOF_STALE: 401,
  DPOP_PROOF_REPLAYED: 401,
  DPOP_PROOF_WRONG_KEY: 401,
  DPOP_PROOF_WRONG_REQUEST: 401,
  DPOP_PROOF_WRONG_TOKEN: 401,
  DPOP_BINDING_REQUIRED: 400,
  ACCOUNT_TOKEN_MISSING: 401,
  ACCOUNT_TOKEN_INVALID: 401,
  ACCOUNT_TOKEN_EXPIRED: 401,
  STEP_UP_REQUIRED: 401,
  STEP_UP_FAILED: 401,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  INSUFFICIENT_SCOPE: 403,
  WIDGET_TOKEN_WRONG_TYPE: 403,
  ORIGIN_MISMATCH: 403,
  CARD_NOT_IN_ACCOUNT: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  INVALID_STATUS_TRANSITION: 409,
  CARD_NOT_ACTIVE: 409,
  PIN_NOT_SET: 409,
  PIN_BLOCKED: 409,
  PASSKEY_NOT_ENROLLED: 409,
  PASSKEY_ALREADY_ENROLLED: 409,
  CARD_HAS_NO_CUSTOMER: 409,
  CARD_NOT_ISSUED: 409,
  PAN_ALREADY_ISSUED: 409,
  PAYLOAD_TOO_LARGE: 413,
  MISDIRECTED_REQUEST: 421,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  TOO_MANY_ATTEMPTS: 429,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  field?: string;
  [detail: string]: unknown;
}

/** The one error type of the HTTP layer: status, stable code, safe message, optional field. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    // An answer, not a fault: nothing reads its stack, and capturing one cost about 10 % of a
    // request refused at the token check (docs/performance.md).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.status = ErrorCodes[code];
  }

  toJSON(): ErrorBody {
    return {
      ...this.details,
      code: this.code,
      message: this.message,
      ...(this.field === undefined ? {} : { field: this.field }),
    };
  }
}

export const notFound = (what: string, id: string): ApiError =>
  new ApiError('NOT_FOUND', `No ${what} with id "${id}"`);
