/**
 * VIS PIN block (Visa Integrated Circuit Card Specification, PIN change *without* the current
 * PIN), carried enciphered in the PIN CHANGE/UNBLOCK command data of the VISA profile:
 *
 *   A = 00 00 00 00 ‖ rightmost 4 bytes of the left half of MK-AC (i.e. MK-AC bytes 4..7)
 *   B = 0 ‖ N ‖ P1 … PN ‖ F … F  (8 bytes: the ISO 9564-1 format 0 PIN field, §9.3.2.2)
 *   VIS PIN block = A xor B
 *
 * Visa's variant *with* the current PIN additionally XORs the current PIN, zero-filled; it is
 * not needed for "PIN change without current PIN" and is not implemented. The EMV_CCD and
 * MASTERCARD profiles carry an ISO 9564-1 format 2 block instead (../iso9564/format2.ts).
 */
import { xor } from '../bytes.js';
import { DOUBLE_LENGTH_ONLY, assertTdesKey } from '../des.js';
import {
  PIN_BLOCK_LENGTH,
  assertBlock,
  assertPin,
  readPinField,
  writePinField,
} from '../iso9564/pin-field.js';

const CONTROL = 0x0;
const FILL = 0xf;

function visMask(mkAc: Buffer): Buffer {
  assertTdesKey(mkAc, 'MK-AC', DOUBLE_LENGTH_ONLY);
  return Buffer.concat([Buffer.alloc(4), mkAc.subarray(4, 8)]);
}

/** VIS PIN block (without current PIN). `mkAc` is the 16-byte ICC master key for AC (UDK-A‖B). */
export function formatVisPinBlock(mkAc: Buffer, pin: string): Buffer {
  const mask = visMask(mkAc);
  assertPin(pin);
  const pinField = writePinField(CONTROL, pin, () => FILL);
  const block = xor(mask, pinField);
  pinField.fill(0);
  return block;
}

/** Decodes a VIS PIN block (without current PIN); throws INVALID_BLOCK if malformed. */
export function parseVisPinBlock(mkAc: Buffer, block: Buffer): string {
  const mask = visMask(mkAc);
  assertBlock(block, PIN_BLOCK_LENGTH);
  const pinField = xor(mask, block);
  try {
    return readPinField(pinField, CONTROL, (nibble) => nibble === FILL, 'VIS');
  } finally {
    pinField.fill(0);
  }
}
