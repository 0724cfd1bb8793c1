import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { platformKeyQuery, sessionQuery } from '../runtime/api.js';
import { type WidgetContext, messageFor, useAnnounce } from '../runtime/boot.js';
import { encryptPin } from '../runtime/crypto.js';
import { PinField } from '../ui/PinField.js';
import { type Catalog, format } from '../ui/i18n.js';
import { pinPolicyViolation } from '../ui/pin-policy.js';

const POLICY_MESSAGE = {
  PIN_NOT_DIGITS: 'digits',
  PIN_WRONG_LENGTH: 'length',
  PIN_TOO_WEAK: 'weak',
  PIN_MATCHES_CARD_NUMBER: 'lastFour',
} as const;

/** Refusals about the current PIN (docs/point-of-sale.md, “Change with the current PIN”). */
const CURRENT_PIN_CODES = new Set(['CURRENT_PIN_INCORRECT', 'CURRENT_PIN_REQUIRED', 'PIN_BLOCKED']);

/**
 * What the host hears of a PIN the policy refuses: that it was refused, never which rule. "It
 * matches the card number" would tell a host that knows the last four what was typed (README “Widgets and the host SDK”);
 * the reason is shown to the cardholder inside this document only.
 */
const rejected = (t: Catalog) => ({
  code: 'PIN_REJECTED',
  message: t.pinRejected,
  failedFields: ['pin'],
});

/** The tries a refusal says are left after a wrong current PIN (`pin_tries_remaining`), if it says. */
function triesLeft(error: unknown): number | undefined {
  const details = (error as { details?: Record<string, unknown> } | null)?.details;
  const tries = details?.pin_tries_remaining;
  return typeof tries === 'number' && Number.isInteger(tries) && tries >= 0 ? tries : undefined;
}

/** What the cardholder reads under the current-PIN field after a wrong one. */
function wrongCurrentPin(t: Catalog, tries: number | undefined): string {
  if (tries === undefined) return t.currentPinIncorrect;
  return tries === 1 ? t.currentPinLastTry : format(t.currentPinTriesLeft, { count: tries });
}

