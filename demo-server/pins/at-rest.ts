import { createHash } from 'node:crypto';
import { loadDataKey } from '../lib/private-files.js';
import {
  type PinBlockVerification,
  type ZonePinBlockFormat,
  decipherFormat4,
  encipherFormat4,
  pinMatchesBlock,
  toHex,
  verifyPinBlock,
} from '../payment-crypto/index.js';

/** A PIN block as a terminal sends it: enciphered under a zone key, with the card's PAN. */
export interface EnteredPinBlock {
  format: ZonePinBlockFormat;
  block: Buffer;
  key: Buffer;
}

/** Key id of an AES key: the first 8 bytes of its SHA-256 (never the key itself). */
export function aesKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * The keys PINs are stored under: the current one enciphers; previous ones (kept during a
 * rotation) only decipher, found by the key id stored beside each block.
 */
export class PinVault {
  readonly currentKeyId: string;
  private readonly keys: Map<string, Buffer>;

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    this.currentKeyId = aesKeyId(current);
    this.keys = new Map([current, ...previous].map((key) => [aesKeyId(key), key]));
  }

  /** ISO 9564-1 format 4 enciphered PIN block (AES-256, with the card's PAN), hex. */
  seal(pin: string, pan: string): { pinBlock: string; keyId: string } {
    const key = this.keys.get(this.currentKeyId)!;
    return {
      pinBlock: toHex(encipherFormat4(pin, pan, key)),
      keyId: this.currentKeyId,
    };
  }

  open(stored: { pinBlock: string; keyId: string }, pan: string): string {
    return decipherFormat4(Buffer.from(stored.pinBlock, 'hex'), pan, this.keyOf(stored));
  }

  /**
   * Whether a terminal's PIN block carries the stored PIN. Both are compared as PIN blocks
   * (payment-crypto `verifyPinBlock`): neither PIN leaves that function in clear.
   */
  verify(
    stored: { pinBlock: string; keyId: string },
    pan: string,
    entered: EnteredPinBlock,
  ): PinBlockVerification {
    return verifyPinBlock({
      ...entered,
      pan,
      reference: { block: Buffer.from(stored.pinBlock, 'hex'), key: this.keyOf(stored) },
    });
  }

  /** Whether `candidate` is the stored PIN, compared in constant time. */
  matches(stored: { pinBlock: string; keyId: string }, pan: string, candidate: string): boolean {
    return pinMatchesBlock(
      candidate,
      { block: Buffer.from(stored.pinBlock, 'hex'), key: this.keyOf(stored) },
      pan,
    );
  }

  private keyOf(stored: { keyId: string }): Buffer {
    const key = this.keys.get(stored.keyId);
    if (!key) {
      throw new Error(`PIN key ${stored.keyId} is not loaded: set the _PREVIOUS keys of its vault`);
    }
    return key;
  }

  /** Re-enciphers a block under the current key (key rotation). */
  reseal(stored: { pinBlock: string; keyId: string }, pan: string) {
    return this.seal(this.open(stored, pan), pan);
  }
}

/**
 * `PIN_ENCRYPTION_KEY` when set; otherwise a key generated on first start into
 * `DATA_DIR/pin_encryption_key` (mode 0600), in DEMO_MODE only.
 */
export function loadPinEncryptionKey(
  dataDir: string,
  configured: string | undefined,
  demoMode: boolean,
): Buffer {
  return loadDataKey({
    dataDir,
    fileName: 'pin_encryption_key',
    variable: 'PIN_ENCRYPTION_KEY',
    configured,
    demoMode,
  });
}
