import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { PanReader } from '../cards/pan-vault.js';
import type { ChipPersonalizer } from '../cards/service.js';
import type { PinVault } from '../pins/at-rest.js';
import type { PinRecords } from '../pins/records.js';
import type { Card, CardProduct, ChipState, Repositories, Store } from '../store/types.js';
import {
  PaymentCryptoError,
  type TlvNode,
  decodeTlv,
  deriveCommonSessionKey,
  deriveIccMasterKeyOptionA,
  encodeFormat2,
  findTlv,
  openIssuerScriptCommand,
  retailMac,
} from '../payment-crypto/index.js';
import type { IssuerMasterKeys } from '../offline-pin/issuer-scripts.js';

/** VERIFY with a plaintext offline PIN (EMV Book 3 §6.5.12): CLA INS P1 P2 (P2 80) Lc. */
const VERIFY_PLAINTEXT_HEADER = Buffer.from('0020008008', 'hex');

/** What the chip answers to VERIFY: 9000, 63Cx (x tries left), 6983 (blocked). */
export type OfflinePinVerification = 'VERIFIED' | 'INCORRECT' | 'BLOCKED';

/**
 * The terminal's VERIFY command for a plaintext offline PIN: the PIN, an ISO 9564 format 2
 * block (as EMV requires for offline PIN), after the header. The PIN pad builds it from the
 * cardholder's digits; it exists only between the pad and the chip.
 */
export function verifyCommand(pin: string): Buffer {
  return Buffer.concat([VERIFY_PLAINTEXT_HEADER, encodeFormat2(pin)]);
}

/** Issuer Script Results byte 1 (EMV Book 4 Annex A5): high nibble 2 = successful, 1 = failed. */
const SCRIPT_SUCCESSFUL = 0x20;
const SCRIPT_FAILED = 0x10;
const NO_SCRIPT_ID = Buffer.alloc(4);
const MAX_ATC = 0xffff;

/** Terminal data the simulated ARQC covers (CDOL1-like): a fixed US terminal buying goods. */
const TERMINAL_COUNTRY = Buffer.from('0840', 'hex');
const CURRENCY = Buffer.from('0840', 'hex');
const AIP = Buffer.from('3900', 'hex');

/** `value` as `bytes` bytes of packed BCD, e.g. 1234 → 00 00 00 00 12 34. */
function bcd(value: number, bytes: number): Buffer {
  return Buffer.from(String(value).padStart(bytes * 2, '0'), 'hex');
}

function yymmdd(now: number): Buffer {
  return Buffer.from(new Date(now).toISOString().slice(2, 10).replaceAll('-', ''), 'hex');
}

/**
 * The card side of the simulation: a chip personalized at issuance with ICC master keys derived
 * from the issuer master keys (EMV Option A, PAN + PAN sequence number), its offline PIN and PIN
 * Try Counter, an Application Transaction Counter, and the Issuer Script Results it owes the
 * issuer (docs/point-of-sale.md).
 *
 * Its reference PIN is kept as a format 4 block under the chip's own key (`CHIP_PIN_KEY`), never
 * the issuer's: a deciphered PIN lives only for the instant of a VERIFY or a PIN change.
 */
export class VirtualChip implements ChipPersonalizer {
  constructor(
    private readonly keys: IssuerMasterKeys,
    /** The PAN the chip was personalized with (a real chip has it in its own memory). */
    private readonly pans: PanReader,
    /** The issuer's PIN at personalization (the bureau writes it onto the chip). */
    private readonly pins: PinRecords,
    /** The chip's own PIN key. */
    private readonly vault: PinVault,
  ) {}

  get currentKeyId(): string {
    return this.vault.currentKeyId;
  }

  /** Personalization at issuance: a new chip with the card's current PIN and a full counter. */
  async personalize(tx: Repositories, card: Card, product: CardProduct, now: number) {
    await tx.upsertChipState(await this.personalized(tx, card, product, now));
  }

  /**
   * VERIFY (EMV Book 3 §6.5.12) of a plaintext offline PIN: refused without a look once the PIN
   * Try Counter is 0; a right PIN resets the counter to the limit, a wrong one uses a try.
   */
  async verifyOfflinePin(
    tx: Repositories,
    card: Card,
    product: CardProduct,
    command: Buffer,
    now: number,
  ): Promise<{ verification: OfflinePinVerification; triesRemaining: number }> {
    const state = await this.state(tx, card, product, now);
    if (state.pinTryCounter === 0) return { verification: 'BLOCKED', triesRemaining: 0 };
    const right = this.isReferencePin(card, state, command);
    const pinTryCounter = right ? state.pinTryLimit : state.pinTryCounter - 1;
    await tx.upsertChipState({ ...state, pinTryCounter, updatedTime: new Date(now).toISOString() });
    return { verification: right ? 'VERIFIED' : 'INCORRECT', triesRemaining: pinTryCounter };
  }

