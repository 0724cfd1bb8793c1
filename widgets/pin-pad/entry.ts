import { CompactEncrypt, type JWK, importJWK } from 'jose';

/** A terminal PIN: ISO 9564-1 allows 4 to 12 digits. */
export const MIN_PIN_DIGITS = 4;
export const MAX_PIN_DIGITS = 12;

const PREFIX = new TextEncoder().encode('{"pin":"');
const SUFFIX = new TextEncoder().encode('"}');

/**
 * The digits keyed so far. They live in this array only: never in the DOM, a string or a log.
 * The plaintext is built byte by byte so no string of the PIN is ever made (a string cannot be
 * wiped), and every copy is zeroed once the JWE is made.
 */
export class PinEntry {
  private digits: number[] = [];

  get count(): number {
    return this.digits.length;
  }

  get complete(): boolean {
    return this.digits.length >= MIN_PIN_DIGITS;
  }

  /** False when the PIN is already as long as a PIN can be. */
  add(digit: number): boolean {
    if (!Number.isInteger(digit) || digit < 0 || digit > 9) return false;
    if (this.digits.length >= MAX_PIN_DIGITS) return false;
    this.digits.push(digit);
    return true;
  }

  /** The terminal's Clear key: takes back the last digit. */
  correct(): void {
    if (this.digits.length) this.digits[this.digits.length - 1] = 0;
    this.digits.pop();
  }

  clear(): void {
    this.digits.fill(0);
    this.digits.length = 0;
  }

  /**
   * Encrypts `{"pin":"<digits>"}` as a compact JWE (ECDH-ES, A256GCM) to the platform's PIN
   * transport key, bound to the card and to the moment of entry (`card`, `iat` in the
   * authenticated protected header), then forgets the digits.
   */
  async seal(
    platformKey: JWK & { kid: string },
    cardId: string,
    now = Date.now(),
  ): Promise<string> {
    const plaintext = new Uint8Array(PREFIX.length + this.digits.length + SUFFIX.length);
    plaintext.set(PREFIX);
    this.digits.forEach((digit, index) => (plaintext[PREFIX.length + index] = 0x30 + digit));
    plaintext.set(SUFFIX, PREFIX.length + this.digits.length);
    this.clear();
    try {
      const key = await importJWK(platformKey, 'ECDH-ES');
      return await new CompactEncrypt(plaintext)
        .setProtectedHeader({
          alg: 'ECDH-ES',
          enc: 'A256GCM',
          kid: platformKey.kid,
          card: cardId,
          iat: Math.floor(now / 1000),
        })
        .encrypt(key);
    } finally {
      plaintext.fill(0);
    }
  }
}
