import { createHash, randomBytes } from 'node:crypto';
import type { CardService } from '../cards/service.js';
import { ApiError } from '../http/errors.js';
import { newId } from '../lib/ids.js';
import type { PinRecords } from '../pins/records.js';
import type { PinChangeListener } from '../pins/service.js';
import type {
  Card,
  CardProduct,
  IssuerScript,
  IssuerScriptType,
  Repositories,
  Store,
} from '../store/types.js';
import { emitEvent } from '../webhooks/events.js';
import {
  type IssuerScriptResult,
  buildIssuerScriptTemplate2,
  buildPinChangeCommand,
  buildPinUnblockCommand,
  toHex,
} from '../payment-crypto/index.js';

/** The issuer master keys (double-length 3DES) the ICC keys are derived from (Option A). */
export interface IssuerMasterKeys {
  imkAc: Buffer;
  imkSmi: Buffer;
  imkSmc: Buffer;
}

export type ScriptEventType =
  'script_created' | 'script_sent' | 'script_applied' | 'script_failed' | 'script_canceled';

/** Why a script ended other than applied. Stable: they appear in events. */
export const ScriptReason = {
  /** A newer sync for the same card replaced it before it was sent. */
  REPLACED: 'REPLACED',
  /** The chip reported that processing the script failed (9F5B result 1x). */
  SCRIPT_PROCESSING_FAILED: 'SCRIPT_PROCESSING_FAILED',
  /** The chip reported that it did not perform the script (9F5B result 0x). */
  SCRIPT_NOT_PERFORMED: 'SCRIPT_NOT_PERFORMED',
  /** The chip's next authorization reported no result for it: it never reached the chip. */
  SCRIPT_RESULT_MISSING: 'SCRIPT_RESULT_MISSING',
} as const;
export type ScriptReason = (typeof ScriptReason)[keyof typeof ScriptReason];

/**
 * A settled script keeps no enciphered PIN: its command is erased (secure_delete zeroes it in
 * the file) and only its SHA-256 stays, enough to match it against a terminal's log.
 */
function erasedCommand(
  script: IssuerScript,
): Pick<IssuerScript, 'commandApdu' | 'commandApduSha256'> {
  return {
    commandApdu: null,
    commandApduSha256:
      script.commandApdu === null
        ? script.commandApduSha256
        : createHash('sha256').update(Buffer.from(script.commandApdu, 'hex')).digest('hex'),
  };
}

/**
 * The issuer side of offline-PIN synchronization (README “Offline PIN”): queues a SYNC_PIN script when the
 * program asks or the PIN changes, builds its command when a contact-chip authorization arrives
 * (the MAC and session keys need that authorization's ATC and ARQC), and settles it from the
 * chip's Issuer Script Results. Each step commits with its event in the caller's transaction,
 * and sends the card core the event that moves the card's `offline_pin` fields.
 */
export class IssuerScripts implements PinChangeListener {
  constructor(
    private readonly store: Store,
    private readonly cards: CardService,
    private readonly pins: PinRecords,
    private readonly keys: IssuerMasterKeys,
  ) {}

  /**
   * `POST /pcicards/v1/pcicards/{cardId}/scripts/sync-offline-pin`, after the account token was
   * verified: 404 unknown card → 403 another account's card → 400 card that cannot sync.
   */
  async requestSync(cardId: string, accountId: string): Promise<void> {
    const now = Date.now();
    await this.store.transaction(async (tx) => {
      const { card } = await this.cards.lock(tx, cardId);
      if (card.accountId !== accountId) {
        throw new ApiError(
          'CARD_NOT_IN_ACCOUNT',
          'This card does not belong to the token’s account',
        );
      }
      assertCanSync(card);
      await this.queue(tx, card, { type: 'SYNC_PIN', requestedBy: 'SYNC_ENDPOINT' }, now);
    });
  }

  /**
   * A new online PIN (inside the set-PIN transaction). Before issuance nothing is needed: the
   * chip will be personalized with this PIN. After it, the chip's copy is stale; with
   * `sync_offline_pin` a script is queued to bring it up to date.
   */
  async onPinChanged(
    tx: Repositories,
    card: Card,
    change: { syncOfflinePin: boolean; now: number },
  ): Promise<void> {
    if (card.form !== 'PHYSICAL' || !card.offlinePinEnabled) return;
    if (card.fulfillmentStatus === 'ORDERED') return;
    if (change.syncOfflinePin) {
      await this.queue(tx, card, { type: 'SYNC_PIN', requestedBy: 'PIN_SET' }, change.now, true);
    } else {
      await this.cards.change(tx, card.id, { type: 'OFFLINE_PIN_STALE' }, change.now);
    }
  }

