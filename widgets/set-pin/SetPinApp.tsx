import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { fetchPlatformKey, sessionQuery } from '../runtime/api.js';
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

export function SetPinApp({ ctx }: { ctx: WidgetContext }) {
  const { host, api, t, options } = ctx;
  const [pin, setPin] = useState('');
  const [confirm, setConfirm] = useState('');
  const [tried, setTried] = useState(false);
  const pinInput = useRef<HTMLInputElement>(null);
  const session = useQuery(sessionQuery(api));
  const platformKey = useQuery({ queryKey: ['pin-key'], queryFn: fetchPlatformKey });
  const card = session.data?.card;
  const title = t.widgetTitle;
  const length = card?.pin_length ?? 4;

  const violation = card ? pinPolicyViolation(pin, length, card.last_four) : undefined;
  const mismatch = confirm.length === length && confirm !== pin;
  const complete = pin.length === length && confirm.length === length;
  const valid = complete && !violation && !mismatch;
  // Length is only an error once the person tried to submit; weakness shows as soon as it is known.
  const pinError =
    violation && (pin.length === length || tried)
      ? format(t[POLICY_MESSAGE[violation]], { length })
      : undefined;
  const confirmError = mismatch || (tried && confirm !== pin) ? t.mismatch : undefined;

  const submit = useMutation({
    mutationFn: async () => {
      const token = await api.credentials.token();
      const encrypted_pin = await encryptPin(pin, platformKey.data!, token);
      return api.call('POST', '/v1/widget/pin', {
        encrypted_pin,
        ...(options.syncOfflinePin === undefined
          ? {}
          : { sync_offline_pin: options.syncOfflinePin }),
      });
    },
    onSuccess: () => {
      setPin('');
      setConfirm('');
      setTried(false);
      host.send('success', {});
    },
    onError: (error) => {
      const { code, text } = messageFor(error, t);
      host.send(
        'failure',
        Object.hasOwn(POLICY_MESSAGE, code)
          ? rejected(t)
          : { code, message: text, failedFields: code.startsWith('PIN_') ? ['pin'] : [] },
      );
    },
  });

  const trySubmit = () => {
    setTried(true);
    host.send('submit', {});
    if (!valid || submit.isPending || submit.isSuccess || !platformKey.data) {
      if (!valid) {
        host.send(
          'failure',
          !complete
            ? {
                code: 'PIN_INCOMPLETE',
                message: format(t.length, { length }),
                failedFields: [pin.length === length ? 'confirmPin' : 'pin'],
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
        if (type === 'focus') pinInput.current?.focus();
        if (type === 'clear') {
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
    : submit.error
      ? messageFor(submit.error, t).text
      : '';
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
          inputRef={pinInput}
          onChange={setPin}
          onFocus={() => host.send('focus', {})}
          onBlur={() => host.send('blur', {})}
        />
        <PinField
          label={t.confirmPinLabel}
          placeholder={t.confirmPinPlaceholder}
          value={confirm}
          length={length}
          error={confirmError}
          onChange={setConfirm}
          onFocus={() => host.send('focus', {})}
          onBlur={() => host.send('blur', {})}
        />
        <button
          type="submit"
          className="pw-button"
          disabled={submit.isPending || submit.isSuccess}
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
