import { pinStatus } from '../cards/resources.js';
import type { CardService } from '../cards/service.js';
import { ApiError } from '../http/errors.js';
import type { Card, Store } from '../store/types.js';
import {
  PaymentCryptoError,
  type IssuerScriptResult,
  decipherFormat4,
  parseIssuerScriptResults,
  toHex,
} from '../payment-crypto/index.js';
import type { IssuerScripts } from '../offline-pin/issuer-scripts.js';
import type { OnlinePinVerification, PinBlockFormat, PinService } from '../pins/service.js';
import { undecipherablePinBlock } from '../pins/zone-pin-blocks.js';
import { type OfflinePinVerification, type VirtualChip, verifyCommand } from './virtual-chip.js';

export type EntryMode = 'CHIP_CONTACT' | 'CONTACTLESS' | 'MAGSTRIPE' | 'ECOMMERCE';

export interface AuthorizationRequest {
  card_id: string;
  /** Minor units. */
  amount: number;
  entry_mode: EntryMode;
  /** 9F36, 4 hex digits: replaces the virtual chip's next ATC. */
  atc?: string;
  /** 9F26, 16 hex digits: replaces the virtual chip's ARQC. */
  arqc?: string;
  /** 9F5B (TLV or bare value), hex: reported instead of the virtual chip's results. */
  issuer_script_results?: string;
  /** The terminal's PIN block under the zone PIN key (docs/point-of-sale.md). */
  pin_block?: { format: PinBlockFormat; block: string };
  /** Who checks the PIN: the issuer (default with a pin_block) or the chip. */
  cvm?: 'ONLINE_PIN' | 'OFFLINE_PIN';
}

export type DeclineReason =
  | 'CARD_NOT_ACTIVE'
  | 'PIN_NOT_SET'
  | 'INCORRECT_PIN'
  | 'PIN_TRIES_EXCEEDED'
  | 'OFFLINE_PIN_INCORRECT'
  | 'OFFLINE_PIN_BLOCKED';

export interface AuthorizationResponse {
  approved: boolean;
  decline_reason?: DeclineReason;
  pin_verification?: OnlinePinVerification;
  pin_tries_remaining?: number;
  pin_status?: ReturnType<typeof pinStatus>;
  offline_pin_verification?: OfflinePinVerification;
  chip_pin_tries_remaining?: number;
  atc: string | null;
  arqc: string | null;
  issuer_script_template?: string;
}

/** The length in hex digits of each format's enciphered block (8 and 16 bytes). */
const PIN_BLOCK_DIGITS: Readonly<Record<PinBlockFormat, number>> = {
  ISO_9564_0: 16,
  ISO_9564_4: 32,
};

/** Entry modes that read the chip (and so have an ATC, an ARQC and script results). */
const CHIP_MODES: ReadonlySet<EntryMode> = new Set(['CHIP_CONTACT', 'CONTACTLESS']);
const CHIP_FIELDS = ['atc', 'arqc', 'issuer_script_results'] as const;

/** Alters an issuer script on its way from the issuer to the virtual chip (tests, demos). */
export type ScriptTransit = (template: Buffer) => Buffer;

/**
 * `POST /v1/simulations/authorizations`: one card-present or remote authorization, card side
 * (the virtual chip) and issuer side, in one transaction. Only a contact-chip authorization
 * carries a waiting issuer script (README “Offline PIN”); any chip authorization reports the results of the
 * scripts the chip ran since its previous one.
 */
export class AuthorizationSimulator {
  private transit: ScriptTransit | undefined;

  constructor(
    private readonly store: Store,
    private readonly cards: CardService,
    /** The issuer's online PIN verification. */
    private readonly pins: PinService,
    private readonly scripts: IssuerScripts,
    private readonly chip: VirtualChip,
    /** The simulated PIN pad's key: it enciphers format 4 blocks under the zone key. */
    private readonly terminalPinKey: Buffer,
  ) {}

  /** Tampering hook: every script the virtual chip receives goes through `transit` first. */
  interceptScripts(transit: ScriptTransit | undefined): void {
    this.transit = transit;
  }

