import { PaymentCryptoError, PaymentCryptoErrorCode } from '../errors.js';

/** Formats 0-3 and the VIS PIN block are 64-bit: the DES block size (ISO 9564-1:2017 §9.3). */
export const PIN_BLOCK_LENGTH = 8;

const PIN_DIGITS = /^[0-9]{4,12}$/;
const DIGITS = /^[0-9]+$/;

/** ISO 9564-1:2017 §8.1: a PIN is 4 to 12 numeric digits. */
export function assertPin(pin: unknown): asserts pin is string {
  if (typeof pin !== 'string' || !PIN_DIGITS.test(pin)) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_PIN,
      'PIN must be a string of 4 to 12 decimal digits',
    );
  }
}

export function assertPan(pan: unknown, min: number, max: number): asserts pan is string {
  if (typeof pan !== 'string' || pan.length < min || pan.length > max || !DIGITS.test(pan)) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_PAN,
      `PAN must be a string of ${min} to ${max} decimal digits`,
    );
  }
}

export function assertBlock(block: unknown, size: number): asserts block is Uint8Array {
  if (!(block instanceof Uint8Array) || block.length !== size) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_BLOCK,
      `PIN block must be ${size} bytes`,
    );
  }
}

function nibble(bytes: Uint8Array, index: number): number {
  const byte = bytes[index >> 1]!;
  return index % 2 === 0 ? byte >> 4 : byte & 0x0f;
}

/**
 * The 8-byte plain text PIN field shared by every format (ISO 9564-1:2017 §9.3.2.2, §9.3.4,
 * §9.3.5.2, §9.4.2.2.2): control nibble C, length nibble N, N PIN digits, then 14 - N fill
 * nibbles whose value each format defines.
 */
export function writePinField(
  control: number,
  pin: string,
  fill: (index: number) => number,
): Buffer {
  const nibbles = [control, pin.length];
  for (const digit of pin) nibbles.push(digit.charCodeAt(0) - 0x30);
  for (let i = 0; nibbles.length < 16; i++) nibbles.push(fill(i));
  const field = Buffer.alloc(PIN_BLOCK_LENGTH);
  for (let i = 0; i < PIN_BLOCK_LENGTH; i++)
    field[i] = (nibbles[2 * i]! << 4) | nibbles[2 * i + 1]!;
  nibbles.fill(0);
  return field;
}

/**
 * Reads back the first 8 bytes of a plain text PIN field, refusing anything the format does
 * not allow. Every content failure carries the same message on purpose: telling a wrong
 * control nibble from a bad fill digit would hand whoever can submit blocks a format oracle,
 * the lever behind the published PIN-block attacks on HSMs.
 */
export function readPinField(
  field: Uint8Array,
  control: number,
  isFill: (nibble: number) => boolean,
  /** Names the layout in the refusal: 'format 0' … 'format 4', 'VIS'. */
  layout: string,
): string {
  const length = nibble(field, 1);
  let ok = nibble(field, 0) === control && length >= 4 && length <= 12;
  let pin = '';
  if (ok) {
    for (let i = 2; i < 2 + length; i++) {
      const digit = nibble(field, i);
      if (digit > 9) ok = false;
      pin += String.fromCharCode(0x30 + digit);
    }
    for (let i = 2 + length; i < 16; i++) if (!isFill(nibble(field, i))) ok = false;
  }
  if (!ok) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_BLOCK,
      `PIN block does not hold a well-formed ${layout} PIN field`,
    );
  }
  return pin;
}

/**
 * The account number field of formats 0 and 3 (ISO 9564-1:2017 §9.3.2.3, §9.3.5.3): four zero
 * nibbles, then the 12 rightmost PAN digits excluding the check digit, right-justified and
 * left-padded with zeros when the PAN without its check digit is shorter than 12 digits.
 */
export function accountField(pan: string): Buffer {
  const digits = pan.slice(0, -1).slice(-12).padStart(12, '0');
  return Buffer.from(`0000${digits}`, 'hex');
}
