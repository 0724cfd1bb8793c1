import './styles.css';
import type { MountOptions, PinWidget } from '../../../widgets/sdk/index.js';
import { describeEvent, describeScript } from './describe.js';

type Card = Record<string, any>;
type Sdk = { mount(target: Element, options: MountOptions): PinWidget };

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
let card: Card | undefined;
const widgets: PinWidget[] = [];
/** The platform's SDK, loaded once; the page's buttons work before it arrives. */
let sdk: Promise<Sdk> | undefined;
const loadSdk = (): Promise<Sdk> =>
  (sdk ??= api('GET', '/api/config').then(
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
  if (c.card_status === 'ACTIVE') return 'Active: the cardholder can reveal the PIN and pay.';
  return '';
}

function render(c: Card): void {
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
  $('card-explain').textContent = explain(c);
  $<HTMLButtonElement>('activate').disabled = c.card_status !== 'UNACTIVATED';
  $<HTMLButtonElement>('advance').disabled =
    !['PENDING', 'UNACTIVATED'].includes(c.card_status) ||
    (c.card_fulfillment_status === 'SHIPPED' && c.card_status !== 'PENDING');
  $('step-set').hidden = false;
  $('step-reveal').hidden = c.card_status !== 'ACTIVE';
  $('step-offline').hidden = !c.offline_pin;
  if (c.card_status === 'ACTIVE' && !widgets[1]) void mountReveal();
}

async function refresh(): Promise<void> {
  if (card) render(await api('GET', `/api/cards/${card.id}`));
}

/** The bank's brand through the allow-listed design tokens (no CSS crosses into the iframe). */
const BRAND = { colorPrimary: '#0b3d91', borderRadius: '10px' };

const fetchToken =
  (widgetType: 'SET_PIN' | 'REVEAL_PIN') =>
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
  widgets[0] = widget;
}

let revealMounting = false;
async function mountReveal(): Promise<void> {
  if (revealMounting) return;
  revealMounting = true;
  widgets[1] = (await loadSdk()).mount($('reveal-pin-widget'), {
    widget: 'reveal-pin',
    fetchToken: fetchToken('REVEAL_PIN'),
    showToggle: true,
    styles: BRAND,
    autoHideSeconds: 8,
  });
  revealMounting = false;
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
}

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
    widgets.splice(0).forEach((widget) => widget.destroy());
    const issued = await api('POST', '/api/cards', {
      policy: form.get('policy'),
      offline_pin: form.get('offline') === 'on' && form.get('policy') !== 'NOT_REQUIRED',
      emv_profile: form.get('profile'),
    });
    render(issued);
    await mountSet();
    $('terminal').textContent = '';
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
  $('insert').addEventListener('click', () => void authorize('CHIP_CONTACT'));
  $('tap').addEventListener('click', () => void authorize('CONTACTLESS'));
  for (const event of await api('GET', '/api/events').then((list) => list as unknown as Card[]))
    addEvent(event);
  new EventSource('/api/stream').onmessage = (message) => addEvent(JSON.parse(message.data));
}

void start();
