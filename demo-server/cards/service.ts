import { randomUUID } from 'node:crypto';
import { ApiError, notFound } from '../http/errors.js';
import { newId, timeOfId } from '../lib/ids.js';
import type {
  Card,
  CardFilter,
  CardPatch,
  CardProduct,
  CardStatus,
  EmvProfile,
  Job,
  JobKind,
  Page,
  PageQuery,
  PinIssuancePolicy,
  Repositories,
  RevealStepUp,
  Store,
} from '../store/types.js';
import type { PinRecords } from '../pins/records.js';
import { emitEvent } from '../webhooks/events.js';
import { generatePan, isLuhnValid } from './pan.js';
import type { PanReader, PanVault } from './pan-vault.js';
import { cardResource, changedFields } from './resources.js';
import { type CardEvent, decide, initialState } from './state-machine.js';

export interface NewProduct {
  name: string;
  form: 'PHYSICAL' | 'VIRTUAL';
  pin_issuance_policy?: PinIssuancePolicy;
  offline_pin?: boolean;
  pin_length?: number;
  emv_profile?: EmvProfile;
  allow_bearer_widget_tokens?: boolean;
  pin_try_limit?: number;
  pin_change_requires_current_pin?: boolean;
  reveal_step_up?: RevealStepUp;
}

export interface NewCard {
  card_product_id: string;
  account_id: string;
  customer_id?: string;
  pan?: string;
  pan_sequence_number?: string;
}

/** What `CardService.change` did: the card after it, or that the state machine refused. */
export interface CardChange {
  allowed: boolean;
  /** The card as it is now: changed, or as the refusal found it. */
  card: Card;
}

/**
 * Writes a new card's chip when the card is issued (the personalization bureau's part): the
 * simulation's virtual chip takes the card's PIN then (simulation/virtual-chip.ts).
 */
export interface ChipPersonalizer {
  personalize(tx: Repositories, card: Card, product: CardProduct, now: number): Promise<void>;
}

/** Claimed jobs one instance runs at once. */
const JOB_CONCURRENCY = 8;

/** How long a worker's claim on a due job lasts before another instance may take it over. */
const JOB_CLAIM_MS = 10_000;

/** A job whose claim another worker took over: its transaction rolls back, having done nothing. */
class ClaimLost extends Error {}

export interface CardServiceOptions {
  issuanceDelayMs: number;
  /** DEMO_MODE: caller-chosen PANs are allowed (tests and demos). */
  demoMode: boolean;
}

/** Products kept in memory at most; past it the cache starts again (products are few). */
const PRODUCT_CACHE_SIZE = 10_000;

/**
 * The card core: card products, cards, and the one entry point through which every change to a
 * card goes (`change`). The state machine (state-machine.ts) decides; this writes.
 */
export class CardService implements PanReader {
  constructor(
    private readonly store: Store,
    private readonly options: CardServiceOptions,
    private readonly pans: PanVault,
    /** RANDOM issuance stores the card's PIN in the issuance transaction. */
    private readonly pins: PinRecords,
    /** Issuing an offline-PIN card personalizes its simulated chip (DEMO_MODE only). */
    private readonly chips: ChipPersonalizer | undefined,
  ) {}

  /** Committed products by id (they never change): see `getProduct`. */
  private readonly products = new Map<string, CardProduct>();

  get currentPanKeyId(): string {
    return this.pans.currentKeyId;
  }

  /** The card's PAN in clear, for the step that needs it (PIN blocks, EMV keys, the chip). */
  panOf(card: Pick<Card, 'id' | 'sealedPan'>): string {
    return this.pans.panOf(card);
  }

