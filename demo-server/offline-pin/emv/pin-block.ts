/**
 * Clear PIN blocks carried (enciphered) in the PIN CHANGE/UNBLOCK command data.
 *
 * ISO 9564-1 format 2 (used by EMV CCD and Mastercard for offline PIN change):
 *   nibbles: 2 ‖ N ‖ P1 … PN ‖ F … F   (8 bytes; N = PIN length 4-12, 'C' = 12)
 *
 * VIS PIN block (Visa, change *without* the current PIN):
 *   A = 00 00 00 00 ‖ rightmost 4 bytes of the left half of MK-AC (i.e. MK-AC bytes 4..7)
 *   B = N (one binary byte, the PIN length) ‖ P1 … PN ‖ F … F  (8 bytes)
 *   VIS PIN block = A xor B
 * (Visa's variant *with* the current PIN additionally XORs the current PIN, zero-filled; it is
 * not needed for "PIN change without current PIN" and is not implemented.)
 */
import { xor } from './des.js';
import { EmvCryptoError, EmvErrorCode } from './errors.js';

const PIN_RE = /^\d{4,12}$/;

export const PIN_BLOCK_LENGTH = 8;

function assertPin(pin: string): void {
  if (!PIN_RE.test(pin)) {
    throw new EmvCryptoError(EmvErrorCode.INVALID_PIN, 'The PIN must be 4-12 decimal digits.');
  }
}

function badBlock(): EmvCryptoError {
  return new EmvCryptoError(EmvErrorCode.BAD_PIN_BLOCK, 'The PIN block is not well formed.');
}

/** 7 bytes: PIN digits then F fill (14 nibbles). */
function pinField(pin: string): Buffer {
  return Buffer.from(pin.padEnd(14, 'F'), 'hex');
}

/** Reads `length` PIN digits from the 14-nibble field, requiring F fill after them. */
function readPinField(field: Buffer, length: number): string {
  const nibbles = field.toString('hex').toUpperCase();
  const pin = nibbles.slice(0, length);
  if (!PIN_RE.test(pin) || pin.length !== length || !/^F*$/.test(nibbles.slice(length))) {
    throw badBlock();
  }
  return pin;
}

/** ISO 9564-1 format 2 clear PIN block. */
export function formatIso9564Format2PinBlock(pin: string): Buffer {
  assertPin(pin);
  return Buffer.concat([Buffer.from([0x20 | pin.length]), pinField(pin)]);
}

/** Decodes an ISO 9564-1 format 2 block; throws BAD_PIN_BLOCK if control/length/fill are wrong. */
export function parseIso9564Format2PinBlock(block: Buffer): string {
  const first = block[0];
  if (block.length !== PIN_BLOCK_LENGTH || first === undefined || first >> 4 !== 0x2) {
    throw badBlock();
  }
  const length = first & 0x0f;
  if (length < 4 || length > 12) throw badBlock();
  return readPinField(block.subarray(1), length);
}

function visMask(mkAc: Buffer): Buffer {
  if (mkAc.length !== 16) {
    throw new EmvCryptoError(EmvErrorCode.INVALID_KEY, 'MK-AC must be a 16-byte DES key.');
  }
  return Buffer.concat([Buffer.alloc(4), mkAc.subarray(4, 8)]);
}

/** VIS PIN block (without current PIN). `mkAc` is the 16-byte ICC master key for AC (UDK-A‖B). */
export function formatVisPinBlock(mkAc: Buffer, pin: string): Buffer {
  const mask = visMask(mkAc);
  assertPin(pin);
  return xor(mask, Buffer.concat([Buffer.from([pin.length]), pinField(pin)]));
}

/** Decodes a VIS PIN block (without current PIN); throws BAD_PIN_BLOCK if malformed. */
export function parseVisPinBlock(mkAc: Buffer, block: Buffer): string {
  const mask = visMask(mkAc);
  if (block.length !== PIN_BLOCK_LENGTH) throw badBlock();
  const clear = xor(mask, block);
  const length = clear[0] ?? 0;
  if (length < 4 || length > 12) throw badBlock();
  return readPinField(clear.subarray(1), length);
}
