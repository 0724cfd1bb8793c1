import { type Cipher, type Decipher, createCipheriv, createDecipheriv } from 'node:crypto';

import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { tdesCbcEncrypt, tdesEcbEncrypt } from '../des.js';
import { encodeFormat2 } from '../iso9564/format2.js';
import { keyCheckValue } from '../kcv.js';
import { retailMac } from '../mac.js';
import { pad80 } from '../padding.js';
import { codeOf } from '../test-helpers.js';
import { EmvProfile, deriveIccMasterKeyOptionA, deriveSecureMessagingSessionKey } from './keys.js';
import {
  buildPinChangeCommand,
  buildPinUnblockCommand,
  decipherCommandData,
  encipherCommandData,
  openIssuerScriptCommand,
  scriptCommandMacInput,
  verifyAndOpenPinChangeCommand,
  verifyPinUnblockCommand,
} from './pin-change.js';
import { formatVisPinBlock } from './vis-pin-block.js';

/**
 * pyemv tests/test_sm_hsm.py (knovichikhin/pyemv), "cross-checked against an HSM":
 * PAN 1234567890123456, PSN 01, IMK-SMC 1111…2222, IMK-SMI 0123…3210, IMK-AC FEDC…CDEF;
 * CSK R = ABCDEF1234567890 (EMV_CCD / MASTERCARD), Visa ATC = FFFF.
 */
const SM_HSM = {
  pan: '1234567890123456',
  psn: '01',
  imkSmc: fromHex('11111111111111112222222222222222'),
  imkSmi: fromHex('0123456789ABCDEFFEDCBA9876543210'),
  imkAc: fromHex('FEDCBA98765432100123456789ABCDEF'),
  csk: { atc: fromHex('0000'), arqc: fromHex('ABCDEF1234567890') },
  visa: { atc: fromHex('FFFF'), arqc: fromHex('0000000000000000') },
};

function smHsmKeys(profile: EmvProfile): { skSmc: Buffer; skSmi: Buffer; mkAc: Buffer } {
  const txn = profile === EmvProfile.VISA ? SM_HSM.visa : SM_HSM.csk;
  const mk = (imk: Buffer): Buffer => deriveIccMasterKeyOptionA(imk, SM_HSM.pan, SM_HSM.psn);
  return {
    skSmc: deriveSecureMessagingSessionKey(profile, mk(SM_HSM.imkSmc), txn),
    skSmi: deriveSecureMessagingSessionKey(profile, mk(SM_HSM.imkSmi), txn),
    mkAc: mk(SM_HSM.imkAc),
  };
}