  async createProduct(input: NewProduct): Promise<CardProduct> {
    if (input.form === 'VIRTUAL') {
      const field = (
        [
          'pin_issuance_policy',
          'pin_try_limit',
          'pin_change_requires_current_pin',
          'reveal_step_up',
        ] as const
      ).find((name) => input[name] !== undefined);
      if (field) {
        throw new ApiError(
          'VIRTUAL_PRODUCT_HAS_NO_PIN_POLICY',
          `A VIRTUAL product has no PIN: remove ${field}`,
          field,
        );
      }
    }
    if (input.offline_pin === true) {
      if (input.form === 'VIRTUAL') {
        throw new ApiError(
          'OFFLINE_PIN_REQUIRES_PIN_POLICY',
          'Offline PIN needs a physical card with a chip: VIRTUAL products cannot have offline_pin',
          'offline_pin',
        );
      }
      if ((input.pin_issuance_policy ?? 'NOT_REQUIRED') === 'NOT_REQUIRED') {
        throw new ApiError(
          'OFFLINE_PIN_REQUIRES_PIN_POLICY',
          'offline_pin requires pin_issuance_policy RANDOM or REQUIRED',
          'offline_pin',
        );
      }
    }
    const now = Date.now();
    const product: CardProduct = {
      id: newId('cp', now),
      name: input.name,
      form: input.form,
      pinIssuancePolicy:
        input.form === 'VIRTUAL' ? null : (input.pin_issuance_policy ?? 'NOT_REQUIRED'),
      offlinePin: input.offline_pin ?? false,
      pinLength: input.pin_length ?? 4,
      emvProfile: input.emv_profile ?? 'EMV_CCD',
      allowBearerWidgetTokens: input.allow_bearer_widget_tokens ?? false,
      pinTryLimit: input.pin_try_limit ?? 3,
      pinChangeRequiresCurrentPin: input.pin_change_requires_current_pin ?? false,
      revealStepUp: input.reveal_step_up ?? 'NONE',
      createdTime: new Date(now).toISOString(),
    };
    await this.store.transaction((tx) => tx.insertProduct(product));
    return product;
  }

  /**
   * A product, committed. Products never change once created (no route or statement updates
   * or deletes one), so each is read from the store once per process: every instance sees the
   * same row for as long as it runs (docs/performance.md).
   */
  async getProduct(id: string): Promise<CardProduct> {
    const cached = this.products.get(id);
    if (cached) return cached;
    const product = await this.store.read.getProduct(id);
    if (!product) throw notFound('card product', id);
    if (this.products.size >= PRODUCT_CACHE_SIZE) this.products.clear();
    this.products.set(id, product);
    return product;
  }

  listProducts(query: PageQuery): Promise<Page<CardProduct>> {
    return this.store.read.listProducts(query);
  }

  async createCard(input: NewCard): Promise<Card> {
    if (!this.options.demoMode && (input.pan !== undefined || input.pan_sequence_number)) {
      throw new ApiError(
        'TEST_ONLY_FIELD',
        'pan and pan_sequence_number are for tests and demos only (DEMO_MODE=1)',
        input.pan !== undefined ? 'pan' : 'pan_sequence_number',
      );
    }
    if (input.pan !== undefined && !isLuhnValid(input.pan)) {
      throw new ApiError(
        'INVALID_FIELD',
        'pan must be 12 to 19 digits with a valid Luhn check digit',
        'pan',
      );
    }
    const now = Date.now();
    const time = new Date(now).toISOString();
    return this.store.transaction(async (tx) => {
      const product = await tx.getProduct(input.card_product_id);
      if (!product) {
        throw new ApiError(
          'CARD_PRODUCT_NOT_FOUND',
          `No card product with id "${input.card_product_id}"`,
          'card_product_id',
        );
      }
      const initial = initialState(product);
      const { pan, panHash } = await this.uniquePan(tx, input.pan, product.emvProfile);
      const id = newId('card', now);
      const card: Card = {
        id,
        accountId: input.account_id,
        customerId: input.customer_id ?? null,
        cardProductId: product.id,
        form: product.form,
        sealedPan: this.pans.seal(id, pan),
        panSequenceNumber: input.pan_sequence_number ?? '00',
        lastFour: pan.slice(-4),
        cardStatus: initial.cardStatus,
        statusReason: null,
        memo: null,
        isWaitingForPin: initial.isWaitingForPin,
        fulfillmentStatus: initial.fulfillmentStatus,
        isPinSet: false,
        timestampPinSet: null,
        pinTriesRemaining: product.pinTryLimit,
        offlinePinEnabled: initial.offlinePinEnabled,
        offlinePinInSync: false,
        pendingScriptId: null,
        createdTime: time,
        lastModifiedTime: time,
      };
      await tx.insertCard(card, panHash);
      await this.schedule(tx, card.id, initial.schedule, now);
      await emitEvent(tx, 'CARD.CREATED', { card: cardResource(card) }, now);
      return card;
    });
  }

