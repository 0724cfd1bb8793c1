import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { Card, SealedPan } from '../store/types.js';
import { symmetricKeyId } from '../lib/private-files.js';

/** What the few places that need a card's full PAN are given: nothing else can read it. */
export interface PanReader {
  /** The card's PAN in clear. Use it inside the step that needs it; never store or log it. */
  panOf(card: Pick<Card, 'id' | 'sealedPan'>): string;
}

/**
 * The PAN at rest (docs/decisions.md, "PANs at rest"): AES-256-GCM under PAN_ENCRYPTION_KEY
 * with the card id as additional data, so a ciphertext copied onto another card row does not
 * open; and an HMAC-SHA256 under PAN_HASH_KEY, the only form a uniqueness check can see.
 * The current key enciphers; previous ones (during a rotation) only decipher.
 */
export class PanVault implements PanReader {
  readonly currentKeyId: string;
  private readonly keys: Map<string, Buffer>;

  constructor(
    current: Buffer,
    previous: readonly Buffer[],
    private readonly hashKey: Buffer,
  ) {
    this.currentKeyId = symmetricKeyId(current);
    this.keys = new Map([current, ...previous].map((key) => [symmetricKeyId(key), key]));
  }

  seal(cardId: string, pan: string): SealedPan {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(Buffer.from(cardId, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(pan, 'utf8'), cipher.final()]);
    return { ciphertext, iv, tag: cipher.getAuthTag(), keyId: this.currentKeyId };
  }

  panOf(card: Pick<Card, 'id' | 'sealedPan'>): string {
    const sealed = card.sealedPan;
    const key = this.keys.get(sealed.keyId);
    if (!key) {
      throw new Error(`PAN key ${sealed.keyId} is not loaded: set PAN_ENCRYPTION_KEY_PREVIOUS`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
    decipher.setAAD(Buffer.from(card.id, 'utf8'));
    decipher.setAuthTag(sealed.tag);
    try {
      return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      // Deliberately opaque: which byte failed tells an attacker nothing useful to know.
      throw new Error(`The PAN of card ${card.id} does not decipher (tampered or wrong key)`);
    }
  }

  /** The keyed hash the UNIQUE constraint is on: equal PANs, equal hashes; no PAN from it. */
  hash(pan: string): string {
    return createHmac('sha256', this.hashKey).update(pan, 'utf8').digest('hex');
  }

  /** Re-enciphers a card's PAN under the current key (key rotation). */
  reseal(card: Pick<Card, 'id' | 'sealedPan'>): SealedPan {
    return this.seal(card.id, this.panOf(card));
  }
}