// EMV 4.x Book 2 §9.3 / Annex A1.1 (secure messaging for confidentiality).
describe('command-data encipherment (SK-SMC) per profile', () => {
  // pyemv pyemv/sm.py doctest encrypt_command_data: SK-SMC 0123456789ABCDEFFEDCBA9876543210,
  // PIN block 241234FFFFFFFFFF, MASTERCARD -> 9859240AE52820C3
  it('MASTERCARD: matches the pyemv doctest (no padding for 8 bytes)', () => {
    const sk = fromHex('0123456789ABCDEFFEDCBA9876543210');
    const enc = encipherCommandData(EmvProfile.MASTERCARD, sk, fromHex('241234FFFFFFFFFF'));
    expect(toHex(enc)).toBe('9859240AE52820C3');
    expect(toHex(decipherCommandData(EmvProfile.MASTERCARD, sk, enc))).toBe('241234FFFFFFFFFF');
  });

  // pyemv tests/test_sm_hsm.py test_mastercard_pin_change(_12):
  // 249999FFFFFFFFFF -> 28367E05DE3381C2, 2C999999999999FF -> 99AD3AF9EB3ECF0C
  it('MASTERCARD: matches the pyemv HSM-checked vectors', () => {
    const { skSmc } = smHsmKeys(EmvProfile.MASTERCARD);
    expect(toHex(encipherCommandData(EmvProfile.MASTERCARD, skSmc, encodeFormat2('9999')))).toBe(
      '28367E05DE3381C2',
    );
    expect(
      toHex(encipherCommandData(EmvProfile.MASTERCARD, skSmc, encodeFormat2('999999999999'))),
    ).toBe('99AD3AF9EB3ECF0C');
  });

  // pyemv tests/test_sm_hsm.py test_ccd_pin_change: 249999FFFFFFFFFF, EMV (always padded)
  // -> 28367E05DE3381C29D30A6055A8DEB86
  it('EMV_CCD: matches the pyemv HSM-checked vector (always padded, CBC)', () => {
    const { skSmc } = smHsmKeys(EmvProfile.EMV_CCD);
    const enc = encipherCommandData(EmvProfile.EMV_CCD, skSmc, fromHex('249999FFFFFFFFFF'));
    expect(toHex(enc)).toBe('28367E05DE3381C29D30A6055A8DEB86');
    expect(toHex(decipherCommandData(EmvProfile.EMV_CCD, skSmc, enc))).toBe('249999FFFFFFFFFF');
  });

  // pyemv tests/test_sm_hsm.py test_vis_pin_change: VIS PIN block 049999FFC4B001F1, VISA
  // (08 || block || 80 00…, ECB) -> D421231A6FD2F0FAEE671384F0D3A7B9
  it('VISA: matches the pyemv HSM-checked vector (length prefix, padded, ECB)', () => {
    const { skSmc, mkAc } = smHsmKeys(EmvProfile.VISA);
    const block = formatVisPinBlock(mkAc, '9999');
    expect(toHex(block)).toBe('049999FFC4B001F1');
    const enc = encipherCommandData(EmvProfile.VISA, skSmc, block);
    expect(toHex(enc)).toBe('D421231A6FD2F0FAEE671384F0D3A7B9');
    expect(decipherCommandData(EmvProfile.VISA, skSmc, enc).equals(block)).toBe(true);
  });

  it('MASTERCARD pads only when needed; EMV_CCD always; VISA prefixes the length', () => {
    const sk = fromHex('0123456789ABCDEFFEDCBA9876543210');
    expect(encipherCommandData(EmvProfile.MASTERCARD, sk, Buffer.alloc(5)).length).toBe(8);
    expect(encipherCommandData(EmvProfile.MASTERCARD, sk, Buffer.alloc(16)).length).toBe(16);
    expect(encipherCommandData(EmvProfile.EMV_CCD, sk, Buffer.alloc(16)).length).toBe(24);
    expect(encipherCommandData(EmvProfile.VISA, sk, Buffer.alloc(7)).length).toBe(16);
    expect(encipherCommandData(EmvProfile.VISA, sk, Buffer.alloc(6)).length).toBe(8);
    const data = fromHex('0102030405');
    expect(
      decipherCommandData(
        EmvProfile.EMV_CCD,
        sk,
        encipherCommandData(EmvProfile.EMV_CCD, sk, data),
      ).equals(data),
    ).toBe(true);
    expect(
      decipherCommandData(
        EmvProfile.VISA,
        sk,
        encipherCommandData(EmvProfile.VISA, sk, data),
      ).equals(data),
    ).toBe(true);
    // A Visa plaintext whose length prefix disagrees with its content is rejected.
    const wrongPrefix = tdesEcbEncrypt(sk, pad80(fromHex('050102')));
    expect(codeOf(() => decipherCommandData(EmvProfile.VISA, sk, wrongPrefix))).toBe('BAD_PADDING');
    // Padding errors surface as BAD_PADDING.
    const noPad = tdesCbcEncrypt(sk, fromHex('0102030405060708'));
    expect(codeOf(() => decipherCommandData(EmvProfile.EMV_CCD, sk, noPad))).toBe('BAD_PADDING');
  });
});

// EMV 4.x Book 2 §9.2 / Annex A1.2.1 (secure messaging for integrity: ISO/IEC 9797-1 MAC
// algorithm 3, padding method 2).
describe('script MAC (SK-SMI) per profile', () => {
  // pyemv tests/test_sm_hsm.py: MAC = alg. 3 / method 2 over header 8424000210 || enciphered data
  //   MASTERCARD 9999:         8C4D10091A093B5B
  //   MASTERCARD 999999999999: 1471D88C6393BE21
  //   EMV_CCD 9999:            69DA1EE208823022
  //   VISA 9999:               F67E37E67B06AB99
  // plus test_generate_command_mac: 8424000008 alone -> CF323F09A0F6AB9E
  it.each([
    [EmvProfile.MASTERCARD, '8424000210' + '28367E05DE3381C2', '8C4D10091A093B5B'],
    [EmvProfile.MASTERCARD, '8424000210' + '99AD3AF9EB3ECF0C', '1471D88C6393BE21'],
    [EmvProfile.MASTERCARD, '8424000008', 'CF323F09A0F6AB9E'],
    [EmvProfile.EMV_CCD, '8424000210' + '28367E05DE3381C29D30A6055A8DEB86', '69DA1EE208823022'],
    [EmvProfile.VISA, '8424000210' + 'D421231A6FD2F0FAEE671384F0D3A7B9', 'F67E37E67B06AB99'],
  ])('%s: MAC over %s', (profile, input, mac) => {
    const { skSmi } = smHsmKeys(profile);
    expect(toHex(retailMac(skSmi, fromHex(input)))).toBe(mac);
  });

  it('builds header || ATC || ARQC || data (or header || data)', () => {
    const input = scriptCommandMacInput(
      fromHex('8424000218'),
      fromHex('001C'),
      fromHex('1122334455667788'),
      fromHex('AABB'),
    );
    expect(toHex(input)).toBe('8424000218001C1122334455667788AABB');
    expect(
      toHex(
        scriptCommandMacInput(
          fromHex('8424000218'),
          fromHex('001C'),
          fromHex('1122334455667788'),
          fromHex('AABB'),
          false,
        ),
      ),
    ).toBe('8424000218AABB');
  });
});

