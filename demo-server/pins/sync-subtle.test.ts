import { randomBytes } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { installSubtle, synchronousSubtle } from './sync-subtle.js';

/**
 * The JOSE workers' SubtleCrypto (docs/performance.md, "Both cores") against published vectors
 * and against Node's own WebCrypto: the same bytes out, and a refusal wherever WebCrypto refuses.
 */
const real = globalThis.crypto.subtle;
const subtle = synchronousSubtle(real);
const hex = (text: string) => Buffer.from(text, 'hex');
const b64url = (bytes: ArrayBuffer) => Buffer.from(bytes).toString('base64url');
const ecdh = { name: 'ECDH', namedCurve: 'P-256' } as const;

/** RFC 7518 Appendix C: the ephemeral key (Alice) and the recipient's key (Bob). */
const alice = {
  kty: 'EC',
  crv: 'P-256',
  x: 'gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0',
  y: 'SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps',
  d: '0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo',
};
const bob = {
  kty: 'EC',
  crv: 'P-256',
  x: 'weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ',
  y: 'e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck',
  d: 'VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw',
};
const publicPart = ({ d: _d, ...rest }: typeof alice) => rest;

describe('ECDH and the Concat KDF (RFC 7518 Appendix C)', () => {
  it('derives the published Z and content key', async () => {
    const bobPrivate = await real.importKey('jwk', bob, ecdh, false, ['deriveBits']);
    const alicePublic = await real.importKey('jwk', publicPart(alice), ecdh, false, []);
    const z = new Uint8Array(
      await subtle.deriveBits({ name: 'ECDH', public: alicePublic }, bobPrivate, 256),
    );
    expect([...z]).toEqual([
      158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163,
      218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
    ]);
    // Round 1 of the Concat KDF for A128GCM, apu "Alice", apv "Bob" (RFC 7518 §4.6.2).
    const field = (text: string) => {
      const bytes = Buffer.from(text);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return Buffer.concat([length, bytes]);
    };
    const otherInfo = Buffer.concat([
      field('A128GCM'),
      field('Alice'),
      field('Bob'),
      hex('00000080'),
    ]);
    const round = await subtle.digest('SHA-256', Buffer.concat([hex('00000001'), z, otherInfo]));
    expect(b64url(round.slice(0, 16))).toBe('VqqN6vgjbSBcIijNcacQGg');
  });

  it('matches Node’s WebCrypto for fresh keys, at every whole-byte length', async () => {
    for (let i = 0; i < 8; i++) {
      const a = await real.generateKey(ecdh, false, ['deriveBits']);
      const b = await real.generateKey(ecdh, false, ['deriveBits']);
      for (const length of [256, 128, 8, null]) {
        const params = { name: 'ECDH', public: b.publicKey };
        expect(b64url(await subtle.deriveBits(params, a.privateKey, length))).toBe(
          b64url(await real.deriveBits(params, a.privateKey, length)),
        );
      }
    }
  });

  it('refuses what WebCrypto refuses: a longer secret, a key without deriveBits, another curve', async () => {
    const a = await real.generateKey(ecdh, false, ['deriveBits']);
    const b = await real.generateKey(ecdh, false, ['deriveBits']);
    const params = { name: 'ECDH', public: b.publicKey };
    for (const impl of [real, subtle]) {
      await expect(impl.deriveBits(params, a.privateKey, 264)).rejects.toThrow();
    }
    const unusable = await real.importKey(
      'jwk',
      bob,
      ecdh,
      false,
      // A private ECDH key that may only derive keys, not bits.
      ['deriveKey'],
    );
    for (const impl of [real, subtle]) {
      await expect(impl.deriveBits(params, unusable, 256)).rejects.toThrow();
    }
    const p384 = await real.generateKey({ name: 'ECDH', namedCurve: 'P-384' }, false, [
      'deriveBits',
    ]);
    for (const impl of [real, subtle]) {
      await expect(
        impl.deriveBits({ name: 'ECDH', public: p384.publicKey }, a.privateKey, 256),
      ).rejects.toThrow();
    }
    // The private key in the public slot is refused, not used.
    for (const impl of [real, subtle]) {
      await expect(
        impl.deriveBits({ name: 'ECDH', public: b.privateKey }, a.privateKey, 256),
      ).rejects.toThrow();
    }
  });
});