  /** Re-enciphers every chip's PIN not under the current CHIP_PIN_KEY (key rotation). */
  async reencryptAll(store: Store, batch = 200): Promise<number> {
    let total = 0;
    for (;;) {
      const count = await store.transaction(async (tx) => {
        const stale = await tx.chipsWithPinNotUnderKey(this.vault.currentKeyId, batch);
        for (const chip of stale) {
          const card = await tx.getCard(chip.cardId);
          if (!card || chip.offlinePinBlock === null || chip.offlinePinKeyId === null) continue;
          const sealed = this.vault.reseal(
            { pinBlock: chip.offlinePinBlock, keyId: chip.offlinePinKeyId },
            this.pans.panOf(card),
          );
          await tx.upsertChipState({
            ...chip,
            offlinePinBlock: sealed.pinBlock,
            offlinePinKeyId: sealed.keyId,
          });
        }
        return stale.length;
      });
      total += count;
      if (count < batch) return total;
    }
  }

  /** Whether a VERIFY command carries the chip's reference PIN, compared as format 2 blocks. */
  private isReferencePin(card: Card, state: ChipState, command: Buffer): boolean {
    if (state.offlinePinBlock === null || state.offlinePinKeyId === null) return false;
    if (command.length !== 13 || !command.subarray(0, 5).equals(VERIFY_PLAINTEXT_HEADER)) {
      return false;
    }
    const reference = encodeFormat2(
      this.vault.open(
        { pinBlock: state.offlinePinBlock, keyId: state.offlinePinKeyId },
        this.pans.panOf(card),
      ),
    );
    return timingSafeEqual(reference, command.subarray(5));
  }

  /**
   * The chip's part of an authorization up to the first GENERATE AC: the next ATC, an ARQC, and
   * the results of the scripts it ran since its last authorization (9F5B value, possibly empty),
   * which it hands over once. A caller-supplied ATC or ARQC replaces the chip's own.
   */
  async generateArqc(
    tx: Repositories,
    card: Card,
    product: CardProduct,
    input: { amount: number; atc?: Buffer | undefined; arqc?: Buffer | undefined; now: number },
  ): Promise<{ atc: Buffer; arqc: Buffer; scriptResults: Buffer }> {
    const state = await this.state(tx, card, product, input.now);
    const counter = input.atc?.readUInt16BE(0) ?? (state.atc >= MAX_ATC ? 1 : state.atc + 1);
    const atc = Buffer.alloc(2);
    atc.writeUInt16BE(counter);
    const arqc = input.arqc ?? this.arqc(card, atc, input.amount, input.now);
    await tx.upsertChipState({
      ...state,
      atc: Math.max(state.atc, counter),
      pendingScriptResults: '',
      updatedTime: new Date(input.now).toISOString(),
    });
    return { atc, arqc, scriptResults: Buffer.from(state.pendingScriptResults, 'hex') };
  }

  /**
   * Issuer script processing after the second GENERATE AC (EMV Book 3 §10.10): for each
   * template, every command's MAC is verified with SK-SMI and a PIN change's PIN block
   * deciphered with SK-SMC, both derived the card's way for this ATC/ARQC. A script whose
   * commands all succeed takes effect: a PIN change replaces the offline PIN and, as PIN
   * CHANGE/UNBLOCK does, resets the PIN Try Counter; an unblock only resets it. The result
   * (success, or failure with the failing command's sequence number) is reported on the next
   * authorization.
   */
  async processIssuerScripts(
    tx: Repositories,
    card: Card,
    product: CardProduct,
    templates: Buffer,
    txn: { atc: Buffer; arqc: Buffer },
    now: number,
  ): Promise<void> {
    const state = await this.state(tx, card, product, now);
    const time = new Date(now).toISOString();
    const results: Buffer[] = [];
    let next: ChipState = { ...state, updatedTime: time };

    let nodes: TlvNode[] = [];
    try {
      nodes = decodeTlv(templates).filter((node) => node.tag === '71' || node.tag === '72');
    } catch (error) {
      if (!(error instanceof PaymentCryptoError)) throw error;
    }
    if (nodes.length === 0) {
      results.push(Buffer.concat([Buffer.from([SCRIPT_FAILED]), NO_SCRIPT_ID]));
      next = { ...next, lastScriptError: 'MALFORMED_TLV' };
    }
    for (const template of nodes) {
      const children = template.children ?? [];
      const id = findTlv(children, '9F18')?.value;
      const scriptId = id?.length === 4 ? id : NO_SCRIPT_ID;
      const commands = children.filter((child) => child.tag === '86');
      const outcome =
        commands.length === 0
          ? ({ ok: false, sequence: 1, code: 'NO_COMMAND' } as const)
          : this.runCommands(card, product, commands, txn);
      if (outcome.ok) {
        results.push(Buffer.concat([Buffer.from([SCRIPT_SUCCESSFUL]), scriptId]));
        next = { ...next, pinTryCounter: next.pinTryLimit, lastScriptError: null };
        if (outcome.pin !== undefined) {
          const sealed = this.vault.seal(outcome.pin, this.pans.panOf(card));
          next = {
            ...next,
            offlinePinBlock: sealed.pinBlock,
            offlinePinKeyId: sealed.keyId,
            offlinePinOrigin: 'ISSUER_SCRIPT',
            offlinePinScriptIdentifier: scriptId.toString('hex').toUpperCase(),
            offlinePinUpdatedTime: time,
          };
        }
      } else {
        const sequence = Math.min(outcome.sequence, 0x0f);
        results.push(Buffer.concat([Buffer.from([SCRIPT_FAILED | sequence]), scriptId]));
        next = { ...next, lastScriptError: outcome.code };
      }
    }
    await tx.upsertChipState({
      ...next,
      pendingScriptResults:
        state.pendingScriptResults + Buffer.concat(results).toString('hex').toUpperCase(),
    });
  }