/**
 * pyemv tests/test_cvn_hsm.py (knovichikhin/pyemv), complete PIN CHANGE (P2 = 02) APDUs:
 * IMK-AC 0123…3210, IMK-SMI FEDC…CDEF, IMK-SMC 89ABCDEF0123456776543210FEDCBA98,
 * PAN 1234567890123456, PSN 00, ATC 001C, new PIN 9999.
 */
const CVN = {
  imkAc: fromHex('0123456789ABCDEFFEDCBA9876543210'),
  imkSmi: fromHex('FEDCBA98765432100123456789ABCDEF'),
  imkSmc: fromHex('89ABCDEF0123456776543210FEDCBA98'),
  pan: '1234567890123456',
  psn: '00',
  atc: fromHex('001C'),
};

describe('buildPinChangeCommand against published complete APDUs', () => {
  // Visa CVN 10: ARQC 29CCA15AE665FA2E; MAC over header || ATC || ARQC || data
  it('VISA (Visa CVN 10)', () => {
    const cmd = buildPinChangeCommand({
      profile: EmvProfile.VISA,
      ...CVN,
      arqc: fromHex('29CCA15AE665FA2E'),
      pin: '9999',
    });
    expect(toHex(cmd.apdu)).toBe('8424000218BB221AF527377A2811D2B6EBC396A9391A965A5CB2CE62DA');
    expect(toHex(cmd.encipheredData)).toBe('BB221AF527377A2811D2B6EBC396A939');
    expect(toHex(cmd.mac)).toBe('1A965A5CB2CE62DA');
  });

  // Visa CVN 18: ARQC 7A788EA6B8A3E733 (CVN 18 uses MK Option B, identical to A for 16-digit PANs)
  it('VISA (Visa CVN 18)', () => {
    const cmd = buildPinChangeCommand({
      profile: EmvProfile.VISA,
      ...CVN,
      arqc: fromHex('7A788EA6B8A3E733'),
      pin: '9999',
    });
    expect(toHex(cmd.apdu)).toBe('8424000218BB221AF527377A2811D2B6EBC396A9391A22B480EF312F40');
  });

  // Interac CVN 133 ("MasterCard" SKD with R = ARQC, MASTERCARD encipherment, MAC over
  // header || data only): ARQC 18932FECA2D84326
  it('MASTERCARD with macIncludesTransactionData=false (Interac CVN 133)', () => {
    const cmd = buildPinChangeCommand({
      profile: EmvProfile.MASTERCARD,
      ...CVN,
      arqc: fromHex('18932FECA2D84326'),
      pin: '9999',
      macIncludesTransactionData: false,
    });
    expect(toHex(cmd.apdu)).toBe('8424000210382F36D5920D23915CC7573F770298C9');
  });

  it('MASTERCARD default MACs ATC || ARQC too (same ciphertext, different MAC)', () => {
    const base = {
      profile: EmvProfile.MASTERCARD,
      ...CVN,
      arqc: fromHex('18932FECA2D84326'),
      pin: '9999',
    };
    const withTxn = buildPinChangeCommand(base);
    const without = buildPinChangeCommand({ ...base, macIncludesTransactionData: false });
    expect(withTxn.encipheredData.equals(without.encipheredData)).toBe(true);
    expect(withTxn.mac.equals(without.mac)).toBe(false);
    expect(toHex(withTxn.apdu.subarray(0, 5))).toBe('8424000210');
  });

  it('EMV_CCD: Lc = 16 enciphered + 8 MAC', () => {
    const cmd = buildPinChangeCommand({
      profile: EmvProfile.EMV_CCD,
      ...CVN,
      arqc: fromHex('18932FECA2D84326'),
      pin: '1234',
    });
    expect(toHex(cmd.apdu.subarray(0, 5))).toBe('8424000218');
    expect(cmd.apdu.length).toBe(5 + 24);
  });

  it('validates inputs', () => {
    const base = {
      profile: EmvProfile.VISA,
      ...CVN,
      arqc: fromHex('29CCA15AE665FA2E'),
      pin: '9999',
    };
    expect(codeOf(() => buildPinChangeCommand({ ...base, imkAc: undefined }))).toBe('INVALID_KEY');
    expect(codeOf(() => buildPinChangeCommand({ ...base, atc: fromHex('1C') }))).toBe(
      'INVALID_INPUT',
    );
    expect(codeOf(() => buildPinChangeCommand({ ...base, arqc: fromHex('29CC') }))).toBe(
      'INVALID_INPUT',
    );
    expect(codeOf(() => buildPinChangeCommand({ ...base, pin: '12' }))).toBe('INVALID_PIN');
    expect(codeOf(() => buildPinChangeCommand({ ...base, imkSmi: Buffer.alloc(8) }))).toBe(
      'INVALID_KEY',
    );
    // MC / CCD do not need IMK-AC.
    expect(
      buildPinChangeCommand({ ...base, profile: EmvProfile.EMV_CCD, imkAc: undefined }).apdu.length,
    ).toBe(29);
  });
});

