/** Plain-language lines for the timeline and the terminal: what happened, for a person. */

type Json = Record<string, any>;

const STATUS: Record<string, string> = {
  PENDING: 'Pending',
  UNACTIVATED: 'Not activated',
  ACTIVE: 'Active',
  SUSPENDED: 'Suspended',
  TERMINATED: 'Terminated',
};
const lower = (value: unknown) => String(value).toLowerCase().replace('_', ' ');

/** One phrase per changed field a person cares about, from its prior and new value. */
function changePhrases(changed: Json, card: Json): string[] {
  const phrases: string[] = [];
  if ('card_status' in changed) {
    phrases.push(
      `Status ${STATUS[changed.card_status] ?? changed.card_status} → ${STATUS[card.card_status] ?? card.card_status}`,
    );
  }
  if ('card_fulfillment_status' in changed) {
    phrases.push(
      `Fulfillment ${lower(changed.card_fulfillment_status)} → ${lower(card.card_fulfillment_status)}`,
    );
  }
  if ('is_pin_set' in changed || 'timestamp_pin_set' in changed) {
    phrases.push(changed.is_pin_set === false ? 'PIN assigned' : 'PIN changed');
  }
  if ('offline_pin.in_sync' in changed) {
    phrases.push(
      card.offline_pin?.in_sync ? 'Chip offline PIN in sync' : 'Chip offline PIN out of sync',
    );
  }
  if (
    'pin_status' in changed &&
    card.pin_status !== 'NOT_SET' &&
    changed.pin_status !== 'NOT_SET'
  ) {
    phrases.push(card.pin_status === 'BLOCKED' ? 'PIN blocked' : 'PIN unblocked');
  }
  if ('pin_tries_remaining' in changed) {
    phrases.push(`PIN tries left ${changed.pin_tries_remaining} → ${card.pin_tries_remaining}`);
  }
  if ('offline_pin.pending_script_id' in changed && !('offline_pin.in_sync' in changed)) {
    phrases.push(
      card.offline_pin?.pending_script_id
        ? 'An issuer script waits for the chip'
        : 'The waiting issuer script went to the chip',
    );
  }
  if ('status_reason' in changed && card.status_reason)
    phrases.push(`Reason: ${card.status_reason}`);
  return phrases;
}

/** The title of a CARD.UPDATED: the change a person looks for first. */
function updateTitle(changed: Json, card: Json): string {
  if ('card_status' in changed)
    return `Card ${STATUS[card.card_status]?.toLowerCase() ?? 'updated'}`;
  if ('is_pin_set' in changed || 'timestamp_pin_set' in changed) return 'PIN set';
  if ('pin_status' in changed && card.pin_status === 'BLOCKED') return 'PIN blocked';
  if ('pin_status' in changed && changed.pin_status === 'BLOCKED') return 'PIN unblocked';
  if ('pin_tries_remaining' in changed) {
    return card.pin_tries_remaining < changed.pin_tries_remaining
      ? 'Wrong PIN at a terminal'
      : 'PIN tries restored';
  }
  return 'Card updated';
}

const SCRIPT_STEPS: Record<string, string> = {
  script_created: 'Issuer script created: it waits for the next chip payment',
  script_sent: 'Issuer script sent to the chip with an authorization',
  script_applied: 'The chip applied the script: offline PIN updated',
  script_failed: 'The chip refused the script',
  script_canceled: 'Script replaced by a newer one',
};
/** The PIN UNBLOCK script's steps, where they differ from the PIN change script's. */
const UNBLOCK_SCRIPT_STEPS: Record<string, string> = {
  script_created: 'PIN unblock script created: it waits for the next chip payment',
  script_applied: 'The chip applied the unblock script: its PIN try counter is reset',
};

