import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { sessionQuery } from '../runtime/api.js';
import { type WidgetContext, messageFor, useAnnounce } from '../runtime/boot.js';
import { revealKey } from '../runtime/crypto.js';
import { format } from '../ui/i18n.js';

export function RevealPinApp({ ctx }: { ctx: WidgetContext }) {
  const { host, api, t, options } = ctx;
  const autoHide = options.autoHideSeconds ?? 5;
  // The PIN lives only in this component's state, only while shown.
  const [pin, setPin] = useState<string | undefined>();
  const [secondsLeft, setSecondsLeft] = useState(0);
  const showButton = useRef<HTMLButtonElement>(null);
  const session = useQuery(sessionQuery(api));
  const card = session.data?.card;
  const title = t.revealTitle;
  const unavailable =
    card && card.card_status !== 'ACTIVE'
      ? t.notActive
      : card && !card.is_pin_set
        ? t.noPin
        : undefined;

  // The mutation resolves to nothing: the PIN goes straight into this component's state, so no
  // mutation cache entry (`data`) holds it after `hidden`.
  const reveal = useMutation({
    mutationFn: async (): Promise<void> => {
      const key = await revealKey();
      const token = await api.credentials.token();
      try {
        const { encrypted_pin } = await api.call<{ encrypted_pin: string }>(
          'POST',
          '/v1/widget/pin/reveal',
          { public_key: key.publicJwk },
        );
        const revealed = await key.open(encrypted_pin, token);
        // One batched update: the countdown starts with the PIN shown.
        setSecondsLeft(autoHide);
        setPin(revealed);
      } finally {
        api.credentials.spend();
      }
    },
    onSuccess: () => host.send('revealed', {}),
    onError: (error) => {
      const { code, text } = messageFor(error, t);
      host.send('failure', { code, message: text, failedFields: [] });
    },
  });

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

  useAnnounce(ctx, session.isSuccess, session.error);

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
  const failureText = failure?.retryAfter
    ? format(t.rateLimited, { minutes: Math.ceil(failure.retryAfter / 60) })
    : failure?.text;
  return (
    <main className="pw-card" aria-label={title}>
      <h1 id="pw-title">{t.revealTitle}</h1>
      <p className="pw-pin" aria-hidden={pin === undefined ? true : undefined}>
        {pin ?? '•'.repeat(card.pin_length)}
      </p>
      <p role="status" aria-live="polite" className="pw-status">
        {unavailable ??
          (reveal.isPending
            ? t.revealing
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
            disabled={Boolean(unavailable) || reveal.isPending}
          >
            {reveal.isPending ? t.revealing : t.showPin}
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