  /**
   * A PIN unblock (inside the unblock transaction): an issued offline-PIN card's chip has its own
   * PIN Try Counter, which only a PIN UNBLOCK script resets (docs/point-of-sale.md).
   */
  async onPinUnblocked(tx: Repositories, card: Card, now: number): Promise<void> {
    if (card.form !== 'PHYSICAL' || !card.offlinePinEnabled) return;
    if (card.fulfillmentStatus === 'ORDERED' || card.cardStatus === 'TERMINATED') return;
    await this.queue(tx, card, { type: 'UNBLOCK_PIN', requestedBy: 'PIN_UNBLOCK' }, now);
  }

  /**
   * The scripts a contact-chip authorization carries, oldest first, one Issuer Script Template 2
   * (tag 72) each: every command is built now, with that authorization's ATC and ARQC and the
   * card's EMV profile; a PIN change carries the PIN current now.
   */
  async deliver(
    tx: Repositories,
    card: Card,
    product: CardProduct,
    txn: { atc: Buffer; arqc: Buffer },
    now: number,
  ): Promise<Buffer | undefined> {
    const waiting = (await tx.openIssuerScripts(card.id)).filter((s) => s.status === 'CREATED');
    const templates: Buffer[] = [];
    for (const script of waiting) {
      const command = await this.command(tx, card, product, script.scriptType, txn);
      // A sync is only queued for a card with a PIN; without one it waits rather than fail.
      if (!command) continue;
      const sent: IssuerScript = {
        ...script,
        status: 'SENT',
        sentTime: new Date(now).toISOString(),
        atc: toHex(txn.atc),
        arqc: toHex(txn.arqc),
        commandApdu: toHex(command.apdu),
        pinVersion: command.pinVersion,
      };
      await tx.updateIssuerScript(script.id, {
        status: sent.status,
        sentTime: sent.sentTime,
        atc: sent.atc,
        arqc: sent.arqc,
        commandApdu: sent.commandApdu,
        pinVersion: sent.pinVersion,
      });
      await this.emit(tx, card, sent, 'script_sent', {}, now);
      const id = Buffer.from(script.scriptIdentifier, 'hex');
      templates.push(buildIssuerScriptTemplate2(id, [command.apdu]));
    }
    return templates.length > 0 ? Buffer.concat(templates) : undefined;
  }

  /** The command of a script: PIN CHANGE (P2 = 02) with the current PIN, or PIN UNBLOCK (P2 = 00). */
  private async command(
    tx: Repositories,
    card: Card,
    product: CardProduct,
    type: IssuerScriptType,
    txn: { atc: Buffer; arqc: Buffer },
  ): Promise<{ apdu: Buffer; pinVersion: string | null } | undefined> {
    const keys = {
      profile: product.emvProfile,
      imkSmi: this.keys.imkSmi,
      pan: this.cards.panOf(card),
      psn: card.panSequenceNumber,
      atc: txn.atc,
      arqc: txn.arqc,
    };
    if (type === 'UNBLOCK_PIN') {
      return { apdu: buildPinUnblockCommand(keys).apdu, pinVersion: null };
    }
    const current = await this.pins.current(tx, card);
    if (!current) return undefined;
    const command = buildPinChangeCommand({
      ...keys,
      imkAc: this.keys.imkAc,
      imkSmc: this.keys.imkSmc,
      pin: current.pin,
    });
    return { apdu: command.apdu, pinVersion: current.version };
  }

  /**
   * Settles the card's sent scripts from the Issuer Script Results (9F5B) of its next chip
   * authorization: applied, failed, or failed because the result is missing. The card is in sync
   * once a script carrying the current PIN is applied. Returns the card as it is then.
   */
  async recordResults(
    tx: Repositories,
    card: Card,
    results: readonly IssuerScriptResult[],
    now: number,
  ): Promise<Card> {
    const sent = (await tx.openIssuerScripts(card.id)).filter((s) => s.status === 'SENT');
    if (sent.length === 0) return card;
    const time = new Date(now).toISOString();
    const currentPin = await tx.getPin(card.id);
    let inSync = card.offlinePinInSync;
    for (const script of sent) {
      const result = results.find((r) => toHex(r.scriptId) === script.scriptIdentifier);
      if (result?.result === 'SUCCESSFUL') {
        await tx.updateIssuerScript(script.id, {
          status: 'APPLIED',
          finishedTime: time,
          ...erasedCommand(script),
        });
        await this.emit(tx, card, script, 'script_applied', { status: 'SUCCESS' }, now);
        // A PIN changed after the script was built leaves the chip one PIN behind.
        if (script.pinVersion !== null && script.pinVersion === currentPin?.updatedTime) {
          inSync = true;
        }
        continue;
      }
      const reason =
        result === undefined
          ? ScriptReason.SCRIPT_RESULT_MISSING
          : result.result === 'FAILED'
            ? ScriptReason.SCRIPT_PROCESSING_FAILED
            : ScriptReason.SCRIPT_NOT_PERFORMED;
      await tx.updateIssuerScript(script.id, {
        status: 'FAILED',
        finishedTime: time,
        reason,
        ...erasedCommand(script),
      });
      await this.emit(tx, card, script, 'script_failed', { status: 'FAILURE', reason }, now);
    }
    const open = await tx.openIssuerScripts(card.id);
    const pendingScriptId = open.at(-1)?.id ?? null;
    const settled = { type: 'OFFLINE_PIN_SCRIPTS_SETTLED', inSync, pendingScriptId } as const;
    return (await this.cards.change(tx, card.id, settled, now)).card;
  }

