import { type EngineDocument, waitFor } from './engine.js';
import { API_KEY, PLATFORM_PORT, PLATFORM_URL } from './env.js';

/** Node's side of the platform API (never through a browser). */
const API = `http://127.0.0.1:${PLATFORM_PORT}`;

async function api(method: string, route: string, body?: unknown): Promise<any> {
  const response = await fetch(`${API}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${API_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export interface Card {
  id: string;
  last_four: string;
}

/** Issues a card (its own product), optionally advanced past issuance and activated. */
export async function issueCard(
  policy: 'REQUIRED' | 'RANDOM' | 'NOT_REQUIRED',
  { activate = false }: { activate?: boolean } = {},
): Promise<Card> {
  const product = await api('POST', '/v1/card_products', {
    name: 'Engines',
    form: 'PHYSICAL',
    pin_issuance_policy: policy,
    // The journeys set PINs with plain tokens too (fetchToken mints DPoP-bound ones anyway).
    allow_bearer_widget_tokens: true,
  });
  const card = await api('POST', '/v1/cards', {
    card_product_id: product.id,
    account_id: 'acct_engines',
  });
  if (activate) {
    await api('POST', `/v1/simulations/cards/${card.id}/advance`);
    await api('PATCH', `/v1/cards/${card.id}`, { card_status: 'ACTIVE' });
  }
  return card;
}

export const getCard = (id: string): Promise<Record<string, any>> => api('GET', `/v1/cards/${id}`);

/** A widget token minted by the program's backend; without `origin` it works only top-level. */
export async function mintToken(
  cardId: string,
  widgetType: 'SET_PIN' | 'REVEAL_PIN',
  origin?: string,
) {
  const minted = await api('POST', `/v1/cards/${cardId}/widget_token`, {
    widget_type: widgetType,
    ...(origin ? { origin } : {}),
  });
  return minted.widget_token as string;
}

/** A PIN the policy accepts for this card (not its last four). */
export const goodPin = (card: Card) => (card.last_four === '7392' ? '4815' : '7392');
/** In the common-PIN list (widgets/ui/pin-policy.ts): too weak, so the policy refuses it. */
export const WEAK_PIN = '2580';

export const widgetUrl = (widget: 'set-pin' | 'reveal-pin') => `${PLATFORM_URL}/widgets/${widget}/`;

export interface RecordedEvent {
  name: string;
  payload: any;
}

/** What the fixture's sdk.html recorded in window.events. */
export const events = (page: EngineDocument): Promise<RecordedEvent[]> =>
  page.evaluate(() => (window as any).events ?? []);

export const eventNames = async (page: EngineDocument) =>
  (await events(page)).map((event) => event.name);

/** Waits until at least `count` events named `name` were recorded; returns them all. */
export async function waitForEvent(
  page: EngineDocument,
  name: string,
  count = 1,
  timeout = 10_000,
) {
  return waitFor(
    `${count} "${name}" event(s)`,
    async () => {
      const recorded = await events(page);
      const named = recorded.filter((event) => event.name === name);
      return named.length >= count ? named : undefined;
    },
    { timeout },
  );
}

/** A selector for the input labelled `label` (by its label's text, as a person finds it). */
export async function field(doc: EngineDocument, label: string): Promise<string> {
  const id = await waitFor(`a field labelled "${label}"`, () =>
    doc.evaluate(
      (text: string) =>
        [...document.querySelectorAll('label')].find((l) => l.textContent?.trim() === text)
          ?.htmlFor,
      label,
    ),
  );
  return `[id="${id}"]`;
}

/**
 * A selector for the button whose text is `name`: its path of `:nth-child` steps from <html>, as
 * CSS cannot select by text (and the widget's DOM is not ours to mark).
 */
export async function button(doc: EngineDocument, name: string): Promise<string> {
  return waitFor(`a button "${name}"`, () =>
    doc.evaluate((text: string) => {
      let element = [...document.querySelectorAll('button')].find(
        (b) => b.textContent?.trim() === text,
      ) as Element | undefined;
      if (!element) return undefined;
      const steps: string[] = [];
      for (; element && element !== document.documentElement; element = element.parentElement!) {
        steps.unshift(
          `${element.localName}:nth-child(${[...element.parentElement!.children].indexOf(element) + 1})`,
        );
      }
      return `html > ${steps.join(' > ')}`;
    }, name),
  );
}

/** The values of the form's inputs (read, never set, from script). */
export const inputValues = (doc: EngineDocument) =>
  doc.evaluate(() => [...document.querySelectorAll('input')].map((input) => input.value));

/** Types the PIN and its confirmation into the set-pin form with real key presses. */
export async function typePins(frame: EngineDocument, pin: string, confirmation = pin) {
  await frame.type(await field(frame, 'New PIN'), pin);
  await frame.type(await field(frame, 'Confirm new PIN'), confirmation);
}
