import { describe, expect, it } from 'vitest';
import { forbiddenAddress, forbiddenHost } from './egress.js';

// Both edges of every forbidden range, with the reason the operator reads.
const FORBIDDEN: readonly (readonly [address: string, reason: string])[] = [
  ['0.0.0.0', 'an unspecified address'],
  ['0.255.255.255', 'an unspecified address'],
  ['127.0.0.0', 'a loopback address'],
  ['127.255.255.255', 'a loopback address'],
  ['10.0.0.0', 'a private address'],
  ['10.255.255.255', 'a private address'],
  ['172.16.0.0', 'a private address'],
  ['172.31.255.255', 'a private address'],
  ['192.168.0.0', 'a private address'],
  ['192.168.255.255', 'a private address'],
  ['169.254.0.0', 'a link-local address'],
  ['169.254.255.255', 'a link-local address'],
  ['100.64.0.0', 'a carrier-grade NAT address'],
  ['100.127.255.255', 'a carrier-grade NAT address'],
  ['224.0.0.0', 'a multicast address'],
  ['239.255.255.255', 'a multicast address'],
  ['240.0.0.0', 'a reserved or broadcast address'],
  ['255.255.255.255', 'a reserved or broadcast address'],
  ['169.254.169.254', 'a cloud metadata address'],
  ['100.100.100.200', 'a cloud metadata address'],
  ['::', 'an unspecified address'],
  ['::1', 'a loopback address'],
  ['fe80::', 'a link-local address'],
  ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'a link-local address'],
  ['fc00::', 'a unique local address'],
  ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'a unique local address'],
  ['ff00::', 'a multicast address'],
  ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'a multicast address'],
  ['fd00:ec2::254', 'a cloud metadata address'],
  // IPv4-mapped ::ffff:0:0/96: both edges, and forbidden IPv4 inside it.
  ['::ffff:0.0.0.0', 'an unspecified address'],
  ['::ffff:255.255.255.255', 'a reserved or broadcast address'],
  ['::ffff:127.0.0.1', 'a loopback address'],
  ['::ffff:7f00:1', 'a loopback address'],
  ['::ffff:10.1.2.3', 'a private address'],
  ['::ffff:169.254.169.254', 'a cloud metadata address'],
  // IPv4-translated (SIIT) ::ffff:0:0:0/96.
  ['::ffff:0:0.0.0.0', 'an unspecified address (IPv4-translated)'],
  ['::ffff:0:255.255.255.255', 'a reserved or broadcast address (IPv4-translated)'],
  ['::ffff:0:127.0.0.1', 'a loopback address (IPv4-translated)'],
  // NAT64 64:ff9b::/96.
  ['64:ff9b::0.0.0.0', 'an unspecified address (NAT64)'],
  ['64:ff9b::255.255.255.255', 'a reserved or broadcast address (NAT64)'],
  ['64:ff9b::127.0.0.1', 'a loopback address (NAT64)'],
  ['64:ff9b::169.254.169.254', 'a cloud metadata address (NAT64)'],
  ['64:ff9b::c0a8:101', 'a private address (NAT64)'],
  // 6to4 2002::/16 embeds the IPv4 address in bits 16–48.
  ['2002::', 'an unspecified address (6to4)'],
  ['2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'a reserved or broadcast address (6to4)'],
  ['2002:7f00:1::1', 'a loopback address (6to4)'],
  ['2002:a9fe:a9fe::', 'a cloud metadata address (6to4)'],
  ['2002:ac10::1', 'a private address (6to4)'],
];

// Just outside each IPv4 range, and public addresses in every IPv6 form above.
const PUBLIC: readonly string[] = [
  '1.0.0.0',
  '9.255.255.255',
  '11.0.0.0',
  '100.63.255.255',
  '100.128.0.0',
  '126.255.255.255',
  '128.0.0.0',
  '169.253.255.255',
  '169.255.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '192.167.255.255',
  '192.169.0.0',
  '223.255.255.255',
  '8.8.8.8',
  '::2',
  'fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'fec0::',
  'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  '2606:4700:4700::1111',
  '::ffff:8.8.8.8',
  '::ffff:0:8.8.8.8',
  '64:ff9b::8.8.8.8',
  '2002:808:808::1',
];

describe('forbiddenAddress', () => {
  it.each(FORBIDDEN)('%s is %s', (address, reason) => {
    expect(forbiddenAddress(address)).toBe(reason);
  });

  it.each(PUBLIC)('%s is public', (address) => {
    expect(forbiddenAddress(address)).toBeNull();
  });

  it('throws on something that is not an IP address', () => {
    expect(() => forbiddenAddress('example.com')).toThrow(/not an IP address/);
  });
});

describe('forbiddenHost (a URL hostname, as WHATWG URL parsing leaves it)', () => {
  const host = (url: string) => new URL(url).hostname;

  it.each([
    ['https://localhost/', 'a loopback name'],
    ['https://LOCALHOST./', 'a loopback name'],
    ['https://api.localhost/', 'a loopback name'],
    ['https://127.0.0.1/', 'a loopback address'],
    ['https://127.1/', 'a loopback address'],
    ['https://0x7f.1/', 'a loopback address'],
    ['https://2130706433/', 'a loopback address'],
    ['https://0177.0.0.1/', 'a loopback address'],
    ['https://0/', 'an unspecified address'],
    ['https://[::1]/', 'a loopback address'],
    ['https://[::ffff:127.0.0.1]/', 'a loopback address'],
    ['https://[::ffff:169.254.169.254]/', 'a cloud metadata address'],
    ['https://169.254.169.254./', 'a cloud metadata address'],
    ['https://[fd00:ec2::254]/', 'a cloud metadata address'],
    ['https://10.0.0.1:8443/', 'a private address'],
  ])('%s is %s', (url, reason) => {
    expect(forbiddenHost(host(url))).toBe(reason);
  });

  it.each(['https://hooks.program.example/', 'https://8.8.8.8/', 'https://[2606:4700::1]/'])(
    '%s is not refused before DNS',
    (url) => {
      expect(forbiddenHost(host(url))).toBeNull();
    },
  );
});
