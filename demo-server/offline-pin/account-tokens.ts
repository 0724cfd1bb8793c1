import { hkdfSync, randomUUID } from 'node:crypto';
import { SignJWT, errors, jwtVerify } from 'jose';
import { ApiError } from '../http/errors.js';

/**
 * Account tokens: short-lived JWTs that carry a program's account id (`sub`) and authorize the
 * processor-compatible card endpoints (`/pcicards/…`) for that account's cards only.
 *
 * Signed HS256 with a key derived by HKDF-SHA256 from the API key: only this platform verifies
 * them, so a symmetric key is enough; deriving it means no new secret to generate, store or
 * refuse in production, and changing the API key revokes every outstanding account token.
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

export class AccountTokens {
  private readonly key: Uint8Array;
  private readonly audience: string;

  constructor(
    apiKey: string,
    private readonly options: AccountTokenOptions,
  ) {
    this.key = new Uint8Array(
      hkdfSync('sha256', apiKey, 'pin-widgets', 'account-token signing key v1 (HS256)', 32),
    );
    this.audience = `${options.issuer}${AUDIENCE_PATH}`;
  }

  async issue(accountId: string, now: number = Date.now()): Promise<IssuedAccountToken> {
    const issuedAt = Math.floor(now / 1000);
    const accessToken = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE })
      .setSubject(accountId)
      .setIssuer(this.options.issuer)
      .setAudience(this.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + this.options.ttlSeconds)
      .setJti(randomUUID())
      .sign(this.key);
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
      const { payload } = await jwtVerify(token, this.key, {
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
