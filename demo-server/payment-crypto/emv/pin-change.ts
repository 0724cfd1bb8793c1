/**
 * PIN CHANGE/UNBLOCK (EMV Book 3 §6.5.10) as an issuer-script command, issuer side (build) and
 * card side (verify and open), in its two forms without the current PIN:
 *   P2 = 02  84 24 00 02: change the PIN (and reset the PIN try counter), new PIN enciphered
 *   P2 = 00  84 24 00 00: unblock only (reset the PIN try counter), no command data
 *
 * Command data encipherment with SK-SMC (EMV Book 2 §9.3 / Annex A1.1), per profile:
 *   EMV_CCD     3DES-CBC, zero IV, ISO/IEC 9797-1 padding method 2 always
 *               (8-byte PIN block → 16 enciphered bytes)
 *   MASTERCARD  3DES-CBC, zero IV, padding method 2 only when the data is not a multiple of 8
 *               (8-byte PIN block → 8 enciphered bytes)
 *   VISA        3DES-ECB of pad80(L ‖ data), L = one-byte data length
 *               (8-byte PIN block → 16 enciphered bytes)
 * PIN block: ISO 9564-1 format 2 for EMV_CCD and MASTERCARD, VIS PIN block for VISA.
 *
 * APDU = 84 24 00 02 Lc ‖ enciphered data ‖ MAC(8), Lc = |enciphered data| + 8
 *        84 24 00 00 08 ‖ MAC(8)
 * MAC  = ISO/IEC 9797-1 alg. 3, padding method 2, with SK-SMI over
 *        header(5) ‖ ATC ‖ ARQC ‖ enciphered data (none for P2 = 00)   (EMV Book 2 §9.2.1.2
 *        format 2 with the transaction data; this is what Visa CVN 10/18 use).
 * Some Mastercard-style personalisations (e.g. Interac CVN 133 in pyemv) MAC only
 * header ‖ enciphered data; set `macIncludesTransactionData: false` for that variant.
 * SK-SMI and SK-SMC are the same session keys for both forms, derived per profile (keys.ts).
 */
import { fromHex } from '../bytes.js';
import {
  DES_BLOCK_SIZE,
  tdesCbcDecrypt,
  tdesCbcEncrypt,
  tdesEcbDecrypt,
  tdesEcbEncrypt,
} from '../des.js';
import { PaymentCryptoError, PaymentCryptoErrorCode } from '../errors.js';
import { decodeFormat2, encodeFormat2 } from '../iso9564/format2.js';
import { PIN_BLOCK_LENGTH } from '../iso9564/pin-field.js';
import { MAC_LENGTH, retailMac, verifyRetailMac } from '../mac.js';
import { pad80, unpad80 } from '../padding.js';
import { EmvProfile, deriveIccMasterKeyOptionA, deriveSecureMessagingSessionKey } from './keys.js';
import { formatVisPinBlock, parseVisPinBlock } from './vis-pin-block.js';

export { EmvProfile } from './keys.js';

/** CLA (secure messaging, proprietary) ‖ INS (PIN CHANGE/UNBLOCK) ‖ P1 ‖ P2 (no current PIN). */
export const PIN_CHANGE_NO_CURRENT_PIN_HEADER_HEX = '84240002';

/** The same command with P2 = 00: unblock the PIN, change nothing (EMV Book 3 §6.5.10). */
export const PIN_UNBLOCK_HEADER_HEX = '84240000';

const PIN_CHANGE_HEADER = fromHex(PIN_CHANGE_NO_CURRENT_PIN_HEADER_HEX);
const PIN_UNBLOCK_HEADER = fromHex(PIN_UNBLOCK_HEADER_HEX);

/** P2 = 00 has no command data: Lc counts the MAC alone. */
const PIN_UNBLOCK_COMMAND_HEADER = Buffer.concat([PIN_UNBLOCK_HEADER, Buffer.from([MAC_LENGTH])]);

const NO_DATA = Buffer.alloc(0);

/** The online transaction that carries the script: its ATC (9F36) and ARQC (9F26). */
interface ScriptTransaction {
  atc: Buffer;
  arqc: Buffer;
}

