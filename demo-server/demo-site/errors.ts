/** The demo site's own refusals, as JSON `{ code, message }`, apart from the platform's codes. */
export const DemoSiteErrorCode = {
  SESSION_REQUIRED: 'SESSION_REQUIRED',
  CSRF_TOKEN_INVALID: 'CSRF_TOKEN_INVALID',
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  INVALID_REQUEST: 'INVALID_REQUEST',
  CARD_NOT_FOUND: 'CARD_NOT_FOUND',
  WIDGET_TOKEN_NOT_MINTED_HERE: 'WIDGET_TOKEN_NOT_MINTED_HERE',
  TOO_MANY_CARDS: 'TOO_MANY_CARDS',
  PLATFORM_UNAVAILABLE: 'PLATFORM_UNAVAILABLE',
  NOT_READY: 'NOT_READY',
  BAD_SIGNATURE: 'BAD_SIGNATURE',
} as const;
export type DemoSiteErrorCode = (typeof DemoSiteErrorCode)[keyof typeof DemoSiteErrorCode];

export class DemoSiteError extends Error {
  constructor(
    readonly status: number,
    readonly code: DemoSiteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DemoSiteError';
  }
}

export const sessionRequired = () =>
  new DemoSiteError(
    401,
    'SESSION_REQUIRED',
    'No demo cardholder session: reload the page to start one',
  );

/** The same answer for a card of another session and a card that does not exist. */
export const cardNotFound = () => new DemoSiteError(404, 'CARD_NOT_FOUND', 'No such card');

export const invalidRequest = (message: string) =>
  new DemoSiteError(400, 'INVALID_REQUEST', message);
