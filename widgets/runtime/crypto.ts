import { loadJose, preloadJose } from './jose-loader.js';
import type { PlatformKey } from './request.js';

export { preloadJose };

/**
 * All the widget's cryptography, done in the iframe with WebCrypto, the JOSE formats through
 * `jose`. Private keys are generated non-extractable: script outside this document can never
 * read them. Keys, JWKs and thumbprints need WebCrypto only, so nothing before a bearer
 * widget's `load` waits for jose (jose-loader.ts).
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

/** An EC P-256 public key as a JWK, with exactly the members RFC 7518 §6.2.1 requires. */
export interface EcPublicJwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
}

async function publicJwk(key: CryptoKey): Promise<EcPublicJwk> {
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', key);
  if (!kty || !crv || !x || !y) throw new Error('not an EC public key');
  return { kty, crv, x, y };
}

/**
 * RFC 7638 §3: the base64url SHA-256 of the key's required members (for EC: crv, kty, x, y), in
 * lexicographic order, without whitespace.
 */
export function jwkThumbprint({ crv, kty, x, y }: EcPublicJwk): Promise<string> {
  return sha256Base64url(JSON.stringify({ crv, kty, x, y }));
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
export async function encryptPin(payload: PinPayload, platformKey: PlatformKey, token: string) {
  const { CompactEncrypt, importJWK } = await loadJose();
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
  return {
    publicJwk: await publicJwk(pair.publicKey),
    /** Decrypts the reveal JWE and checks it belongs to this session (`wst`). */
    async open(jwe: string, token: string): Promise<string> {
      const { compactDecrypt } = await loadJose();
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
  // The first proof comes once the host minted a token for `jkt`: jose loads meanwhile.
  preloadJose();
  const jwk = await publicJwk(pair.publicKey);
  return {
    jkt: await jwkThumbprint(jwk),
    async proof(method, url, token) {
      const { SignJWT } = await loadJose();
      return new SignJWT({ htm: method, htu: url, ath: await sha256Base64url(token) })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .setIssuedAt()
        .setJti(crypto.randomUUID())
        .sign(pair.privateKey);
    },
  };
}