interface SessionKeys {
  skSmi: Buffer;
  skSmc: Buffer;
}

function assertTxn(atc: Buffer, arqc: Buffer): void {
  if (atc.length !== 2) {
    throw new PaymentCryptoError(PaymentCryptoErrorCode.INVALID_INPUT, 'The ATC must be 2 bytes.');
  }
  if (arqc.length !== 8) {
    throw new PaymentCryptoError(PaymentCryptoErrorCode.INVALID_INPUT, 'The ARQC must be 8 bytes.');
  }
}

function unknownProfile(): PaymentCryptoError {
  return new PaymentCryptoError(
    PaymentCryptoErrorCode.INVALID_INPUT,
    'Unknown secure-messaging profile.',
  );
}

/** Enciphers command data with SK-SMC according to the profile (see the module comment). */
export function encipherCommandData(profile: EmvProfile, skSmc: Buffer, data: Buffer): Buffer {
  switch (profile) {
    case EmvProfile.EMV_CCD:
      return tdesCbcEncrypt(skSmc, pad80(data));
    case EmvProfile.MASTERCARD:
      return tdesCbcEncrypt(
        skSmc,
        data.length > 0 && data.length % DES_BLOCK_SIZE === 0 ? data : pad80(data),
      );
    case EmvProfile.VISA:
      if (data.length > 0xff) {
        throw new PaymentCryptoError(
          PaymentCryptoErrorCode.INVALID_INPUT,
          'Visa command data is limited to 255 bytes.',
        );
      }
      return tdesEcbEncrypt(skSmc, pad80(Buffer.concat([Buffer.from([data.length]), data])));
    default:
      throw unknownProfile();
  }
}

/**
 * Inverse of encipherCommandData. Throws BAD_PADDING when padding / the Visa length prefix is
 * wrong. For MASTERCARD the plaintext is returned as deciphered: whether padding was added
 * depends on the (unknown) original length, so the caller checks the length it expects.
 */
export function decipherCommandData(
  profile: EmvProfile,
  skSmc: Buffer,
  enciphered: Buffer,
): Buffer {
  switch (profile) {
    case EmvProfile.EMV_CCD:
      return unpad80(tdesCbcDecrypt(skSmc, enciphered));
    case EmvProfile.MASTERCARD:
      return tdesCbcDecrypt(skSmc, enciphered);
    case EmvProfile.VISA: {
      const prefixed = unpad80(tdesEcbDecrypt(skSmc, enciphered));
      if (prefixed.length === 0 || prefixed[0] !== prefixed.length - 1) {
        throw new PaymentCryptoError(
          PaymentCryptoErrorCode.BAD_PADDING,
          'The Visa length prefix does not match.',
        );
      }
      return Buffer.from(prefixed.subarray(1));
    }
    default:
      throw unknownProfile();
  }
}

/** The bytes the script MAC is computed over: header(5) ‖ [ATC ‖ ARQC] ‖ command data. */
export function scriptCommandMacInput(
  header: Buffer,
  atc: Buffer,
  arqc: Buffer,
  data: Buffer,
  includeTransactionData: boolean = true,
): Buffer {
  return Buffer.concat(includeTransactionData ? [header, atc, arqc, data] : [header, data]);
}

/** Issuer side: the session key of an ICC master key (Option A from its IMK) for `txn`. */
function issuerSessionKey(
  profile: EmvProfile,
  imk: Buffer,
  card: { pan: string; psn: string },
  txn: ScriptTransaction,
): Buffer {
  return deriveSecureMessagingSessionKey(
    profile,
    deriveIccMasterKeyOptionA(imk, card.pan, card.psn),
    txn,
  );
}

/** Header ‖ data ‖ MAC, the MAC over header ‖ [ATC ‖ ARQC] ‖ data (module comment). */
function macedCommand(
  skSmi: Buffer,
  header: Buffer,
  data: Buffer,
  txn: ScriptTransaction,
  includeTransactionData: boolean,
): { apdu: Buffer; mac: Buffer } {
  const mac = retailMac(
    skSmi,
    scriptCommandMacInput(header, txn.atc, txn.arqc, data, includeTransactionData),
  );
  return { apdu: Buffer.concat([header, data, mac]), mac };
}

