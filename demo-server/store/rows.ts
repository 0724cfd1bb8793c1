import type {
  AccountTokenKey,
  ApiKeyRecord,
  Card,
  CardPatch,
  CardProduct,
  ChipState,
  Delivery,
  DeliveryAttempt,
  EventRecord,
  IssuerScript,
  IssuerScriptPatch,
  Job,
  Passkey,
  PinReveal,
  StoredPin,
  WebauthnChallenge,
  Webhook,
  WidgetToken,
} from './types.js';

/**
 * Rows to records, the same for both backends: the tables have the same columns on SQLite and
 * PostgreSQL. Only two encodings differ, and `flag` and `json` read both: a flag is 0/1 in
 * SQLite and a boolean in PostgreSQL; a list or object is JSON text in SQLite and `jsonb` (already
 * parsed by the driver) in PostgreSQL.
 */
export type Row = Record<string, unknown>;

export const flag = (value: unknown): boolean => value === 1 || value === true;

const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

/** RETURNING gives rows in no promised order: claims are handed out oldest first. */
export const byRunAt = (a: Job, b: Job): number => a.runAt - b.runAt || (a.id < b.id ? -1 : 1);

export function toProduct(row: Row): CardProduct {
  return {
    id: row.id as string,
    name: row.name as string,
    form: row.form as CardProduct['form'],
    pinIssuancePolicy: row.pin_issuance_policy as CardProduct['pinIssuancePolicy'],
    offlinePin: flag(row.offline_pin),
    pinLength: row.pin_length as number,
    emvProfile: row.emv_profile as CardProduct['emvProfile'],
    allowBearerWidgetTokens: flag(row.allow_bearer_widget_tokens),
    pinTryLimit: row.pin_try_limit as number,
    pinChangeRequiresCurrentPin: flag(row.pin_change_requires_current_pin),
    revealStepUp: row.reveal_step_up as CardProduct['revealStepUp'],
    createdTime: row.created_time as string,
  };
}

export function toCard(row: Row): Card {
  return {
    id: row.id as string,
    accountId: row.account_id as string,
    customerId: row.customer_id as string | null,
    cardProductId: row.card_product_id as string,
    form: row.form as Card['form'],
    sealedPan: {
      ciphertext: row.pan_ciphertext as Buffer,
      iv: row.pan_iv as Buffer,
      tag: row.pan_tag as Buffer,
      keyId: row.pan_key_id as string,
    },
    panSequenceNumber: row.pan_sequence_number as string,
    lastFour: row.last_four as string,
    cardStatus: row.card_status as Card['cardStatus'],
    statusReason: row.status_reason as string | null,
    memo: row.memo as string | null,
    isWaitingForPin: flag(row.is_waiting_for_pin),
    fulfillmentStatus: row.fulfillment_status as Card['fulfillmentStatus'],
    isPinSet: flag(row.is_pin_set),
    timestampPinSet: row.timestamp_pin_set as string | null,
    pinTriesRemaining: row.pin_tries_remaining as number,
    offlinePinEnabled: flag(row.offline_pin_enabled),
    offlinePinInSync: flag(row.offline_pin_in_sync),
    pendingScriptId: row.pending_script_id as string | null,
    createdTime: row.created_time as string,
    lastModifiedTime: row.last_modified_time as string,
  };
}

export function toJob(row: Row): Job {
  return {
    id: row.id as string,
    cardId: row.card_id as string,
    kind: row.kind as Job['kind'],
    runAt: row.run_at as number,
    status: row.status as Job['status'],
    createdTime: row.created_time as string,
    finishedTime: row.finished_time as string | null,
    claimToken: row.claim_token as string | null,
    claimUntil: row.claim_until as number | null,
  };
}

export function toEvent(row: Row): EventRecord {
  return {
    id: row.id as string,
    type: row.type as string,
    createdTime: row.created_time as string,
    data: json<Record<string, unknown>>(row.data),
  };
}

export function toWebhook(row: Row): Webhook {
  return {
    id: row.id as string,
    url: row.url as string,
    enabledEvents: json<string[]>(row.enabled_events),
    isEnabled: flag(row.is_enabled),
    description: row.description as string | null,
    secret: row.secret as string,
    previousSecret: row.previous_secret as string | null,
    previousSecretExpiresAt: row.previous_secret_expires_at as number | null,
    createdTime: row.created_time as string,
    deleted: flag(row.deleted),
  };
}

