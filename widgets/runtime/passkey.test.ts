// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeWebAuthn, noWebAuthn } from './fake-webauthn.js';
import { CeremonyFailure, assertPasskey, createPasskey, passkeysAvailable } from './passkey.js';

const challenge = Buffer.from('challenge').toString('base64url');
const creation = {
  challenge,
  rp: { id: 'localhost', name: 'Card PIN' },
  user: { id: 'dXNlcg', name: 'Card ending 0005', displayName: 'Card ending 0005' },
  pubKeyCredParams: [{ alg: -7, type: 'public-key' as const }],
};

afterEach(() => {
  vi.unstubAllGlobals();
  delete (document as { featurePolicy?: unknown }).featurePolicy;
});

describe('a ceremony that ends without a credential says why, with a stable code', () => {
  it.each([
    ['NotAllowedError', 'STEP_UP_CANCELLED'],
    ['AbortError', 'STEP_UP_CANCELLED'],
    ['InvalidStateError', 'PASSKEY_ALREADY_ENROLLED'],
    ['NotSupportedError', 'PASSKEY_UNSUPPORTED'],
    ['SecurityError', 'PASSKEY_UNSUPPORTED'],
  ])('create() throwing %s: %s', async (name, code) => {
    fakeWebAuthn([name]);
    await expect(createPasskey(creation)).rejects.toEqual(new CeremonyFailure(code as never));
  });

  it('get() cancelled: STEP_UP_CANCELLED; another error stays what it is', async () => {
    fakeWebAuthn(['NotAllowedError', 'UnknownError']);
    await expect(assertPasskey({ challenge })).rejects.toMatchObject({ code: 'STEP_UP_CANCELLED' });
    await expect(assertPasskey({ challenge })).rejects.not.toBeInstanceOf(CeremonyFailure);
  });

  it('no WebAuthn at all: PASSKEY_UNSUPPORTED before any prompt', async () => {
    noWebAuthn();
    expect(passkeysAvailable('publickey-credentials-get')).toBe(false);
    await expect(assertPasskey({ challenge })).rejects.toMatchObject({
      code: 'PASSKEY_UNSUPPORTED',
    });
  });

  it('a frame its host did not allow the ceremony (featurePolicy, where the engine says)', () => {
    const webauthn = fakeWebAuthn();
    const policy = (allowed: string[]) => ({
      features: () => ['publickey-credentials-get', 'publickey-credentials-create'],
      allowsFeature: (name: string) => allowed.includes(name),
    });
    Object.assign(document, { featurePolicy: policy(['publickey-credentials-get']) });
    expect(passkeysAvailable('publickey-credentials-get')).toBe(true);
    expect(passkeysAvailable('publickey-credentials-create')).toBe(false);
    // A feature the engine does not list is not one it can judge.
    Object.assign(document, {
      featurePolicy: { features: () => [], allowsFeature: () => false },
    });
    expect(passkeysAvailable('publickey-credentials-create')).toBe(true);
    expect(webauthn.asked).toEqual([]);
  });
});