/** Card side: whether the last 8 bytes of `apdu` (header ‖ data ‖ MAC) are its MAC. */
function commandMacVerifies(
  skSmi: Buffer,
  apdu: Buffer,
  txn: ScriptTransaction,
  includeTransactionData: boolean,
): boolean {
  const header = apdu.subarray(0, 5);
  const data = apdu.subarray(5, apdu.length - MAC_LENGTH);
  const mac = apdu.subarray(apdu.length - MAC_LENGTH);
  return verifyRetailMac(
    skSmi,
    scriptCommandMacInput(header, txn.atc, txn.arqc, data, includeTransactionData),
    mac,
  );
}

export interface BuildPinChangeCommandInput {
  profile: EmvProfile;
  /** IMK-AC; required for VISA (the VIS PIN block is masked with MK-AC), ignored otherwise. */
  imkAc?: Buffer;
  imkSmi: Buffer;
  imkSmc: Buffer;
  /** 8-19 digits. */
  pan: string;
  /** 2 digits; default "00". */
  psn?: string;
  /** ATC (9F36) of the online transaction that carries the script, 2 bytes. */
  atc: Buffer;
  /** ARQC (9F26) of that transaction, 8 bytes. */
  arqc: Buffer;
  /** New PIN, 4-12 digits. */
  pin: string;
  /** MAC over header ‖ ATC ‖ ARQC ‖ data (default true) or header ‖ data (false). */
  macIncludesTransactionData?: boolean;
}

export interface PinChangeCommand {
  /** 84 24 00 02 Lc ‖ encipheredData ‖ mac — put it in an 86 of tag 72. */
  apdu: Buffer;
  mac: Buffer;
  encipheredData: Buffer;
}

/** Issuer side: derives ICC MKs (Option A) and SM session keys, enciphers the PIN block, MACs. */
export function buildPinChangeCommand(input: BuildPinChangeCommandInput): PinChangeCommand {
  const { profile, pan, psn = '00', atc, arqc, pin } = input;
  assertTxn(atc, arqc);
  const txn = { atc, arqc };

  let pinBlock: Buffer;
  if (profile === EmvProfile.VISA) {
    if (!input.imkAc) {
      throw new PaymentCryptoError(
        PaymentCryptoErrorCode.INVALID_KEY,
        'IMK-AC is required for the Visa profile.',
      );
    }
    pinBlock = formatVisPinBlock(deriveIccMasterKeyOptionA(input.imkAc, pan, psn), pin);
  } else {
    pinBlock = encodeFormat2(pin);
  }

  const card = { pan, psn };
  const skSmc = issuerSessionKey(profile, input.imkSmc, card, txn);
  const skSmi = issuerSessionKey(profile, input.imkSmi, card, txn);

  const encipheredData = encipherCommandData(profile, skSmc, pinBlock);
  const header = Buffer.concat([
    PIN_CHANGE_HEADER,
    Buffer.from([encipheredData.length + MAC_LENGTH]),
  ]);
  const { apdu, mac } = macedCommand(
    skSmi,
    header,
    encipheredData,
    txn,
    input.macIncludesTransactionData ?? true,
  );
  return { apdu, mac, encipheredData };
}

/** As for the PIN change, without the keys and PIN the command data needs: it has none. */
export type BuildPinUnblockCommandInput = Omit<
  BuildPinChangeCommandInput,
  'imkAc' | 'imkSmc' | 'pin'
>;

export interface PinUnblockCommand {
  /** 84 24 00 00 08 ‖ mac — put it in an 86 of tag 72. */
  apdu: Buffer;
  mac: Buffer;
}

/**
 * Issuer side: PIN UNBLOCK (PIN CHANGE/UNBLOCK with P2 = 00), which resets the chip's PIN try
 * counter. It has no command data, so only the MAC key (SK-SMI, derived as for the PIN change)
 * is needed.
 */