describe('card side: verifyAndOpenPinChangeCommand', () => {
  const arqc = fromHex('29CCA15AE665FA2E');
  const cardKeys = {
    mkAc: deriveIccMasterKeyOptionA(CVN.imkAc, CVN.pan, CVN.psn),
    mkSmi: deriveIccMasterKeyOptionA(CVN.imkSmi, CVN.pan, CVN.psn),
    mkSmc: deriveIccMasterKeyOptionA(CVN.imkSmc, CVN.pan, CVN.psn),
  };
  const profiles = [EmvProfile.EMV_CCD, EmvProfile.MASTERCARD, EmvProfile.VISA] as const;

  // The card opens the published Visa CVN 10 APDU.
  it('opens the published Visa CVN 10 APDU', () => {
    const res = verifyAndOpenPinChangeCommand({
      profile: EmvProfile.VISA,
      ...cardKeys,
      atc: CVN.atc,
      arqc,
      apdu: fromHex('8424000218BB221AF527377A2811D2B6EBC396A9391A965A5CB2CE62DA'),
    });
    expect(res).toEqual({ ok: true, pin: '9999' });
  });

  it('opens the published Interac CVN 133 APDU (MASTERCARD, header-only MAC)', () => {
    const res = verifyAndOpenPinChangeCommand({
      profile: EmvProfile.MASTERCARD,
      ...cardKeys,
      atc: CVN.atc,
      arqc: fromHex('18932FECA2D84326'),
      apdu: fromHex('8424000210382F36D5920D23915CC7573F770298C9'),
      macIncludesTransactionData: false,
    });
    expect(res).toEqual({ ok: true, pin: '9999' });
  });

  describe.each(profiles)('%s round trip', (profile) => {
    const build = (pin: string): Buffer =>
      buildPinChangeCommand({ profile, ...CVN, arqc, pin }).apdu;
    const open = (
      apdu: Buffer,
      over: Partial<Parameters<typeof verifyAndOpenPinChangeCommand>[0]> = {},
    ) => verifyAndOpenPinChangeCommand({ profile, ...cardKeys, atc: CVN.atc, arqc, apdu, ...over });

    it.each(['0000', '1234', '98765', '123456789012'])('opens PIN %s', (pin) => {
      expect(open(build(pin))).toEqual({ ok: true, pin });
    });

    it('fails with BAD_MAC when any enciphered-data or MAC byte is flipped', () => {
      const apdu = build('2468');
      for (let i = 5; i < apdu.length; i += 1) {
        const bad = Buffer.from(apdu);
        bad[i] = (bad[i] ?? 0) ^ 0x01;
        expect(open(bad)).toEqual({ ok: false, code: 'BAD_MAC' });
      }
    });

    it('fails with BAD_MAC for another ATC / ARQC or the other MAC variant', () => {
      const apdu = build('2468');
      expect(open(apdu, { atc: fromHex('001D') })).toEqual({ ok: false, code: 'BAD_MAC' });
      expect(open(apdu, { arqc: fromHex('29CCA15AE665FA2F') })).toEqual({
        ok: false,
        code: 'BAD_MAC',
      });
      expect(open(apdu, { macIncludesTransactionData: false })).toEqual({
        ok: false,
        code: 'BAD_MAC',
      });
      expect(open(apdu, { mkSmi: cardKeys.mkSmc })).toEqual({ ok: false, code: 'BAD_MAC' });
    });

    it('fails with MALFORMED_APDU for a wrong header, Lc or length', () => {
      const apdu = build('2468');
      const p2 = Buffer.from(apdu);
      p2[3] = 0x01;
      expect(open(p2)).toEqual({ ok: false, code: 'MALFORMED_APDU' });
      const cla = Buffer.from(apdu);
      cla[0] = 0x80;
      expect(open(cla)).toEqual({ ok: false, code: 'MALFORMED_APDU' });
      const lc = Buffer.from(apdu);
      lc[4] = (lc[4] ?? 0) + 1;
      expect(open(lc)).toEqual({ ok: false, code: 'MALFORMED_APDU' });
      expect(open(apdu.subarray(0, apdu.length - 1))).toEqual({
        ok: false,
        code: 'MALFORMED_APDU',
      });
      expect(open(Buffer.concat([apdu, fromHex('00')]))).toEqual({
        ok: false,
        code: 'MALFORMED_APDU',
      });
      expect(open(fromHex('84240002'))).toEqual({ ok: false, code: 'MALFORMED_APDU' });
      expect(open(Buffer.alloc(0))).toEqual({ ok: false, code: 'MALFORMED_APDU' });
    });

    it('fails with BAD_PIN_BLOCK when the MAC is right but the content is not a PIN block', () => {
      // A correctly MACed command whose deciphered content is not a valid PIN block.
      const txn = { atc: CVN.atc, arqc };
      const skSmi = deriveSecureMessagingSessionKey(profile, cardKeys.mkSmi, txn);
      const skSmc = deriveSecureMessagingSessionKey(profile, cardKeys.mkSmc, txn);
      const junk = encipherCommandData(profile, skSmc, fromHex('3F1234FFFFFFFFFF'));
      const header = Buffer.from([0x84, 0x24, 0x00, 0x02, junk.length + 8]);
      const mac = retailMac(skSmi, scriptCommandMacInput(header, txn.atc, arqc, junk));
      expect(open(Buffer.concat([header, junk, mac]))).toEqual({
        ok: false,
        code: 'BAD_PIN_BLOCK',
      });
      // Right MAC key, wrong confidentiality key: padding / block checks fail.
      expect(open(build('2468'), { mkSmc: cardKeys.mkSmi })).toEqual({
        ok: false,
        code: 'BAD_PIN_BLOCK',
      });
    });
  });

  it('throws (not a card failure) for caller errors', () => {
    const apdu = buildPinChangeCommand({
      profile: EmvProfile.VISA,
      ...CVN,
      arqc,
      pin: '1234',
    }).apdu;
    const base = { profile: EmvProfile.VISA, ...cardKeys, atc: CVN.atc, arqc, apdu };
    expect(codeOf(() => verifyAndOpenPinChangeCommand({ ...base, mkAc: undefined }))).toBe(
      'INVALID_KEY',
    );
    expect(codeOf(() => verifyAndOpenPinChangeCommand({ ...base, mkSmi: Buffer.alloc(8) }))).toBe(
      'INVALID_KEY',
    );
    expect(codeOf(() => verifyAndOpenPinChangeCommand({ ...base, atc: fromHex('01') }))).toBe(
      'INVALID_INPUT',
    );
  });

  it('never puts PIN digits in failures', () => {
    const apdu = buildPinChangeCommand({
      profile: EmvProfile.EMV_CCD,
      ...CVN,
      arqc,
      pin: '73915',
    }).apdu;
    const bad = Buffer.from(apdu);
    bad[6] = (bad[6] ?? 0) ^ 0xff;
    const res = verifyAndOpenPinChangeCommand({
      profile: EmvProfile.EMV_CCD,
      ...cardKeys,
      atc: CVN.atc,
      arqc,
      apdu: bad,
    });
    expect(JSON.stringify(res)).not.toContain('73915');
  });
});