  /**
   * The PAN of a new card and its keyed hash. A caller-chosen PAN already issued is refused
   * (the UNIQUE hash would refuse it anyway); a generated one that collides is drawn again.
   */
  private async uniquePan(tx: Repositories, chosen: string | undefined, profile: EmvProfile) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const pan = chosen ?? generatePan(profile);
      const panHash = this.pans.hash(pan);
      if (!(await tx.panHashUsed(panHash))) return { pan, panHash };
      if (chosen !== undefined) {
        throw new ApiError('PAN_ALREADY_ISSUED', 'A card with this pan already exists', 'pan');
      }
    }
    throw new Error('No unused PAN after 20 draws: the PAN range is exhausted');
  }

  /** Re-enciphers every PAN not under the current PAN_ENCRYPTION_KEY (key rotation). */
  async reencryptPans(batch = 200): Promise<number> {
    let total = 0;
    for (;;) {
      const count = await this.store.transaction(async (tx) => {
        const stale = await tx.cardsWithPanNotUnderKey(this.pans.currentKeyId, batch);
        for (const card of stale) await tx.updateCardPan(card.id, this.pans.reseal(card));
        return stale.length;
      });
      total += count;
      if (count < batch) return total;
    }
  }

  /**
   * The data half of migration 5, run at start: enciphers each clear PAN it moved aside into
   * its card, erases the clear copy (secure_delete zeroes it) and empties the journal. A legacy
   * duplicate PAN (allowed before) keeps no hash, so it cannot block the first card's.
   */
  async sealLegacyPans(batch = 200): Promise<number> {
    let total = 0;
    for (;;) {
      const count = await this.store.transaction(async (tx) => {
        const legacy = await tx.legacyPans(batch);
        for (const { cardId, pan } of legacy) {
          const panHash = this.pans.hash(pan);
          const unique = !(await tx.panHashUsed(panHash));
          await tx.updateCardPan(cardId, this.pans.seal(cardId, pan), unique ? panHash : null);
          await tx.deleteLegacyPan(cardId);
        }
        return legacy.length;
      });
      total += count;
      if (count < batch) break;
    }
    if (total > 0) await this.store.checkpoint();
    return total;
  }

  async getCard(id: string): Promise<Card> {
    const card = await this.store.read.getCard(id);
    if (!card) throw notFound('card', id);
    return card;
  }

  listCards(filter: CardFilter): Promise<Page<Card>> {
    return this.store.read.listCards(filter);
  }

  /** `PATCH /v1/cards/{id}`: a status change requested by the program, and/or its memo. */
  async updateCard(
    id: string,
    change: { card_status?: CardStatus; reason?: string; memo?: string },
  ): Promise<Card> {
    const now = Date.now();
    return this.store.transaction(async (tx) => {
      let { card } = await this.lock(tx, id);
      if (change.card_status !== undefined && change.card_status !== card.cardStatus) {
        const to = change.card_status;
        const result = await this.change(
          tx,
          id,
          { type: 'STATUS_REQUESTED', to, reason: change.reason ?? null },
          now,
        );
        if (!result.allowed) {
          throw new ApiError(
            'INVALID_STATUS_TRANSITION',
            `A ${card.cardStatus} card cannot become ${to}`,
            'card_status',
            { current_status: card.cardStatus, requested_status: to },
          );
        }
        card = result.card;
      }
      if (change.memo !== undefined && change.memo !== card.memo) {
        card = (await this.change(tx, id, { type: 'MEMO_SET', memo: change.memo }, now)).card;
      }
      return card;
    });
  }

  /**
   * The one entry point for every change to a card (docs/card-core.md). Inside the caller's
   * transaction it locks the card row, runs the pure transition (`decide`), and writes what that
   * decides: a RANDOM card's PIN, the patch, the jobs it schedules, and CARD.UPDATED with the
   * prior values of what changed (whose deliveries join the outbox in the same transaction).
   * A refused event writes nothing; the caller says what a refusal means to its client.
   */
  async change(
    tx: Repositories,
    cardId: string,
    event: CardEvent,
    now: number,
  ): Promise<CardChange> {
    const { card, product } = await this.lock(tx, cardId);
    const outcome = decide(card, product, event);
    if (!outcome.allowed) return { allowed: false, card };
    if (outcome.assignRandomPin) await this.pins.assignRandom(tx, card, product, now);
    await this.schedule(tx, card.id, outcome.schedule, now);
    // Strictly after the card's last change, whichever instance (and clock) made it: a card's
    // CARD.UPDATED events then sort by id in the order they happened (ids are time-ordered).
    const at = Math.max(now, Date.parse(card.lastModifiedTime) + 1);
    const updated = await this.write(tx, card, outcome.patch, at);
    if (outcome.personalizeChip) await this.chips?.personalize(tx, updated, product, now);
    return { allowed: true, card: updated };
  }

  /** Reads a card with its product and locks the card until `tx` ends (Store contract). */
  async lock(tx: Repositories, cardId: string): Promise<{ card: Card; product: CardProduct }> {
    const card = await tx.lockCard(cardId);
    if (!card) throw notFound('card', cardId);
    // A locked card's product is committed (created before the card, never changed): the
    // cache's copy, else the row read in this transaction (not cached: the transaction may
    // have created it and may yet roll back).
    const product =
      this.products.get(card.cardProductId) ?? (await tx.getProduct(card.cardProductId));
    if (!product) throw new Error(`card ${cardId} has no product`);
    return { card, product };
  }

  /** Runs the jobs whose time has come; returns how many it claimed (done or skipped). */
  async runDueJobs(now: number = Date.now(), limit = 200): Promise<number> {
    const lease = { token: randomUUID(), now, until: now + JOB_CLAIM_MS };
    const due = await this.store.transaction((tx) => tx.claimDueJobs(lease, limit));
    // A few at a time: on PostgreSQL each waits on round trips, not on the others (two jobs of
    // one card still take turns on its lock); SQLite's writer queues them all the same.
    let next = 0;
    const worker = async () => {
      while (next < due.length) await this.runJob(due[next++]!, lease.token);
    };
    const ran = await Promise.allSettled(
      Array.from({ length: Math.min(JOB_CONCURRENCY, due.length) }, worker),
    );
    const failed = ran.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    return due.length;
  }

  /** `POST /v1/simulations/cards/{id}/advance`: runs the card's jobs now, and the ones they schedule. */
  async advance(cardId: string): Promise<Card> {
    await this.getCard(cardId);
    // Each job may schedule the next step (issuance → issue → ship); a chain is at most 3 long.
    for (let round = 0; round < 10; round++) {
      const now = Date.now();
      const lease = { token: randomUUID(), now, until: now + JOB_CLAIM_MS };
      const jobs = await this.store.transaction((tx) => tx.claimCardJobs(cardId, lease));
      if (jobs.length === 0) break;
      for (const job of jobs) await this.runJob(job, lease.token);
    }
    return this.getCard(cardId);
  }

  /**
   * Runs one claimed job exactly once in effect: its card change and the job's end (DONE, or
   * SKIPPED when the card's state no longer allows it) commit together, and only while this
   * worker's claim still holds the job; otherwise the transaction rolls back, having done nothing.
   */
  private async runJob(job: Job, token: string): Promise<void> {
    const now = Date.now();
    const time = new Date(now).toISOString();
    try {
      await this.store.transaction(async (tx) => {
        const result = await this.change(
          tx,
          job.cardId,
          { type: 'JOB_DUE', job: job.kind, time },
          now,
        );
        if (!(await tx.finishJob(job.id, token, result.allowed ? 'DONE' : 'SKIPPED', time))) {
          throw new ClaimLost();
        }
      });
    } catch (error) {
      if (!(error instanceof ClaimLost)) throw error;
    }
  }

  /** Writes a patch and, when it changes anything, the CARD.UPDATED event with prior values. */
  private async write(tx: Repositories, card: Card, patch: CardPatch, now: number) {
    const changed = changedFields(card, patch);
    if (Object.keys(changed).length === 0) return card;
    // The event's id is made first, and the card's modification time is the id's own: an id can
    // carry a later millisecond than `now` (ids stay increasing within a process), and the next
    // change to this card must sort after this one (see `change`).
    const eventId = newId('evt', now);
    const at = timeOfId(eventId);
    const time = new Date(at).toISOString();
    await tx.updateCard(card.id, patch, time);
    const updated: Card = { ...card, ...patch, lastModifiedTime: time };
    await emitEvent(
      tx,
      'CARD.UPDATED',
      { card: cardResource(updated), changed_fields: changed },
      at,
      eventId,
    );
    return updated;
  }

  /** Schedules each job `ISSUANCE_DELAY_MS` from now. */
  private async schedule(tx: Repositories, cardId: string, kinds: JobKind[], now: number) {
    for (const kind of kinds) {
      await tx.insertJob({
        id: newId('job', now),
        cardId,
        kind,
        runAt: now + this.options.issuanceDelayMs,
        status: 'PENDING',
        createdTime: new Date(now).toISOString(),
        finishedTime: null,
        claimToken: null,
        claimUntil: null,
      });
    }
  }
}
