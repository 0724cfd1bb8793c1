import { createHash, randomUUID } from 'node:crypto';
import nodeJose from 'node-jose';

/**
 * The client side of the widget protocol built on node-jose, a JOSE implementation independent
 * of the `jose` library the platform uses: if the two interoperate, the wire format is standard.
 */

export const sessionTagOf = (token: string) =>
  createHash('sha256').update(token).digest('base64url');

/** Encrypts `{"pin": pin}` to the first key of the platform's JWKS, with `wst` of `token`. */
export async function encryptPin(
  jwks: { keys: object[] },
  pin: string,
  token: string,
  fields: Record<string, unknown> = {},
  payload: string = JSON.stringify({ pin }),
): Promise<string> {
  const published = jwks.keys[0] as { kid: string };
  // Without `alg`, node-jose lets a test encrypt with another algorithm than the published one.
  const { alg: _alg, use: _use, ...anyUse } = published as Record<string, unknown>;
  const key = await nodeJose.JWK.asKey(anyUse);
  const alg = (fields.alg as string | undefined) ?? 'ECDH-ES';
  return nodeJose.JWE.createEncrypt(
    {
      format: 'compact',
      contentAlg: (fields.enc as string | undefined) ?? 'A256GCM',
      fields: { alg, kid: published.kid, wst: sessionTagOf(token), ...fields },
    },
    // @types/node-jose lacks the per-recipient form that node-jose itself documents.
    { key, header: { alg } } as any,
  )
    .update(payload)
    .final() as unknown as Promise<string>;
}

/** An ephemeral ECDH P-256 key pair for a reveal; `publicJwk` goes to the platform. */
export async function ephemeralKey() {
  const key = await nodeJose.JWK.createKey('EC', 'P-256', { alg: 'ECDH-ES', use: 'enc' });
  const { kty, crv, x, y } = key.toJSON() as Record<string, string>;
  return {
    publicJwk: { kty, crv, x, y },
    async decrypt(jwe: string) {
      const result = await nodeJose.JWE.createDecrypt(key).decrypt(jwe);
      return {
        payload: JSON.parse(result.plaintext.toString('utf8')) as { pin: string },
        header: result.header as Record<string, unknown>,
      };
    },
  };
}

/** A DPoP key and its RFC 7638 thumbprint (the `jkt` a bound token is minted with). */
export async function dpopKey() {
  const key = await nodeJose.JWK.createKey('EC', 'P-256', { alg: 'ES256', use: 'sig' });
  const jkt = (await (key as any).thumbprint('SHA-256')).toString('base64url') as string;
  return {
    jkt,
    /** A proof for one request; `claims` and `header` override fields to build bad proofs. */
    async proof(
      method: string,
      url: string,
      token: string,
      claims: Record<string, unknown> = {},
      header: Record<string, unknown> = {},
    ): Promise<string> {
      const payload = {
        htm: method,
        htu: url,
        iat: Math.floor(Date.now() / 1000),
        jti: randomUUID(),
        ath: createHash('sha256').update(token).digest('base64url'),
        ...claims,
      };
      const { kty, crv, x, y } = key.toJSON() as Record<string, string>;
      return nodeJose.JWS.createSign(
        {
          format: 'compact',
          fields: { typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y }, ...header },
        },
        { key, reference: false } as any,
      )
        .update(JSON.stringify(payload))
        .final() as unknown as Promise<string>;
    },
  };
}
