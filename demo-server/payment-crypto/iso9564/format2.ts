import {
  PIN_BLOCK_LENGTH,
  assertBlock,
  assertPin,
  readPinField,
  writePinField,
} from './pin-field.js';

const CONTROL = 0x2;
const FILL = 0xf;

/**
 * Clear ISO 9564-1 format 2 block (ISO 9564-1:2017 §9.3.4): 2, N, PIN, F fill, with no PAN.
 * It is meant only for the ICC: EMV uses this layout for the plaintext PIN block of VERIFY and
 * for the new PIN sent to the card in an issuer script PIN change.
 */
export function encodeFormat2(pin: string): Buffer {
  assertPin(pin);
  return writePinField(CONTROL, pin, () => FILL);
}

/** Inverse of `encodeFormat2`; refuses any block that is not a well-formed format 2 block. */
export function decodeFormat2(block: Buffer): string {
  assertBlock(block, PIN_BLOCK_LENGTH);
  return readPinField(block, CONTROL, (nibble) => nibble === FILL, 'format 2');
}
