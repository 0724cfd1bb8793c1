import type { WidgetType } from '../protocol/messages.js';
import { type DpopKey, dpopKey } from './crypto.js';
import type { Host } from './host.js';
import { ApiFailure, type PlatformKey, bearerHeaders, fetchPlatformKey, send } from './request.js';

export { ApiFailure };

export interface WidgetSession {
  widget_type: WidgetType;
  expires_at: string;
  card: {
    last_four: string;
    card_status: string;
    is_pin_set: boolean;
    pin_length: number;
    offline_pin: boolean;
    /** The product wants the current PIN to change it, and the card has one (Set PIN only). */
    requires_current_pin: boolean;
    pin_status: 'NOT_SET' | 'OK' | 'BLOCKED';
    /** `PASSKEY`: every reveal first asks for the cardholder's passkey (docs/step-up.md). */
    reveal_step_up: 'NONE' | 'PASSKEY';
  };
}

/**
 * How the widget gets its token: given in `init` (bearer), or, with the host's `fetchToken`,
 * minted for this iframe's DPoP key (sender-constrained). Tokens are single use, so after a
 * reveal the next one is asked for again.
 */
export class Credentials {
  private key: Promise<DpopKey> | undefined;
  private current: Promise<string> | undefined;
  private waiting: ((token: string) => void) | undefined;
  private failing: ((error: Error) => void) | undefined;

  constructor(
    private readonly host: Host,
    private readonly widgetType: WidgetType,
    private readonly mode: { token: string } | { fetchToken: true },
  ) {
    if ('token' in mode) this.current = Promise.resolve(mode.token);
    else this.key = dpopKey();
  }

  token(): Promise<string> {
    this.current ??= this.request();
    return this.current;
  }

  /** The token was used up: the next call asks for a new one (fetchToken mode only). */
  spend(): void {
    if (this.key) this.current = undefined;
  }

  dpop(): Promise<DpopKey> | undefined {
    return this.key;
  }

  /** The host answered a tokenRequest. */
  deliver(token: string): void {
    this.waiting?.(token);
  }

  /** The host's fetchToken failed. */
  refuse(): void {
    this.failing?.(new ApiFailure('TOKEN_UNAVAILABLE', 0));
  }

  private async request(): Promise<string> {
    const { jkt } = await this.key!;
    return new Promise<string>((resolve, reject) => {
      this.waiting = resolve;
      this.failing = reject;
      this.host.send('tokenRequest', { jkt, widgetType: this.widgetType });
    });
  }
}

export class WidgetApi {
  constructor(
    private readonly host: Host,
    readonly credentials: Credentials,
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const token = await this.credentials.token();
    const url = new URL(path, location.origin).href;
    const headers = bearerHeaders(token, this.host.parentOrigin);
    const dpop = await this.credentials.dpop();
    if (dpop) {
      headers.authorization = `DPoP ${token}`;
      headers.dpop = await dpop.proof(method, url, token);
    }
    return send<T>(method, url, headers, body);
  }
}

/**
 * The session query every widget renders from. Boot fetches it (the early script's call when it
 * made one) before the first render, so the first render is the usable widget.
 */
export function sessionQuery(api: WidgetApi, early?: Promise<WidgetSession>) {
  return {
    queryKey: ['session'],
    queryFn: () => early ?? api.call<WidgetSession>('GET', '/v1/widget/session'),
  };
}

/** Set PIN's platform key; boot fetches it (the early script's request) before the first render. */
export function platformKeyQuery(early?: Promise<PlatformKey>) {
  return {
    queryKey: ['pin-key'],
    queryFn: () => early ?? fetchPlatformKey(),
  };
}