  /**
   * Cancels a script of the same type not sent yet (only the newest PIN matters, and one unblock
   * is enough), then queues a new one.
   */
  private async queue(
    tx: Repositories,
    card: Card,
    kind: { type: IssuerScriptType; requestedBy: IssuerScript['requestedBy'] },
    now: number,
    pinChanged = false,
  ): Promise<void> {
    const time = new Date(now).toISOString();
    for (const open of await tx.openIssuerScripts(card.id)) {
      if (open.status !== 'CREATED' || open.scriptType !== kind.type) continue;
      const reason = ScriptReason.REPLACED;
      await tx.updateIssuerScript(open.id, {
        status: 'CANCELED',
        finishedTime: time,
        reason,
        ...erasedCommand(open),
      });
      await this.emit(tx, card, open, 'script_canceled', { reason }, now);
    }
    const script: IssuerScript = {
      id: newId('scr', now),
      scriptIdentifier: await this.newScriptIdentifier(tx, card.id),
      cardId: card.id,
      scriptType: kind.type,
      requestedBy: kind.requestedBy,
      status: 'CREATED',
      createdTime: time,
      sentTime: null,
      finishedTime: null,
      atc: null,
      arqc: null,
      commandApdu: null,
      commandApduSha256: null,
      pinVersion: null,
      reason: null,
    };
    await tx.insertIssuerScript(script);
    await this.emit(tx, card, script, 'script_created', {}, now);
    const queued = { type: 'OFFLINE_PIN_SCRIPT_QUEUED', scriptId: script.id, pinChanged } as const;
    await this.cards.change(tx, card.id, queued, now);
  }

  /** A random 4-byte Script Identifier (9F18), never zero, unique among the card's scripts. */
  private async newScriptIdentifier(tx: Repositories, cardId: string): Promise<string> {
    for (;;) {
      const candidate = toHex(randomBytes(4));
      if (candidate === '00000000') continue;
      if (!(await tx.issuerScriptIdentifierUsed(cardId, candidate))) return candidate;
    }
  }

  /** "Card issuer script notification received": `CARD.ISSUER_SCRIPT.UPDATED`. */
  private emit(
    tx: Repositories,
    card: Card,
    script: IssuerScript,
    type: ScriptEventType,
    outcome: { status?: 'SUCCESS' | 'FAILURE'; reason?: ScriptReason },
    now: number,
  ) {
    return emitEvent(
      tx,
      'CARD.ISSUER_SCRIPT.UPDATED',
      {
        account_id: card.accountId,
        card_id: card.id,
        customer_id: card.customerId,
        card_script_id: script.id,
        script_type: script.scriptType,
        script_event_type: type,
        ...outcome,
      },
      now,
    );
  }
}

/** The 400s of the sync endpoint, most fundamental first. */
function assertCanSync(card: Card): void {
  if (card.form === 'VIRTUAL') {
    throw new ApiError('CARD_IS_VIRTUAL', 'Virtual cards have no chip and no offline PIN');
  }
  if (card.cardStatus === 'TERMINATED') {
    throw new ApiError(
      'CARD_TERMINATED',
      'The card is terminated: its chip can no longer be updated',
    );
  }
  if (!card.offlinePinEnabled) {
    throw new ApiError(
      'OFFLINE_PIN_NOT_ENABLED',
      'This card has no offline PIN: its product was created without offline_pin',
    );
  }
  if (!card.isPinSet) {
    throw new ApiError('NO_PIN_TO_SYNC', 'This card has no PIN yet: set one first');
  }
}