  async authorize(request: AuthorizationRequest): Promise<AuthorizationResponse> {
    const chipRead = CHIP_MODES.has(request.entry_mode);
    if (!chipRead) {
      const field = CHIP_FIELDS.find((name) => request[name] !== undefined);
      if (field) {
        throw new ApiError(
          'INVALID_FIELD',
          `${field} is chip data: send it only with entry_mode CHIP_CONTACT or CONTACTLESS`,
          field,
        );
      }
    }
    const reported = parseReportedResults(request.issuer_script_results);
    const entered = parsePinBlock(request);
    const now = Date.now();
    return this.store.transaction(async (tx) => {
      // The card's lock serializes its chip (two authorizations never share an ATC) and its
      // PIN tries (concurrent wrong PINs use one try each).
      const locked = await this.cards.lock(tx, request.card_id);
      const { product } = locked;
      let card: Card = locked.card;
      if (card.form === 'VIRTUAL' && request.entry_mode !== 'ECOMMERCE') {
        throw new ApiError(
          'CARD_IS_VIRTUAL',
          'A virtual card has no chip or stripe: use entry_mode ECOMMERCE',
          'entry_mode',
        );
      }
      if (request.entry_mode !== 'ECOMMERCE' && card.fulfillmentStatus === 'ORDERED') {
        throw new ApiError(
          'CARD_NOT_ISSUED',
          'The physical card has not been issued yet: there is no chip or stripe to read',
          undefined,
          { card_fulfillment_status: card.fulfillmentStatus },
        );
      }
      if (entered?.cvm === 'OFFLINE_PIN' && !card.offlinePinEnabled) {
        throw new ApiError(
          'OFFLINE_PIN_NOT_ENABLED',
          'This card’s chip has no offline PIN: its product was created without offline_pin',
          'cvm',
        );
      }
      const active = card.cardStatus === 'ACTIVE';
      const answer: Omit<AuthorizationResponse, 'approved' | 'atc' | 'arqc'> = {};
      // Cardholder verification comes first, as in EMV: the chip checks an offline PIN before
      // the first GENERATE AC; the issuer checks an online one only for an ACTIVE card.
      if (entered?.cvm === 'OFFLINE_PIN') {
        const command = this.terminalVerifyCommand(card, entered.block);
        const offline = await this.chip.verifyOfflinePin(tx, card, product, command, now);
        answer.offline_pin_verification = offline.verification;
        answer.chip_pin_tries_remaining = offline.triesRemaining;
      } else if (entered && active) {
        const online = await this.pins.verifyOnline(tx, card, entered, now);
        card = online.card;
        answer.pin_verification = online.verification;
        answer.pin_tries_remaining = card.pinTriesRemaining;
        answer.pin_status = pinStatus(card);
      }
      const declineReason = declineReasonOf(active, answer);
      const approved = declineReason === undefined;
      const decided = { approved, ...(declineReason ? { decline_reason: declineReason } : {}) };
      if (!chipRead) return { ...decided, ...answer, atc: null, arqc: null };

      const txn = await this.chip.generateArqc(tx, card, product, {
        amount: request.amount,
        atc: request.atc === undefined ? undefined : Buffer.from(request.atc, 'hex'),
        arqc: request.arqc === undefined ? undefined : Buffer.from(request.arqc, 'hex'),
        now,
      });
      const results = reported ?? parseIssuerScriptResults(txn.scriptResults);
      const settled = await this.scripts.recordResults(tx, card, results, now);

      let template: Buffer | undefined;
      // EMV lets an issuer send scripts with a decline too; a terminated card gets none.
      if (request.entry_mode === 'CHIP_CONTACT' && settled.cardStatus !== 'TERMINATED') {
        template = await this.scripts.deliver(tx, settled, product, txn, now);
        if (template) {
          const received = this.transit ? this.transit(Buffer.from(template)) : template;
          await this.chip.processIssuerScripts(tx, settled, product, received, txn, now);
        }
      }
      return {
        ...decided,
        ...answer,
        atc: toHex(txn.atc),
        arqc: toHex(txn.arqc),
        ...(template ? { issuer_script_template: toHex(template) } : {}),
      };
    });
  }

