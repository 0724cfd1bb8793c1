import { randomBytes } from 'node:crypto';
import type { PanReader } from '../cards/pan-vault.js';
import type { Card, CardProduct, ChipState, Repositories } from '../store/types.js';
import {
  PaymentCryptoError,
  type TlvNode,
  decodeTlv,
  deriveCommonSessionKey,
  deriveIccMasterKeyOptionA,
  findTlv,
  retailMac,
  verifyAndOpenPinChangeCommand,
} from '../payment-crypto/index.js';
import type { IssuerMasterKeys } from '../offline-pin/issuer-scripts.js';

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
 * from the issuer master keys (EMV Option A, PAN + PAN sequence number), an Application
 * Transaction Counter, and the Issuer Script Results it owes the issuer.
 *
 * It holds no copy of the offline PIN, in clear or enciphered: it records where its offline PIN
 * came from (personalization, or the 9F18 of the script it last applied). A deciphered PIN lives
 * only for the instant it takes to check the block is well formed.
 */
export class VirtualChip {
  constructor(
    private readonly keys: IssuerMasterKeys,
    /** The PAN the chip was personalized with (a real chip has it in its own memory). */
    private readonly pans: PanReader,
  ) {}

  /**
   * The chip's part of an authorization up to the first GENERATE AC: the next ATC, an ARQC, and
   * the results of the scripts it ran since its last authorization (9F5B value, possibly empty),
   * which it hands over once. A caller-supplied ATC or ARQC replaces the chip's own.
   */
  async generateArqc(
    tx: Repositories,
    card: Card,
    input: { amount: number; atc?: Buffer | undefined; arqc?: Buffer | undefined; now: number },
  ): Promise<{ atc: Buffer; arqc: Buffer; scriptResults: Buffer }> {
    const state = await this.state(tx, card, input.now);
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
   * template, every command's MAC is verified with SK-SMI and its PIN block deciphered with
   * SK-SMC, both derived the card's way for this ATC/ARQC. A script whose commands all succeed
   * replaces the offline PIN; the result (success, or failure with the failing command's
   * sequence number) is reported on the next authorization.
   */
  async processIssuerScripts(
    tx: Repositories,
    card: Card,
    product: CardProduct,
    templates: Buffer,
    txn: { atc: Buffer; arqc: Buffer },
    now: number,
  ): Promise<void> {
    const state = await this.state(tx, card, now);
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
        next = {
          ...next,
          offlinePinOrigin: 'ISSUER_SCRIPT',
          offlinePinScriptIdentifier: scriptId.toString('hex').toUpperCase(),
          offlinePinUpdatedTime: time,
          lastScriptError: null,
        };
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

  /** Runs a script's commands in order; stops at the first that fails (its 1-based number). */
  private runCommands(
    card: Card,
    product: CardProduct,
    commands: readonly TlvNode[],
    txn: { atc: Buffer; arqc: Buffer },
  ): { ok: true } | { ok: false; sequence: number; code: string } {
    const pan = this.pans.panOf(card);
    const mk = (imk: Buffer) => deriveIccMasterKeyOptionA(imk, pan, card.panSequenceNumber);
    const keys = {
      mkAc: mk(this.keys.imkAc),
      mkSmi: mk(this.keys.imkSmi),
      mkSmc: mk(this.keys.imkSmc),
    };
    for (const [index, command] of commands.entries()) {
      const opened = verifyAndOpenPinChangeCommand({
        profile: product.emvProfile,
        ...keys,
        atc: txn.atc,
        arqc: txn.arqc,
        apdu: command.value,
      });
      // On success the chip would write opened.pin to its PIN file; this one keeps no PIN.
      if (!opened.ok) return { ok: false, sequence: index + 1, code: opened.code };
    }
    return { ok: true };
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

  /** The chip's state; on its first use, as personalized at issuance. */
  private async state(tx: Repositories, card: Card, now: number): Promise<ChipState> {
    const existing = await tx.getChipState(card.id);
    if (existing) return existing;
    const time = new Date(now).toISOString();
    return {
      cardId: card.id,
      atc: 0,
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
