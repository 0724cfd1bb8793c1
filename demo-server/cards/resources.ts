import type { Card, CardPatch, CardProduct } from '../store/types.js';

export type PinStatus = 'NOT_SET' | 'OK' | 'BLOCKED';

/** A card's PIN status, derived from what it stores: whether it has a PIN, and its tries left. */
export function pinStatus(card: Pick<Card, 'isPinSet' | 'pinTriesRemaining'>): PinStatus {
  if (!card.isPinSet) return 'NOT_SET';
  return card.pinTriesRemaining === 0 ? 'BLOCKED' : 'OK';
}

/** The API shape of a card product. */
export function productResource(product: CardProduct) {
  return {
    id: product.id,
    name: product.name,
    form: product.form,
    pin_issuance_policy: product.pinIssuancePolicy,
    offline_pin: product.offlinePin,
    pin_length: product.pinLength,
    emv_profile: product.emvProfile,
    allow_bearer_widget_tokens: product.allowBearerWidgetTokens,
    pin_try_limit: product.pinTryLimit,
    pin_change_requires_current_pin: product.pinChangeRequiresCurrentPin,
    reveal_step_up: product.revealStepUp,
    created_time: product.createdTime,
  };
}

/** The API shape of a card: never the full PAN. */
export function cardResource(card: Card) {
  return {
    id: card.id,
    account_id: card.accountId,
    customer_id: card.customerId,
    card_product_id: card.cardProductId,
    form: card.form,
    last_four: card.lastFour,
    card_status: card.cardStatus,
    status_reason: card.statusReason,
    memo: card.memo,
    pending_reasons: { is_waiting_for_pin: card.isWaitingForPin },
    card_fulfillment_status: card.fulfillmentStatus,
    is_pin_set: card.isPinSet,
    timestamp_pin_set: card.timestampPinSet,
    pin_status: pinStatus(card),
    pin_tries_remaining: card.pinTriesRemaining,
    ...(card.form === 'PHYSICAL' && card.offlinePinEnabled
      ? {
          offline_pin: {
            enabled: true,
            in_sync: card.offlinePinInSync,
            pending_script_id: card.pendingScriptId,
          },
        }
      : {}),
    created_time: card.createdTime,
    last_modified_time: card.lastModifiedTime,
  };
}

export type CardResource = ReturnType<typeof cardResource>;

/** API names of the patchable card fields, as they appear in `changed_fields`. */
const API_FIELD: Record<keyof CardPatch, string> = {
  cardStatus: 'card_status',
  statusReason: 'status_reason',
  memo: 'memo',
  isWaitingForPin: 'pending_reasons.is_waiting_for_pin',
  fulfillmentStatus: 'card_fulfillment_status',
  isPinSet: 'is_pin_set',
  timestampPinSet: 'timestamp_pin_set',
  pinTriesRemaining: 'pin_tries_remaining',
  offlinePinInSync: 'offline_pin.in_sync',
  pendingScriptId: 'offline_pin.pending_script_id',
};

/** The fields `patch` really changes, each with its prior value; `pin_status` too, derived. */
export function changedFields(card: Card, patch: CardPatch): Record<string, unknown> {
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch) as [keyof CardPatch, unknown][]) {
    if (card[key] !== value) changed[API_FIELD[key]] = card[key];
  }
  const before = pinStatus(card);
  if (pinStatus({ ...card, ...patch }) !== before) changed.pin_status = before;
  return changed;
}
