import { newId } from '../lib/ids.js';
import type { EventRecord, Repositories } from '../store/types.js';

export const EVENT_TYPES = [
  'CARD.CREATED',
  'CARD.UPDATED',
  'CARD.ISSUER_SCRIPT.UPDATED',
  // Audit events (README “Security: what holds, and what does not”): who saw or exported a PIN, when, from where; never the PIN.
  'CARD.PIN.REVEALED',
  'CARD.PIN_BLOCK.EXPORTED',
  // A cardholder's passkeys for reveal step-up (docs/step-up.md): enrolled, removed.
  'CUSTOMER.PASSKEY.CREATED',
  'CUSTOMER.PASSKEY.DELETED',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Whether a subscription pattern matches an event type: exact, `*` for all, or a prefix
 * wildcard `CARD.*` that matches every type under `CARD.` (including `CARD.ISSUER_SCRIPT.UPDATED`).
 */
export function patternMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

/** A valid subscription pattern names a known type or a wildcard that matches at least one. */
export function isValidPattern(pattern: string): boolean {
  return EVENT_TYPES.some((type) => patternMatches(pattern, type)) && /^[A-Z_.*]+$/.test(pattern);
}

/**
 * Records an event and queues a delivery to every enabled webhook that subscribes to it, in the
 * caller's transaction: the state change, its event and its outbox rows commit together.
 */
export async function emitEvent(
  tx: Repositories,
  type: EventType,
  data: Record<string, unknown>,
  now: number = Date.now(),
  id: string = newId('evt', now),
): Promise<EventRecord> {
  const event: EventRecord = {
    id,
    type,
    createdTime: new Date(now).toISOString(),
    data,
  };
  await tx.insertEvent(event);
  for (const webhook of await tx.enabledWebhooks()) {
    if (!webhook.enabledEvents.some((pattern) => patternMatches(pattern, type))) continue;
    await tx.insertDelivery({
      id: newId('dlv', now),
      eventId: event.id,
      webhookId: webhook.id,
      status: 'PENDING',
      attemptCount: 0,
      nextAttemptAt: now,
      createdTime: event.createdTime,
      leaseToken: null,
    });
  }
  return event;
}
