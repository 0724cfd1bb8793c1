import type { ErrorPayload } from '../protocol/messages.js';

/**
 * A misuse of the SDK, found before anything is framed: `code` is stable, `option` names it.
 * Free of the DOM, so the React Native package throws the same class.
 */
export class PinWidgetsError extends Error {
  override readonly name = 'PinWidgetsError';
  constructor(
    message: string,
    readonly code = 'INVALID_OPTIONS',
    readonly option?: string,
  ) {
    super(`PinWidgets: ${message}`);
  }
}

/** A refused option, `options.<option>: <fix>`. */
export const invalid = (option: string, fix: string) =>
  new PinWidgetsError(`options.${option}: ${fix}`, 'INVALID_OPTIONS', option);

/**
 * A refused option as the `error` event says it, for the wrappers that have no caller to throw
 * to (the custom elements, the React components, the React Native views).
 */
export const misuseEvent = ({ code, message, option }: PinWidgetsError): ErrorPayload => ({
  code: code ?? 'INVALID_OPTIONS',
  message,
  failedFields: option ? [option] : [],
});
