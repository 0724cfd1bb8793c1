/**
 * The storage boundary. Domain code sees only these records and the `Store` interface;
 * `sqlite/` (the embedded default) and `postgres/` implement it. The contract both keep
 * (isolation, which reads lock, claims and leases) is docs/store.md; the conformance suite
 * (`store/conformance.test.ts`) holds both to it.
 */

export type CardForm = 'PHYSICAL' | 'VIRTUAL';
export type RevealStepUp = 'NONE' | 'PASSKEY';
export type PinIssuancePolicy = 'NOT_REQUIRED' | 'RANDOM' | 'REQUIRED';
export type EmvProfile = 'EMV_CCD' | 'MASTERCARD' | 'VISA';
export type CardStatus = 'PENDING' | 'UNACTIVATED' | 'ACTIVE' | 'SUSPENDED' | 'TERMINATED';
export type FulfillmentStatus = 'ORDERED' | 'ISSUED' | 'SHIPPED' | 'DIGITALLY_PRESENTED';

export interface CardProduct {
  id: string;
  name: string;
  form: CardForm;
  pinIssuancePolicy: PinIssuancePolicy | null;
  offlinePin: boolean;
  pinLength: number;
  emvProfile: EmvProfile;
  /** The weaker compatibility mode: widget tokens without `jkt` may be minted (README “PINs”). */
  allowBearerWidgetTokens: boolean;
  /** Wrong PINs in a row before the PIN blocks (1–10); also the chip's PIN Try Limit. */
  pinTryLimit: number;
  /** A PIN change through the widget needs the current PIN (docs/point-of-sale.md). */
  pinChangeRequiresCurrentPin: boolean;
  /** PASSKEY: a reveal needs the cardholder's passkey assertion (docs/step-up.md). */
  revealStepUp: RevealStepUp;
  createdTime: string;
}

export interface Card {
  id: string;
  accountId: string;
  customerId: string | null;
  cardProductId: string;
  form: CardForm;
  /** The PAN, enciphered: read it with `PanReader.panOf` in the step that needs it. */
  sealedPan: SealedPan;
  panSequenceNumber: string;
  lastFour: string;
  cardStatus: CardStatus;
  statusReason: string | null;
  memo: string | null;
  isWaitingForPin: boolean;
  fulfillmentStatus: FulfillmentStatus;
  isPinSet: boolean;
  timestampPinSet: string | null;
  /** Online PIN tries left; 0 = the PIN is BLOCKED (docs/point-of-sale.md). */
  pinTriesRemaining: number;
  offlinePinEnabled: boolean;
  offlinePinInSync: boolean;
  pendingScriptId: string | null;
  createdTime: string;
  lastModifiedTime: string;
}

/** A PAN at rest: AES-256-GCM (the card id as additional data) under the key `keyId`. */
export interface SealedPan {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  keyId: string;
}

/** The mutable part of a card: what a state change may patch. */
export type CardPatch = Partial<
  Pick<
    Card,
    | 'cardStatus'
    | 'statusReason'
    | 'memo'
    | 'isWaitingForPin'
    | 'fulfillmentStatus'
    | 'isPinSet'
    | 'timestampPinSet'
    | 'pinTriesRemaining'
    | 'offlinePinInSync'
    | 'pendingScriptId'
  >
>;

export type JobKind = 'COMPLETE_ISSUANCE' | 'ISSUE_CARD' | 'SHIP_CARD';
export type JobStatus = 'PENDING' | 'DONE' | 'SKIPPED';

export interface Job {
  id: string;
  cardId: string;
  kind: JobKind;
  runAt: number;
  status: JobStatus;
  createdTime: string;
  finishedTime: string | null;
  /** The token of the claim that holds it, and until when (ms); null when unclaimed. */
  claimToken: string | null;
  claimUntil: number | null;
}

export interface EventRecord {
  id: string;
  type: string;
  createdTime: string;
  data: Record<string, unknown>;
}

export interface Webhook {
  id: string;
  url: string;
  enabledEvents: string[];
  isEnabled: boolean;
  description: string | null;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  createdTime: string;
  deleted: boolean;
}

export type DeliveryStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