export function toDelivery(row: Row): Delivery {
  return {
    id: row.id as string,
    eventId: row.event_id as string,
    webhookId: row.webhook_id as string,
    status: row.status as Delivery['status'],
    attemptCount: row.attempt_count as number,
    nextAttemptAt: row.next_attempt_at as number,
    createdTime: row.created_time as string,
    leaseToken: row.lease_token as string | null,
  };
}

export function toAttempt(row: Row): DeliveryAttempt {
  return {
    deliveryId: row.delivery_id as string,
    webhookId: row.webhook_id as string,
    attemptNumber: row.attempt_number as number,
    attemptedTime: row.attempted_time as string,
    statusCode: row.status_code as number | null,
    error: row.error as string | null,
    durationMs: row.duration_ms as number,
    responseBody: row.response_body as string | null,
  };
}

export function toWidgetToken(row: Row): WidgetToken {
  return {
    id: row.id as string,
    tokenHash: row.token_hash as string,
    cardId: row.card_id as string,
    widgetType: row.widget_type as WidgetToken['widgetType'],
    origin: row.origin as string | null,
    jkt: row.jkt as string | null,
    apiKeyId: row.api_key_id as string | null,
    expiresAt: row.expires_at as number,
    consumedAt: row.consumed_at as number | null,
    failures: row.failures as number,
    createdTime: row.created_time as string,
  };
}

export function toStoredPin(row: Row): StoredPin {
  return {
    cardId: row.card_id as string,
    pinBlock: row.pin_block as string,
    keyId: row.key_id as string,
    updatedTime: row.updated_time as string,
  };
}

export function toIssuerScript(row: Row): IssuerScript {
  return {
    id: row.id as string,
    scriptIdentifier: row.script_identifier as string,
    cardId: row.card_id as string,
    scriptType: row.script_type as IssuerScript['scriptType'],
    requestedBy: row.requested_by as IssuerScript['requestedBy'],
    status: row.status as IssuerScript['status'],
    createdTime: row.created_time as string,
    sentTime: row.sent_time as string | null,
    finishedTime: row.finished_time as string | null,
    atc: row.atc as string | null,
    arqc: row.arqc as string | null,
    commandApdu: row.command_apdu as string | null,
    commandApduSha256: row.command_apdu_sha256 as string | null,
    pinVersion: row.pin_version as string | null,
    reason: row.reason as string | null,
  };
}

export function toChipState(row: Row): ChipState {
  return {
    cardId: row.card_id as string,
    atc: row.atc as number,
    offlinePinBlock: row.offline_pin_block as string | null,
    offlinePinKeyId: row.offline_pin_key_id as string | null,
    pinTryCounter: row.pin_try_counter as number,
    pinTryLimit: row.pin_try_limit as number,
    offlinePinOrigin: row.offline_pin_origin as ChipState['offlinePinOrigin'],
    offlinePinScriptIdentifier: row.offline_pin_script_identifier as string | null,
    offlinePinUpdatedTime: row.offline_pin_updated_time as string,
    pendingScriptResults: row.pending_script_results as string,
    lastScriptError: row.last_script_error as string | null,
    createdTime: row.created_time as string,
    updatedTime: row.updated_time as string,
  };
}

export function toPasskey(row: Row): Passkey {
  return {
    id: row.id as string,
    customerId: row.customer_id as string,
    credentialId: row.credential_id as string,
    publicKey: row.public_key as string,
    userHandle: row.user_handle as string,
    counter: Number(row.counter),
    transports: json<string[]>(row.transports),
    deviceType: row.device_type as Passkey['deviceType'],
    backedUp: flag(row.backed_up),
    cardId: row.card_id as string,
    createdTime: row.created_time as string,
    lastUsedTime: row.last_used_time as string | null,
  };
}

export function toWebauthnChallenge(row: Row): WebauthnChallenge {
  return {
    challenge: row.challenge as string,
    tokenId: row.token_id as string,
    purpose: row.purpose as WebauthnChallenge['purpose'],
    userHandle: row.user_handle as string | null,
    expiresAt: Number(row.expires_at),
    usedAt: row.used_at === null ? null : Number(row.used_at),
  };
}

export function toApiKey(row: Row): ApiKeyRecord {
  return {
    id: row.id as string,
    name: row.name as string,
    keyHash: row.key_hash as string,
    scopes: json<string[]>(row.scopes),
    createdTime: row.created_time as string,
    revokedTime: row.revoked_time as string | null,
  };
}

