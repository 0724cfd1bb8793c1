import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/browser';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { type WidgetApi, sessionQuery } from '../runtime/api.js';
import { type WidgetContext, messageFor, useAnnounce } from '../runtime/boot.js';
import {
  CeremonyFailure,
  createPasskey,
  passkeysAvailable,
  preloadCeremonies,
} from '../runtime/passkey.js';
import type { Catalog } from '../ui/i18n.js';

/**
 * The platform's challenge lives 120 s (docs/step-up.md): creation options older than this are
 * asked for again rather than handed to a ceremony whose answer would come too late.
 */
const FRESH_OPTIONS_MS = 90_000;
const OPTIONS_KEY = ['registration-options'];

const registrationOptions = (api: WidgetApi) => ({
  queryKey: OPTIONS_KEY,
  queryFn: () =>
    api.call<PublicKeyCredentialCreationOptionsJSON>(
      'POST',
      '/v1/widget/passkeys/registration_options',
    ),
  staleTime: FRESH_OPTIONS_MS,
});

const NO_PASSKEYS = new CeremonyFailure('PASSKEY_UNSUPPORTED');

/** What the cardholder reads for a failed enrollment: a cancel is this widget's own sentence. */
function failureOf(error: unknown, t: Catalog): { code: string; text: string } {
  const { code, text } = messageFor(error, t);
  return { code, text: code === 'STEP_UP_CANCELLED' ? t.enrollCancelled : text };
}

/**
 * Enrolls the cardholder's passkey (docs/step-up.md): creation options from the platform, the
 * browser's `create()` in this document (the platform's origin, so the platform's RP ID), the
 * credential back to the platform. A cancel leaves the cardholder free to try again.
 */
export function EnrollPasskeyApp({ ctx }: { ctx: WidgetContext }) {
  const { host, api, t } = ctx;
  const queries = useQueryClient();
  const button = useRef<HTMLButtonElement>(null);
  const session = useQuery(sessionQuery(api));
  // Known before anything is asked of the platform: a webview without WebAuthn hears why at once.
  const [unsupported] = useState(() =>
    passkeysAvailable('publickey-credentials-create') ? undefined : NO_PASSKEYS,
  );
  const title = t.enrollTitle;

  // Asked for while the cardholder reads, so a press goes straight to the browser's prompt: an
  // engine that keeps a press's user activation only briefly (WebKit) needs create() close to it.
  const ready = session.isSuccess && !unsupported;
  useEffect(() => {
    if (!ready) return;
    preloadCeremonies();
    void queries.prefetchQuery(registrationOptions(api));
  }, [ready, queries, api]);

  const enroll = useMutation({
    mutationFn: async (): Promise<void> => {
      // Cancelled, the options stay: their challenge was not used and serves the next try.
      const credential = await createPasskey(await queries.fetchQuery(registrationOptions(api)));
      try {
        await api.call('POST', '/v1/widget/passkeys', { credential });
      } catch (error) {
        // The challenge is used up whatever the answer: the next try gets fresh options.
        queries.removeQueries({ queryKey: OPTIONS_KEY });
        api.credentials.spend();
        void queries.prefetchQuery(registrationOptions(api));
        throw error;
      }
      queries.removeQueries({ queryKey: OPTIONS_KEY });
      api.credentials.spend();
    },
    onSuccess: () => host.send('success', {}),
    onError: (error) => {
      const { code, text } = failureOf(error, t);
      host.send('failure', { code, message: text, failedFields: [] });
    },
  });

  const start = () => {
    if (!ready || enroll.isPending || enroll.isSuccess) return;
    host.send('submit', {});
    enroll.mutate();
  };
  const commands = useRef({ start, reset: enroll.reset, done: enroll.isSuccess });
  commands.current = { start, reset: enroll.reset, done: enroll.isSuccess };
  useEffect(
    () =>
      ctx.onCommand((type) => {
        if (type === 'submit') commands.current.start();
        if (type === 'focus') button.current?.focus();
        if (type === 'clear' && !commands.current.done) commands.current.reset();
      }),
    [ctx],
  );

  useAnnounce(ctx, ready, unsupported ?? session.error);

  if (unsupported || session.error) {
    return (
      <main className="pw-card" aria-label={title}>
        <h1 id="pw-title">{title}</h1>
        {/* Without WebAuthn, still what a passkey would have been for, above why not here. */}
        {unsupported ? <p className="pw-intro">{t.enrollIntro}</p> : null}
        <p role="alert" className="pw-error pw-blocked">
          {messageFor(unsupported ?? session.error, t).text}
        </p>
      </main>
    );
  }
  if (!session.data) {
    return (
      <main className="pw-card" aria-label={title} aria-busy="true">
        <p role="status">{t.loading}</p>
      </main>
    );
  }
  const status = enroll.isSuccess
    ? t.enrolled
    : enroll.isPending
      ? t.enrolling
      : enroll.error
        ? failureOf(enroll.error, t).text
        : '';
  return (
    <main className="pw-card" aria-label={title}>
      <h1 id="pw-title">{title}</h1>
      <p className="pw-intro">{t.enrollIntro}</p>
      <p id="pw-hint" className="pw-hint">
        {t.enrollDetail}
      </p>
      {enroll.isSuccess ? null : (
        <button
          ref={button}
          type="button"
          className="pw-button"
          aria-describedby="pw-hint"
          // Not `disabled`: the button keeps keyboard focus through the prompt and after a cancel.
          aria-disabled={enroll.isPending}
          onClick={start}
          onFocus={() => host.send('focus', {})}
          onBlur={() => host.send('blur', {})}
        >
          {t.enrollButton}
        </button>
      )}
      <p
        role="status"
        aria-live="polite"
        className={
          enroll.isError
            ? 'pw-status pw-error'
            : enroll.isSuccess
              ? 'pw-status pw-success'
              : 'pw-status'
        }
      >
        {status}
      </p>
    </main>
  );
}