export interface Delivery {
  id: string;
  eventId: string;
  webhookId: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: number;
  createdTime: string;
  /**
   * The token of the lease under which an attempt is under way (its expiry is `nextAttemptAt`),
   * null when none is: only the holder of this token may record the attempt's outcome.
   */
  leaseToken: string | null;
}

/** A claim or lease request: who claims (a fresh random token per claim) and until when. */
export interface Lease {
  token: string;
  now: number;
  until: number;
}

export interface DeliveryAttempt {
  deliveryId: string;
  webhookId: string;
  attemptNumber: number;
  attemptedTime: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  responseBody: string | null;
}

export type WidgetType = 'SET_PIN' | 'REVEAL_PIN' | 'ENROLL_PASSKEY';

export interface WidgetToken {
  id: string;
  /** SHA-256 of the token, hex: the token itself is never stored. */
  tokenHash: string;
  cardId: string;
  widgetType: WidgetType;
  origin: string | null;
  /** RFC 7638 thumbprint of the key a DPoP proof must be signed with, when sender-constrained. */
  jkt: string | null;
  /** The API key that minted it (audit); null for tokens minted before keys had ids. */
  apiKeyId: string | null;
  expiresAt: number;
  consumedAt: number | null;
  failures: number;
  createdTime: string;
}

/** A card's PIN at rest: an enciphered ISO 9564-1 format 4 block and the id of its key. */
export interface StoredPin {
  cardId: string;
  pinBlock: string;
  keyId: string;
  updatedTime: string;
}

export type IssuerScriptType = 'SYNC_PIN' | 'UNBLOCK_PIN';

/** Where a card's offline-PIN script stands (README “Offline PIN”): CREATED → SENT → APPLIED | FAILED, or CANCELED. */
export type IssuerScriptStatus = 'CREATED' | 'SENT' | 'APPLIED' | 'FAILED' | 'CANCELED';

/**
 * An EMV issuer script for a card. The command is built when it is sent (it needs that
 * authorization's ATC and ARQC), from the PIN current then; the row never holds a clear PIN.
 */
export interface IssuerScript {
  /** The API id (`scr_…`), `card_script_id` in events and `pending_script_id` on the card. */
  id: string;
  /** The 4-byte Script Identifier (tag 9F18), 8 upper-case hex digits, unique per card. */
  scriptIdentifier: string;
  cardId: string;
  /** SYNC_PIN: PIN CHANGE (P2 = 02) carrying the online PIN; UNBLOCK_PIN: P2 = 00, no data. */
  scriptType: IssuerScriptType;
  /** What asked for it: the sync endpoint, a PIN set with `sync_offline_pin`, or an unblock. */
  requestedBy: 'SYNC_ENDPOINT' | 'PIN_SET' | 'PIN_UNBLOCK';
  status: IssuerScriptStatus;
  createdTime: string;
  sentTime: string | null;
  finishedTime: string | null;
  /** ATC (9F36) and ARQC (9F26) of the authorization that carried it, hex. */
  atc: string | null;
  arqc: string | null;
  /**
   * `84 24 00 02 Lc ‖ enciphered PIN block ‖ MAC`, hex: no clear PIN. Kept only while the
   * script is SENT; once settled it is null and only its hash remains.
   */
  commandApdu: string | null;
  /** SHA-256 of the command APDU (hex), kept when the script settles and the APDU is erased. */
  commandApduSha256: string | null;
  /** `updated_time` of the stored PIN the command carries: tells whether it is still current. */
  pinVersion: string | null;
  reason: string | null;
}

export type IssuerScriptPatch = Partial<
  Pick<
    IssuerScript,
    | 'status'
    | 'sentTime'
    | 'finishedTime'
    | 'atc'
    | 'arqc'
    | 'commandApdu'
    | 'commandApduSha256'
    | 'pinVersion'
    | 'reason'
  >
>;

/**
 * The card side of the simulation: one virtual chip per physical card, personalized when the
 * card is issued. It keeps its own offline PIN, enciphered under the chip's key, and its PIN Try
 * Counter (docs/point-of-sale.md).
 */