/**
 * ISO/IEC 9797-1 MAC algorithm 3 with padding method 2, from its definition on node:crypto
 * alone: single-DES CBC under K1 over every block (des-ede-cbc under K1‖K1 is single DES),
 * then DES⁻¹ under K2 and DES under K1 of the last block.
 */
function independentRetailMac(key: Buffer, data: Buffer): Buffer {
  const run = (cipher: Cipher | Decipher, input: Buffer) => {
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(input), cipher.final()]);
  };
  const k1 = Buffer.concat([key.subarray(0, 8), key.subarray(0, 8)]);
  const k2 = Buffer.concat([key.subarray(8, 16), key.subarray(8, 16)]);
  const padded = Buffer.alloc(Math.ceil((data.length + 1) / 8) * 8);
  data.copy(padded);
  padded[data.length] = 0x80;
  const chained = run(createCipheriv('des-ede-cbc', k1, Buffer.alloc(8)), padded).subarray(-8);
  const unwound = run(createDecipheriv('des-ede-ecb', k2, null), chained);
  return run(createCipheriv('des-ede-ecb', k1, null), unwound);
}

// EMV Book 3 §6.5.10: PIN CHANGE/UNBLOCK with P2 = 00, unblock only, no command data; its MAC
// as for the PIN change (EMV Book 2 §9.2).
describe('PIN UNBLOCK (84 24 00 00)', () => {
  const arqc = fromHex('29CCA15AE665FA2E');
  const cardKeys = {
    mkAc: deriveIccMasterKeyOptionA(CVN.imkAc, CVN.pan, CVN.psn),
    mkSmi: deriveIccMasterKeyOptionA(CVN.imkSmi, CVN.pan, CVN.psn),
    mkSmc: deriveIccMasterKeyOptionA(CVN.imkSmc, CVN.pan, CVN.psn),
  };
  const profiles = [EmvProfile.EMV_CCD, EmvProfile.MASTERCARD, EmvProfile.VISA] as const;
  const unblockFor = (profile: EmvProfile, over: { macIncludesTransactionData?: boolean } = {}) =>
    buildPinUnblockCommand({
      profile,
      imkSmi: CVN.imkSmi,
      pan: CVN.pan,
      atc: CVN.atc,
      arqc,
      ...over,
    });

  // pyemv tests/test_sm_hsm.py test_generate_command_mac: IMK-SMI 0123…3210, PAN
  // 1234567890123456, PSN 01, common session key with R = ABCDEF1234567890 (SK-SMI KCV F088),
  // MAC over the header 8424000008 alone -> CF323F09A0F6AB9E.
  it.each([EmvProfile.EMV_CCD, EmvProfile.MASTERCARD])(
    '%s: the header-only MAC matches the pyemv HSM-checked vector',
    (profile) => {
      const input = {
        profile,
        imkSmi: SM_HSM.imkSmi,
        pan: SM_HSM.pan,
        psn: SM_HSM.psn,
        ...SM_HSM.csk,
        macIncludesTransactionData: false,
      };
      const cmd = buildPinUnblockCommand(input);
      expect(toHex(cmd.apdu)).toBe('8424000008CF323F09A0F6AB9E');
      expect(toHex(cmd.mac)).toBe('CF323F09A0F6AB9E');
      const mkSmi = deriveIccMasterKeyOptionA(SM_HSM.imkSmi, SM_HSM.pan, SM_HSM.psn);
      expect(verifyPinUnblockCommand({ ...input, mkSmi, apdu: cmd.apdu })).toEqual({ ok: true });
      // By default the MAC covers ATC ‖ ARQC too: same header, another MAC.
      expect(
        toHex(buildPinUnblockCommand({ ...input, macIncludesTransactionData: true }).mac),
      ).not.toBe('CF323F09A0F6AB9E');
    },
  );

  describe('the MAC, recomputed with node:crypto DES alone', () => {
    // pyemv pyemv/sm.py doctest generate_command_mac: SK-SMI 0123456789ABCDEFFEDCBA9876543210,
    // 8424000008 ‖ ATC FFFF ‖ ARQC 1234567890123456 -> E07B8DF1B4184282. Anchors the
    // independent MAC on a published PIN UNBLOCK MAC.
    it('reproduces the pyemv doctest', () => {
      const mac = independentRetailMac(
        fromHex('0123456789ABCDEFFEDCBA9876543210'),
        fromHex('8424000008' + 'FFFF' + '1234567890123456'),
      );
      expect(toHex(mac)).toBe('E07B8DF1B4184282');
    });

    it('VISA: equals the MAC of buildPinUnblockCommand over 84 24 00 00 08 ‖ ATC ‖ ARQC', () => {
      // Visa SK-SMI = MK-SMI halves XOR ATC / ~ATC (keys.test.ts, pyemv test_derive_visa_sm_sk).
      const skSmi = deriveSecureMessagingSessionKey(EmvProfile.VISA, cardKeys.mkSmi, {
        atc: CVN.atc,
        arqc,
      });
      const withTxn = unblockFor(EmvProfile.VISA);
      expect(
        withTxn.mac.equals(independentRetailMac(skSmi, fromHex('8424000008001C29CCA15AE665FA2E'))),
      ).toBe(true);
      expect(toHex(withTxn.apdu)).toBe(`8424000008${toHex(withTxn.mac)}`);
      const headerOnly = unblockFor(EmvProfile.VISA, { macIncludesTransactionData: false });
      expect(headerOnly.mac.equals(independentRetailMac(skSmi, fromHex('8424000008')))).toBe(true);
    });

    it('EMV_CCD: equals the MAC under the pyemv session key (KCV F088)', () => {
      const mkSmi = deriveIccMasterKeyOptionA(SM_HSM.imkSmi, SM_HSM.pan, SM_HSM.psn);
      const skSmi = deriveSecureMessagingSessionKey(EmvProfile.EMV_CCD, mkSmi, SM_HSM.csk);
      expect(toHex(keyCheckValue(skSmi, 2))).toBe('F088');
      const cmd = buildPinUnblockCommand({
        profile: EmvProfile.EMV_CCD,
        imkSmi: SM_HSM.imkSmi,
        pan: SM_HSM.pan,
        psn: SM_HSM.psn,
        ...SM_HSM.csk,
      });
      const input = Buffer.concat([fromHex('8424000008'), SM_HSM.csk.atc, SM_HSM.csk.arqc]);
      expect(cmd.mac.equals(independentRetailMac(skSmi, input))).toBe(true);
    });
  });

  describe.each(profiles)('%s', (profile) => {
    const verify = (
      apdu: Buffer,
      over: Partial<Parameters<typeof verifyPinUnblockCommand>[0]> = {},
    ) =>
      verifyPinUnblockCommand({
        profile,
        mkSmi: cardKeys.mkSmi,
        atc: CVN.atc,
        arqc,
        apdu,
        ...over,
      });

    it('round trip: the card accepts the issuer’s command, with either MAC variant', () => {
      const { apdu, mac } = unblockFor(profile);
      expect(apdu).toHaveLength(13);
      expect(toHex(apdu.subarray(0, 5))).toBe('8424000008');
      expect(apdu.subarray(5).equals(mac)).toBe(true);
      expect(verify(apdu)).toEqual({ ok: true });
      const headerOnly = unblockFor(profile, { macIncludesTransactionData: false }).apdu;
      expect(verify(headerOnly, { macIncludesTransactionData: false })).toEqual({ ok: true });
      expect(verify(headerOnly)).toEqual({ ok: false, code: 'BAD_MAC' });
    });

    it('the PSN defaults to 00 and enters the key', () => {
      const base = { profile, imkSmi: CVN.imkSmi, pan: CVN.pan, atc: CVN.atc, arqc };
      expect(buildPinUnblockCommand({ ...base, psn: '00' }).apdu).toEqual(
        buildPinUnblockCommand(base).apdu,
      );
      expect(buildPinUnblockCommand({ ...base, psn: '01' }).mac).not.toEqual(
        buildPinUnblockCommand(base).mac,
      );
    });

    it('fails with BAD_MAC when any MAC byte is flipped', () => {
      const { apdu } = unblockFor(profile);
      for (let i = 5; i < apdu.length; i += 1) {
        for (const bit of [0x01, 0x80]) {
          const bad = Buffer.from(apdu);
          bad[i] = (bad[i] ?? 0) ^ bit;
          expect(verify(bad)).toEqual({ ok: false, code: 'BAD_MAC' });
        }
      }
    });

    it('fails with BAD_MAC for another ATC, ARQC or key', () => {
      const { apdu } = unblockFor(profile);
      expect(verify(apdu, { atc: fromHex('001D') })).toEqual({ ok: false, code: 'BAD_MAC' });
      expect(verify(apdu, { arqc: fromHex('29CCA15AE665FA2F') })).toEqual({
        ok: false,
        code: 'BAD_MAC',
      });
      expect(verify(apdu, { mkSmi: cardKeys.mkSmc })).toEqual({ ok: false, code: 'BAD_MAC' });
    });

    it('fails with MALFORMED_APDU for a wrong header, Lc or length', () => {
      const { apdu } = unblockFor(profile);
      const withByte = (index: number, value: number) => {
        const changed = Buffer.from(apdu);
        changed[index] = value;
        return changed;
      };
      for (const bad of [
        withByte(0, 0x80), // CLA without secure messaging
        withByte(1, 0x18), // APPLICATION UNBLOCK
        withByte(2, 0x01),
        withByte(3, 0x02), // P2 = 02 is the PIN change
        withByte(3, 0x01), // P2 = 01: change with the current PIN
        withByte(4, 0x09),
        withByte(4, 0x10),
        withByte(4, 0x00),
        apdu.subarray(0, 12),
        Buffer.concat([apdu, fromHex('00')]),
        Buffer.concat([apdu.subarray(0, 4), fromHex('10'), Buffer.alloc(8), apdu.subarray(5)]),
        fromHex('8424000008'),
        Buffer.alloc(0),
      ]) {
        expect(verify(bad)).toEqual({ ok: false, code: 'MALFORMED_APDU' });
      }
    });

    it('is not a PIN change, and a PIN change is not an unblock', () => {
      const unblock = unblockFor(profile).apdu;
      const change = buildPinChangeCommand({ profile, ...CVN, arqc, pin: '2468' }).apdu;
      expect(
        verifyAndOpenPinChangeCommand({ profile, ...cardKeys, atc: CVN.atc, arqc, apdu: unblock }),
      ).toEqual({ ok: false, code: 'MALFORMED_APDU' });
      expect(verify(change)).toEqual({ ok: false, code: 'MALFORMED_APDU' });
    });
  });

  it('throws (not a card failure) for caller errors', () => {
    const { apdu } = unblockFor(EmvProfile.VISA);
    const base = { profile: EmvProfile.VISA, mkSmi: cardKeys.mkSmi, atc: CVN.atc, arqc, apdu };
    // Only MK-SMI is needed: no MK-AC, even for Visa.
    expect(verifyPinUnblockCommand(base)).toEqual({ ok: true });
    expect(codeOf(() => verifyPinUnblockCommand({ ...base, mkSmi: Buffer.alloc(8) }))).toBe(
      'INVALID_KEY',
    );
    expect(codeOf(() => verifyPinUnblockCommand({ ...base, atc: fromHex('01') }))).toBe(
      'INVALID_INPUT',
    );
    expect(codeOf(() => verifyPinUnblockCommand({ ...base, arqc: fromHex('29CC') }))).toBe(
      'INVALID_INPUT',
    );
    // Caller errors throw even when the APDU is malformed too.
    expect(
      codeOf(() =>
        verifyPinUnblockCommand({ ...base, apdu: Buffer.alloc(0), atc: Buffer.alloc(0) }),
      ),
    ).toBe('INVALID_INPUT');

    const build = {
      profile: EmvProfile.MASTERCARD,
      imkSmi: CVN.imkSmi,
      pan: CVN.pan,
      atc: CVN.atc,
      arqc,
    };
    expect(codeOf(() => buildPinUnblockCommand({ ...build, imkSmi: Buffer.alloc(8) }))).toBe(
      'INVALID_KEY',
    );
    expect(codeOf(() => buildPinUnblockCommand({ ...build, atc: fromHex('1C') }))).toBe(
      'INVALID_INPUT',
    );
    expect(codeOf(() => buildPinUnblockCommand({ ...build, arqc: fromHex('29CC') }))).toBe(
      'INVALID_INPUT',
    );
    expect(codeOf(() => buildPinUnblockCommand({ ...build, pan: '1234' }))).toBe('INVALID_INPUT');
    expect(codeOf(() => buildPinUnblockCommand({ ...build, psn: '1' }))).toBe('INVALID_INPUT');
    expect(codeOf(() => buildPinUnblockCommand({ ...build, profile: 'AMEX' as EmvProfile }))).toBe(
      'INVALID_INPUT',
    );
  });
});

