import net from 'node:net';

/**
 * Where a webhook may not be delivered outside DEMO_MODE: addresses that reach the platform
 * itself, its private network or its cloud's metadata service (SSRF). Pure: no DNS here; the
 * caller classifies every address it resolved or is about to dial.
 */
type Range = readonly [reason: string, network: string, prefix: number];

// Metadata first: the same addresses sit inside link-local, CGNAT and ULA, and the more
// specific reason is the one an operator needs to read.
const IPV4_RANGES: readonly Range[] = [
  ['a cloud metadata address', '169.254.169.254', 32],
  ['a cloud metadata address', '100.100.100.200', 32],
  ['an unspecified address', '0.0.0.0', 8],
  ['a loopback address', '127.0.0.0', 8],
  ['a private address', '10.0.0.0', 8],
  ['a private address', '172.16.0.0', 12],
  ['a private address', '192.168.0.0', 16],
  ['a link-local address', '169.254.0.0', 16],
  ['a carrier-grade NAT address', '100.64.0.0', 10],
  ['a multicast address', '224.0.0.0', 4],
  ['a reserved or broadcast address', '240.0.0.0', 4],
];

const IPV6_RANGES: readonly Range[] = [
  ['a cloud metadata address', 'fd00:ec2::254', 128],
  ['an unspecified address', '::', 128],
  ['a loopback address', '::1', 128],
  ['a link-local address', 'fe80::', 10],
  ['a unique local address', 'fc00::', 7],
  ['a multicast address', 'ff00::', 8],
];

/** IPv6 forms that carry an IPv4 address (at bit `offset`): the packet ends up there. */
const IPV4_EMBEDDINGS: readonly [form: string, embed: (v4: string) => string, offset: number][] = [
  ['IPv4-mapped', (v4) => `::ffff:${v4}`, 96], // RFC 4291 §2.5.5.2
  ['IPv4-translated', (v4) => `::ffff:0:${v4}`, 96], // RFC 2765 §2.1 (SIIT)
  ['NAT64', (v4) => `64:ff9b::${v4}`, 96], // RFC 6052 §2.1, the well-known prefix
  ['6to4', (v4) => `2002:${sixToFourGroups(v4)}::`, 16], // RFC 3056 §2: 2002:WWXX:YYZZ::/48
];

function sixToFourGroups(v4: string): string {
  const hex = v4.split('.').map((octet) => Number(octet).toString(16).padStart(2, '0'));
  return `${hex[0]}${hex[1]}:${hex[2]}${hex[3]}`;
}

/** One block list per reason, checked in table order. */
const BLOCKS: readonly (readonly [reason: string, list: net.BlockList])[] = (() => {
  const byReason = new Map<string, net.BlockList>();
  const add = (reason: string, network: string, prefix: number, family: 'ipv4' | 'ipv6') => {
    let list = byReason.get(reason);
    if (!list) byReason.set(reason, (list = new net.BlockList()));
    list.addSubnet(network, prefix, family);
  };
  for (const [reason, network, prefix] of IPV4_RANGES) add(reason, network, prefix, 'ipv4');
  for (const [reason, network, prefix] of IPV6_RANGES) add(reason, network, prefix, 'ipv6');
  for (const [form, embed, offset] of IPV4_EMBEDDINGS) {
    for (const [reason, network, prefix] of IPV4_RANGES) {
      add(`${reason} (${form})`, embed(network), offset + prefix, 'ipv6');
    }
  }
  return [...byReason];
})();

/** Why `address` (an IP literal) is forbidden as a webhook target, or null when it is public. */
export function forbiddenAddress(address: string): string | null {
  const version = net.isIP(address);
  if (version === 0) throw new TypeError(`not an IP address: "${address}"`);
  const family = version === 4 ? 'ipv4' : 'ipv6';
  for (const [reason, list] of BLOCKS) if (list.check(address, family)) return reason;
  return null;
}

/** The host of a URL as it is dialled: without IPv6 brackets or the root label's dot. */
export function dialledHost(hostname: string): string {
  const bare =
    hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return bare.replace(/\.$/, '').toLowerCase();
}

/**
 * Why a URL's host is forbidden without asking DNS (an IP literal, or a name that is loopback by
 * definition, RFC 6761 §6.3), or null when only its DNS answers can tell. Expects a hostname as
 * WHATWG URL parsing leaves it: `127.1`, `0x7f.1` and `2130706433` are already `127.0.0.1`.
 */
export function forbiddenHost(hostname: string): string | null {
  const host = dialledHost(hostname);
  if (net.isIP(host) !== 0) return forbiddenAddress(host);
  if (host === 'localhost' || host.endsWith('.localhost')) return 'a loopback name';
  return null;
}