export function describeEvent(event: Json): { title: string; detail: string; tone: string } {
  const data = event.data ?? {};
  switch (event.type) {
    case 'CARD.CREATED':
      return {
        title: 'Card issued',
        detail: `Card •••• ${data.card.last_four} is ${data.card.card_status.toLowerCase()}.`,
        tone: 'info',
      };
    case 'CARD.UPDATED': {
      const changed = data.changed_fields ?? {};
      const phrases = changePhrases(changed, data.card);
      const title = updateTitle(changed, data.card);
      return {
        title,
        detail: phrases.join(' · ') || 'Details updated',
        tone:
          title === 'PIN blocked' || title === 'Wrong PIN at a terminal'
            ? 'bad'
            : data.card.card_status === 'ACTIVE'
              ? 'good'
              : 'info',
      };
    }
    case 'CARD.ISSUER_SCRIPT.UPDATED':
      return {
        title:
          (data.script_type === 'UNBLOCK_PIN'
            ? UNBLOCK_SCRIPT_STEPS[data.script_event_type]
            : undefined) ??
          SCRIPT_STEPS[data.script_event_type] ??
          'Issuer script update',
        detail: `Script ${data.card_script_id}${data.status ? ` · ${data.status}` : ''}${data.reason ? ` · ${data.reason}` : ''}`,
        tone:
          data.script_event_type === 'script_failed'
            ? 'bad'
            : data.script_event_type === 'script_applied'
              ? 'good'
              : 'info',
      };
    case 'CARD.PIN.REVEALED':
      return {
        title: 'PIN revealed (audited)',
        detail: `${data.step_up?.method === 'PASSKEY' ? 'Confirmed with the cardholder’s passkey' : 'No passkey asked'}. Encrypted to the key of ${requester(data.user_agent)} at ${data.client_ip}${data.jkt ? ', with a DPoP-bound token' : ''}. The PIN itself is in no event.`,
        tone: 'info',
      };
    case 'CUSTOMER.PASSKEY.CREATED':
      return {
        title: 'Passkey added',
        detail:
          'The cardholder’s passkey now confirms reveals on all their cards. A real program tells the cardholder (this webhook is for that).',
        tone: 'good',
      };
    case 'CUSTOMER.PASSKEY.DELETED':
      return {
        title: 'Passkey removed',
        detail:
          'Removed by the back office: reveals behind a passkey are refused until a new one is added.',
        tone: 'bad',
      };
    case 'CARD.PIN_BLOCK.EXPORTED':
      return {
        title: 'PIN block exported (audited)',
        detail: `${data.format} under zone key ${data.key_id}, by API key ${data.api_key_id ?? 'unknown'}.`,
        tone: 'info',
      };
    default:
      return { title: event.type, detail: '', tone: 'info' };
  }
}

/** Who asked for a reveal, as its user agent claims (the platform records, it cannot prove). */
function requester(userAgent: unknown): string {
  if (typeof userAgent !== 'string' || userAgent === '') return 'a client';
  if (userAgent.startsWith('Mozilla/')) return 'a browser';
  return `“${userAgent.slice(0, 80)}”`;
}

/** The cardholder's passkey, in a line: when it was added, where it lives, when last used. */
export function describePasskey(
  passkey: Json,
  index: number,
  currentCardId: string | undefined,
): string {
  const time = (iso: string) => new Date(iso).toLocaleTimeString();
  const where =
    passkey.device_type === 'multiDevice'
      ? passkey.backed_up
        ? 'synced to the cardholder’s account'
        : 'can be synced'
      : 'kept on this device only';
  const through =
    passkey.card_id === currentCardId ? 'through this card' : 'through another of their cards';
  const used = passkey.last_used_time
    ? `last used ${time(passkey.last_used_time)}`
    : 'not used yet';
  return `Passkey ${index + 1}: added ${time(passkey.created_time)} ${through}, ${where}, ${used}.`;
}

/** What the hostile host's attempt came to, for the person watching: a verdict and why. */
export function describeHostileAnswer(answer: Json): {
  verdict: string;
  details: string[];
  tone: 'good' | 'bad';
} {
  const status = `HTTP ${answer.platform_status}${answer.code ? ` ${answer.code}` : ''}`;
  if (answer.platform_status === 401 && answer.code === 'STEP_UP_REQUIRED') {
    return {
      verdict:
        "The platform refused: a passkey confirmation for the platform's site is required, and this page cannot make one.",
      details: [
        `${status}. The token and the DPoP proof were valid; the platform asked for the one thing this script cannot give.`,
        'The browser makes a passkey confirmation only for the platform’s own site, inside its frame, after the cardholder’s fingerprint, face or screen lock.',
        'Nor can the script replay one: the platform’s frame sends its confirmation straight to the platform, and a captured one is refused anyway (its one-time challenge is used up, and was another token’s): 401 STEP_UP_FAILED.',
      ],
      tone: 'good',
    };
  }
  if (answer.platform_status === 401 && answer.code === 'STEP_UP_FAILED') {
    return {
      verdict: 'The platform refused the passkey confirmation this script sent.',
      details: [
        `${status}. A replayed confirmation is refused: its one-time challenge was used up, and was another token’s.`,
      ],
      tone: 'good',
    };
  }
  if (answer.platform_status === 409 && answer.code === 'PASSKEY_NOT_ENROLLED') {
    return {
      verdict: 'The platform refused: this cardholder has no passkey yet, so no reveal at all.',
      details: [
        `${status}. A card that needs a passkey reveals nothing until the cardholder adds one: removing passkeys refuses reveals, it never lets them through.`,
      ],
      tone: 'good',
    };
  }
  if (answer.platform_status === 200 && answer.encrypted_pin) {
    const { alg, enc, characters } = answer.encrypted_pin;
    return {
      verdict: 'The platform answered 200: it revealed the PIN to the hostile script.',
      details: [
        `The PIN came encrypted (${alg}, ${enc}, ${characters} characters) to the public key the script made. The script holds the private key: it could decrypt the PIN.`,
        'This card asks for no passkey, so a valid token and proof were all it took. The reveal is real and audited (see the timeline): the platform cannot tell it from the widget’s.',
        'The demo’s relay drops the ciphertext, so no PIN reaches this page. Issue a card with “Confirm reveals with a passkey” to see the platform refuse.',
      ],
      tone: 'bad',
    };
  }
  return {
    verdict: `The platform answered ${status}.`,
    details: [answer.message ?? 'No reveal.'],
    tone: answer.platform_status === 200 ? 'bad' : 'good',
  };
}

