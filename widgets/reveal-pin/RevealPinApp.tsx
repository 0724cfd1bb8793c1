import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { sessionQuery } from '../runtime/api.js';
import { type WidgetContext, messageFor, useAnnounce } from '../runtime/boot.js';
import { revealKey } from '../runtime/crypto.js';
import {
  CeremonyFailure,
  assertPasskey,
  passkeysAvailable,
  preloadCeremonies,
} from '../runtime/passkey.js';
import { format } from '../ui/i18n.js';

const NO_PASSKEYS = new CeremonyFailure('PASSKEY_UNSUPPORTED');

export function RevealPinApp({ ctx }: { ctx: WidgetContext }) {
  const { host, api, t, options } = ctx;
  const autoHide = options.autoHideSeconds ?? 5;
  // The PIN lives only in this component's state, only while shown.
  const [pin, setPin] = useState<string | undefined>();
  const [secondsLeft, setSecondsLeft] = useState(0);
  // The browser's passkey prompt is open (a PASSKEY product's reveal, docs/step-up.md).
  const [confirming, setConfirming] = useState(false);
  const showButton = useRef<HTMLButtonElement>(null);
  const session = useQuery(sessionQuery(api));
  const card = session.data?.card;
  const title = t.revealTitle;
  const stepUp = card?.reveal_step_up === 'PASSKEY';
  const [canConfirm] = useState(() => passkeysAvailable('publickey-credentials-get'));
  // A PASSKEY product in a document that cannot run the ceremony: said at once, never a hang.
  const unsupported = stepUp && !canConfirm ? NO_PASSKEYS : undefined;
  const unavailable =
    card && card.card_status !== 'ACTIVE'
      ? t.notActive
      : card && !card.is_pin_set
        ? t.noPin
        : unsupported
          ? t.passkeyUnsupported
          : undefined;

  // The mutation resolves to nothing: the PIN goes straight into this component's state, so no
  // mutation cache entry (`data`) holds it after `hidden`.
  const reveal = useMutation({
    mutationFn: async (): Promise<void> => {
      const key = await revealKey();
      const token = await api.credentials.token();
      let spent = true;
      try {
        const assertion = stepUp ? await confirmWithPasskey() : undefined;
        const { encrypted_pin } = await api.call<{ encrypted_pin: string }>(
          'POST',
          '/v1/widget/pin/reveal',
          { public_key: key.publicJwk, ...(assertion ? { assertion } : {}) },
        );
        const revealed = await key.open(encrypted_pin, token);
        // One batched update: the countdown starts with the PIN shown.
        setSecondsLeft(autoHide);
        setPin(revealed);
      } catch (error) {
        // A ceremony that ended without an assertion sent nothing the token answers for: it
        // serves the next try (with a new challenge), so a cancel costs no new token.
        if (error instanceof CeremonyFailure) spent = false;
        throw error;
      } finally {
        if (spent) api.credentials.spend();
      }
    },
    onSuccess: () => host.send('revealed', {}),
    onError: (error) => {
      const { code, text } = messageFor(error, t);
      host.send('failure', { code, message: text, failedFields: [] });
    },
  });

  /** The step-up: a one-time challenge for this token, then the browser's passkey prompt. */
  async function confirmWithPasskey(): Promise<AuthenticationResponseJSON> {
    const options = await api.call<PublicKeyCredentialRequestOptionsJSON>(
      'POST',
      '/v1/widget/pin/reveal/challenge',
    );
    setConfirming(true);
    try {
      return await assertPasskey(options);
    } finally {
      setConfirming(false);
    }
  }

  const hide = () => {
    setPin((shown) => {
      if (shown !== undefined) host.send('hidden', {});
      return undefined;
    });
    setSecondsLeft(0);
  };
  const request = () => {
    if (!reveal.isPending && pin === undefined && !unavailable) reveal.mutate();
  };
  const commands = useRef({ request, hide });
  commands.current = { request, hide };

  useEffect(
    () =>
      ctx.onCommand((type) => {
        if (type === 'requestPin') commands.current.request();
        if (type === 'hide' || type === 'clear') commands.current.hide();
        if (type === 'focus') showButton.current?.focus();
      }),
    [ctx],
  );

  useEffect(() => {
    if (pin === undefined) return;
    if (secondsLeft <= 0) {
      commands.current.hide();
      return;
    }
    const timer = setTimeout(() => setSecondsLeft((s) => s - 1), 1000);
    return () => clearTimeout(timer);
  }, [pin, secondsLeft]);

  // A PASSKEY product's reveal will run a ceremony: its code loads while the cardholder reads.
  const willConfirm = stepUp && canConfirm;
  useEffect(() => {
    if (willConfirm) preloadCeremonies();
  }, [willConfirm]);

  useAnnounce(ctx, session.isSuccess && !unsupported, session.error ?? unsupported);

  if (session.error) {
    return (
      <main className="pw-card" aria-label={title}>
        <p role="alert" className="pw-error">
          {messageFor(session.error, t).text}
        </p>
      </main>
    );
  }
  if (!card) {
    return (
      <main className="pw-card" aria-label={title} aria-busy="true">
        <p role="status">{t.loading}</p>
      </main>
    );
  }
  const failure = reveal.error ? messageFor(reveal.error, t) : undefined;
  // Before a reveal on a PASSKEY product: what pressing the button will ask for.
  const hint = stepUp && !unavailable && pin === undefined;
  const failureText = failure?.retryAfter
    ? format(t.rateLimited, { minutes: Math.ceil(failure.retryAfter / 60) })
    : failure?.text;
  return (
    <main className="pw-card" aria-label={title}>
      <h1 id="pw-title">{t.revealTitle}</h1>
      {hint ? (
        <p id="pw-step-up" className="pw-hint">
          {t.stepUpHint}
        </p>
      ) : null}
      <p className="pw-pin" aria-hidden={pin === undefined ? true : undefined}>
        {pin ?? '•'.repeat(card.pin_length)}
      </p>
      <p role="status" aria-live="polite" className="pw-status">
        {unavailable ??
          (reveal.isPending
            ? confirming
              ? t.stepUpPrompt
              : t.revealing
            : pin !== undefined
              ? `${t.pinShown}. ${format(t.hidesIn, { seconds: secondsLeft })}`
              : (failureText ?? t.pinHidden))}
      </p>
      {pin !== undefined ? (
        <div className="pw-countdown" role="presentation">
          {/* Set through the CSSOM (allowed by the CSP), not a style attribute. */}
          <div className="pw-countdown-bar" style={{ animationDuration: `${autoHide}s` }} />
        </div>
      ) : null}
      <div className="pw-actions">
        {options.showToggle !== false && pin === undefined ? (
          <button
            ref={showButton}
            type="button"
            className="pw-button"
            onClick={request}
            disabled={Boolean(unavailable)}
            // Not `disabled` while pending: focus stays on the button through a passkey prompt,
            // so a cardholder who cancels tries again from where they were.
            aria-disabled={reveal.isPending}
            aria-describedby={hint ? 'pw-step-up' : undefined}
          >
            {reveal.isPending ? (confirming ? t.stepUpPrompt : t.revealing) : t.showPin}
          </button>
        ) : null}
        {pin !== undefined ? (
          <button type="button" className="pw-button pw-secondary" onClick={hide}>
            {t.hidePin}
          </button>
        ) : null}
      </div>
    </main>
  );
}
