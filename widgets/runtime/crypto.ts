import {
  CompactEncrypt,
  type JWK,
  SignJWT,
  calculateJwkThumbprint,
  compactDecrypt,
  exportJWK,
  importJWK,
} from 'jose';

/**
 * All the widget's cryptography, done in the iframe with WebCrypto through `jose`. Private keys
 * are generated non-extractable: script outside this document can never read them.
 */

const encoder = new TextEncoder();

function base64url(bytes: ArrayBuffer): string {
  let binary = '';
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export async function sha256Base64url(text: string): Promise<string> {
  return base64url(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/** What Set PIN encrypts: the new PIN, and the current one when the session asks for it. */
export interface PinPayload {
  pin: string;
  current_pin?: string;
}

/**
 * Set PIN: `{"pin"}` (or `{"pin","current_pin"}`) as compact JWE (ECDH-ES, A256GCM) to the
 * platform key, bound by `wst`.
 */
export async function encryptPin(
  payload: PinPayload,
  platformKey: JWK & { kid: string },
  token: string,
) {
  const key = await importJWK(platformKey, 'ECDH-ES');
  return new CompactEncrypt(encoder.encode(JSON.stringify(payload)))
    .setProtectedHeader({
      alg: 'ECDH-ES',
      enc: 'A256GCM',
      kid: platformKey.kid,
      wst: await sha256Base64url(token),
    })
    .encrypt(key);
}

/** Reveal: an ephemeral ECDH key pair; only `publicJwk` leaves the iframe. */
export async function revealKey() {
  const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, [
    'deriveBits',
  ]);
  const { kty, crv, x, y } = await exportJWK(pair.publicKey);
  return {
    publicJwk: { kty, crv, x, y },
    /** Decrypts the reveal JWE and checks it belongs to this session (`wst`). */
    async open(jwe: string, token: string): Promise<string> {
      const { plaintext, protectedHeader } = await compactDecrypt(jwe, pair.privateKey, {
        keyManagementAlgorithms: ['ECDH-ES'],
        contentEncryptionAlgorithms: ['A256GCM'],
      });
      if (protectedHeader.wst !== (await sha256Base64url(token)))
        throw new Error('session mismatch');
      const { pin } = JSON.parse(new TextDecoder().decode(plaintext)) as { pin?: unknown };
      if (typeof pin !== 'string' || !/^\d{4,12}$/.test(pin)) throw new Error('bad payload');
      return pin;
    },
  };
}

export interface DpopKey {
  jkt: string;
  proof(method: string, url: string, token: string): Promise<string>;
}

/** The sender-constraining key (README “PINs”): ES256, non-extractable; `jkt` is its thumbprint. */
export async function dpopKey(): Promise<DpopKey> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]);
  const { kty, crv, x, y } = await exportJWK(pair.publicKey);
  const jwk = { kty, crv, x, y };
  return {
    jkt: await calculateJwkThumbprint(jwk, 'sha256'),
    async proof(method, url, token) {
      return new SignJWT({ htm: method, htu: url, ath: await sha256Base64url(token) })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .setIssuedAt()
        .setJti(crypto.randomUUID())
        .sign(pair.privateKey);
    },
  };
}
