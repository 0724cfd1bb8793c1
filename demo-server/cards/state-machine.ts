import type {
  Card,
  CardPatch,
  CardProduct,
  CardStatus,
  FulfillmentStatus,
  JobKind,
} from '../store/types.js';

/** Status changes a program may request (README “Issuance”). Everything else is a 409. */
export const REQUESTABLE_STATUS_CHANGES: Readonly<Record<CardStatus, readonly CardStatus[]>> = {
  PENDING: ['TERMINATED'],
  UNACTIVATED: ['ACTIVE', 'TERMINATED'],
  ACTIVE: ['SUSPENDED', 'TERMINATED'],
  SUSPENDED: ['ACTIVE', 'TERMINATED'],
  TERMINATED: [],
};

/** Fulfillment moves forward one step per scheduled job, and only for a card past PENDING. */
const FULFILLMENT_STEPS: Readonly<
  Partial<Record<FulfillmentStatus, { job: JobKind; to: FulfillmentStatus }>>
> = {
  ORDERED: { job: 'ISSUE_CARD', to: 'ISSUED' },
  ISSUED: { job: 'SHIP_CARD', to: 'SHIPPED' },
};

/**
 * Everything that can change a card. Other domains send these to the card core
 * (`CardService.change`); none writes a card row itself (docs/card-core.md).
 */
export type CardEvent =
  /** The cardholder set a PIN (pins/): it also restores the tries. */
  | { type: 'PIN_SET'; time: string }
  /** A PIN was checked and was right (an authorization, a change with the current PIN). */
  | { type: 'PIN_VERIFIED' }
  /** A PIN was checked and was wrong: one try is used; the last one blocks the PIN. */
  | { type: 'PIN_INCORRECT' }
  /** The program unblocked the PIN (POST /v1/cards/{id}/pin/unblock). */
  | { type: 'PIN_UNBLOCKED' }
  /** A scheduled job's time came (issuance, fulfillment). */
  | { type: 'JOB_DUE'; job: JobKind; time: string }
  /** The program asked for a status (PATCH /v1/cards/{id}). */
  | { type: 'STATUS_REQUESTED'; to: CardStatus; reason: string | null }
  | { type: 'MEMO_SET'; memo: string }
  /** The online PIN changed after the chip was personalized, and no script will follow. */
  | { type: 'OFFLINE_PIN_STALE' }
  /** An issuer script was queued (offline-pin/); `pinChanged`: the chip's PIN is now stale. */
  | { type: 'OFFLINE_PIN_SCRIPT_QUEUED'; scriptId: string; pinChanged: boolean }
  /** The chip reported on its scripts: whether it holds the current PIN, and what is still open. */
  | { type: 'OFFLINE_PIN_SCRIPTS_SETTLED'; inSync: boolean; pendingScriptId: string | null };

export interface Decision {
  patch: CardPatch;
  /** Jobs to schedule, each `ISSUANCE_DELAY_MS` from now. */
  schedule: JobKind[];
  /** RANDOM policy: the issuance step must assign a random PIN in the same transaction. */
  assignRandomPin: boolean;
  /** Issuing an offline-PIN card: its chip is personalized with the current PIN. */
  personalizeChip: boolean;
}

export type Outcome = ({ allowed: true } & Decision) | { allowed: false };

const refuse: Outcome = { allowed: false };
const allow = (
  patch: CardPatch,
  schedule: JobKind[] = [],
  effects: { assignRandomPin?: boolean; personalizeChip?: boolean } = {},
): Outcome => ({
  allowed: true,
  patch,
  schedule,
  assignRandomPin: effects.assignRandomPin ?? false,
  personalizeChip: effects.personalizeChip ?? false,
});

export type InitialCardState = Pick<
  Card,
  'cardStatus' | 'fulfillmentStatus' | 'isWaitingForPin' | 'offlinePinEnabled'
> & { schedule: JobKind[] };

/** The state a new card starts in, by its product's form and PIN issuance policy. */
export function initialState(product: CardProduct): InitialCardState {
  if (product.form === 'VIRTUAL') {
    return {
      cardStatus: 'ACTIVE',
      fulfillmentStatus: 'DIGITALLY_PRESENTED',
      isWaitingForPin: false,
      offlinePinEnabled: false,
      schedule: [],
    };
  }
  const base = { fulfillmentStatus: 'ORDERED' as const, offlinePinEnabled: product.offlinePin };
  switch (product.pinIssuancePolicy ?? 'NOT_REQUIRED') {
    case 'NOT_REQUIRED':
      return {
        ...base,
        cardStatus: 'UNACTIVATED',
        isWaitingForPin: false,
        schedule: ['ISSUE_CARD'],
      };
    case 'RANDOM':
      return {
        ...base,
        cardStatus: 'PENDING',
        isWaitingForPin: false,
        schedule: ['COMPLETE_ISSUANCE'],
      };
    case 'REQUIRED':
      // The physical card is not created until the cardholder sets a PIN.
      return { ...base, cardStatus: 'PENDING', isWaitingForPin: true, schedule: [] };
  }
}

