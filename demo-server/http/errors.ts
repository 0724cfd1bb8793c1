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
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  INVALID_STATUS_TRANSITION: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
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
    super(message);
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
