import type { ErrorPayload, PinWidgetsError } from './index.js';

/**
 * A refused option as the `error` event says it, for the wrappers that have no caller to throw
 * to (the custom elements, the React components). Kept out of the core: it never needs it.
 */
export const misuseEvent = ({ code, message, option }: PinWidgetsError): ErrorPayload => ({
  code: code ?? 'INVALID_OPTIONS',
  message,
  failedFields: option ? [option] : [],
});
