/**
 * PIN verification by PIN block comparison: the issuer's stored PIN (a format 4 block under its
 * own key) and the PIN under test are opened side by side here and compared in constant time,
 * so the clear PIN never leaves this module and a caller learns only match / mismatch /
 * malformed.
 */
import { timingSafeEqual } from 'node:crypto';

import { assertAesKey } from '../aes.js';
import { DOUBLE_LENGTH_ONLY, assertTdesKey, tdesEcbDecrypt } from '../des.js';
import { PaymentCryptoError, PaymentCryptoErrorCode } from '../errors.js';
import { decodeFormat0 } from './format0.js';
import { encodeFormat2 } from './format2.js';
import { decipherFormat4 } from './format4.js';
import { PIN_BLOCK_LENGTH, assertBlock, assertPan } from './pin-field.js';

/** The formats a terminal's PIN block may arrive in, enciphered under a zone PIN key. */
export type ZonePinBlockFormat = 'ISO_9564_0' | 'ISO_9564_4';

export type PinBlockVerification = 'MATCH' | 'MISMATCH' | 'MALFORMED';

/** The issuer's stored PIN: an ISO 9564-1 format 4 block with the card's PAN, and its AES key. */
export interface ReferencePinBlock {
  block: Buffer;
  key: Buffer;
}

export interface VerifyPinBlockInput {
  /**
   * `ISO_9564_0`: 8 bytes, format 0 with the PAN, triple-DES ECB under a double-length key.
   * `ISO_9564_4`: 16 bytes, format 4 with the PAN, AES (the key length picks the variant).
   */
  format: ZonePinBlockFormat;
  /** The terminal's enciphered PIN block, as received: never trusted. */
  block: Buffer;
  /** The card's PAN, which both blocks are bound to. */
  pan: string;
  /** The key the terminal's block is enciphered under (the zone PIN key). */
  key: Buffer;
  reference: ReferencePinBlock;
}

/**
 * The ISO 9564-1 format 2 field (2, N, PIN, F fill) is the PIN alone: no PAN binding and no
 * random fill, so two PINs are equal exactly when their fields are, and the fields are always 8
 * bytes. Comparing them whole with timingSafeEqual means a different length or a different
 * digit anywhere costs the same time as a match.
 */
function samePin(a: string, b: string): boolean {
  const left = encodeFormat2(a);
  const right = encodeFormat2(b);
  try {
    return timingSafeEqual(left, right);
  } finally {
    left.fill(0);
    right.fill(0);
  }
}

/**
 * Validates the caller's key and PAN for the terminal's format, then returns the function that
 * opens the terminal's block: its clear PIN, or INVALID_BLOCK for any block that is not one.
 */
function terminalBlockOpener(
  format: ZonePinBlockFormat,
  pan: string,
  key: Buffer,
): (block: Buffer) => string {
  switch (format) {
    case 'ISO_9564_0':
      assertTdesKey(key, 'The format 0 PIN key', DOUBLE_LENGTH_ONLY);
      // Format 0 takes 12 to 19 digits (ISO 9564-1:2017 §9.3.2.3), fewer than format 4.
      assertPan(pan, 12, 19);
      return (block) => {
        assertBlock(block, PIN_BLOCK_LENGTH);
        const clear = tdesEcbDecrypt(key, block);
        try {
          return decodeFormat0(clear, pan);
        } finally {
          clear.fill(0);
        }
      };
    case 'ISO_9564_4':
      assertAesKey(key);
      return (block) => decipherFormat4(block, pan, key);
    default:
      throw new PaymentCryptoError(
        PaymentCryptoErrorCode.INVALID_INPUT,
        'Unknown PIN block format.',
      );
  }
}

/**
 * Online PIN verification (docs/point-of-sale.md): does the terminal's enciphered PIN block
 * hold the PIN of the issuer's stored reference block?
 *
 * - `MATCH` / `MISMATCH`: both blocks opened; the PINs (length and digits) were compared in
 *   constant time.
 * - `MALFORMED`: the terminal's block has the wrong size, or does not decipher to a
 *   well-formed block of its format for this PAN (control nibble, length 4–12, decimal digits,
 *   fill). It carries no PIN to check. A bad terminal block never throws.
 *
 * Throws PaymentCryptoError for the caller's own inputs, before looking at the terminal's
 * block: INVALID_KEY (a key of the wrong length, or a degenerate triple-DES key), INVALID_PAN,
 * INVALID_INPUT (unknown format), and INVALID_BLOCK when the *reference* does not open (a
 * reference under another key or for another PAN is the issuer's fault, not the terminal's).
 */
export function verifyPinBlock(input: VerifyPinBlockInput): PinBlockVerification {
  const { format, block, pan, key, reference } = input;
  const openTerminalBlock = terminalBlockOpener(format, pan, key);
  const expected = decipherFormat4(reference.block, pan, reference.key);
  let presented: string;
  try {
    presented = openTerminalBlock(block);
  } catch (error) {
    if (
      error instanceof PaymentCryptoError &&
      error.code === PaymentCryptoErrorCode.INVALID_BLOCK
    ) {
      return 'MALFORMED';
    }
    throw error;
  }
  return samePin(presented, expected) ? 'MATCH' : 'MISMATCH';
}

/**
 * Whether a PIN the caller holds in the clear (the Set PIN widget's current PIN, out of its
 * JWE) is the one in the stored reference block, compared in constant time like
 * `verifyPinBlock`. Throws INVALID_PIN when `candidate` is not 4 to 12 decimal digits (parse it
 * at the boundary), and INVALID_KEY / INVALID_PAN / INVALID_BLOCK when the reference does not
 * open.
 */
export function pinMatchesBlock(
  candidate: string,
  reference: ReferencePinBlock,
  pan: string,
): boolean {
  return samePin(candidate, decipherFormat4(reference.block, pan, reference.key));
}