describe('AES-256-GCM (GCM specification, test case 16)', () => {
  const key = hex('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308');
  const iv = hex('cafebabefacedbaddecaf888');
  const plaintext = hex(
    'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
  );
  const additionalData = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
  const sealed = hex(
    '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662' +
      '76fc6ece0f4e1768cddf8853bb2d551b',
  );
  const gcmKey = () =>
    real.importKey('raw', key, 'AES-GCM', false, ['encrypt', 'decrypt']) as Promise<CryptoKey>;

  it('encrypts and decrypts the published vector', async () => {
    const k = await gcmKey();
    const params = { name: 'AES-GCM', iv, additionalData };
    expect(Buffer.from(await subtle.encrypt(params, k, plaintext))).toEqual(sealed);
    expect(Buffer.from(await subtle.decrypt(params, k, sealed))).toEqual(plaintext);
  });

  it('matches Node’s WebCrypto for random messages, with and without additional data', async () => {
    const k = await gcmKey();
    for (const size of [0, 1, 15, 16, 17, 100]) {
      const message = randomBytes(size);
      const params = { name: 'AES-GCM', iv: randomBytes(12), additionalData: randomBytes(size) };
      const bare = { name: 'AES-GCM', iv: params.iv };
      for (const p of [params, bare]) {
        const ours = await subtle.encrypt(p, k, message);
        expect(Buffer.from(ours)).toEqual(Buffer.from(await real.encrypt(p, k, message)));
        expect(Buffer.from(await real.decrypt(p, k, ours))).toEqual(message);
      }
    }
  });

  it('refuses a changed tag, body, nonce or additional data, a short input and a wrong key usage', async () => {
    const k = await gcmKey();
    const params = { name: 'AES-GCM', iv, additionalData };
    const flip = (bytes: Buffer, at: number) => {
      const copy = Buffer.from(bytes);
      copy[at]! ^= 1;
      return copy;
    };
    const attempts: [AesGcmParams, Buffer][] = [
      [params, flip(sealed, sealed.length - 1)],
      [params, flip(sealed, 0)],
      [{ ...params, iv: flip(iv, 0) }, sealed],
      [{ ...params, additionalData: flip(additionalData, 0) }, sealed],
      [params, sealed.subarray(0, 15)],
    ];
    for (const [p, data] of attempts) {
      for (const impl of [real, subtle])
        await expect(impl.decrypt(p, k, new Uint8Array(data))).rejects.toThrow();
    }
    const encryptOnly = await real.importKey('raw', key, 'AES-GCM', false, ['encrypt']);
    for (const impl of [real, subtle]) {
      await expect(impl.decrypt(params, encryptOnly, sealed)).rejects.toThrow();
    }
    const cbc = await real.importKey('raw', key, 'AES-CBC', false, ['decrypt']);
    for (const impl of [real, subtle]) {
      await expect(impl.decrypt(params, cbc, sealed)).rejects.toThrow();
    }
  });
});

describe('under jose', () => {
  it('decrypts what jose on Node’s WebCrypto encrypts, and refuses a tampered JWE', async () => {
    const { privateKey, publicKey } = await real.generateKey(ecdh, false, ['deriveBits']);
    const jwe = await new CompactEncrypt(new TextEncoder().encode('{"pin":"3850"}'))
      .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM' })
      .encrypt(publicKey);
    const restore = installSubtle(subtle);
    const derive = vi.spyOn(subtle, 'deriveBits');
    const open = vi.spyOn(subtle, 'decrypt');
    try {
      const { plaintext } = await compactDecrypt(jwe, privateKey);
      expect([derive.mock.calls.length, open.mock.calls.length]).toEqual([1, 1]);
      expect(new TextDecoder().decode(plaintext)).toBe('{"pin":"3850"}');
      const parts = jwe.split('.');
      parts[4] = parts[4]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
      await expect(compactDecrypt(parts.join('.'), privateKey)).rejects.toThrow();
    } finally {
      restore();
    }
  });
});