/** A minimal BER-TLV reader, enough to show a person the script template. */
function readTlv(hex: string): { tag: string; value: string }[] {
  const out: { tag: string; value: string }[] = [];
  let i = 0;
  const byte = () => parseInt(hex.slice(i, (i += 2)), 16);
  while (i < hex.length) {
    const start = i;
    // Multi-byte tags (low five bits all set) continue while the high bit is set.
    if ((byte() & 0x1f) === 0x1f) while (byte() & 0x80);
    const tag = hex.slice(start, i).toUpperCase();
    let length = byte();
    if (length & 0x80) {
      const count = length & 0x7f;
      length = 0;
      for (let n = 0; n < count; n++) length = length * 256 + byte();
    }
    out.push({ tag, value: hex.slice(i, (i += length * 2)).toUpperCase() });
  }
  return out;
}

function line(label: string, value: string): HTMLElement {
  const row = document.createElement('div');
  const name = document.createElement('span');
  name.className = 'label';
  name.textContent = label;
  const code = document.createElement('code');
  code.textContent = value;
  row.append(name, code);
  return row;
}

export function describeScript(result: Json, entryMode: string): HTMLElement[] {
  const lines: HTMLElement[] = [];
  const summary = document.createElement('p');
  summary.className = 'terminal-summary';
  summary.textContent = `${result.approved ? 'Approved' : 'Declined'} · ATC ${result.atc} · ARQC ${result.arqc}`;
  lines.push(summary);
  if (!result.issuer_script_template) {
    const none = document.createElement('p');
    none.textContent =
      entryMode === 'CHIP_CONTACT'
        ? 'No issuer script pending for this card.'
        : 'Contactless payments never carry issuer scripts: insert the card to update the chip.';
    lines.push(none);
    return lines;
  }
  const title = document.createElement('p');
  title.textContent = 'Issuer Script Template 2 delivered to the chip:';
  lines.push(title, line('72 template', result.issuer_script_template));
  for (const { tag, value } of readTlv(readTlv(result.issuer_script_template)[0]?.value ?? '')) {
    if (tag === '9F18') lines.push(line('9F18 script id', value));
    if (tag === '86') {
      const unblock = value.startsWith('84240000');
      lines.push(line('86 command', value));
      lines.push(
        line(
          '  header',
          `${value.slice(0, 8)} (${unblock ? 'PIN UNBLOCK: resets the PIN try counter' : 'PIN CHANGE/UNBLOCK, new PIN only'})`,
        ),
      );
      if (!unblock) lines.push(line('  enciphered PIN block', value.slice(10, -16)));
      lines.push(line('  MAC', value.slice(-16)));
    }
  }
  const next = document.createElement('p');
  next.textContent =
    'The chip checks the MAC, deciphers the new PIN block and updates its offline PIN. It reports the result (tag 9F5B) with its next chip payment: insert the card again to confirm.';
  lines.push(next);
  return lines;
}

/** What the demo terminal shows for an authorization's answer, as a real terminal would. */
export interface TerminalAnswer {
  /** The display's first line, in a terminal's capitals. */
  headline: string;
  /** The display's short lines under it: the counter, the issuer script. */
  screen: string[];
  /** What happened, in sentences, for the person watching the demo. */
  details: string[];
  /** What the PIN pad's display says next (at most 32 characters). */
  padPrompt: string;
  tone: 'good' | 'bad';
}

const tries = (count: number) => `${count} ${count === 1 ? 'try' : 'tries'} left`;

