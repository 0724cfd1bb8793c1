import { createCipheriv, randomBytes } from 'node:crypto';
import { TEST_KEYS } from '../config.js';

/**
 * A terminal's PIN blocks, built with node:crypto only, apart from payment-crypto/: what an
 * independent acquirer sends in an authorization (docs/point-of-sale.md).
 */
export const terminal = {
  ecb(algorithm: 'des-ede-ecb' | 'aes-256-ecb', key: Buffer, data: Buffer) {
    const cipher = createCipheriv(algorithm, key, null);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(data), cipher.final()]);
  },
  xor: (a: Buffer, b: Buffer) => Buffer.from(a.map((byte, i) => byte ^ b[i]!)),
  /** ISO 9564-1 format 0: (0 ‖ N ‖ PIN ‖ F…) xor (0000 ‖ 12 PAN digits before the check digit). */
  format0(pin: string, pan: string, key = Buffer.from(TEST_KEYS.ZONE_PIN_KEY_TDES, 'hex')) {
    const pinField = Buffer.from(`0${pin.length.toString(16)}${pin}`.padEnd(16, 'F'), 'hex');
    const panField = Buffer.from(`0000${pan.slice(-13, -1)}`, 'hex');
    return terminal.ecb('des-ede-ecb', key, terminal.xor(pinField, panField)).toString('hex');
  },
  /**
   * ISO 9564-1 format 4: AES(K, AES(K, 4 ‖ N ‖ PIN ‖ A… ‖ random) xor (M ‖ PAN ‖ 0…)), M = the
   * PAN's length − 12.
   */
  format4(pin: string, pan: string, key = Buffer.from(TEST_KEYS.ZONE_PIN_KEY_AES, 'hex')) {
    const pinField = Buffer.concat([
      Buffer.from(`4${pin.length.toString(16)}${pin}`.padEnd(16, 'A'), 'hex'),
      randomBytes(8),
    ]);
    const panField = Buffer.from(`${pan.length - 12}${pan}`.padEnd(32, '0'), 'hex');
    const intermediate = terminal.ecb('aes-256-ecb', key, pinField);
    return terminal.ecb('aes-256-ecb', key, terminal.xor(intermediate, panField)).toString('hex');
  },
};
