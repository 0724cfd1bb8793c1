/**
 * EMV key derivation for issuer-script secure messaging.
 *
 * ICC master keys (EMV 4.x Book 2, Annex A1.4.1, "Option A"):
 *   Y  = rightmost 16 digits of PAN ‖ PSN (PSN defaults to "00"), left-padded with "0", as 8 BCD bytes
 *   ZL = 3DES(IMK)[Y], ZR = 3DES(IMK)[Y xor FF…FF], MK = odd-parity(ZL ‖ ZR)
 *
 * Session keys for secure messaging (SK-SMI for the MAC, SK-SMC for encipherment), per profile:
 *
 *   EMV_CCD     EMV Common Session Key derivation (Book 2 Annex A1.3.1) with R = ARQC (the
 *               Application Cryptogram of the current transaction, tag 9F26).
 *   MASTERCARD  Same as EMV_CCD: M/Chip 4 / M/Chip Advance derive SM session keys with the EMV
 *               common session key derivation and R = ARQC. (Older M/Chip 2.x "MasterCard
 *               proprietary SKD" is NOT supported.) There is therefore no separate Mastercard SM
 *               derivation function.
 *   VISA        Visa (VIS 1.x, CVN 10/18/22) SM session keys are not enciphered at all: each half
 *               of the ICC master key is XORed with the ATC (tag 9F36):
 *                 SK_L = MK_L xor (00 00 00 00 00 00 ‖ ATC)
 *                 SK_R = MK_R xor (00 00 00 00 00 00 ‖ (ATC xor FFFF))
 *               followed by odd-parity adjustment.
 *
 * Common session key derivation (Book 2 A1.3.1), with R = R0 … R7:
 *   SK_L = 3DES(MK)[R0 ‖ R1 ‖ F0 ‖ R3 ‖ R4 ‖ R5 ‖ R6 ‖ R7]
 *   SK_R = 3DES(MK)[R0 ‖ R1 ‖ 0F ‖ R3 ‖ R4 ‖ R5 ‖ R6 ‖ R7]
 * i.e. the *third* byte (R2) is replaced, then parity is adjusted. This matches the published
 * pyemv vectors (cross-checked by its author against an HSM).
 */
import { fromHex, xor } from '../bytes.js';
import { DOUBLE_LENGTH_ONLY, adjustOddParity, assertTdesKey, tdesEcbEncrypt } from '../des.js';
import { PaymentCryptoError, PaymentCryptoErrorCode } from '../errors.js';

/** The three secure-messaging profiles supported for the offline PIN change script. */
export const EmvProfile = {
  /** EMV Common Core Definitions: CSK with R = ARQC, 3DES-CBC, padding method 2 always. */
  EMV_CCD: 'EMV_CCD',
  /** Mastercard M/Chip 4 / Advance: CSK with R = ARQC, 3DES-CBC, padding only when needed. */
  MASTERCARD: 'MASTERCARD',
  /** Visa VIS: ATC-XOR session keys, length-prefixed data, padding method 2, 3DES-ECB. */
  VISA: 'VISA',
} as const;

export type EmvProfile = (typeof EmvProfile)[keyof typeof EmvProfile];

const PAN_RE = /^\d{8,19}$/;
const PSN_RE = /^\d{2}$/;

function assertLength(value: Buffer, length: number, what: string): void {
  if (value.length !== length) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_INPUT,
      `${what} must be ${length} bytes.`,
    );
  }
}

/**
 * ICC master key derivation, EMV Option A (Book 2 A1.4.1).
 * @param imk 16-byte issuer master key (IMK-AC, IMK-SMI or IMK-SMC)
 * @param pan 8-19 decimal digits
 * @param psn 2 decimal digits (PAN sequence number, tag 5F34), default "00"
 */
export function deriveIccMasterKeyOptionA(imk: Buffer, pan: string, psn: string = '00'): Buffer {
  assertTdesKey(imk, 'The issuer master key', DOUBLE_LENGTH_ONLY);
  if (!PAN_RE.test(pan)) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_INPUT,
      'The PAN must be 8-19 decimal digits.',
    );
  }
  if (!PSN_RE.test(psn)) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_INPUT,
      'The PSN must be 2 decimal digits.',
    );
  }
  const y = fromHex((pan + psn).slice(-16).padStart(16, '0'));
  const notY = xor(y, Buffer.alloc(8, 0xff));
  return adjustOddParity(tdesEcbEncrypt(imk, Buffer.concat([y, notY])));
}

/**
 * EMV common session key derivation (Book 2 A1.3.1).
 * @param mk 16-byte ICC master key
 * @param r 8-byte diversification value (ARQC for SM keys; ATC ‖ 00… for AC keys in CCD)
 */
export function deriveCommonSessionKey(mk: Buffer, r: Buffer): Buffer {
  assertTdesKey(mk, 'The ICC master key', DOUBLE_LENGTH_ONLY);
  assertLength(r, 8, 'The diversification value R');
  const left = Buffer.from(r);
  left[2] = 0xf0;
  const right = Buffer.from(r);
  right[2] = 0x0f;
  return adjustOddParity(tdesEcbEncrypt(mk, Buffer.concat([left, right])));
}

/**
 * Visa secure-messaging session key: MK halves XORed with ATC / inverted ATC, parity adjusted.
 * @param mk 16-byte ICC master key (MK-SMI or MK-SMC)
 * @param atc 2-byte Application Transaction Counter (tag 9F36)
 */
export function deriveVisaSecureMessagingSessionKey(mk: Buffer, atc: Buffer): Buffer {
  assertTdesKey(mk, 'The ICC master key', DOUBLE_LENGTH_ONLY);
  assertLength(atc, 2, 'The ATC');
  const maskL = Buffer.concat([Buffer.alloc(6), atc]);
  const maskR = Buffer.concat([Buffer.alloc(6), xor(atc, Buffer.from([0xff, 0xff]))]);
  return adjustOddParity(
    Buffer.concat([xor(mk.subarray(0, 8), maskL), xor(mk.subarray(8, 16), maskR)]),
  );
}

/**
 * Secure-messaging session key (SK-SMI or SK-SMC) for a profile, from the matching ICC master key.
 * EMV_CCD and MASTERCARD use the common derivation with R = ARQC; VISA uses the ATC.
 */
export function deriveSecureMessagingSessionKey(
  profile: EmvProfile,
  mk: Buffer,
  txn: { atc: Buffer; arqc: Buffer },
): Buffer {
  switch (profile) {
    case EmvProfile.EMV_CCD:
    case EmvProfile.MASTERCARD:
      return deriveCommonSessionKey(mk, txn.arqc);
    case EmvProfile.VISA:
      return deriveVisaSecureMessagingSessionKey(mk, txn.atc);
    default:
      throw new PaymentCryptoError(
        PaymentCryptoErrorCode.INVALID_INPUT,
        'Unknown secure-messaging profile.',
      );
  }
}
