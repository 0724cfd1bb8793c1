import type { KeyObject } from 'node:crypto';
import { CompactEncrypt, type CompactJWEHeaderParameters, type JWK, compactDecrypt } from 'jose';

/** The only algorithms accepted both ways (README “PINs”): no downgrade is negotiable. */
export const PIN_JWE_ALG = 'ECDH-ES';
export const PIN_JWE_ENC = 'A256GCM';
const MAX_JWE_LENGTH = 4096;

export type JweFailure = 'UNKNOWN_KEY_ID' | 'PIN_DECRYPTION_FAILED';

export class PinJweError extends Error {
  override readonly name = 'PinJweError';
  constructor(readonly code: JweFailure) {
    super(code === 'UNKNOWN_KEY_ID' ? 'unknown kid' : 'decryption failed');
  }
}

/**
 * Decrypts a set-PIN JWE. Anything wrong with it (alg, enc, curve point, tag, shape) is one
 * opaque failure, so the endpoint is no oracle; only an unknown `kid` is told apart, because
 * the widget can recover from it by fetching the JWKS again.
 */
export async function decryptPinJwe(
  jwe: string,
  keyFor: (kid: string | undefined) => KeyObject | undefined,
): Promise<{ plaintext: Uint8Array; header: CompactJWEHeaderParameters }> {
  if (jwe.length > MAX_JWE_LENGTH) throw new PinJweError('PIN_DECRYPTION_FAILED');
  let unknownKid = false;
  try {
    const { plaintext, protectedHeader } = await compactDecrypt(
      jwe,
      (header) => {
        const key = keyFor(header.kid);
        if (!key) {
          unknownKid = true;
          throw new Error('unknown kid');
        }
        return key;
      },
      { keyManagementAlgorithms: [PIN_JWE_ALG], contentEncryptionAlgorithms: [PIN_JWE_ENC] },
    );
    return { plaintext, header: protectedHeader };
  } catch {
    throw new PinJweError(unknownKid ? 'UNKNOWN_KEY_ID' : 'PIN_DECRYPTION_FAILED');
  }
}

/**
 * Imports a browser's ephemeral ECDH public key, refusing anything but a public P-256 point.
 * As a WebCrypto key: jose's own form, so the reveal's encryption imports it only this once.
 */
export async function importRevealKey(jwk: JWK): Promise<CryptoKey> {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || jwk.d !== undefined) {
    throw new Error('not a public P-256 key');
  }
  // Node (OpenSSL) checks that the point is on the curve when it imports the key.
  return globalThis.crypto.subtle.importKey(
    'jwk',
    { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y },
    { name: 'ECDH', namedCurve: 'P-256' },
    true,
    [],
  );
}

/** The reveal response: `{"pin":"…"}` as JWE to the widget's ephemeral key, `wst` bound. */
export function encryptForReveal(pin: string, key: CryptoKey, wst: string): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ pin })))
    .setProtectedHeader({ alg: PIN_JWE_ALG, enc: PIN_JWE_ENC, wst })
    .encrypt(key);
}