/** The kind of script an answer carried: PIN UNBLOCK (P2 = 00) or PIN CHANGE (P2 = 02). */
function scriptKind(template: string): 'PIN UNBLOCK' | 'PIN CHANGE' {
  const script = readTlv(template)[0]?.value ?? '';
  const command = readTlv(script).find(({ tag }) => tag === '86')?.value ?? '';
  return command.startsWith('84240000') ? 'PIN UNBLOCK' : 'PIN CHANGE';
}

export function describePayment(result: Json): TerminalAnswer {
  const verdict = result.approved ? 'APPROVED' : 'DECLINED';
  const answer: TerminalAnswer = {
    headline: verdict,
    screen: [],
    details: [],
    padPrompt: verdict,
    tone: result.approved ? 'good' : 'bad',
  };
  const { screen, details } = answer;
  const offline = result.offline_pin_verification;
  const online = result.pin_verification;
  if (offline !== undefined) {
    screen.push(`CHIP PIN TRIES LEFT: ${result.chip_pin_tries_remaining}`);
  } else if (online !== undefined && online !== 'NOT_SET') {
    screen.push(`PIN TRIES LEFT: ${result.pin_tries_remaining}`);
  }
  if (offline === 'VERIFIED') {
    answer.headline = `OFFLINE PIN OK (chip) · ${verdict}`;
    answer.padPrompt = 'PIN OK';
    details.push(
      `The chip checked the PIN itself, offline: ${tries(result.chip_pin_tries_remaining)} on the chip.`,
    );
  } else if (offline === 'INCORRECT' && result.chip_pin_tries_remaining > 0) {
    answer.headline = `INCORRECT PIN (chip) — ${tries(result.chip_pin_tries_remaining)}`;
    answer.padPrompt = 'INCORRECT PIN';
    details.push(
      'The chip refused this PIN: it is not the one the chip holds. A wrong offline PIN uses a try of the chip’s counter, not of the issuer’s.',
    );
  } else if (offline === 'INCORRECT' || offline === 'BLOCKED') {
    answer.headline = 'PIN TRIES EXCEEDED (chip)';
    answer.padPrompt = 'PIN TRIES EXCEEDED';
    details.push(
      'The chip’s PIN try counter is at 0: it refuses every PIN until an unblock script reaches it.',
    );
  } else if (online === 'VERIFIED') {
    details.push(`The issuer verified the PIN online: ${tries(result.pin_tries_remaining)}.`);
  } else if (online === 'INCORRECT' && result.decline_reason === 'INCORRECT_PIN') {
    answer.headline = `INCORRECT PIN — ${tries(result.pin_tries_remaining)}`;
    answer.padPrompt = 'INCORRECT PIN';
    details.push(
      'The issuer compared the PIN block with the PIN it holds: no match, one try used.',
    );
  } else if (online === 'INCORRECT' || online === 'BLOCKED') {
    answer.headline = 'PIN TRIES EXCEEDED';
    answer.padPrompt = 'PIN TRIES EXCEEDED';
    details.push(
      online === 'BLOCKED'
        ? 'The PIN is blocked: the issuer refuses every PIN, the right one too, until the program unblocks it.'
        : 'That was the last try: the issuer blocked the PIN. The program’s back office can unblock it.',
    );
  } else if (online === 'NOT_SET') {
    answer.headline = 'DECLINED — NO PIN';
    details.push('The card has no PIN yet: set one first.');
  } else if (result.decline_reason === 'CARD_NOT_ACTIVE') {
    answer.headline = 'DECLINED — CARD NOT ACTIVE';
    details.push('The issuer looks at the account before the PIN: activate the card first.');
  }
  if (result.pin_block_format) {
    details.push(
      `This site forwarded only an ISO 9564 format ${result.pin_block_format === 'ISO_9564_0' ? '0 (3DES)' : '4 (AES)'} PIN block under the zone key, made by the platform from the pad’s encryption: it never saw the PIN.`,
    );
  }
  if (result.issuer_script_template) {
    const kind = scriptKind(result.issuer_script_template);
    screen.push(`ISSUER SCRIPT: ${kind}, RUN BY THE CHIP`);
    details.push(
      kind === 'PIN UNBLOCK'
        ? 'The answer carried the issuer’s PIN UNBLOCK script. The chip ran it after this payment’s PIN check and reset its PIN try counter.'
        : 'The answer carried the issuer’s PIN CHANGE script. The chip ran it after this payment’s PIN check, so this payment still checked the old PIN: the next one checks the new PIN.',
    );
  } else {
    screen.push('NO ISSUER SCRIPT');
  }
  return answer;
}