export interface ChipState {
  cardId: string;
  /** The last Application Transaction Counter the chip used (0 = none yet). */
  atc: number;
  /** The chip's reference PIN: ISO 9564 format 4 with the PAN under `CHIP_PIN_KEY`, hex. */
  offlinePinBlock: string | null;
  offlinePinKeyId: string | null;
  /** PIN Try Counter (tries left) and PIN Try Limit (EMV tags 9F17 and the personalized limit). */
  pinTryCounter: number;
  pinTryLimit: number;
  /** Where the chip's offline PIN came from: personalization, or the script it last applied. */
  offlinePinOrigin: 'PERSONALIZATION' | 'ISSUER_SCRIPT';
  offlinePinScriptIdentifier: string | null;
  offlinePinUpdatedTime: string;
  /** Issuer Script Results (9F5B value, hex, 5 bytes a script) for the next authorization. */
  pendingScriptResults: string;
  /** Why the last script failed on the chip (BAD_MAC, …): the chip reports only "failed". */
  lastScriptError: string | null;
  createdTime: string;
  updatedTime: string;
}

/** An API key as stored: only the SHA-256 of the key, never the key itself. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** Hex SHA-256 of the key (the key has ≥ 256 random bits, so no salt or slow hash is needed). */
  keyHash: string;
  scopes: string[];
  createdTime: string;
  revokedTime: string | null;
}

/** An HS256 signing key of account tokens; `retiresAt` null for the current one. */
export interface AccountTokenKey {
  kid: string;
  /** The 256-bit key, base64url. */
  secret: string;
  createdAt: number;
  retiresAt: number | null;
}

/** A cardholder's passkey (WebAuthn credential) for reveal step-up, kept per customer. */
export interface Passkey {
  /** The API id (`pk_…`). */
  id: string;
  customerId: string;
  /** The credential id the authenticator names in every assertion, base64url. */
  credentialId: string;
  /** The credential's COSE public key, base64url. */
  publicKey: string;
  /** The WebAuthn user handle, base64url: one random value per customer. */
  userHandle: string;
  /** The signature counter last seen (0 for authenticators that keep none). */
  counter: number;
  transports: string[];
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  /** The card whose enrollment widget registered it (audit). */
  cardId: string;
  createdTime: string;
  lastUsedTime: string | null;
}

/** A WebAuthn challenge: one ceremony, bound to the widget token that asked for it. */
export interface WebauthnChallenge {
  /** base64url, 32 random bytes. */
  challenge: string;
  tokenId: string;
  purpose: 'REGISTRATION' | 'AUTHENTICATION';
  /** REGISTRATION: the user handle the options gave the authenticator (base64url). */
  userHandle: string | null;
  expiresAt: number;
  usedAt: number | null;
}

export interface PinReveal {
  id: string;
  cardId: string;
  accountId: string;
  tokenId: string;
  origin: string | null;
  revealedAt: number;
}

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

export interface PageQuery {
  limit: number;
  startingAfter?: string | undefined;
}

export interface CardFilter extends PageQuery {
  accountId?: string | undefined;
  cardStatus?: CardStatus | undefined;
}

/** The card side of the simulation (simulation/): its own table, apart from the issuer's. */
export interface SimulationRepositories {
  getChipState(cardId: string): Promise<ChipState | undefined>;
  upsertChipState(chip: ChipState): Promise<void>;
  /** Chips whose offline PIN is under another key than `keyId` (key rotation), by card id. */
  chipsWithPinNotUnderKey(keyId: string, limit: number): Promise<ChipState[]>;
}

export interface Repositories extends SimulationRepositories {
  insertProduct(product: CardProduct): Promise<void>;
  getProduct(id: string): Promise<CardProduct | undefined>;
  listProducts(query: PageQuery): Promise<Page<CardProduct>>;

