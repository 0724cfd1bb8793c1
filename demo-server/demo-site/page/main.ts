import './styles.css';
import {
  PIN_PAD_PROMPT_MAX_LENGTH,
  type PinPadPrompt,
  isPinPadEvent,
} from '../../../widgets/pin-pad/messages.js';
import type { MountOptions, PinWidget } from '../../../widgets/sdk/index.js';
import {
  describeEvent,
  describeHostileAnswer,
  describePasskey,
  describePayment,
  describeScript,
} from './describe.js';
import { revealAsHostileHost } from './hostile-host.js';

type Card = Record<string, any>;
type Sdk = { mount(target: Element, options: MountOptions): PinWidget };

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
let card: Card | undefined;
/** The mounted widgets: Set PIN, Reveal PIN, and on a PASSKEY card Add a passkey. */
const widgets: { set?: PinWidget; reveal?: PinWidget; enroll?: PinWidget } = {};
const destroyWidgets = () => {
  for (const name of ['set', 'reveal', 'enroll'] as const) {
    widgets[name]?.destroy();
    delete widgets[name];
  }
};
/** The backend's settings (the platform's URL, the terminal's amount), asked once. */
let settings: Promise<Card> | undefined;
const loadConfig = (): Promise<Card> => (settings ??= api('GET', '/api/config'));
/** The platform's SDK, loaded once; the page's buttons work before it arrives. */
let sdk: Promise<Sdk> | undefined;
const loadSdk = (): Promise<Sdk> =>
  (sdk ??= loadConfig().then(
    ({ platformUrl }) =>
      import(/* @vite-ignore */ `${platformUrl}/sdk/pin-widgets.js`) as Promise<Sdk>,
  ));

/**
 * "Start as a demo cardholder", once per page load: the backend sets its HttpOnly session
 * cookie and hands this page the session's CSRF token, which stays in this closure (never in
 * storage) and goes with every call.
 */
let session: Promise<string> | undefined;
const startSession = (): Promise<string> =>
  (session ??= fetch('/api/session', { method: 'POST' }).then(async (response) => {
    const data = (await response.json().catch(() => ({}))) as Card;
    if (!response.ok) throw new Error(data.message ?? `Cannot start the demo (${response.status})`);
    $('session').textContent = 'Signed in as a demo cardholder';
    return data.csrf_token as string;
  }));