describe('card side: openIssuerScriptCommand', () => {
  const arqc = fromHex('29CCA15AE665FA2E');
  const cardKeys = {
    mkAc: deriveIccMasterKeyOptionA(CVN.imkAc, CVN.pan, CVN.psn),
    mkSmi: deriveIccMasterKeyOptionA(CVN.imkSmi, CVN.pan, CVN.psn),
    mkSmc: deriveIccMasterKeyOptionA(CVN.imkSmc, CVN.pan, CVN.psn),
  };
  const profiles = [EmvProfile.EMV_CCD, EmvProfile.MASTERCARD, EmvProfile.VISA] as const;

  it('opens the published Visa CVN 10 PIN change', () => {
    const apdu = fromHex('8424000218BB221AF527377A2811D2B6EBC396A9391A965A5CB2CE62DA');
    expect(
      openIssuerScriptCommand({ profile: EmvProfile.VISA, ...cardKeys, atc: CVN.atc, arqc, apdu }),
    ).toEqual({ ok: true, kind: 'PIN_CHANGE', pin: '9999' });
  });

  describe.each(profiles)('%s', (profile) => {
    const open = (
      apdu: Buffer,
      over: Partial<Parameters<typeof openIssuerScriptCommand>[0]> = {},
    ) => openIssuerScriptCommand({ profile, ...cardKeys, atc: CVN.atc, arqc, apdu, ...over });
    const change = (pin: string) => buildPinChangeCommand({ profile, ...CVN, arqc, pin }).apdu;
    const unblock = () =>
      buildPinUnblockCommand({ profile, imkSmi: CVN.imkSmi, pan: CVN.pan, atc: CVN.atc, arqc })
        .apdu;
    const flipLast = (apdu: Buffer) => {
      const bad = Buffer.from(apdu);
      bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0x01;
      return bad;
    };

    it('tells a PIN change from a PIN unblock', () => {
      expect(open(change('97531'))).toEqual({ ok: true, kind: 'PIN_CHANGE', pin: '97531' });
      expect(open(unblock())).toEqual({ ok: true, kind: 'PIN_UNBLOCK' });
    });

    it('passes each command’s failures through', () => {
      expect(open(flipLast(change('97531')))).toEqual({ ok: false, code: 'BAD_MAC' });
      expect(open(flipLast(unblock()))).toEqual({ ok: false, code: 'BAD_MAC' });
      expect(open(unblock(), { atc: fromHex('001D') })).toEqual({ ok: false, code: 'BAD_MAC' });
      expect(open(change('97531'), { mkSmc: cardKeys.mkSmi })).toEqual({
        ok: false,
        code: 'BAD_PIN_BLOCK',
      });
      // P2 = 00 carries no data; P2 = 02 needs some.
      const unblockWithData = Buffer.concat([fromHex('8424000010'), change('97531').subarray(5)]);
      expect(open(unblockWithData)).toEqual({ ok: false, code: 'MALFORMED_APDU' });
      expect(open(Buffer.concat([fromHex('8424000208'), unblock().subarray(5)]))).toEqual({
        ok: false,
        code: 'MALFORMED_APDU',
      });
    });

    it.each([
      ['PIN CHANGE with the current PIN', '84240001'],
      ['APPLICATION UNBLOCK', '84180000'],
      ['APPLICATION BLOCK', '841E0000'],
      ['VERIFY', '00200080'],
      ['PIN CHANGE without secure messaging', '80240000'],
    ])('refuses %s (%s) as MALFORMED_APDU', (_, header) => {
      const apdu = Buffer.concat([fromHex(header), unblock().subarray(4)]);
      expect(open(apdu)).toEqual({ ok: false, code: 'MALFORMED_APDU' });
    });

    it('refuses an APDU too short for a header', () => {
      for (const apdu of [Buffer.alloc(0), fromHex('84'), fromHex('842400')]) {
        expect(open(apdu)).toEqual({ ok: false, code: 'MALFORMED_APDU' });
      }
    });
  });

  it('throws for caller errors whatever the command', () => {
    const unblock = buildPinUnblockCommand({
      profile: EmvProfile.VISA,
      imkSmi: CVN.imkSmi,
      pan: CVN.pan,
      atc: CVN.atc,
      arqc,
    }).apdu;
    const base = { profile: EmvProfile.VISA, ...cardKeys, atc: CVN.atc, arqc };
    for (const apdu of [unblock, fromHex('00200080'), Buffer.alloc(0)]) {
      expect(codeOf(() => openIssuerScriptCommand({ ...base, apdu, mkAc: undefined }))).toBe(
        'INVALID_KEY',
      );
      expect(codeOf(() => openIssuerScriptCommand({ ...base, apdu, mkSmc: Buffer.alloc(8) }))).toBe(
        'INVALID_KEY',
      );
      expect(codeOf(() => openIssuerScriptCommand({ ...base, apdu, arqc: fromHex('01') }))).toBe(
        'INVALID_INPUT',
      );
    }
  });
});
