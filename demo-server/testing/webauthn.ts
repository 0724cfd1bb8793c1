import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/**
 * A software authenticator written from the WebAuthn Level 3 spec with node:crypto only, apart
 * from @simplewebauthn: ES256 credentials, "none" attestation, CBOR encoded here. Each ceremony
 * takes overrides, so tests can make every kind of bad response a browser or an attacker could.
 */

/** The CBOR subset WebAuthn needs (RFC 8949): unsigned and negative integers, bytes, text, maps. */
function cbor(value: unknown): Buffer {
  const head = (major: number, length: number) => {
    if (length < 24) return Buffer.from([(major << 5) | length]);
    if (length < 256) return Buffer.from([(major << 5) | 24, length]);
    const out = Buffer.alloc(3);
    out[0] = (major << 5) | 25;
    out.writeUInt16BE(length, 1);
    return out;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, text.length), text]);
  }
  if (value instanceof Map) {
    const parts: Buffer[] = [head(5, value.size)];
    for (const [key, item] of value) parts.push(cbor(key), cbor(item));
    return Buffer.concat(parts);
  }
  throw new Error(`cbor: cannot encode ${typeof value}`);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64u = (data: Buffer) => data.toString('base64url');

/** Authenticator data flags (WebAuthn §6.1): user present, user verified, attested data. */
const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

export interface Ceremony {
  /** The options' challenge (base64url). */
  challenge: string;
  origin: string;
  rpId: string;
  /** Framed: the ceremony ran in a cross-origin iframe under `topOrigin`. */
  crossOrigin?: boolean;
  topOrigin?: string;
  /** Default true: the cardholder verified (biometrics, device PIN). */
  userVerified?: boolean;
  /** Overrides the client data's `type`. */
  type?: string;
}

export class SoftwareAuthenticator {
  private readonly key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  readonly credentialId = randomBytes(16);
  /** The signature counter; a test can set it back. */
  counter = 0;
  private userHandle = Buffer.alloc(0);

  private clientData(ceremony: Ceremony, type: string): Buffer {
    return Buffer.from(
      JSON.stringify({
        type: ceremony.type ?? type,
        challenge: ceremony.challenge,
        origin: ceremony.origin,
        crossOrigin: ceremony.crossOrigin ?? false,
        ...(ceremony.topOrigin ? { topOrigin: ceremony.topOrigin } : {}),
      }),
    );
  }

  private authData(ceremony: Ceremony, extra: Buffer, flags: number): Buffer {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    const verified = ceremony.userVerified === false ? 0 : UV;
    return Buffer.concat([
      sha256(ceremony.rpId),
      Buffer.from([flags | UP | verified]),
      counter,
      extra,
    ]);
  }

  /** `navigator.credentials.create()`: the credential as RegistrationResponseJSON. */
  register(ceremony: Ceremony, userHandle: string) {
    this.userHandle = Buffer.from(userHandle, 'base64url');
    const jwk = this.key.publicKey.export({ format: 'jwk' });
    const coseKey = cbor(
      new Map<number, unknown>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, coseKey]);
    const authData = this.authData(ceremony, attested, AT);
    const attestationObject = cbor(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    return {
      id: b64u(this.credentialId),
      rawId: b64u(this.credentialId),
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64u(this.clientData(ceremony, 'webauthn.create')),
        attestationObject: b64u(attestationObject),
        transports: ['internal'],
      },
      authenticatorAttachment: 'platform' as const,
      clientExtensionResults: {},
    };
  }

  /** `navigator.credentials.get()`: an assertion as AuthenticationResponseJSON. */
  assert(ceremony: Ceremony) {
    this.counter += 1;
    const clientData = this.clientData(ceremony, 'webauthn.get');
    const authData = this.authData(ceremony, Buffer.alloc(0), 0);
    const signature = sign(
      'sha256',
      Buffer.concat([authData, sha256(clientData)]),
      this.key.privateKey,
    );
    return {
      id: b64u(this.credentialId),
      rawId: b64u(this.credentialId),
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64u(clientData),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(this.userHandle.length > 0 ? { userHandle: b64u(this.userHandle) } : {}),
      },
      authenticatorAttachment: 'platform' as const,
      clientExtensionResults: {},
    };
  }
}