async function api(method: string, path: string, body?: unknown): Promise<Card> {
  const response = await fetch(path, {
    method,
    headers: {
      'x-csrf-token': await startSession(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = (await response.json().catch(() => ({}))) as Card;
  if (response.status === 401) $('session').textContent = data.message;
  if (!response.ok) throw new Error(data.message ?? `Request failed (${response.status})`);
  return data;
}

const STATUS_TEXT: Record<string, string> = {
  PENDING: 'Pending',
  UNACTIVATED: 'Not activated',
  ACTIVE: 'Active',
  SUSPENDED: 'Suspended',
  TERMINATED: 'Terminated',
};

function explain(c: Card): string {
  if (c.card_status === 'PENDING' && c.pending_reasons.is_waiting_for_pin) {
    return 'Waiting for the cardholder to set a PIN. The card is made only after that.';
  }
  if (c.card_status === 'PENDING' && c.is_pin_set) {
    return 'PIN set. The card is being made: it becomes Not activated in a few seconds.';
  }
  if (c.card_status === 'PENDING') {
    return 'The issuer is assigning a random PIN; the card becomes Not activated in a few seconds.';
  }
  if (c.card_status === 'UNACTIVATED')
    return 'The card is on its way. Activate it to reveal the PIN.';
  if (c.card_status === 'ACTIVE' && c.pin_status === 'BLOCKED')
    return 'PIN blocked after too many wrong tries: unblock it from the back office (step 6).';
  if (c.card_status === 'ACTIVE' && c.reveal_step_up === 'PASSKEY')
    return 'Active: the cardholder can pay, and reveal the PIN after confirming with their passkey.';
  if (c.card_status === 'ACTIVE') return 'Active: the cardholder can reveal the PIN and pay.';
  return '';
}

const PIN_STATUS_TEXT: Record<string, string> = {
  NOT_SET: 'Not set',
  OK: 'OK',
  BLOCKED: 'Blocked',
};

/**
 * Whether `incoming` is an older state of the card on the page. Answers and events arrive out
 * of order: the event stream runs behind the platform's webhook, so a CARD.UPDATED from Skip
 * the wait can land after Activate's answer. An older state must not undo a newer one.
 */
const isOlder = (incoming: Card): boolean =>
  card !== undefined &&
  card.id === incoming.id &&
  Date.parse(incoming.last_modified_time) < Date.parse(card.last_modified_time);

function render(c: Card): void {
  if (isOlder(c)) return;
  card = c;
  $('step-card').hidden = false;
  $('card-last4').textContent = c.last_four;
  const status = $('card-status');
  status.textContent = STATUS_TEXT[c.card_status] ?? c.card_status;
  status.dataset.status = c.card_status;
  const fulfillment = c.card_fulfillment_status.toLowerCase().replace('_', ' ');
  $('card-fulfillment').textContent = fulfillment[0].toUpperCase() + fulfillment.slice(1);
  $('card-pin').textContent = c.is_pin_set
    ? `Set ${new Date(c.timestamp_pin_set).toLocaleTimeString()}`
    : 'Not set';
  $('card-offline').textContent = c.offline_pin
    ? c.offline_pin.in_sync
      ? 'Chip in sync'
      : c.offline_pin.pending_script_id
        ? 'Script waiting for a chip payment'
        : 'Chip not in sync'
    : 'Not used';
  const pinStatus = $('card-pin-status');
  pinStatus.textContent = PIN_STATUS_TEXT[c.pin_status] ?? '—';
  pinStatus.dataset.status = c.pin_status ?? '';
  $('card-pin-tries').textContent =
    typeof c.pin_tries_remaining === 'number' && c.pin_status !== 'NOT_SET'
      ? String(c.pin_tries_remaining)
      : '—';
  const passkey = c.reveal_step_up === 'PASSKEY';
  $('card-step-up').textContent = passkey ? 'Need a passkey' : 'No passkey asked';
  $('card-explain').textContent = explain(c);
  $<HTMLButtonElement>('activate').disabled = c.card_status !== 'UNACTIVATED';
  $<HTMLButtonElement>('advance').disabled =
    !['PENDING', 'UNACTIVATED'].includes(c.card_status) ||
    (c.card_fulfillment_status === 'SHIPPED' && c.card_status !== 'PENDING');
  $('step-set').hidden = false;
  $('step-passkey').hidden = !passkey;
  if (passkey && !widgets.enroll) void mountEnroll();
  $('step-reveal').hidden = c.card_status !== 'ACTIVE';
  $('reveal-step-up').hidden = !passkey;
  $('step-hostile').hidden = c.card_status !== 'ACTIVE';
  $('step-offline').hidden = !c.offline_pin;
  if (c.card_status === 'ACTIVE' && !widgets.reveal) void mountReveal();
  renderTerminal(c);
}

async function refresh(): Promise<void> {
  if (card) render(await api('GET', `/api/cards/${card.id}`));
}

/** The bank's brand through the allow-listed design tokens (no CSS crosses into the iframe). */
const BRAND = { colorPrimary: '#0b3d91', borderRadius: '10px' };

const fetchToken =
  (widgetType: 'SET_PIN' | 'REVEAL_PIN' | 'ENROLL_PASSKEY') =>
  async ({ jkt }: { jkt: string }): Promise<string> =>
    (await api('POST', '/api/widget-token', { card_id: card!.id, widget_type: widgetType, jkt }))
      .token;

async function mountSet(): Promise<void> {
  const widget = (await loadSdk()).mount($('set-pin-widget'), {
    widget: 'set-pin',
    fetchToken: fetchToken('SET_PIN'),
    syncOfflinePin: true,
    styles: BRAND,
  });
  widget.on('success', () => {
    void refresh();
    // A new session for the next change: tokens are single use.
    setTimeout(() => {
      widget.destroy();
      void mountSet();
    }, 2500);
  });
  widgets.set = widget;
}

let revealMounting = false;
async function mountReveal(): Promise<void> {
  if (revealMounting) return;
  revealMounting = true;
  widgets.reveal = (await loadSdk()).mount($('reveal-pin-widget'), {
    widget: 'reveal-pin',
    fetchToken: fetchToken('REVEAL_PIN'),
    showToggle: true,
    styles: BRAND,
    autoHideSeconds: 8,
  });
  revealMounting = false;
}

/** A fresh Reveal PIN widget: after the cardholder's passkeys change, it starts over. */
function remountReveal(): void {
  widgets.reveal?.destroy();
  delete widgets.reveal;
  if (card?.card_status === 'ACTIVE') void mountReveal();
}

// ---------------------------------------------------------------------------------------------
// Add a passkey (PASSKEY cards): the platform's enroll-passkey frame, the cardholder's passkeys,
// and the back office's removal.

let enrollMounting = false;
async function mountEnroll(): Promise<void> {
  if (enrollMounting) return;
  enrollMounting = true;
  const widget = (await loadSdk()).mount($('enroll-passkey-widget'), {
    widget: 'enroll-passkey',
    fetchToken: fetchToken('ENROLL_PASSKEY'),
    styles: BRAND,
  });
  widget.on('success', () => {
    void showPasskeys();
    remountReveal();
  });
  widgets.enroll = widget;
  enrollMounting = false;
  void showPasskeys();
}

async function showPasskeys(): Promise<void> {
  const { data } = await api('GET', '/api/passkeys');
  const list = $('passkeys');
  const passkeys = data as Card[];
  if (passkeys.length === 0) {
    const none = document.createElement('li');
    none.className = 'none';
    none.textContent = 'None yet: reveals on this card are refused until the cardholder adds one.';
    list.replaceChildren(none);
  } else {
    list.replaceChildren(
      ...passkeys.map((passkey, index) => {
        const item = document.createElement('li');
        item.textContent = describePasskey(passkey, index, card?.id);
        return item;
      }),
    );
  }
  $<HTMLButtonElement>('remove-passkeys').disabled = passkeys.length === 0;
}

async function removePasskeys(): Promise<void> {
  const result = $('passkeys-result');
  try {
    const { deleted } = await api('DELETE', '/api/passkeys');
    result.textContent =
      deleted === 1
        ? 'Removed 1 passkey. The cardholder can add a new one above.'
        : `Removed ${deleted} passkeys. The cardholder can add a new one above.`;
    // A new enrollment widget (its token was used), and a reveal widget that starts over.
    widgets.enroll?.destroy();
    delete widgets.enroll;
    void mountEnroll();
    remountReveal();
  } catch (error) {
    result.textContent = (error as Error).message;
  }
}

// ---------------------------------------------------------------------------------------------
// The hostile host: script on this page asks for a token bound to its own key and reveals.

async function runHostileHost(): Promise<void> {
  const button = $<HTMLButtonElement>('hostile-reveal');
  const box = $('hostile-result');
  const steps = document.createElement('ol');
  steps.className = 'attack-steps';
  box.dataset.tone = '';
  box.replaceChildren(steps);
  button.disabled = true;
  try {
    const { platformUrl } = await loadConfig();
    const answer = await revealAsHostileHost({ cardId: card!.id, platformUrl, api }, (step) =>
      steps.append(...items([step])),
    );
    const { verdict, details, tone } = describeHostileAnswer(answer);
    const heading = document.createElement('p');
    heading.className = 'verdict-line';
    heading.textContent = verdict;
    const why = document.createElement('ul');
    why.append(...items(details));
    box.dataset.tone = tone;
    box.append(heading, why);
  } catch (error) {
    box.append(...items([(error as Error).message]));
  } finally {
    button.disabled = false;
  }
}

function addEvent(event: Card): void {
  const item = document.createElement('li');
  const { title, detail, tone } = describeEvent(event);
  item.className = `event ${tone}`;
  const time = document.createElement('time');
  time.textContent = new Date(event.timestamp).toLocaleTimeString();
  const heading = document.createElement('strong');
  heading.textContent = title;
  const text = document.createElement('p');
  text.textContent = detail;
  const raw = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = `${event.type} · raw JSON`;
  const pre = document.createElement('pre');
  pre.textContent = JSON.stringify(event, null, 2);
  raw.append(summary, pre);
  item.append(time, heading, text, raw);
  $('events').prepend(item);
  if (card && event.data?.card?.id === card.id) render({ ...card, ...event.data.card });
  else if (card && event.data?.card_id === card.id) void refresh();
  // A passkey added, removed, or used for a reveal: the list says so.
  const passkeyEvent =
    event.type?.startsWith('CUSTOMER.PASSKEY.') || event.data?.step_up?.method === 'PASSKEY';
  if (card && passkeyEvent && !$('step-passkey').hidden) void showPasskeys();
}

// ---------------------------------------------------------------------------------------------
// Step 6: the terminal. Its PIN pad is the platform's frame; this page gets only a JWE from it.

let pad: HTMLIFrameElement | undefined;
/** The card the pad was made for: a new card gets a new pad. */
let padCard: string | undefined;
let padOrigin = '';
let paying = false;

const amountText = async () => {
  const { terminal } = await loadConfig();
  return `${terminal.currency} ${(terminal.amount / 100).toFixed(2)}`;
};

/** Tells the pad's display what to say; to the platform's origin only. */
function promptPad(text: string): void {
  const message: PinPadPrompt = {
    type: 'pin-pad:prompt',
    text: text.slice(0, PIN_PAD_PROMPT_MAX_LENGTH),
  };
  pad?.contentWindow?.postMessage(message, padOrigin);
}

const IDLE = {
  details: [
    'Type a PIN on the pad and press Enter: the pad encrypts it and hands this page only the ciphertext.',
  ],
};

const items = (lines: string[]) =>
  lines.map((text) => {
    const item = document.createElement('li');
    item.textContent = text;
    return item;
  });

/** The terminal's display (short lines) and, beside it, what happened in sentences. */
function showOnTerminal(
  headline: string,
  {
    screen = [],
    details = [],
    tone = '',
  }: { screen?: string[]; details?: string[]; tone?: string } = {},
): void {
  $('pos-headline').textContent = headline;
  $('pos-screen').dataset.tone = tone;
  $('pos-lines').replaceChildren(...items(screen));
  $('pos-details').replaceChildren(...items(details));
}

/** A new pad for each card: the frame's URL names the card its JWE is bound to. */
async function mountPad(c: Card): Promise<void> {
  const { platformUrl } = await loadConfig();
  padOrigin = new URL(platformUrl).origin;
  const frame = document.createElement('iframe');
  frame.title = 'Terminal PIN pad, served by the issuer platform';
  frame.className = 'pin-pad-frame';
  frame.src = `${platformUrl}/simulations/pin-pad/?card=${encodeURIComponent(c.id)}&origin=${encodeURIComponent(location.origin)}`;
  frame.addEventListener('load', async () => promptPad(`${await amountText()} · ENTER PIN`));
  $('pin-pad').replaceChildren(frame);
  pad = frame;
}

function renderTerminal(c: Card): void {
  const shown = c.card_status === 'ACTIVE';
  $('step-pos').hidden = !shown;
  if (!shown) return;
  if (padCard !== c.id) {
    padCard = c.id;
    showOnTerminal('INSERT CARD · ENTER PIN', IDLE);
    void mountPad(c);
  }
  const offline = document.querySelector<HTMLInputElement>(
    'input[name="cvm"][value="OFFLINE_PIN"]',
  )!;
  offline.disabled = !c.offline_pin;
  if (!c.offline_pin && offline.checked)
    document.querySelector<HTMLInputElement>('input[name="cvm"][value="ONLINE_PIN"]')!.checked =
      true;
  $<HTMLButtonElement>('unblock').disabled = c.pin_status === 'NOT_SET';
  syncPinBlockFormat();
}

/** The PIN block format is the acquirer's choice for an online PIN; the chip takes format 4. */
function syncPinBlockFormat(): void {
  const cvm = document.querySelector<HTMLInputElement>('input[name="cvm"]:checked')?.value;
  $<HTMLSelectElement>('pin-block-format').disabled = cvm !== 'ONLINE_PIN';
}

/** The pad's JWE, sent by this program's backend for translation, then authorized. */
async function payWithPin(encryptedPin: string): Promise<void> {
  if (paying || !card) return;
  paying = true;
  const before = card;
  const cvm = (document.querySelector('input[name="cvm"]:checked') as HTMLInputElement).value;
  const format = $<HTMLSelectElement>('pin-block-format').value;
  showOnTerminal('AUTHORIZING…', {
    screen: [cvm === 'OFFLINE_PIN' ? 'CHIP CHECKING PIN' : 'PIN SENT ONLINE'],
  });
  try {
    const result = await api('POST', `/api/cards/${card.id}/authorize`, {
      entry_mode: 'CHIP_CONTACT',
      cvm,
      encrypted_pin: encryptedPin,
      ...(cvm === 'ONLINE_PIN' ? { pin_block_format: format } : {}),
    });
    const answer = describePayment(result);
    await refresh();
    if (before.offline_pin && !before.offline_pin.in_sync && card.offline_pin?.in_sync) {
      answer.screen.push('SCRIPT RESULT REPORTED: APPLIED');
      answer.details.push(
        'With this payment the chip reported (tag 9F5B) that it applied the issuer script: its offline PIN is in sync.',
      );
    }
    showOnTerminal(answer.headline, answer);
    promptPad(answer.padPrompt);
  } catch (error) {
    showOnTerminal('NOT AUTHORIZED', { details: [(error as Error).message], tone: 'bad' });
    promptPad('ERROR · ENTER PIN AGAIN');
  } finally {
    paying = false;
  }
}

window.addEventListener('message', (event) => {
  // Fixed order: the pad's window, then the message's shape, then the platform's origin.
  if (!pad || event.source !== pad.contentWindow) return;
  if (!isPinPadEvent(event.data)) return;
  if (event.origin !== padOrigin) return;
  if (event.data.type === 'pin-pad:cancelled') {
    if (!paying)
      showOnTerminal('CANCELLED', { details: ['The cardholder pressed Cancel on the PIN pad.'] });
    return;
  }
  void payWithPin(event.data.encrypted_pin);
});

async function authorize(entryMode: 'CHIP_CONTACT' | 'CONTACTLESS'): Promise<void> {
  const terminal = $('terminal');
  terminal.textContent =
    entryMode === 'CHIP_CONTACT' ? 'Card inserted… authorizing' : 'Card tapped… authorizing';
  try {
    const result = await api('POST', `/api/cards/${card!.id}/authorize`, { entry_mode: entryMode });
    terminal.replaceChildren(...describeScript(result, entryMode));
    await refresh();
  } catch (error) {
    terminal.textContent = (error as Error).message;
  }
}

/** Wires the page at once (a click never waits for the SDK), then loads the SDK and the log. */
async function start(): Promise<void> {
  void startSession();
  void loadSdk();
  $('issue-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    destroyWidgets();
    const issued = await api('POST', '/api/cards', {
      policy: form.get('policy'),
      offline_pin: form.get('offline') === 'on' && form.get('policy') !== 'NOT_REQUIRED',
      emv_profile: form.get('profile'),
      reveal_step_up: form.get('passkey') === 'on' ? 'PASSKEY' : 'NONE',
    });
    render(issued);
    await mountSet();
    $('terminal').textContent = '';
    $('hostile-result').replaceChildren();
    $('passkeys-result').textContent = '';
    $('card-title').focus();
  });
  $('advance').addEventListener('click', async () =>
    render(await api('POST', `/api/cards/${card!.id}/advance`)),
  );
  $('activate').addEventListener('click', async () =>
    render(await api('POST', `/api/cards/${card!.id}/activate`)),
  );
  $('sync').addEventListener('click', async () => {
    await api('POST', `/api/cards/${card!.id}/sync-offline-pin`);
    $('terminal').textContent = 'Sync requested: the script goes out with the next chip payment.';
    await refresh();
  });
  for (const radio of document.querySelectorAll('input[name="cvm"]'))
    radio.addEventListener('change', syncPinBlockFormat);
  $('unblock').addEventListener('click', async () => {
    const result = $('unblock-result');
    try {
      render(await api('POST', `/api/cards/${card!.id}/unblock-pin`));
      result.textContent = card!.offline_pin
        ? `PIN unblocked: ${card!.pin_tries_remaining} tries. A PIN UNBLOCK script waits for the chip's next contact payment.`
        : `PIN unblocked: ${card!.pin_tries_remaining} tries.`;
      showOnTerminal('INSERT CARD · ENTER PIN', IDLE);
      promptPad(`${await amountText()} · ENTER PIN`);
    } catch (error) {
      result.textContent = (error as Error).message;
    }
  });
  $('remove-passkeys').addEventListener('click', () => void removePasskeys());
  $('hostile-reveal').addEventListener('click', () => void runHostileHost());
  $('insert').addEventListener('click', () => void authorize('CHIP_CONTACT'));
  $('tap').addEventListener('click', () => void authorize('CONTACTLESS'));
  for (const event of await api('GET', '/api/events').then((list) => list as unknown as Card[]))
    addEvent(event);
  new EventSource('/api/stream').onmessage = (message) => addEvent(JSON.parse(message.data));
}

void start();
