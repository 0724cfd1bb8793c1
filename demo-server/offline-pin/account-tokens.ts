import { randomBytes, randomUUID } from 'node:crypto';
import { type JWTHeaderParameters, SignJWT, errors, jwtVerify } from 'jose';
import { ApiError } from '../http/errors.js';
import { newId } from '../lib/ids.js';
import type { AccountTokenKey, Store } from '../store/types.js';

/**
 * Account tokens: short-lived JWTs that carry a program's account id (`sub`) and authorize the
 * processor-compatible card endpoints (`/pcicards/…`) for that account's cards only.
 *
 * Signed HS256 (only this platform verifies them, so a symmetric key is enough) with a random
 * 256-bit key named by the `kid` header. The keys live in the database, so every instance signs
 * and verifies with the same ones, and nothing about the API key can be learnt from a token.
 * `account-tokens:rotate` makes a new current key; the previous one keeps verifying for the
 * overlap, then tokens under it are refused.
 */
export interface AccountTokenOptions {
  /** The platform's public URL: the `iss` claim. */
  issuer: string;
  ttlSeconds: number;
}

export interface IssuedAccountToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** RFC 9068 media type: an access token cannot be mistaken for another kind of JWT. */
const TOKEN_TYPE = 'at+jwt';
const AUDIENCE_PATH = '/pcicards';

const newKey = (now: number): AccountTokenKey => ({
  kid: newId('atk', now),
  secret: randomBytes(32).toString('base64url'),
  createdAt: now,
  retiresAt: null,
});

const keyBytes = (key: AccountTokenKey): Uint8Array =>
  new Uint8Array(Buffer.from(key.secret, 'base64url'));

/** The current signing key, made first when there is none (first start of the first instance). */
async function currentKey(store: Store, now: number): Promise<AccountTokenKey> {
  const [newest] = await store.read.accountTokenKeys(now);
  if (newest && newest.retiresAt === null) return newest;
  // Checked again in the write transaction: another instance may have made one meanwhile.
  return store.transaction(async (tx) => {
    const [current] = await tx.accountTokenKeys(now);
    if (current && current.retiresAt === null) return current;
    const key = newKey(now);
    await tx.insertAccountTokenKey(key);
    return key;
  });
}

/**
 * Makes a new current signing key; the one it replaces verifies for `overlapSeconds` more (set it
 * to at least the token lifetime, so no token in flight is refused). Keys past their overlap are
 * deleted. Returns the new `kid`.
 */
export async function rotateAccountTokenKey(
  store: Store,
  overlapSeconds: number,
  now: number = Date.now(),
): Promise<string> {
  return store.transaction(async (tx) => {
    await tx.retireCurrentAccountTokenKey(now + overlapSeconds * 1000);
    await tx.deleteRetiredAccountTokenKeys(now);
    const key = newKey(now);
    await tx.insertAccountTokenKey(key);
    return key.kid;
  });
}

export class AccountTokens {
  private readonly audience: string;

  constructor(
    private readonly store: Store,
    private readonly options: AccountTokenOptions,
  ) {
    this.audience = `${options.issuer}${AUDIENCE_PATH}`;
  }

  /** Makes the first signing key if the database has none yet (called at start). */
  async ensureSigningKey(now: number = Date.now()): Promise<string> {
    return (await currentKey(this.store, now)).kid;
  }

  async issue(accountId: string, now: number = Date.now()): Promise<IssuedAccountToken> {
    const issuedAt = Math.floor(now / 1000);
    const key = await currentKey(this.store, now);
    const accessToken = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE, kid: key.kid })
      .setSubject(accountId)
      .setIssuer(this.options.issuer)
      .setAudience(this.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.options.ttlSeconds)
      .setJti(randomUUID())
      .sign(keyBytes(key));
    return { access_token: accessToken, token_type: 'Bearer', expires_in: this.options.ttlSeconds };
  }

  /** The account id the token was issued for; 401 when it is missing, invalid or expired. */
  async verify(token: string | undefined, now: number = Date.now()): Promise<string> {
    if (token === undefined) {
      throw unauthorized(
        'ACCOUNT_TOKEN_MISSING',
        'Send an account token as "Authorization: Bearer <token>" (POST /v1/accounts/{account_id}/tokens)',
      );
    }
    try {
      const verifyingKey = async ({ kid }: JWTHeaderParameters) => {
        const key = (await this.store.read.accountTokenKeys(now)).find((k) => k.kid === kid);
        // An unknown kid, or one past its overlap, reads like a bad signature.
        if (typeof kid !== 'string' || !key) throw new errors.JWSSignatureVerificationFailed();
        return keyBytes(key);
      };
      const { payload } = await jwtVerify(token, verifyingKey, {
        algorithms: ['HS256'],
        typ: TOKEN_TYPE,
        issuer: this.options.issuer,
        audience: this.audience,
        requiredClaims: ['sub', 'iat', 'exp', 'jti'],
        currentDate: new Date(now),
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new errors.JWTInvalid('sub');
      return payload.sub;
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        throw unauthorized('ACCOUNT_TOKEN_EXPIRED', 'The account token has expired: get a new one');
      }
      // Deliberately opaque: a bad signature, claim or format all read the same.
      throw unauthorized('ACCOUNT_TOKEN_INVALID', 'The account token is not valid');
    }
  }
}

/** RFC 6750 §3: no error code when the request had no credentials at all. */
function unauthorized(
  code: 'ACCOUNT_TOKEN_MISSING' | 'ACCOUNT_TOKEN_INVALID' | 'ACCOUNT_TOKEN_EXPIRED',
  message: string,
) {
  const challenge = code === 'ACCOUNT_TOKEN_MISSING' ? 'Bearer' : 'Bearer error="invalid_token"';
  return new ApiError(code, message, undefined, {}, { 'www-authenticate': challenge });
}
