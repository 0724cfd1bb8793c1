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
  if ('status_reason' in changed && card.status_reason)
    phrases.push(`Reason: ${card.status_reason}`);
  return phrases;
}

const SCRIPT_STEPS: Record<string, string> = {
  script_created: 'Issuer script created: it waits for the next chip payment',
  script_sent: 'Issuer script sent to the chip with an authorization',
  script_applied: 'The chip applied the script: offline PIN updated',
  script_failed: 'The chip refused the script',
  script_canceled: 'Script replaced by a newer one',
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
      const title =
        'card_status' in changed
          ? `Card ${STATUS[data.card.card_status]?.toLowerCase() ?? 'updated'}`
          : 'is_pin_set' in changed || 'timestamp_pin_set' in changed
            ? 'PIN set'
            : 'Card updated';
      return {
        title,
        detail: phrases.join(' · ') || 'Details updated',
        tone: data.card.card_status === 'ACTIVE' ? 'good' : 'info',
      };
    }
    case 'CARD.ISSUER_SCRIPT.UPDATED':
      return {
        title: SCRIPT_STEPS[data.script_event_type] ?? 'Issuer script update',
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
        detail: `Shown inside the platform's frame to ${data.user_agent ? 'a browser' : 'a client'} at ${data.client_ip}${data.jkt ? ', with a DPoP-bound token' : ''}. The PIN itself is in no event.`,
        tone: 'info',
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
      lines.push(line('86 command', value));
      lines.push(line('  header', `${value.slice(0, 8)} (PIN CHANGE/UNBLOCK, new PIN only)`));
      lines.push(line('  enciphered PIN block', value.slice(10, -16)));
      lines.push(line('  MAC', value.slice(-16)));
    }
  }
  const next = document.createElement('p');
  next.textContent =
    'The chip checks the MAC, deciphers the new PIN block and updates its offline PIN. It reports the result (tag 9F5B) with its next chip payment: insert the card again to confirm.';
  lines.push(next);
  return lines;
}
