import { type ClipboardEvent, type FormEvent, type Ref, useId } from 'react';

interface PinFieldProps {
  label: string;
  placeholder: string;
  value: string;
  length: number;
  error?: string | undefined;
  /** The error follows a submit the person may not be looking at (the host's): say it at once. */
  announceError?: boolean;
  describedBy?: string;
  /**
   * `one-time-code` for a PIN being chosen; `off` for one the person already has (the current
   * PIN), which no browser should offer to fill in or save.
   */
  autoComplete?: 'one-time-code' | 'off';
  disabled?: boolean;
  inputRef?: Ref<HTMLInputElement>;
  onChange(value: string): void;
  onFocus?(): void;
  onBlur?(): void;
}

/**
 * One real native input is the PIN's source of truth: masked, numeric keyboard, one-time-code
 * autocomplete (no saved-password autofill), refusing anything but digits at the change handler.
 */
export function PinField(props: PinFieldProps) {
  const id = useId();
  const errorId = `${id}-error`;
  const describedBy = [props.describedBy, props.error ? errorId : undefined]
    .filter(Boolean)
    .join(' ');
  const accept = (raw: string) => {
    if (/^\d*$/.test(raw)) props.onChange(raw.slice(0, props.length));
  };
  return (
    <div className="pw-field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        ref={props.inputRef}
        type="password"
        inputMode="numeric"
        pattern="[0-9]*"
        autoComplete={props.autoComplete ?? 'one-time-code'}
        autoCorrect="off"
        spellCheck={false}
        maxLength={props.length}
        placeholder={props.placeholder || undefined}
        value={props.value}
        disabled={props.disabled}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy || undefined}
        onChange={(event: FormEvent<HTMLInputElement>) => accept(event.currentTarget.value)}
        onPaste={(event: ClipboardEvent<HTMLInputElement>) => {
          // A pasted PIN may carry spaces or dashes ("12 34"): keep its digits, refuse the rest.
          event.preventDefault();
          const digits = event.clipboardData.getData('text').replace(/[\s-]/g, '');
          if (/^\d+$/.test(digits)) accept(digits);
        }}
        onFocus={props.onFocus}
        onBlur={props.onBlur}
      />
      {props.error ? (
        <p id={errorId} className="pw-error" role={props.announceError ? 'alert' : undefined}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
}
