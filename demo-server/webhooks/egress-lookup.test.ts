import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { EgressRefused, type ResolveHost, egressLookup, publicAddresses } from './egress-lookup.js';

const dnsOf =
  (answers: Record<string, string[]>): ResolveHost =>
  async (hostname) =>
    (answers[hostname] ?? []).map((address) => ({
      address,
      family: address.includes(':') ? 6 : 4,
    }));

const resolve = dnsOf({
  'public.example': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'mixed.example': ['93.184.215.14', '10.0.0.7'],
  'rebound.example': ['127.0.0.1'],
});

function lookup(hostname: string, options: { all?: boolean; family?: number }, publicOnly = true) {
  return new Promise<{ error: Error | null; address: string | LookupAddress[]; family?: number }>(
    (done) =>
      egressLookup(resolve, publicOnly)(hostname, options, (error, address, family) =>
        done({ error, address, family }),
      ),
  );
}

describe('publicAddresses', () => {
  it('returns every answer of a public name, and an IP literal without asking DNS', async () => {
    expect(await publicAddresses('public.example', resolve)).toHaveLength(2);
    expect(await publicAddresses('[2606:4700::1]', resolve)).toEqual([
      { address: '2606:4700::1', family: 6 },
    ]);
  });

  it('refuses a name when any one of its answers is forbidden', async () => {
    await expect(publicAddresses('mixed.example', resolve)).rejects.toThrow(
      new EgressRefused('mixed.example resolves to 10.0.0.7, a private address'),
    );
  });

  it('says a name without answers is not found (not refused)', async () => {
    await expect(publicAddresses('nxdomain.example', resolve)).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
  });
});

describe('egressLookup (what net.connect dials)', () => {
  it('answers in both callback forms, honouring the family asked for', async () => {
    expect(await lookup('public.example', { all: true })).toMatchObject({
      error: null,
      address: [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
      ],
    });
    expect(await lookup('public.example', { family: 6 })).toEqual({
      error: null,
      address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c',
      family: 6,
    });
  });

  it('refuses a forbidden answer outside DEMO_MODE, and passes it in DEMO_MODE', async () => {
    const refused = await lookup('rebound.example', { all: true });
    expect(refused.error).toBeInstanceOf(EgressRefused);
    expect(refused.error?.message).toBe(
      'rebound.example resolves to 127.0.0.1, a loopback address',
    );
    expect(await lookup('rebound.example', {}, false)).toEqual({
      error: null,
      address: '127.0.0.1',
      family: 4,
    });
  });
});