export function toAccountTokenKey(row: Row): AccountTokenKey {
  return {
    kid: row.kid as string,
    secret: row.secret as string,
    createdAt: row.created_at as number,
    retiresAt: row.retires_at as number | null,
  };
}

export const ISSUER_SCRIPT_COLUMNS: Record<keyof IssuerScriptPatch, string> = {
  status: 'status',
  sentTime: 'sent_time',
  finishedTime: 'finished_time',
  atc: 'atc',
  arqc: 'arqc',
  commandApdu: 'command_apdu',
  commandApduSha256: 'command_apdu_sha256',
  pinVersion: 'pin_version',
  reason: 'reason',
};

export const CARD_COLUMNS: Record<keyof CardPatch, string> = {
  cardStatus: 'card_status',
  statusReason: 'status_reason',
  memo: 'memo',
  isWaitingForPin: 'is_waiting_for_pin',
  fulfillmentStatus: 'fulfillment_status',
  isPinSet: 'is_pin_set',
  timestampPinSet: 'timestamp_pin_set',
  pinTriesRemaining: 'pin_tries_remaining',
  offlinePinInSync: 'offline_pin_in_sync',
  pendingScriptId: 'pending_script_id',
};

/** The columns of a new `card_products` row. */
export function productColumns(p: CardProduct): Row {
  return {
    id: p.id,
    name: p.name,
    form: p.form,
    pin_issuance_policy: p.pinIssuancePolicy,
    offline_pin: p.offlinePin,
    pin_length: p.pinLength,
    emv_profile: p.emvProfile,
    allow_bearer_widget_tokens: p.allowBearerWidgetTokens,
    pin_try_limit: p.pinTryLimit,
    pin_change_requires_current_pin: p.pinChangeRequiresCurrentPin,
    reveal_step_up: p.revealStepUp,
    created_time: p.createdTime,
  };
}

/** The columns of a new `cards` row. */
export function cardColumns(c: Card, panHash: string): Row {
  return {
    id: c.id,
    account_id: c.accountId,
    customer_id: c.customerId,
    card_product_id: c.cardProductId,
    form: c.form,
    pan_ciphertext: c.sealedPan.ciphertext,
    pan_iv: c.sealedPan.iv,
    pan_tag: c.sealedPan.tag,
    pan_key_id: c.sealedPan.keyId,
    pan_hash: panHash,
    pan_sequence_number: c.panSequenceNumber,
    last_four: c.lastFour,
    card_status: c.cardStatus,
    status_reason: c.statusReason,
    memo: c.memo,
    is_waiting_for_pin: c.isWaitingForPin,
    fulfillment_status: c.fulfillmentStatus,
    is_pin_set: c.isPinSet,
    timestamp_pin_set: c.timestampPinSet,
    pin_tries_remaining: c.pinTriesRemaining,
    offline_pin_enabled: c.offlinePinEnabled,
    offline_pin_in_sync: c.offlinePinInSync,
    pending_script_id: c.pendingScriptId,
    created_time: c.createdTime,
    last_modified_time: c.lastModifiedTime,
  };
}

/** The columns of a new `jobs` row. */
export function jobColumns(j: Job): Row {
  return {
    id: j.id,
    card_id: j.cardId,
    kind: j.kind,
    run_at: j.runAt,
    status: j.status,
    created_time: j.createdTime,
    finished_time: j.finishedTime,
    claim_token: j.claimToken,
    claim_until: j.claimUntil,
  };
}

/** The columns of a new `events` row. */
export function eventColumns(e: EventRecord): Row {
  return {
    id: e.id,
    type: e.type,
    created_time: e.createdTime,
    data: JSON.stringify(e.data),
  };
}

/** The columns of a new `webhooks` row. */
export function webhookColumns(w: Webhook): Row {
  return {
    id: w.id,
    url: w.url,
    enabled_events: JSON.stringify(w.enabledEvents),
    is_enabled: w.isEnabled,
    description: w.description,
    secret: w.secret,
    previous_secret: w.previousSecret,
    previous_secret_expires_at: w.previousSecretExpiresAt,
    created_time: w.createdTime,
    deleted: w.deleted,
  };
}

/** The columns of a new `deliveries` row. */
export function deliveryColumns(d: Delivery): Row {
  return {
    id: d.id,
    event_id: d.eventId,
    webhook_id: d.webhookId,
    status: d.status,
    attempt_count: d.attemptCount,
    next_attempt_at: d.nextAttemptAt,
    created_time: d.createdTime,
    lease_token: d.leaseToken,
  };
}