/** Pure transition function: what `event` does to `card`, or that it is not allowed now. */
export function decide(card: Card, product: CardProduct, event: CardEvent): Outcome {
  switch (event.type) {
    case 'STATUS_REQUESTED':
      return REQUESTABLE_STATUS_CHANGES[card.cardStatus].includes(event.to)
        ? allow({ cardStatus: event.to, statusReason: event.reason })
        : refuse;

    case 'PIN_SET': {
      if (card.form !== 'PHYSICAL' || card.cardStatus === 'TERMINATED') return refuse;
      const patch: CardPatch = {
        isPinSet: true,
        timestampPinSet: event.time,
        isWaitingForPin: false,
        pinTriesRemaining: product.pinTryLimit,
      };
      const startsIssuance =
        card.cardStatus === 'PENDING' &&
        product.pinIssuancePolicy === 'REQUIRED' &&
        card.isWaitingForPin;
      return allow(patch, startsIssuance ? ['COMPLETE_ISSUANCE'] : []);
    }

    case 'PIN_VERIFIED':
      return hasUsablePin(card) ? allow({ pinTriesRemaining: product.pinTryLimit }) : refuse;

    case 'PIN_INCORRECT':
      return hasUsablePin(card) ? allow({ pinTriesRemaining: card.pinTriesRemaining - 1 }) : refuse;

    case 'PIN_UNBLOCKED':
      return card.form === 'PHYSICAL' && card.cardStatus !== 'TERMINATED' && card.isPinSet
        ? allow({ pinTriesRemaining: product.pinTryLimit })
        : refuse;

    case 'JOB_DUE':
      return decideJob(card, product, event.job, event.time);

    case 'MEMO_SET':
      return allow({ memo: event.memo });

    case 'OFFLINE_PIN_STALE':
      return hasOfflinePin(card) ? allow({ offlinePinInSync: false }) : refuse;

    case 'OFFLINE_PIN_SCRIPT_QUEUED':
      if (!hasOfflinePin(card) || card.cardStatus === 'TERMINATED') return refuse;
      return allow({
        pendingScriptId: event.scriptId,
        ...(event.pinChanged ? { offlinePinInSync: false } : {}),
      });

    case 'OFFLINE_PIN_SCRIPTS_SETTLED':
      return hasOfflinePin(card)
        ? allow({ offlinePinInSync: event.inSync, pendingScriptId: event.pendingScriptId })
        : refuse;
  }
}

/** A PIN that can be checked: set, not blocked, on a card that is not terminated. */
function hasUsablePin(card: Card): boolean {
  return (
    card.form === 'PHYSICAL' &&
    card.cardStatus !== 'TERMINATED' &&
    card.isPinSet &&
    card.pinTriesRemaining > 0
  );
}

/** A physical card whose product has offline PIN: it has a chip copy to keep in sync (README “Offline PIN”). */
function hasOfflinePin(card: Card): boolean {
  return card.form === 'PHYSICAL' && card.offlinePinEnabled;
}

function decideJob(card: Card, product: CardProduct, job: JobKind, time: string): Outcome {
  if (job === 'COMPLETE_ISSUANCE') {
    if (card.cardStatus !== 'PENDING') return refuse;
    if (product.pinIssuancePolicy === 'RANDOM') {
      // A PIN the cardholder set while PENDING is kept instead of a random one.
      if (card.isPinSet) return allow({ cardStatus: 'UNACTIVATED' }, ['ISSUE_CARD']);
      return allow(
        { cardStatus: 'UNACTIVATED', isPinSet: true, timestampPinSet: time },
        ['ISSUE_CARD'],
        { assignRandomPin: true },
      );
    }
    if (product.pinIssuancePolicy === 'REQUIRED' && card.isPinSet) {
      return allow({ cardStatus: 'UNACTIVATED' }, ['ISSUE_CARD']);
    }
    return refuse;
  }
  if (card.cardStatus === 'PENDING' || card.cardStatus === 'TERMINATED') return refuse;
  const step = FULFILLMENT_STEPS[card.fulfillmentStatus];
  if (!step || step.job !== job) return refuse;
  const next = FULFILLMENT_STEPS[step.to];
  // Issuing personalizes the chip with the current PIN: its offline PIN starts in sync (README “Offline PIN”).
  const personalized = job === 'ISSUE_CARD' && card.offlinePinEnabled && card.isPinSet;
  return allow(
    { fulfillmentStatus: step.to, ...(personalized ? { offlinePinInSync: true } : {}) },
    next ? [next.job] : [],
    { personalizeChip: personalized },
  );
}
