import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import net from 'node:net';
import { dialledHost, forbiddenAddress, forbiddenHost } from './egress.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every A/AAAA answer for a name. Injectable so tests can play DNS (and DNS rebinding). */
export type ResolveHost = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: ResolveHost = (hostname) =>
  dns.promises.lookup(hostname, { all: true, verbatim: true });

/** A webhook target refused outside DEMO_MODE; the message names the host and the reason. */
export class EgressRefused extends Error {
  override readonly name = 'EgressRefused';
}

/** Refuses an IP-literal or localhost host before any DNS (connect() never looks those up). */
export function refuseForbiddenHost(hostname: string): void {
  const reason = forbiddenHost(hostname);
  if (reason !== null) throw new EgressRefused(`${dialledHost(hostname)} is ${reason}`);
}

/**
 * The addresses `hostname` may be dialled at, all of them public; refuses the host when it is,
 * or any of its answers is, a forbidden address (one private answer is enough for a rebinding
 * resolver to pick it).
 */
export async function publicAddresses(
  hostname: string,
  resolve: ResolveHost,
): Promise<readonly ResolvedAddress[]> {
  refuseForbiddenHost(hostname);
  const host = dialledHost(hostname);
  const version = net.isIP(host);
  if (version !== 0) return [{ address: host, family: version }];
  const answers = await resolve(host);
  for (const { address } of answers) {
    const reason = forbiddenAddress(address);
    if (reason !== null) throw new EgressRefused(`${host} resolves to ${address}, ${reason}`);
  }
  if (answers.length === 0) {
    throw Object.assign(new Error(`${host} has no addresses`), { code: 'ENOTFOUND' });
  }
  return answers;
}

/**
 * A `lookup` for net/tls connect: the socket dials only what this answers, so the check holds
 * for the address actually connected to, whatever DNS said at subscription. `publicOnly: false`
 * (DEMO_MODE) resolves without checking.
 */
export function egressLookup(resolve: ResolveHost, publicOnly: boolean): LookupFunction {
  return (hostname, options, callback) => {
    (publicOnly ? publicAddresses(hostname, resolve) : resolve(hostname)).then(
      (answers) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = answers.filter((a) => wanted === 0 || a.family === wanted);
        const first = usable[0];
        if (!first) {
          const error = Object.assign(new Error(`${hostname} has no IPv${wanted} address`), {
            code: 'ENOTFOUND',
          });
          callback(error, '', 0);
        } else if (options.all) {
          callback(null, [...usable]);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
