import { vi } from 'vitest';

/**
 * A browser's WebAuthn, faked for the widgets' component tests (happy-dom has none): each
 * `navigator.credentials.create()` / `get()` answers with the next of `answers` (a DOMException
 * name makes it throw that, as a cancelled or refused prompt does) and records what it was asked.
 */
export function fakeWebAuthn(answers: ('ok' | string)[] = []) {
  const asked: { ceremony: 'create' | 'get'; challenge: string }[] = [];
  const bytes = (text: string) => new TextEncoder().encode(text).buffer;
  const answer = (ceremony: 'create' | 'get') => async (options: CredentialCreationOptions) => {
    const challenge = new Uint8Array(options.publicKey!.challenge as ArrayBuffer);
    asked.push({ ceremony, challenge: Buffer.from(challenge).toString('base64url') });
    const next = answers.shift() ?? 'ok';
    if (next !== 'ok') throw new DOMException('The operation was not allowed.', next);
    return {
      id: 'Y3JlZGVudGlhbA',
      rawId: bytes('credential'),
      type: 'public-key',
      authenticatorAttachment: 'platform',
      getClientExtensionResults: () => ({}),
      response:
        ceremony === 'create'
          ? { attestationObject: bytes('attestation'), clientDataJSON: bytes('{"create":1}') }
          : {
              authenticatorData: bytes('authenticator-data'),
              clientDataJSON: bytes('{"get":1}'),
              signature: bytes('signature'),
              userHandle: null,
            },
    };
  };
  vi.stubGlobal('PublicKeyCredential', function PublicKeyCredential() {});
  Object.defineProperty(navigator, 'credentials', {
    configurable: true,
    value: { create: vi.fn(answer('create')), get: vi.fn(answer('get')) },
  });
  return { asked };
}

/** A document with no WebAuthn at all (an old webview). */
export function noWebAuthn(): void {
  vi.stubGlobal('PublicKeyCredential', undefined);
}
