import { ApiError } from '../http/errors.js';
import {
  type ZonePinBlockFormat,
  encipherFormat4,
  encodeFormat0,
  keyCheckValue,
  tdesEcbEncrypt,
  toHex,
} from '../payment-crypto/index.js';

export type PinBlockFormat = ZonePinBlockFormat;

/** The zone PIN keys shared with processors and acquirers (ZONE_PIN_KEY_AES, ZONE_PIN_KEY_TDES). */
export interface ZonePinKeys {
  aes: Buffer;
  tdes: Buffer;
}

/**
 * A terminal's block that carries no PIN for this card (wrong key, wrong PAN, not a block of its
 * format): 400, and no try is used (docs/point-of-sale.md).
 */
export const undecipherablePinBlock = (format: PinBlockFormat) =>
  new ApiError(
    'INVALID_PIN_BLOCK',
    `pin_block does not decipher to an ${format} block for this card: check the zone key and the PAN`,
    'pin_block.block',
  );

/** The zone key of a format: AES for format 4, 3DES for format 0. */
export const zoneKeyFor = (format: PinBlockFormat, keys: ZonePinKeys): Buffer =>
  format === 'ISO_9564_4' ? keys.aes : keys.tdes;

/**
 * A PIN enciphered under a zone key with the card's PAN, as one party hands it to the next:
 * ISO 9564-1 format 4 under the AES key, or format 0 under the 3DES key (ECB). `key_id` is the
 * key's check value, so the receiver knows which key to use. Both the PIN-block export and the
 * demo terminal's PIN pad (the acquirer's translation) make their blocks here.
 */
export function zonePinBlock(
  pin: string,
  pan: string,
  format: PinBlockFormat,
  keys: ZonePinKeys,
): { format: PinBlockFormat; key_id: string; pin_block: string } {
  if (format === 'ISO_9564_4') {
    return {
      format,
      key_id: toHex(keyCheckValue(keys.aes, 3, 'AES')),
      pin_block: toHex(encipherFormat4(pin, pan, keys.aes)),
    };
  }
  return {
    format,
    key_id: toHex(keyCheckValue(keys.tdes)),
    pin_block: tdesEcbEncrypt(keys.tdes, encodeFormat0(pin, pan)).toString('hex').toUpperCase(),
  };
}
