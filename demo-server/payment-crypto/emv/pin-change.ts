/**
 * PIN CHANGE/UNBLOCK (84 24 00 02: change *without* the current PIN) as an issuer-script
 * command, issuer side (build) and card side (verify and open).
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
 * APDU = 84 24 00 02 Lc ‖ enciphered data ‖ MAC(8), Lc = |enciphered data| + 8.
 * MAC  = ISO/IEC 9797-1 alg. 3, padding method 2, with SK-SMI over
 *        84 24 00 02 Lc ‖ ATC ‖ ARQC ‖ enciphered data   (EMV Book 2 §9.2.1.2 format 2 with the
 *        transaction data; this is what Visa CVN 10/18 use).
 * Some Mastercard-style personalisations (e.g. Interac CVN 133 in pyemv) MAC only
 * header ‖ enciphered data; set `macIncludesTransactionData: false` for that variant.
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

const PIN_CHANGE_HEADER = fromHex(PIN_CHANGE_NO_CURRENT_PIN_HEADER_HEX);

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

  const skSmc = deriveSecureMessagingSessionKey(
    profile,
    deriveIccMasterKeyOptionA(input.imkSmc, pan, psn),
    txn,
  );
  const skSmi = deriveSecureMessagingSessionKey(
    profile,
    deriveIccMasterKeyOptionA(input.imkSmi, pan, psn),
    txn,
  );

  const encipheredData = encipherCommandData(profile, skSmc, pinBlock);
  const header = Buffer.concat([
    PIN_CHANGE_HEADER,
    Buffer.from([encipheredData.length + MAC_LENGTH]),
  ]);
  const mac = retailMac(
    skSmi,
    scriptCommandMacInput(
      header,
      atc,
      arqc,
      encipheredData,
      input.macIncludesTransactionData ?? true,
    ),
  );
  return { apdu: Buffer.concat([header, encipheredData, mac]), mac, encipheredData };
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
  const { profile, mkSmi, mkSmc, mkAc, atc, arqc, apdu } = input;
  assertTxn(atc, arqc);
  if (profile === EmvProfile.VISA && !mkAc) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_KEY,
      'MK-AC is required for the Visa profile.',
    );
  }
  const txn = { atc, arqc };
  const skSmi = deriveSecureMessagingSessionKey(profile, mkSmi, txn);
  const skSmc = deriveSecureMessagingSessionKey(profile, mkSmc, txn);

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
  const header = apdu.subarray(0, 5);
  const encipheredData = apdu.subarray(5, apdu.length - MAC_LENGTH);
  const mac = apdu.subarray(apdu.length - MAC_LENGTH);

  const macInput = scriptCommandMacInput(
    header,
    atc,
    arqc,
    encipheredData,
    input.macIncludesTransactionData ?? true,
  );
  if (!verifyRetailMac(skSmi, macInput, mac)) {
    return { ok: false, code: PaymentCryptoErrorCode.BAD_MAC };
  }

  try {
    const block = decipherCommandData(profile, skSmc, encipheredData);
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