export function buildPinUnblockCommand(input: BuildPinUnblockCommandInput): PinUnblockCommand {
  const { profile, pan, psn = '00', atc, arqc } = input;
  assertTxn(atc, arqc);
  const txn = { atc, arqc };
  const skSmi = issuerSessionKey(profile, input.imkSmi, { pan, psn }, txn);
  return macedCommand(
    skSmi,
    PIN_UNBLOCK_COMMAND_HEADER,
    NO_DATA,
    txn,
    input.macIncludesTransactionData ?? true,
  );
}

export interface VerifyAndOpenPinChangeCommandInput {
  profile: EmvProfile;
  /** ICC master keys as personalised on the card (Option A from the IMKs). */
  mkSmi: Buffer;
  mkSmc: Buffer;
  /** ICC MK-AC; required for VISA. */
  mkAc?: Buffer;
  atc: Buffer;
  arqc: Buffer;
  apdu: Buffer;
  macIncludesTransactionData?: boolean;
}

export type PinChangeOpenFailureCode =
  | typeof PaymentCryptoErrorCode.MALFORMED_APDU
  | typeof PaymentCryptoErrorCode.BAD_MAC
  | typeof PaymentCryptoErrorCode.BAD_PIN_BLOCK;

export type PinChangeOpenResult =
  { ok: true; pin: string } | { ok: false; code: PinChangeOpenFailureCode };

/** Card side: checks the caller's transaction data and keys, then derives both session keys. */
function cardSessionKeys(input: VerifyAndOpenPinChangeCommandInput): SessionKeys {
  const { profile, mkSmi, mkSmc, mkAc, atc, arqc } = input;
  assertTxn(atc, arqc);
  if (profile === EmvProfile.VISA && !mkAc) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_KEY,
      'MK-AC is required for the Visa profile.',
    );
  }
  const txn = { atc, arqc };
  return {
    skSmi: deriveSecureMessagingSessionKey(profile, mkSmi, txn),
    skSmc: deriveSecureMessagingSessionKey(profile, mkSmc, txn),
  };
}

function openPinChange(
  keys: SessionKeys,
  input: VerifyAndOpenPinChangeCommandInput,
): PinChangeOpenResult {
  const { profile, mkAc, atc, arqc, apdu } = input;
  const lc = apdu[4];
  if (
    lc === undefined ||
    !apdu.subarray(0, 4).equals(PIN_CHANGE_HEADER) ||
    apdu.length !== 5 + lc ||
    lc < 2 * MAC_LENGTH ||
    lc % 8 !== 0
  ) {
    return { ok: false, code: PaymentCryptoErrorCode.MALFORMED_APDU };
  }
  const txn = { atc, arqc };
  if (!commandMacVerifies(keys.skSmi, apdu, txn, input.macIncludesTransactionData ?? true)) {
    return { ok: false, code: PaymentCryptoErrorCode.BAD_MAC };
  }

  try {
    const encipheredData = apdu.subarray(5, apdu.length - MAC_LENGTH);
    const block = decipherCommandData(profile, keys.skSmc, encipheredData);
    if (block.length !== PIN_BLOCK_LENGTH) {
      return { ok: false, code: PaymentCryptoErrorCode.BAD_PIN_BLOCK };
    }
    const pin =
      profile === EmvProfile.VISA && mkAc ? parseVisPinBlock(mkAc, block) : decodeFormat2(block);
    return { ok: true, pin };
  } catch (err) {
    if (
      err instanceof PaymentCryptoError &&
      (err.code === PaymentCryptoErrorCode.BAD_PADDING ||
        err.code === PaymentCryptoErrorCode.INVALID_BLOCK)
    ) {
      return { ok: false, code: PaymentCryptoErrorCode.BAD_PIN_BLOCK };
    }
    throw err;
  }
}

/**
 * Card side: checks the header and Lc, verifies the MAC (constant-time) with SK-SMI, then
 * deciphers with SK-SMC and decodes the PIN block. Problems with the APDU are returned as a typed
 * failure (MALFORMED_APDU, BAD_MAC, BAD_PIN_BLOCK — bad padding and a block that does not
 * decode, INVALID_BLOCK when thrown, both count as BAD_PIN_BLOCK);
 * problems with the caller's own inputs (key / ATC / ARQC lengths) throw PaymentCryptoError.
 */
