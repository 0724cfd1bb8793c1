import { xor } from '../bytes.js';
import {
  PIN_BLOCK_LENGTH,
  accountField,
  assertBlock,
  assertPan,
  assertPin,
  readPinField,
  writePinField,
} from './pin-field.js';

const CONTROL = 0x0;
const FILL = 0xf;

/**
 * Clear ISO 9564-1 format 0 block (ISO 9564-1:2017 §9.3.2; ANSI X9.8 / VISA-1): the PIN field
 * (0, N, PIN, F fill) XOR the account number field, which binds the block to the card. The
 * caller enciphers it, e.g. with `tdesEcbEncrypt` under a zone PIN key.
 */
export function encodeFormat0(pin: string, pan: string): Buffer {
  assertPin(pin);
  assertPan(pan, 12, 19);
  const pinField = writePinField(CONTROL, pin, () => FILL);
  const block = xor(pinField, accountField(pan));
  pinField.fill(0);
  return block;
}

/** Inverse of `encodeFormat0`; refuses any block that is not a well-formed format 0 block. */
export function decodeFormat0(block: Buffer, pan: string): string {
  assertBlock(block, PIN_BLOCK_LENGTH);
  assertPan(pan, 12, 19);
  const pinField = xor(block, accountField(pan));
  try {
    return readPinField(pinField, CONTROL, (nibble) => nibble === FILL, 'format 0');
  } finally {
    pinField.fill(0);
  }
}