/** The columns of a new `widget_tokens` row. */
export function widgetTokenColumns(t: WidgetToken): Row {
  return {
    id: t.id,
    token_hash: t.tokenHash,
    card_id: t.cardId,
    widget_type: t.widgetType,
    origin: t.origin,
    jkt: t.jkt,
    api_key_id: t.apiKeyId,
    expires_at: t.expiresAt,
    consumed_at: t.consumedAt,
    failures: t.failures,
    created_time: t.createdTime,
  };
}

/** The columns of a new `pin_reveals` row. */
export function pinRevealColumns(r: PinReveal): Row {
  return {
    id: r.id,
    card_id: r.cardId,
    account_id: r.accountId,
    token_id: r.tokenId,
    origin: r.origin,
    revealed_at: r.revealedAt,
  };
}

/** The columns of a new `issuer_scripts` row. */
export function issuerScriptColumns(x: IssuerScript): Row {
  return {
    id: x.id,
    script_identifier: x.scriptIdentifier,
    card_id: x.cardId,
    script_type: x.scriptType,
    requested_by: x.requestedBy,
    status: x.status,
    created_time: x.createdTime,
    sent_time: x.sentTime,
    finished_time: x.finishedTime,
    atc: x.atc,
    arqc: x.arqc,
    command_apdu: x.commandApdu,
    command_apdu_sha256: x.commandApduSha256,
    pin_version: x.pinVersion,
    reason: x.reason,
  };
}

/** The columns of a `virtual_chips` row (an upsert: `created_time` is kept on update). */
export function chipStateColumns(c: ChipState): Row {
  return {
    card_id: c.cardId,
    atc: c.atc,
    offline_pin_block: c.offlinePinBlock,
    offline_pin_key_id: c.offlinePinKeyId,
    pin_try_counter: c.pinTryCounter,
    pin_try_limit: c.pinTryLimit,
    offline_pin_origin: c.offlinePinOrigin,
    offline_pin_script_identifier: c.offlinePinScriptIdentifier,
    offline_pin_updated_time: c.offlinePinUpdatedTime,
    pending_script_results: c.pendingScriptResults,
    last_script_error: c.lastScriptError,
    created_time: c.createdTime,
    updated_time: c.updatedTime,
  };
}

/**
 * `INSERT … ON CONFLICT (key) DO UPDATE` of every column but the key and `created_time`, the
 * same SQL on both backends; `placeholder(i)` is the driver's parameter (`?` or `$i`).
 */
export function upsertSql(
  table: string,
  row: Row,
  key: string,
  placeholder: (index: number) => string,
): string {
  const columns = Object.keys(row);
  const updates = columns
    .filter((column) => column !== key && column !== 'created_time')
    .map((column) => `${column} = excluded.${column}`);
  return `INSERT INTO ${table} (${columns.join(', ')})
    VALUES (${columns.map((_, index) => placeholder(index + 1)).join(', ')})
    ON CONFLICT (${key}) DO UPDATE SET ${updates.join(', ')}`;
}

/** The columns of a new `passkeys` row. */
export function passkeyColumns(p: Passkey): Row {
  return {
    id: p.id,
    customer_id: p.customerId,
    credential_id: p.credentialId,
    public_key: p.publicKey,
    user_handle: p.userHandle,
    counter: p.counter,
    transports: JSON.stringify(p.transports),
    device_type: p.deviceType,
    backed_up: p.backedUp,
    card_id: p.cardId,
    created_time: p.createdTime,
    last_used_time: p.lastUsedTime,
  };
}

/** The columns of a new `webauthn_challenges` row. */
export function webauthnChallengeColumns(c: WebauthnChallenge): Row {
  return {
    challenge: c.challenge,
    token_id: c.tokenId,
    purpose: c.purpose,
    user_handle: c.userHandle,
    expires_at: c.expiresAt,
    used_at: c.usedAt,
  };
}

/** The columns of a new `api_keys` row. */
export function apiKeyColumns(k: ApiKeyRecord): Row {
  return {
    id: k.id,
    name: k.name,
    key_hash: k.keyHash,
    scopes: JSON.stringify(k.scopes),
    created_time: k.createdTime,
    revoked_time: k.revokedTime,
  };
}

/** The columns of a new `account_token_keys` row. */
export function accountTokenKeyColumns(k: AccountTokenKey): Row {
  return {
    kid: k.kid,
    secret: k.secret,
    created_at: k.createdAt,
    retires_at: k.retiresAt,
  };
}
