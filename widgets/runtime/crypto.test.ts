import {
  EmbeddedJWK,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  jwtVerify,
} from 'jose';
import { describe, expect, it } from 'vitest';
import { dpopKey, jwkThumbprint, revealKey, sha256Base64url } from './crypto.js';

/**
 * The keys, JWKs and thumbprints crypto.ts makes with WebCrypto alone (so that nothing before
 * `load` waits for jose), checked against jose itself, which the platform verifies them with.
 */

describe('jwkThumbprint (RFC 7638)', () => {
  it('is jose’s thumbprint of the same key, whatever the order of the members', async () => {
    for (let i = 0; i < 5; i++) {
      const { publicKey } = await generateKeyPair('ES256', { extractable: true });
      const { kty, crv, x, y } = await exportJWK(publicKey);
      const jwk = { kty: kty!, crv: crv!, x: x!, y: y! };
      expect(await jwkThumbprint(jwk)).toBe(await calculateJwkThumbprint(jwk, 'sha256'));
      expect(await jwkThumbprint({ y: y!, x: x!, kty: kty!, crv: crv! })).toBe(
        await jwkThumbprint(jwk),
      );
    }
  });

  it('hashes the required members only, in lexicographic order, without whitespace', async () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'eA', y: 'eQ' };
    expect(await jwkThumbprint(jwk)).toBe(
      await sha256Base64url('{"crv":"P-256","kty":"EC","x":"eA","y":"eQ"}'),
    );
  });
});

describe('dpopKey', () => {
  it('signs proofs that jose verifies, with the key whose thumbprint is `jkt`', async () => {
    const key = await dpopKey();
    const url = 'https://platform.example/v1/widget/session';
    const proof = await key.proof('GET', url, 'wt_token');
    const header = decodeProtectedHeader(proof);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'dpop+jwt' });
    expect(Object.keys(header.jwk!).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(await calculateJwkThumbprint(header.jwk!, 'sha256')).toBe(key.jkt);
    const { payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
    expect(payload).toMatchObject({
      htm: 'GET',
      htu: url,
      ath: await sha256Base64url('wt_token'),
    });
    expect(typeof payload.jti).toBe('string');
    expect(typeof payload.iat).toBe('number');
  });
});

describe('revealKey', () => {
  it('hands out only the public members of its P-256 key', async () => {
    const { publicJwk } = await revealKey();
    expect(Object.keys(publicJwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
    expect(publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
  });
});