  /**
   * The terminal's part of an offline PIN: its PIN pad deciphers the zone-key block and hands
   * the chip a plaintext offline PIN block in a VERIFY command (EMV Book 3 §6.5.12). The clear
   * PIN exists only inside this step.
   */
  private terminalVerifyCommand(card: Card, block: Buffer): Buffer {
    try {
      return verifyCommand(decipherFormat4(block, this.cards.panOf(card), this.terminalPinKey));
    } catch (error) {
      if (!(error instanceof PaymentCryptoError)) throw error;
      throw undecipherablePinBlock('ISO_9564_4');
    }
  }
}

/** Why an authorization is declined, the first failing check first; undefined when approved. */
function declineReasonOf(
  active: boolean,
  answer: Pick<
    AuthorizationResponse,
    | 'pin_verification'
    | 'pin_tries_remaining'
    | 'offline_pin_verification'
    | 'chip_pin_tries_remaining'
  >,
): DeclineReason | undefined {
  switch (answer.offline_pin_verification) {
    case 'BLOCKED':
      return 'OFFLINE_PIN_BLOCKED';
    case 'INCORRECT':
      return answer.chip_pin_tries_remaining === 0
        ? 'OFFLINE_PIN_BLOCKED'
        : 'OFFLINE_PIN_INCORRECT';
  }
  if (!active) return 'CARD_NOT_ACTIVE';
  switch (answer.pin_verification) {
    case 'NOT_SET':
      return 'PIN_NOT_SET';
    case 'BLOCKED':
      return 'PIN_TRIES_EXCEEDED';
    case 'INCORRECT':
      return answer.pin_tries_remaining === 0 ? 'PIN_TRIES_EXCEEDED' : 'INCORRECT_PIN';
  }
  return undefined;
}

/**
 * The request's PIN block and who checks it, refused before anything changes when malformed:
 * hex of its format's length; an offline PIN only from a contact chip's PIN pad (format 4).
 */
function parsePinBlock(
  request: AuthorizationRequest,
): { format: PinBlockFormat; block: Buffer; cvm: 'ONLINE_PIN' | 'OFFLINE_PIN' } | undefined {
  const { pin_block: pinBlock, cvm } = request;
  if (pinBlock === undefined) {
    if (cvm !== undefined) {
      throw new ApiError('INVALID_FIELD', `cvm ${cvm} needs the terminal’s pin_block`, 'pin_block');
    }
    return undefined;
  }
  const digits = PIN_BLOCK_DIGITS[pinBlock.format];
  if (pinBlock.block.length !== digits || !/^[0-9A-Fa-f]+$/.test(pinBlock.block)) {
    throw new ApiError(
      'INVALID_PIN_BLOCK',
      `pin_block.block must be ${digits} hex digits for ${pinBlock.format}`,
      'pin_block.block',
    );
  }
  if (cvm === 'OFFLINE_PIN') {
    if (request.entry_mode !== 'CHIP_CONTACT') {
      throw new ApiError(
        'INVALID_FIELD',
        'An offline PIN is verified by the chip: use entry_mode CHIP_CONTACT',
        'cvm',
      );
    }
    if (pinBlock.format !== 'ISO_9564_4') {
      throw new ApiError(
        'INVALID_FIELD',
        'The simulated PIN pad enciphers an offline PIN as ISO_9564_4 under ZONE_PIN_KEY_AES',
        'pin_block.format',
      );
    }
  }
  return {
    format: pinBlock.format,
    block: Buffer.from(pinBlock.block, 'hex'),
    cvm: cvm ?? 'ONLINE_PIN',
  };
}

function parseReportedResults(value: string | undefined): IssuerScriptResult[] | undefined {
  if (value === undefined) return undefined;
  try {
    return parseIssuerScriptResults(value);
  } catch (error) {
    if (!(error instanceof PaymentCryptoError)) throw error;
    throw new ApiError(
      'INVALID_FIELD',
      'issuer_script_results must be Issuer Script Results (9F5B): 5 bytes a script, in hex',
      'issuer_script_results',
    );
  }
}
