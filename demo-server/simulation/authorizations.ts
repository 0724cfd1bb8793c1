import type { CardService } from '../cards/service.js';
import { ApiError } from '../http/errors.js';
import type { Store } from '../store/types.js';
import {
  PaymentCryptoError,
  type IssuerScriptResult,
  parseIssuerScriptResults,
  toHex,
} from '../payment-crypto/index.js';
import type { IssuerScripts } from '../offline-pin/issuer-scripts.js';
import type { VirtualChip } from './virtual-chip.js';

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
}

export interface AuthorizationResponse {
  approved: boolean;
  atc: string | null;
  arqc: string | null;
  issuer_script_template?: string;
}

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
    private readonly scripts: IssuerScripts,
    private readonly chip: VirtualChip,
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
    const now = Date.now();
    return this.store.transaction(async (tx) => {
      // The card's lock serializes its chip: two authorizations never share an ATC.
      const { card, product } = await this.cards.lock(tx, request.card_id);
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
      const approved = card.cardStatus === 'ACTIVE';
      if (!chipRead) return { approved, atc: null, arqc: null };

      const txn = await this.chip.generateArqc(tx, card, {
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
        approved,
        atc: toHex(txn.atc),
        arqc: toHex(txn.arqc),
        ...(template ? { issuer_script_template: toHex(template) } : {}),
      };
    });
  }
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
