import type { PanReader } from '../cards/pan-vault.js';
import type { Card, CardProduct, Repositories } from '../store/types.js';
import type { PinBlockVerification } from '../payment-crypto/index.js';
import type { EnteredPinBlock, PinVault } from './at-rest.js';
import { randomPin } from './policy.js';

/**
 * A card's PIN at rest: the `pins` table, one enciphered ISO 9564-1 format 4 block per card.
 * It depends on nothing but the keys, so the card core (RANDOM issuance), the PIN service and
 * the offline-PIN module all use it without depending on each other. It never writes the card:
 * whoever stores a PIN also sends the card core the event that says so.
 */
export class PinRecords {
  constructor(
    private readonly vault: PinVault,
    private readonly pans: PanReader,
  ) {}

  get currentKeyId(): string {
    return this.vault.currentKeyId;
  }

  /** Stores `pin` as the card's PIN, enciphered with the card's PAN under the current key. */
  async store(tx: Repositories, card: Card, pin: string, now: number): Promise<void> {
    await tx.upsertPin({
      cardId: card.id,
      ...this.vault.seal(pin, this.pans.panOf(card)),
      updatedTime: new Date(now).toISOString(),
    });
  }

  /** The RANDOM policy's issuance step: a CSPRNG PIN that passes the policy. */
  assignRandom(tx: Repositories, card: Card, product: CardProduct, now: number): Promise<void> {
    return this.store(tx, card, randomPin(product.pinLength, card.lastFour), now);
  }

  /**
   * The card's current PIN in clear, with the stored block's `updatedTime` as its version, for
   * the one step that needs it (a reveal, an export, an issuer script). Never log or store it.
   */
  async current(
    tx: Repositories,
    card: Card,
  ): Promise<{ pin: string; version: string } | undefined> {
    const stored = await tx.getPin(card.id);
    return stored && { pin: this.open(stored, card), version: stored.updatedTime };
  }

  /** Whether a terminal's PIN block carries the card's PIN; `NOT_SET` when it has none stored. */
  async verify(
    tx: Repositories,
    card: Card,
    entered: EnteredPinBlock,
  ): Promise<PinBlockVerification | 'NOT_SET'> {
    const stored = await tx.getPin(card.id);
    return stored ? this.vault.verify(stored, this.pans.panOf(card), entered) : 'NOT_SET';
  }

  /** Whether `candidate` is the card's PIN (a change that needs the current PIN). */
  async matches(tx: Repositories, card: Card, candidate: string): Promise<boolean> {
    const stored = await tx.getPin(card.id);
    return stored !== undefined && this.vault.matches(stored, this.pans.panOf(card), candidate);
  }

  open(stored: { pinBlock: string; keyId: string }, card: Card): string {
    return this.vault.open(stored, this.pans.panOf(card));
  }

  /** Re-enciphers every stored PIN block that is not under the current key (key rotation). */
  async reencrypt(tx: Repositories, batch: number): Promise<number> {
    const stale = await tx.pinsNotUnderKey(this.vault.currentKeyId, batch);
    for (const stored of stale) {
      const card = await tx.getCard(stored.cardId);
      if (!card) continue;
      await tx.upsertPin({ ...stored, ...this.vault.reseal(stored, this.pans.panOf(card)) });
    }
    return stale.length;
  }
}
