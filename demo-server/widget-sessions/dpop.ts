import { createHash } from 'node:crypto';
import { EmbeddedJWK, type JWK, type JWTPayload, calculateJwkThumbprint, jwtVerify } from 'jose';

/** Why a DPoP proof was refused (RFC 9449 §4.3), each a distinct, testable reason. */
export type DpopRefusal =
  | 'DPOP_PROOF_MISSING'
  | 'DPOP_PROOF_INVALID'
  | 'DPOP_PROOF_STALE'
  | 'DPOP_PROOF_REPLAYED'
  | 'DPOP_PROOF_WRONG_KEY'
  | 'DPOP_PROOF_WRONG_REQUEST'
  | 'DPOP_PROOF_WRONG_TOKEN';

export const DPOP_MAX_AGE_S = 60;
/** Clock skew tolerated for a proof dated slightly in the future. */
const FUTURE_SKEW_S = 5;

export const accessTokenHash = (token: string): string =>
  createHash('sha256').update(token).digest('base64url');

export interface DpopCheck {
  proof: string | undefined;
  method: string;
  /** The request URL without query and fragment (RFC 9449 §4.3 step 9). */
  url: string;
  accessToken: string;
  jkt: string;
  now: number;
  /** Records the proof's `jti`; false when it was seen before. */
  remember: (jti: string, expiresAt: number) => Promise<boolean>;
}

/** Verifies a DPoP proof for a sender-constrained token; returns undefined when it is valid. */
export async function checkDpopProof(check: DpopCheck): Promise<DpopRefusal | undefined> {
  if (check.proof === undefined || check.proof === '') return 'DPOP_PROOF_MISSING';
  let payload: JWTPayload;
  let jwk: JWK;
  try {
    const verified = await jwtVerify(check.proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: ['ES256'],
      // iat is checked below with our own window, not as a generic JWT time claim.
      currentDate: new Date(check.now),
    });
    payload = verified.payload;
    jwk = verified.protectedHeader.jwk as JWK;
  } catch {
    return 'DPOP_PROOF_INVALID';
  }
  if (jwk.d !== undefined || jwk.kty !== 'EC' || jwk.crv !== 'P-256') return 'DPOP_PROOF_INVALID';
  if (typeof payload.jti !== 'string' || payload.jti.length < 16 || payload.jti.length > 128) {
    return 'DPOP_PROOF_INVALID';
  }
  if (typeof payload.iat !== 'number') return 'DPOP_PROOF_INVALID';
  const nowS = check.now / 1000;
  if (payload.iat < nowS - DPOP_MAX_AGE_S || payload.iat > nowS + FUTURE_SKEW_S) {
    return 'DPOP_PROOF_STALE';
  }
  if (payload.htm !== check.method || payload.htu !== check.url) return 'DPOP_PROOF_WRONG_REQUEST';
  if (payload.ath !== accessTokenHash(check.accessToken)) return 'DPOP_PROOF_WRONG_TOKEN';
  if ((await calculateJwkThumbprint(jwk, 'sha256')) !== check.jkt) return 'DPOP_PROOF_WRONG_KEY';
  // Remember the jti only for a proof that is otherwise valid, for as long as it could be fresh.
  const fresh = await check.remember(
    `${check.jkt}:${payload.jti}`,
    (payload.iat + DPOP_MAX_AGE_S + FUTURE_SKEW_S) * 1000,
  );
  return fresh ? undefined : 'DPOP_PROOF_REPLAYED';
}