export function verifyAndOpenPinChangeCommand(
  input: VerifyAndOpenPinChangeCommandInput,
): PinChangeOpenResult {
  return openPinChange(cardSessionKeys(input), input);
}

/** As for the PIN change, without the keys the command data needs: it has none. */
export type VerifyPinUnblockCommandInput = Omit<
  VerifyAndOpenPinChangeCommandInput,
  'mkSmc' | 'mkAc'
>;

export type PinUnblockVerifyFailureCode =
  typeof PaymentCryptoErrorCode.MALFORMED_APDU | typeof PaymentCryptoErrorCode.BAD_MAC;

export type PinUnblockVerifyResult =
  { ok: true } | { ok: false; code: PinUnblockVerifyFailureCode };

function checkPinUnblock(
  skSmi: Buffer,
  input: VerifyPinUnblockCommandInput,
): PinUnblockVerifyResult {
  const { atc, arqc, apdu } = input;
  if (
    apdu.length !== PIN_UNBLOCK_COMMAND_HEADER.length + MAC_LENGTH ||
    !apdu.subarray(0, PIN_UNBLOCK_COMMAND_HEADER.length).equals(PIN_UNBLOCK_COMMAND_HEADER)
  ) {
    return { ok: false, code: PaymentCryptoErrorCode.MALFORMED_APDU };
  }
  if (!commandMacVerifies(skSmi, apdu, { atc, arqc }, input.macIncludesTransactionData ?? true)) {
    return { ok: false, code: PaymentCryptoErrorCode.BAD_MAC };
  }
  return { ok: true };
}

/**
 * Card side: accepts a PIN UNBLOCK (84 24 00 00 08 ‖ MAC) whose MAC verifies (constant-time)
 * with SK-SMI; the chip then resets its PIN try counter. A wrong header, Lc or length is
 * MALFORMED_APDU, a wrong MAC BAD_MAC; the caller's own inputs (key / ATC / ARQC lengths) throw
 * PaymentCryptoError.
 */
export function verifyPinUnblockCommand(
  input: VerifyPinUnblockCommandInput,
): PinUnblockVerifyResult {
  const { profile, mkSmi, atc, arqc } = input;
  assertTxn(atc, arqc);
  return checkPinUnblock(deriveSecureMessagingSessionKey(profile, mkSmi, { atc, arqc }), input);
}

/** The chip's keys and the transaction, as for `verifyAndOpenPinChangeCommand`. */
export type OpenIssuerScriptCommandInput = VerifyAndOpenPinChangeCommandInput;

export type IssuerScriptCommandOpenResult =
  | { ok: true; kind: 'PIN_CHANGE'; pin: string }
  | { ok: true; kind: 'PIN_UNBLOCK' }
  | { ok: false; code: PinChangeOpenFailureCode };

/**
 * Card side, for any command of an issuer script: chooses by CLA INS P1 P2 between the PIN
 * change (84 24 00 02, opened as `verifyAndOpenPinChangeCommand` does) and the PIN unblock
 * (84 24 00 00, as `verifyPinUnblockCommand`); any other command is MALFORMED_APDU. The caller's
 * inputs are checked, and throw, whatever the command.
 */
export function openIssuerScriptCommand(
  input: OpenIssuerScriptCommandInput,
): IssuerScriptCommandOpenResult {
  const keys = cardSessionKeys(input);
  const command = input.apdu.subarray(0, 4);
  if (command.equals(PIN_CHANGE_HEADER)) {
    const opened = openPinChange(keys, input);
    return opened.ok ? { ok: true, kind: 'PIN_CHANGE', pin: opened.pin } : opened;
  }
  if (command.equals(PIN_UNBLOCK_HEADER)) {
    const verified = checkPinUnblock(keys.skSmi, input);
    return verified.ok ? { ok: true, kind: 'PIN_UNBLOCK' } : verified;
  }
  return { ok: false, code: PaymentCryptoErrorCode.MALFORMED_APDU };
}