export function SetPinApp({ ctx }: { ctx: WidgetContext }) {
  const { host, api, t, options } = ctx;
  const [currentPin, setCurrentPin] = useState('');
  const [pin, setPin] = useState('');
  const [confirm, setConfirm] = useState('');
  const [tried, setTried] = useState(false);
  const currentPinInput = useRef<HTMLInputElement>(null);
  const pinInput = useRef<HTMLInputElement>(null);
  const session = useQuery(sessionQuery(api));
  const platformKey = useQuery(platformKeyQuery());
  const card = session.data?.card;
  const title = t.widgetTitle;
  const length = card?.pin_length ?? 4;
  const asksCurrentPin = card?.requires_current_pin === true;

  const violation = card ? pinPolicyViolation(pin, length, card.last_four) : undefined;
  const mismatch = confirm.length === length && confirm !== pin;
  const currentComplete = !asksCurrentPin || currentPin.length === length;
  const complete = currentComplete && pin.length === length && confirm.length === length;
  const valid = complete && !violation && !mismatch;

  const submit = useMutation({
    mutationFn: async () => {
      const token = await api.credentials.token();
      const encrypted_pin = await encryptPin(
        asksCurrentPin ? { pin, current_pin: currentPin } : { pin },
        platformKey.data!,
        token,
      );
      return api.call('POST', '/v1/widget/pin', {
        encrypted_pin,
        ...(options.syncOfflinePin === undefined
          ? {}
          : { sync_offline_pin: options.syncOfflinePin }),
      });
    },
    onSuccess: () => {
      setCurrentPin('');
      setPin('');
      setConfirm('');
      setTried(false);
      host.send('success', {});
    },
    onError: (error) => {
      const { code, text } = messageFor(error, t);
      // One try is used: the next attempt starts from an empty field.
      if (code === 'CURRENT_PIN_INCORRECT') setCurrentPin('');
      // The card got its PIN after this session was read: read it again, the field appears.
      if (code === 'CURRENT_PIN_REQUIRED') void session.refetch();
      host.send(
        'failure',
        Object.hasOwn(POLICY_MESSAGE, code)
          ? rejected(t)
          : {
              code,
              // The catalog sentence without the tries left: nothing typed, nothing counted.
              message: text,
              failedFields: CURRENT_PIN_CODES.has(code)
                ? ['currentPin']
                : code.startsWith('PIN_')
                  ? ['pin']
                  : [],
            },
      );
    },
  });

  const refusal = submit.error ? messageFor(submit.error, t).code : undefined;
  const tries = refusal === 'CURRENT_PIN_INCORRECT' ? triesLeft(submit.error) : undefined;
  // A wrong current PIN that used the last try has blocked the PIN, as PIN_BLOCKED says.
  const blocked =
    (asksCurrentPin && card?.pin_status === 'BLOCKED') ||
    refusal === 'PIN_BLOCKED' ||
    (refusal === 'CURRENT_PIN_INCORRECT' && tries === 0);

  // Length is only an error once the person tried to submit; weakness shows as soon as it is known.
  const currentPinRefusal =
    refusal === 'CURRENT_PIN_INCORRECT' && !blocked
      ? wrongCurrentPin(t, tries)
      : refusal === 'CURRENT_PIN_REQUIRED'
        ? t.currentPinRequired
        : undefined;
  // Blocked, nothing typed here can help: the message above says what can.
  const currentPinError = blocked
    ? undefined
    : (currentPinRefusal ?? (tried && !currentComplete ? format(t.length, { length }) : undefined));
  const pinError =
    violation && (pin.length === length || tried)
      ? format(t[POLICY_MESSAGE[violation]], { length })
      : undefined;
  const confirmError = mismatch || (tried && confirm !== pin) ? t.mismatch : undefined;

  // After the field is cleared and shows why, so moving there reads the message with the label.
  const wrongCurrent = refusal === 'CURRENT_PIN_INCORRECT' && !blocked ? submit.error : undefined;
  useEffect(() => {
    if (wrongCurrent) currentPinInput.current?.focus();
  }, [wrongCurrent]);

  const trySubmit = () => {
    setTried(true);
    host.send('submit', {});
    if (blocked) {
      host.send('failure', {
        code: 'PIN_BLOCKED',
        message: t.pinBlocked,
        failedFields: ['currentPin'],
      });
      return;
    }
    if (!valid || submit.isPending || submit.isSuccess || !platformKey.data) {
      if (!valid) {
        host.send(
          'failure',
          !complete
            ? {
                code: 'PIN_INCOMPLETE',
                message: format(t.length, { length }),
                failedFields: [
                  !currentComplete ? 'currentPin' : pin.length === length ? 'confirmPin' : 'pin',
                ],
              }
            : violation
              ? rejected(t)
              : { code: 'PIN_MISMATCH', message: t.mismatch, failedFields: ['confirmPin'] },
        );
      }
      return;
    }
    submit.mutate();
  };
  const submitRef = useRef(trySubmit);
  submitRef.current = trySubmit;

  useEffect(
    () =>
      ctx.onCommand((type) => {
        if (type === 'submit') submitRef.current();
        // The first field of the form: the current PIN when it is asked for.
        if (type === 'focus') (currentPinInput.current ?? pinInput.current)?.focus();
        if (type === 'clear') {
          setCurrentPin('');
          setPin('');
          setConfirm('');
          setTried(false);
          submit.reset();
        }
      }),
    [ctx, submit],
  );

  const loaded = session.isSuccess && platformKey.isSuccess;
  useAnnounce(ctx, loaded, session.error ?? platformKey.error);

  // After `load` (this effect runs after useAnnounce's), and only `{ complete, valid }`: which
  // rule the PIN breaks is shown here, never told to the host (README “Widgets and the host SDK”).
  useEffect(() => {
    if (loaded) host.send('change', { complete, valid });
  }, [host, loaded, complete, valid]);

  if (session.error || platformKey.error) {
    return (
      <main className="pw-card" aria-label={title}>
        <p role="alert" className="pw-error">
          {messageFor(session.error ?? platformKey.error, t).text}
        </p>
      </main>
    );
  }
  if (!card || !platformKey.data) {
    return (
      <main className="pw-card" aria-label={title} aria-busy="true">
        <p role="status">{t.loading}</p>
      </main>
    );
  }
  const status = submit.isSuccess
    ? card.offline_pin && options.syncOfflinePin !== false
      ? t.successOffline
      : t.success
    : submit.error && !currentPinRefusal && !blocked
      ? messageFor(submit.error, t).text
      : '';
  const focus = () => host.send('focus', {});
  const blur = () => host.send('blur', {});
  return (
    <main className="pw-card" aria-label={title}>
      <form
        noValidate
        aria-labelledby="pw-title"
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          trySubmit();
        }}
      >
        <h1 id="pw-title">{t.widgetTitle}</h1>
        {blocked ? (
          // First thing read, above the fields it explains are out of use.
          <p role="alert" className="pw-error pw-blocked">
            {t.pinBlocked}
          </p>
        ) : null}
        {asksCurrentPin ? (
          <div className="pw-current">
            <p id="pw-current-hint" className="pw-hint">
              {t.currentPinHint}
            </p>
            <PinField
              label={t.currentPinLabel}
              placeholder={t.currentPinPlaceholder}
              value={currentPin}
              length={length}
              error={currentPinError}
              announceError={currentPinRefusal !== undefined}
              describedBy="pw-current-hint"
              autoComplete="off"
              disabled={blocked}
              inputRef={currentPinInput}
              onChange={setCurrentPin}
              onFocus={focus}
              onBlur={blur}
            />
          </div>
        ) : null}
        <p id="pw-hint" className="pw-hint">
          {format(t.hint, { length })}
        </p>
        <PinField
          label={t.pinLabel}
          placeholder={t.pinPlaceholder}
          value={pin}
          length={length}
          error={pinError}
          describedBy="pw-hint"
          disabled={blocked}
          inputRef={pinInput}
          onChange={setPin}
          onFocus={focus}
          onBlur={blur}
        />
        <PinField
          label={t.confirmPinLabel}
          placeholder={t.confirmPinPlaceholder}
          value={confirm}
          length={length}
          error={confirmError}
          disabled={blocked}
          onChange={setConfirm}
          onFocus={focus}
          onBlur={blur}
        />
        <button
          type="submit"
          className="pw-button"
          disabled={blocked || submit.isPending || submit.isSuccess}
          aria-disabled={submit.isPending}
        >
          {submit.isPending ? t.submitLoadingText : t.submitButtonText}
        </button>
        <p
          role="status"
          aria-live="polite"
          className={submit.isError ? 'pw-status pw-error' : 'pw-status pw-success'}
        >
          {status}
        </p>
      </form>
    </main>
  );
}
