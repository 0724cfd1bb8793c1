import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/**
 * The demo cardholder's session: which cards this browser issued, and the CSRF token its page
 * sends back. In memory, because the demo has no accounts.
 *
 * A REAL PROGRAM replaces "start a demo session" with its own sign-in (password + second factor,
 * passkeys, or its existing online-banking session), keeps sessions in a persistent shared
 * store (so a restart or a second instance does not sign everyone out), expires them on idle
 * and absolute timeouts, and asks its own account records which cards a user may touch: here a
 * card belongs to the session that issued it, nothing more.
 */
export interface DemoSession {
  readonly csrfToken: string;
  /**
   * The demo cardholder's customer id on the platform: its passkeys belong to it, and every card
   * the session issues carries it. Random, apart from the cookie: an id that shows up in cards,
   * events and logs must never carry a part of the session's credential.
   */
  readonly customerId: string;
  /** The cards this session issued: the only ones it may read, mint tokens for, or see events of. */
  readonly cards: Set<string>;
  /**
   * The REVEAL_PIN tokens it minted (SHA-256 of the token → card), newest last: the hostile-host
   * demo relays only these, so the relay serves this session's own cards and nobody else's.
   */
  readonly revealTokens: Map<string, string>;
  /** Its open event streams, closed when the session ends. */
  readonly streams: Set<ServerResponse>;
  lastSeen: number;
}

/**
 * Served over plain http on loopback, so no `Secure` and no `__Host-` prefix. A REAL PROGRAM
 * serves HTTPS only and names it `__Host-session` with `Secure`: the prefix stops a sibling
 * host or port from planting its own cookie (cookies do not isolate by port).
 */
export const SESSION_COOKIE = 'demo_session';
export const CSRF_HEADER = 'x-csrf-token';

/** 256 bits from the CSPRNG, base64url. */
const randomToken = (): string => randomBytes(32).toString('base64url');
/** The store is keyed by a hash of the cookie, so a memory dump holds no usable session id. */
const keyOf = (cookieValue: string): string =>
  createHash('sha256').update(cookieValue).digest('base64url');

export interface DemoSessionsOptions {
  idleMs?: number;
  maxSessions?: number;
  now?: () => number;
}

export class DemoSessions {
  private readonly sessions = new Map<string, DemoSession>();
  private readonly idleMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;

  constructor({
    idleMs = 30 * 60_000,
    maxSessions = 1000,
    now = Date.now,
  }: DemoSessionsOptions = {}) {
    this.idleMs = idleMs;
    this.maxSessions = maxSessions;
    this.now = now;
  }

  /** A new session with its own id and CSRF token; returns the cookie value to set. */
  start(): { session: DemoSession; cookieValue: string } {
    this.sweep();
    // Bounded memory: the oldest session goes first (Map keeps insertion order).
    while (this.sessions.size >= this.maxSessions) {
      const [oldest] = this.sessions.keys();
      this.end(oldest!);
    }
    const cookieValue = randomToken();
    const session: DemoSession = {
      csrfToken: randomToken(),
      customerId: `cust_demo_${randomBytes(8).toString('hex')}`,
      cards: new Set(),
      revealTokens: new Map(),
      streams: new Set(),
      lastSeen: this.now(),
    };
    this.sessions.set(keyOf(cookieValue), session);
    return { session, cookieValue };
  }

  /** The live session named by the request's Cookie header, or undefined. */
  find(cookieHeader: string | undefined): DemoSession | undefined {
    const value = sessionCookieValue(cookieHeader);
    if (value === undefined) return undefined;
    const key = keyOf(value);
    const session = this.sessions.get(key);
    if (!session) return undefined;
    if (this.now() - session.lastSeen > this.idleMs) {
      this.end(key);
      return undefined;
    }
    session.lastSeen = this.now();
    return session;
  }

  /** Ends the session named by the Cookie header, if any (a new start rotates the id). */
  endFrom(cookieHeader: string | undefined): void {
    const value = sessionCookieValue(cookieHeader);
    if (value !== undefined) this.end(keyOf(value));
  }

  /** The live session that issued this card, if any. */
  ownerOf(cardId: string): DemoSession | undefined {
    for (const session of this.sessions.values()) if (session.cards.has(cardId)) return session;
    return undefined;
  }

  /** The live session of this demo customer, if any. */
  ownerOfCustomer(customerId: string): DemoSession | undefined {
    for (const session of this.sessions.values())
      if (session.customerId === customerId) return session;
    return undefined;
  }

  private end(key: string): void {
    const session = this.sessions.get(key);
    if (!session) return;
    this.sessions.delete(key);
    for (const stream of session.streams) stream.end();
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, session] of this.sessions) {
      if (now - session.lastSeen > this.idleMs) this.end(key);
    }
  }
}

/**
 * The one session cookie's value. Two cookies of that name (one planted with another Path by a
 * same-site page) name no session: picking either would let the planted one win.
 */
function sessionCookieValue(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const values = header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.startsWith(`${SESSION_COOKIE}=`))
    .map((pair) => pair.slice(SESSION_COOKIE.length + 1));
  return values.length === 1 && /^[A-Za-z0-9_-]{43}$/.test(values[0]!) ? values[0] : undefined;
}

/** How a session remembers a widget token: its SHA-256, never the token. */
export const tokenDigest = (token: string): string =>
  createHash('sha256').update(token).digest('base64url');

/** HttpOnly (no script reads it), SameSite=Strict (no cross-site request carries it), Path=/. */
export const sessionCookie = (value: string): string =>
  `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/`;

/** Constant-time comparison: hashing first gives both sides the same length. */
export function csrfTokenMatches(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(expected), digest(presented));
}