  /** Fails with a UNIQUE constraint error when `panHash` is already a card's. */
  insertCard(card: Card, panHash: string): Promise<void>;
  getCard(id: string): Promise<Card | undefined>;
  /**
   * Inside a transaction: reads the card and locks its row until commit (PostgreSQL
   * `SELECT … FOR UPDATE`; SQLite's transactions already run one at a time). Every card change,
   * and everything decided per card (its PIN, scripts, reveals, chip), reads the card this way
   * first, so two of them for one card never interleave.
   */
  lockCard(id: string): Promise<Card | undefined>;
  /**
   * Inside a transaction: serializes every transaction that takes the same `scope` until commit,
   * for a decision on rows that no single row stands for (an account's or the platform's reveal
   * quota). PostgreSQL: a transaction-level advisory lock; SQLite: nothing more is needed.
   */
  lockScope(scope: string): Promise<void>;
  /** Whether a card already has this keyed PAN hash (duplicate PAN). */
  panHashUsed(panHash: string): Promise<boolean>;
  /** Cards whose PAN is enciphered under another key than `keyId` (rotation). */
  cardsWithPanNotUnderKey(keyId: string, limit: number): Promise<Card[]>;
  /** Replaces a card's enciphered PAN (rotation, legacy migration); `panHash` too when given. */
  updateCardPan(cardId: string, sealed: SealedPan, panHash?: string | null): Promise<void>;
  /** Clear PANs moved aside by migration 5, waiting to be enciphered at start. */
  legacyPans(limit: number): Promise<{ cardId: string; pan: string }[]>;
  deleteLegacyPan(cardId: string): Promise<void>;
  updateCard(id: string, patch: CardPatch, modifiedTime: string): Promise<void>;
  listCards(filter: CardFilter): Promise<Page<Card>>;

  insertJob(job: Job): Promise<void>;
  /**
   * Claims up to `limit` pending jobs whose time has come and which no live claim holds, oldest
   * first, for `lease.token` until `lease.until`; rows another transaction is claiming are
   * skipped (PostgreSQL `FOR UPDATE SKIP LOCKED`), never waited for.
   */
  claimDueJobs(lease: Lease, limit: number): Promise<Job[]>;
  /** Claims a card's pending jobs whatever their time (the simulation's `advance`). */
  claimCardJobs(cardId: string, lease: Lease): Promise<Job[]>;
  /**
   * Marks a pending job finished, only under the claim `token` that still holds it; false when
   * it is finished already or another claim took it over (this worker's claim ran out).
   */
  finishJob(id: string, token: string, status: 'DONE' | 'SKIPPED', time: string): Promise<boolean>;

  insertEvent(event: EventRecord): Promise<void>;
  getEvent(id: string): Promise<EventRecord | undefined>;
  listEvents(query: PageQuery & { type?: string | undefined }): Promise<Page<EventRecord>>;

  insertWebhook(webhook: Webhook): Promise<void>;
  getWebhook(id: string): Promise<Webhook | undefined>;
  listWebhooks(query: PageQuery): Promise<Page<Webhook>>;
  enabledWebhooks(): Promise<Webhook[]>;
  updateWebhook(webhook: Webhook): Promise<void>;

  insertDelivery(delivery: Delivery): Promise<void>;
  deliveriesForEvent(eventId: string): Promise<Delivery[]>;
  /**
   * Leases up to `limit` pending deliveries that are due, oldest first: each gets
   * `lease.token`, and its next attempt moves to `lease.until`, so a worker that dies mid-send
   * leaves it due again when the lease runs out (at least once). Rows being leased by another
   * transaction are skipped, never waited for.
   */
  leaseDueDeliveries(lease: Lease, limit: number): Promise<Delivery[]>;
  /**
   * Records an attempt's outcome and clears the lease, only while `token` still holds it; false
   * (and nothing written) when the lease ran out and another worker leased the delivery since.
   */
  finishDeliveryAttempt(
    id: string,
    token: string,
    patch: Pick<Delivery, 'status' | 'attemptCount' | 'nextAttemptAt'>,
    attempt: Omit<DeliveryAttempt, 'deliveryId' | 'webhookId'>,
  ): Promise<boolean>;
  attemptsForEvent(eventId: string): Promise<DeliveryAttempt[]>;

  insertWidgetToken(token: WidgetToken): Promise<void>;
  getWidgetTokenByHash(tokenHash: string): Promise<WidgetToken | undefined>;
  /** Consumes an unconsumed token; false when it was already used (single use, atomic). */
  consumeWidgetToken(id: string, now: number): Promise<boolean>;
  /** Counts a failed use; returns the failures so far. */
  recordWidgetTokenFailure(id: string): Promise<number>;

  upsertPin(pin: StoredPin): Promise<void>;
  getPin(cardId: string): Promise<StoredPin | undefined>;
  pinsNotUnderKey(keyId: string, limit: number): Promise<StoredPin[]>;

