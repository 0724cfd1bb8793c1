import './styles.css';
import { fetchPlatformKey } from '../runtime/request.js';
import { MAX_PIN_DIGITS, MIN_PIN_DIGITS, PinEntry } from './entry.js';
import { type PinPadEvent, isPinPadPrompt } from './messages.js';

/**
 * The demo terminal's PIN pad (docs/point-of-sale.md, "The demo terminal"): a platform document
 * that the program's terminal page frames. The digits stay in this document; the page receives
 * only their JWE, or that the cardholder cancelled.
 */

const CARD_ID = /^card_[0-9a-z]{26}$/;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const prompt = $('prompt');
const dots = $('dots');
const status = $('status');
const pad = document.querySelector<HTMLElement>('.pad')!;

/**
 * The card and the page this pad serves, from its URL, or undefined when it must not run: not
 * framed, or framed by another page than the one it would hand the PIN to. The server admits
 * only FRAME_ANCESTORS as `origin`; `location.ancestorOrigins`, where an engine gives one, is a
 * second check, and postMessage to `origin` alone is the one that always holds.
 */
function terminal(): { cardId: string; parentOrigin: string } | undefined {
  if (window.parent === window) return undefined;
  const params = new URLSearchParams(location.search);
  const cardId = params.get('card');
  const parentOrigin = params.get('origin');
  if (!cardId || !CARD_ID.test(cardId) || !parentOrigin || !URL.canParse(parentOrigin))
    return undefined;
  if (new URL(parentOrigin).origin !== parentOrigin) return undefined;
  const reported = (location as Location & { ancestorOrigins?: DOMStringList })
    .ancestorOrigins?.[0];
  if (reported && reported !== 'null' && reported !== parentOrigin) return undefined;
  return { cardId, parentOrigin };
}

/** entry: keys work; busy: encrypting; waiting: sent, until the page prompts again. */
type PadState = 'entry' | 'busy' | 'waiting';

function start(): void {
  const bound = terminal();
  if (!bound) {
    prompt.textContent = 'PIN PAD UNAVAILABLE';
    status.textContent = 'This PIN pad works only inside the terminal page it was opened for.';
    pad.classList.add('off');
    for (const button of document.querySelectorAll('button')) button.disabled = true;
    return;
  }
  const { cardId, parentOrigin } = bound;
  const entry = new PinEntry();
  let state: PadState = 'entry';

  const send = (message: PinPadEvent) => window.parent.postMessage(message, parentOrigin);

  const show = (announcement: string) => {
    dots.textContent = '•'.repeat(entry.count);
    pad.dataset.state = state;
    // A count, never a digit: a screen reader says how many keys were pressed, not which.
    status.textContent = announcement;
  };
  const counted = () =>
    entry.count === 0
      ? 'No digits entered'
      : `${entry.count} ${entry.count === 1 ? 'digit' : 'digits'} entered`;

  const press = (digit: number) => {
    if (state !== 'entry') return;
    if (!entry.add(digit)) return show(`${MAX_PIN_DIGITS} digits entered: the most a PIN has`);
    show(counted());
  };
  const correct = () => {
    if (state !== 'entry') return;
    entry.correct();
    show(counted());
  };
  const cancel = () => {
    if (state !== 'entry') return;
    entry.clear();
    prompt.textContent = 'CANCELLED';
    show('Cancelled');
    send({ type: 'pin-pad:cancelled' });
  };
  const enter = async () => {
    if (state !== 'entry') return;
    if (!entry.complete) return show(`Enter at least ${MIN_PIN_DIGITS} digits`);
    state = 'busy';
    prompt.textContent = 'PLEASE WAIT';
    show('Encrypting the PIN');
    try {
      const encrypted_pin = await entry.seal(await fetchPlatformKey(), cardId);
      state = 'waiting';
      show('PIN sent');
      send({ type: 'pin-pad:entered', encrypted_pin });
    } catch {
      entry.clear();
      state = 'entry';
      prompt.textContent = 'PAD ERROR: TRY AGAIN';
      show('The PIN could not be encrypted: enter it again');
    }
  };

  for (const button of document.querySelectorAll<HTMLButtonElement>('[data-digit]')) {
    const digit = Number(button.dataset.digit);
    button.addEventListener('click', () => press(digit));
  }
  $('clear').addEventListener('click', correct);
  $('cancel').addEventListener('click', cancel);
  $('enter').addEventListener('click', () => void enter());

  // A terminal's keys, from a keyboard: its Enter is the green key wherever the focus is (a
  // focused digit is pressed with Space), so a cardholder never sends a 5 meaning OK.
  window.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (/^[0-9]$/.test(event.key)) {
      event.preventDefault();
      if (!event.repeat) press(Number(event.key));
    } else if (event.key === 'Backspace') {
      event.preventDefault();
      correct();
    } else if (event.key === 'Delete') {
      event.preventDefault();
      if (state === 'entry') {
        entry.clear();
        show(counted());
      }
    } else if (event.key === 'Escape') {
      event.preventDefault();
      cancel();
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (!event.repeat) void enter();
    }
  });

  window.addEventListener('message', (event) => {
    // Fixed order: source window, then shape, then origin; anything else is dropped.
    if (event.source !== window.parent) return;
    if (!isPinPadPrompt(event.data)) return;
    if (event.origin !== parentOrigin) return;
    prompt.textContent = event.data.text;
    if (state === 'waiting') state = 'entry';
    pad.dataset.state = state;
  });

  show('');
}

start();
