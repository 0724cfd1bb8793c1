import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.js';
import { deriveIccMasterKeyOptionA, deriveVisaSecureMessagingSessionKey } from './emv/keys.js';
import { retailMac, verifyRetailMac } from './mac.js';
import { codeOf } from './test-helpers.js';

// ISO/IEC 9797-1 MAC algorithm 3 (algorithm 1's single-DES CBC-MAC under K1, then output
// transformation 3 with K2), padding method 2; EMV 4.x Book 2 Annex A1.2.1.
describe('ISO/IEC 9797-1 MAC algorithm 3, padding method 2', () => {
  // pyemv tests/test_mac.py test_mac_iso9797_3: key1 AAAAAAAAAAAAAAAA, key2 BBBBBBBBBBBBBBBB,
  // b"hello world", padding 2 -> 2BC2D9EDE0CF31F6
  it('matches the pyemv unit-test vector', () => {
    const key = fromHex('AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB');
    expect(toHex(retailMac(key, Buffer.from('hello world', 'ascii')))).toBe('2BC2D9EDE0CF31F6');
  });

  // pyemv pyemv/sm.py doctest generate_command_mac: SK-SMI 0123456789ABCDEFFEDCBA9876543210,
  // command 8424000008 || ATC FFFF || ARQC 1234567890123456 -> E07B8DF1B4184282
  it('matches the pyemv script-MAC doctest (header || ATC || ARQC)', () => {
    const sk = fromHex('0123456789ABCDEFFEDCBA9876543210');
    const input = fromHex('8424000008' + 'FFFF' + '1234567890123456');
    expect(toHex(retailMac(sk, input))).toBe('E07B8DF1B4184282');
  });

  // pyemv tests/test_kd_hsm.py test_derive_visa_sm_sk and tests/test_cvn_hsm.py (Visa CVN 10):
  // IMK-SMI FEDCBA98765432100123456789ABCDEF, PAN 1234567890123456 (PSN 00), ATC 001C,
  // ARQC 29CCA15AE665FA2E, APPLICATION UNBLOCK 8418000008 || ATC || ARQC -> DB56BA60087CEFD3
  it('matches the pyemv HSM-checked Visa application-unblock MAC', () => {
    const mkSmi = deriveIccMasterKeyOptionA(
      fromHex('FEDCBA98765432100123456789ABCDEF'),
      '1234567890123456',
    );
    const sk = deriveVisaSecureMessagingSessionKey(mkSmi, fromHex('001C'));
    const mac = retailMac(sk, fromHex('8418000008' + '001C' + '29CCA15AE665FA2E'));
    expect(toHex(mac)).toBe('DB56BA60087CEFD3');
  });

  it('verifies in constant time and rejects any change', () => {
    const key = fromHex('AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB');
    const data = Buffer.from('hello world', 'ascii');
    const mac = retailMac(key, data);
    expect(verifyRetailMac(key, data, mac)).toBe(true);
    const bad = Buffer.from(mac);
    bad[7] = (bad[7] ?? 0) ^ 0x01;
    expect(verifyRetailMac(key, data, bad)).toBe(false);
    expect(verifyRetailMac(key, data, mac.subarray(0, 4))).toBe(false);
    expect(verifyRetailMac(key, Buffer.from('hello worle', 'ascii'), mac)).toBe(false);
  });

  it('requires a 16-byte key', () => {
    expect(codeOf(() => retailMac(Buffer.alloc(8), Buffer.alloc(8)))).toBe('INVALID_KEY');
  });

  it('refuses K1 = K2, which would make it a single-DES CBC-MAC (MAC algorithm 1)', () => {
    const key = fromHex('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(codeOf(() => retailMac(key, Buffer.alloc(8)))).toBe('INVALID_KEY');
  });
});