  insertPasskey(passkey: Passkey): Promise<void>;
  /** A customer's passkeys, oldest first. */
  listPasskeys(customerId: string): Promise<Passkey[]>;
  getPasskeyByCredentialId(credentialId: string): Promise<Passkey | undefined>;
  /** After a verified assertion: the counter it reported, and when. */
  recordPasskeyUse(id: string, counter: number, time: string): Promise<void>;
  /** Removes a customer's passkeys (one, with `id`); returns the removed ones. */
  deletePasskeys(customerId: string, id?: string): Promise<Passkey[]>;

  insertWebauthnChallenge(challenge: WebauthnChallenge): Promise<void>;
  /**
   * Uses up a challenge and returns it: only for the first use, by the token it was issued to,
   * for its purpose, before it expires; otherwise undefined.
   */
  consumeWebauthnChallenge(
    challenge: string,
    tokenId: string,
    purpose: WebauthnChallenge['purpose'],
    now: number,
  ): Promise<WebauthnChallenge | undefined>;

  insertPinReveal(reveal: PinReveal): Promise<void>;
  /** Reveal times for a card since `since`, oldest first (rate limit and audit). */
  pinRevealTimes(cardId: string, since: number): Promise<number[]>;
  /**
   * Reveals since `since` for one account, or for the whole platform without one: how many, and
   * when there are `limit` or more, the time of the one that must age out before another is
   * allowed. Counted on an index (`pin_reveals_by_time`, `…_by_account`): the count walks the
   * window's index entries, so it costs in proportion to the reveals in the window (the bench's
   * reveal rows show it; docs/performance.md).
   */
  revealWindow(
    since: number,
    limit: number,
    accountId?: string,
  ): Promise<{ count: number; agesOut: number | null }>;

  /** Remembers a DPoP proof id until `expiresAt`; false when it was seen before (replay). */
  rememberProofId(jti: string, expiresAt: number, now: number): Promise<boolean>;

  insertIssuerScript(script: IssuerScript): Promise<void>;
  getIssuerScript(id: string): Promise<IssuerScript | undefined>;
  /** A card's scripts still CREATED or SENT, oldest first. */
  openIssuerScripts(cardId: string): Promise<IssuerScript[]>;
  /** Whether the card already has a script with this 9F18 identifier (any status). */
  issuerScriptIdentifierUsed(cardId: string, scriptIdentifier: string): Promise<boolean>;
  updateIssuerScript(id: string, patch: IssuerScriptPatch): Promise<void>;

  insertApiKey(key: ApiKeyRecord): Promise<void>;
  getApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** Every key, revoked ones included, oldest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Revokes a key not revoked yet; false when there is no such key or it was revoked before. */
  revokeApiKey(id: string, time: string): Promise<boolean>;

  insertAccountTokenKey(key: AccountTokenKey): Promise<void>;
  /** The keys that still verify at `now` (current first, then newest retired). */
  accountTokenKeys(now: number): Promise<AccountTokenKey[]>;
  /** Gives the current key a retirement time, so a new one can become current. */
  retireCurrentAccountTokenKey(retiresAt: number): Promise<void>;
  /** Deletes keys retired at or before `now`. */
  deleteRetiredAccountTokenKeys(now: number): Promise<void>;
}

export interface Store {
  /** Which backend: `sqlite` (one file in DATA_DIR) or `postgres` (DATABASE_URL). */
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Reads outside a transaction see the last committed state, and lock nothing: what they
   * return may change before a transaction acts on it (decide again inside, after `lockCard`).
   */
  readonly read: Repositories;
  /**
   * Runs `work` atomically: all of its writes commit together, or none do. Isolation is READ
   * COMMITTED or stronger (SQLite: serializable, one transaction at a time); a decision that
   * depends on what it read takes the locks above first. A transaction that loses a deadlock or
   * serialization race, or once a unique-constraint race (another transaction inserted the same
   * key after this one checked), is retried from the start: `work` must only touch the database.
   */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  /** SQLite: moves the journal into the main file and empties it, so erased data is in neither. */
  checkpoint(): Promise<void>;
  /** Whether the database answers (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