  /**
   * Runs a script's commands in order; stops at the first that fails (its 1-based number). On
   * success, `pin` is the new offline PIN when the script changes it.
   */
  private runCommands(
    card: Card,
    product: CardProduct,
    commands: readonly TlvNode[],
    txn: { atc: Buffer; arqc: Buffer },
  ): { ok: true; pin: string | undefined } | { ok: false; sequence: number; code: string } {
    const pan = this.pans.panOf(card);
    const mk = (imk: Buffer) => deriveIccMasterKeyOptionA(imk, pan, card.panSequenceNumber);
    const keys = {
      mkAc: mk(this.keys.imkAc),
      mkSmi: mk(this.keys.imkSmi),
      mkSmc: mk(this.keys.imkSmc),
    };
    let pin: string | undefined;
    for (const [index, command] of commands.entries()) {
      const opened = openIssuerScriptCommand({
        profile: product.emvProfile,
        ...keys,
        atc: txn.atc,
        arqc: txn.arqc,
        apdu: command.value,
      });
      if (!opened.ok) return { ok: false, sequence: index + 1, code: opened.code };
      if (opened.kind === 'PIN_CHANGE') pin = opened.pin;
    }
    return { ok: true, pin };
  }

  /**
   * A real-ish ARQC: ISO 9797-1 MAC algorithm 3 with SK-AC (EMV common session key derivation
   * from MK-AC, R = ATC ‖ 00…) over CDOL1-style data: amount, amount other, terminal country,
   * TVR, currency, date, type, unpredictable number, AIP, ATC. The issuer does not verify it
   * (a caller may supply any ARQC); it feeds the script's session keys and MAC.
   */
  private arqc(card: Card, atc: Buffer, amount: number, now: number): Buffer {
    const mkAc = deriveIccMasterKeyOptionA(
      this.keys.imkAc,
      this.pans.panOf(card),
      card.panSequenceNumber,
    );
    const skAc = deriveCommonSessionKey(mkAc, Buffer.concat([atc, Buffer.alloc(6)]));
    const data = Buffer.concat([
      bcd(amount, 6),
      Buffer.alloc(6),
      TERMINAL_COUNTRY,
      Buffer.alloc(5),
      CURRENCY,
      yymmdd(now),
      Buffer.from([0x00]),
      randomBytes(4),
      AIP,
      atc,
    ]);
    return retailMac(skAc, data);
  }

  /**
   * The chip's state. A card issued before chips kept a PIN (or while the simulation was off)
   * has none yet: it is personalized at its first use, with the PIN current then.
   */
  private async state(
    tx: Repositories,
    card: Card,
    product: CardProduct,
    now: number,
  ): Promise<ChipState> {
    const existing = await tx.getChipState(card.id);
    if (existing && (existing.offlinePinBlock !== null || !card.offlinePinEnabled)) return existing;
    const personalized = await this.personalized(tx, card, product, now);
    return existing ? { ...personalized, ...existing, ...pinPart(personalized) } : personalized;
  }

  /** A chip as the bureau writes it: the card's PIN (if it has offline PIN) and a full counter. */
  private async personalized(
    tx: Repositories,
    card: Card,
    product: CardProduct,
    now: number,
  ): Promise<ChipState> {
    const time = new Date(now).toISOString();
    const current = card.offlinePinEnabled ? await this.pins.current(tx, card) : undefined;
    const sealed = current && this.vault.seal(current.pin, this.pans.panOf(card));
    return {
      cardId: card.id,
      atc: 0,
      offlinePinBlock: sealed?.pinBlock ?? null,
      offlinePinKeyId: sealed?.keyId ?? null,
      pinTryCounter: product.pinTryLimit,
      pinTryLimit: product.pinTryLimit,
      offlinePinOrigin: 'PERSONALIZATION',
      offlinePinScriptIdentifier: null,
      offlinePinUpdatedTime: time,
      pendingScriptResults: '',
      lastScriptError: null,
      createdTime: time,
      updatedTime: time,
    };
  }
}

/** The offline-PIN fields of a chip, to complete a chip that was created without a PIN. */
function pinPart(chip: ChipState): Partial<ChipState> {
  return {
    offlinePinBlock: chip.offlinePinBlock,
    offlinePinKeyId: chip.offlinePinKeyId,
    pinTryCounter: chip.pinTryCounter,
    pinTryLimit: chip.pinTryLimit,
  };
}
