import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { hasOddParity } from '../des.js';
import { keyCheckValue } from '../kcv.js';
import { codeOf } from '../test-helpers.js';
import {
  EmvProfile,
  deriveCommonSessionKey,
  deriveIccMasterKeyOptionA,
  deriveSecureMessagingSessionKey,
  deriveVisaSecureMessagingSessionKey,
} from './keys.js';

const kcv = (k: Buffer, n = 3): string => toHex(keyCheckValue(k, n));

// EMV 4.x Book 2 Annex A1.4.1 (ICC master key derivation, Option A).
describe('ICC master key derivation, Option A', () => {
  // pyemv pyemv/kd.py doctest derive_icc_mk_a:
  // IMK 0123456789ABCDEFFEDCBA9876543210, PAN 12345678901234567, PSN 01
  // -> 73AD54688CEF2934B0979857E3C719F1
  it('matches the pyemv doctest (17-digit PAN: rightmost 16 digits of PAN||PSN)', () => {
    const mk = deriveIccMasterKeyOptionA(
      fromHex('0123456789ABCDEFFEDCBA9876543210'),
      '12345678901234567',
      '01',
    );
    expect(toHex(mk)).toBe('73AD54688CEF2934B0979857E3C719F1');
    expect(hasOddParity(mk)).toBe(true);
  });

  // pyemv tests/test_kd_hsm.py test_derive_icc_mk_a_psn: same IMK, PAN 12345678901234567,
  // PSN 45 -> ICC MK KCV FF08; common SK with R 1234567890123456 -> KCV DF82
  it('matches the pyemv HSM-checked KCVs', () => {
    const mk = deriveIccMasterKeyOptionA(
      fromHex('0123456789ABCDEFFEDCBA9876543210'),
      '12345678901234567',
      '45',
    );
    expect(kcv(mk, 2)).toBe('FF08');
    expect(kcv(deriveCommonSessionKey(mk, fromHex('1234567890123456')), 2)).toBe('DF82');
  });

  // pyemv tests/test_sm_hsm.py: PAN 1234567890123456, PSN 01
  //   IMK-SMC 1111111111111111 2222222222222222 -> MK-SMC KCV 6B0F76
  //   IMK-SMI 0123456789ABCDEF FEDCBA9876543210 -> MK-SMI KCV 02396B
  //   IMK-AC  FEDCBA9876543210 0123456789ABCDEF -> MK-AC  KCV C5CACD
  // pyemv tests/test_cvn_hsm.py: PAN 1234567890123456, PSN 00, IMK-AC 0123…3210 -> BAB0,
  //   IMK-SMI FEDC…CDEF -> F010, IMK-SMC 89ABCDEF0123456776543210FEDCBA98 -> B154
  it('matches the pyemv HSM-checked ICC MK KCVs for 16-digit PANs', () => {
    const pan = '1234567890123456';
    expect(
      kcv(deriveIccMasterKeyOptionA(fromHex('11111111111111112222222222222222'), pan, '01')),
    ).toBe('6B0F76');
    expect(
      kcv(deriveIccMasterKeyOptionA(fromHex('0123456789ABCDEFFEDCBA9876543210'), pan, '01')),
    ).toBe('02396B');
    expect(
      kcv(deriveIccMasterKeyOptionA(fromHex('FEDCBA98765432100123456789ABCDEF'), pan, '01')),
    ).toBe('C5CACD');
    expect(
      kcv(deriveIccMasterKeyOptionA(fromHex('0123456789ABCDEFFEDCBA9876543210'), pan), 2),
    ).toBe('BAB0');
    expect(
      kcv(deriveIccMasterKeyOptionA(fromHex('FEDCBA98765432100123456789ABCDEF'), pan, '00'), 2),
    ).toBe('F010');
    expect(
      kcv(deriveIccMasterKeyOptionA(fromHex('89ABCDEF0123456776543210FEDCBA98'), pan, '00'), 2),
    ).toBe('B154');
  });

  it('validates its inputs without echoing them', () => {
    const imk = fromHex('0123456789ABCDEFFEDCBA9876543210');
    expect(codeOf(() => deriveIccMasterKeyOptionA(imk.subarray(0, 8), '1234567890123456'))).toBe(
      'INVALID_KEY',
    );
    expect(codeOf(() => deriveIccMasterKeyOptionA(imk, '1234'))).toBe('INVALID_INPUT');
    expect(codeOf(() => deriveIccMasterKeyOptionA(imk, '12345678901234567890'))).toBe(
      'INVALID_INPUT',
    );
    expect(codeOf(() => deriveIccMasterKeyOptionA(imk, '123456789012345X'))).toBe('INVALID_INPUT');
    expect(codeOf(() => deriveIccMasterKeyOptionA(imk, '1234567890123456', '1'))).toBe(
      'INVALID_INPUT',
    );
    try {
      deriveIccMasterKeyOptionA(imk, '9876543210987654', 'x');
    } catch (err) {
      expect(String(err)).not.toContain('9876543210987654');
    }
  });
});

// EMV 4.x Book 2 Annex A1.3.1 (common session key derivation).
describe('EMV common session key derivation (R = ARQC for EMV_CCD / MASTERCARD SM keys)', () => {
  // pyemv pyemv/kd.py doctest derive_common_sk: MK 0123456789ABCDEFFEDCBA9876543210,
  // R 001C000000000000 -> E9FB384AF807B940FEDCEA613461B0C4
  it('matches the pyemv doctest', () => {
    const sk = deriveCommonSessionKey(
      fromHex('0123456789ABCDEFFEDCBA9876543210'),
      fromHex('001C000000000000'),
    );
    expect(toHex(sk)).toBe('E9FB384AF807B940FEDCEA613461B0C4');
  });

  // pyemv tests/test_sm_hsm.py (Mastercard / CCD PIN change): R ABCDEF1234567890,
  //   SK-SMC from MK-SMC (IMK 1111…2222, PAN 1234567890123456, PSN 01) -> KCV D694B8
  //   SK-SMI from MK-SMI (IMK 0123…3210)                                -> KCV F088F8
  it('matches the pyemv HSM-checked SM session-key KCVs', () => {
    const pan = '1234567890123456';
    const r = fromHex('ABCDEF1234567890');
    const mkSmc = deriveIccMasterKeyOptionA(fromHex('11111111111111112222222222222222'), pan, '01');
    const mkSmi = deriveIccMasterKeyOptionA(fromHex('0123456789ABCDEFFEDCBA9876543210'), pan, '01');
    for (const profile of [EmvProfile.EMV_CCD, EmvProfile.MASTERCARD]) {
      const txn = { atc: fromHex('0001'), arqc: r };
      expect(kcv(deriveSecureMessagingSessionKey(profile, mkSmc, txn))).toBe('D694B8');
      expect(kcv(deriveSecureMessagingSessionKey(profile, mkSmi, txn))).toBe('F088F8');
    }
  });

  // pyemv tests/test_cvn_hsm.py test_interac_cvn133 (Mastercard SKD for SM, R = ARQC):
  // IMK-SMI FEDC…CDEF / IMK-SMC 89AB…BA98, PAN 1234567890123456, PSN 00, ARQC 18932FECA2D84326
  //   -> SK-SMI KCV 08DF, SK-SMC KCV 748D
  it('matches the pyemv HSM-checked Mastercard-style KCVs with R = ARQC', () => {
    const pan = '1234567890123456';
    const txn = { atc: fromHex('001C'), arqc: fromHex('18932FECA2D84326') };
    const mkSmi = deriveIccMasterKeyOptionA(fromHex('FEDCBA98765432100123456789ABCDEF'), pan);
    const mkSmc = deriveIccMasterKeyOptionA(fromHex('89ABCDEF0123456776543210FEDCBA98'), pan);
    expect(kcv(deriveSecureMessagingSessionKey(EmvProfile.MASTERCARD, mkSmi, txn), 2)).toBe('08DF');
    expect(kcv(deriveSecureMessagingSessionKey(EmvProfile.MASTERCARD, mkSmc, txn), 2)).toBe('748D');
  });

  it('replaces the third byte of R (R2), not R6', () => {
    const mk = fromHex('0123456789ABCDEFFEDCBA9876543210');
    // Changing R2 must not matter (it is overwritten); changing R6 must.
    const a = deriveCommonSessionKey(mk, fromHex('001C000000000000'));
    expect(deriveCommonSessionKey(mk, fromHex('001CAA0000000000')).equals(a)).toBe(true);
    expect(deriveCommonSessionKey(mk, fromHex('001C00000000AA00')).equals(a)).toBe(false);
  });

  it('validates lengths', () => {
    const mk = fromHex('0123456789ABCDEFFEDCBA9876543210');
    expect(codeOf(() => deriveCommonSessionKey(mk.subarray(0, 8), Buffer.alloc(8)))).toBe(
      'INVALID_KEY',
    );
    expect(codeOf(() => deriveCommonSessionKey(mk, Buffer.alloc(7)))).toBe('INVALID_INPUT');
  });
});

// Visa VIS secure-messaging session keys: MK halves XOR the ATC (no encipherment).
describe('Visa secure-messaging session key (ATC XOR)', () => {
  // pyemv pyemv/kd.py doctest derive_visa_sm_sk: MK 0123456789ABCDEFFEDCBA9876543210, ATC 001C
  // -> 0123456789ABCDF2FEDCBA987654CDF2
  it('matches the pyemv doctest', () => {
    const sk = deriveVisaSecureMessagingSessionKey(
      fromHex('0123456789ABCDEFFEDCBA9876543210'),
      fromHex('001C'),
    );
    expect(toHex(sk)).toBe('0123456789ABCDF2FEDCBA987654CDF2');
  });

  // pyemv tests/test_sm_hsm.py test_vis_pin_change: ATC FFFF, PSN 01
  //   SK-SMC from MK-SMC (IMK 1111…2222) -> BD7C46; SK-SMI from MK-SMI (IMK 0123…3210) -> A41D47
  // pyemv tests/test_cvn_hsm.py test_visa_cvn10: ATC 001C, PSN 00
  //   SK-SMC from IMK 89AB…BA98 -> 6D04; SK-SMI from IMK FEDC…CDEF -> DB10
  it('matches the pyemv HSM-checked KCVs through the VISA profile dispatcher', () => {
    const pan = '1234567890123456';
    const ffff = { atc: fromHex('FFFF'), arqc: fromHex('0000000000000000') };
    const mkSmc01 = deriveIccMasterKeyOptionA(
      fromHex('11111111111111112222222222222222'),
      pan,
      '01',
    );
    const mkSmi01 = deriveIccMasterKeyOptionA(
      fromHex('0123456789ABCDEFFEDCBA9876543210'),
      pan,
      '01',
    );
    expect(kcv(deriveSecureMessagingSessionKey(EmvProfile.VISA, mkSmc01, ffff))).toBe('BD7C46');
    expect(kcv(deriveSecureMessagingSessionKey(EmvProfile.VISA, mkSmi01, ffff))).toBe('A41D47');

    const t1c = { atc: fromHex('001C'), arqc: fromHex('29CCA15AE665FA2E') };
    const mkSmc00 = deriveIccMasterKeyOptionA(
      fromHex('89ABCDEF0123456776543210FEDCBA98'),
      pan,
      '00',
    );
    const mkSmi00 = deriveIccMasterKeyOptionA(
      fromHex('FEDCBA98765432100123456789ABCDEF'),
      pan,
      '00',
    );
    expect(kcv(deriveSecureMessagingSessionKey(EmvProfile.VISA, mkSmc00, t1c), 2)).toBe('6D04');
    expect(kcv(deriveSecureMessagingSessionKey(EmvProfile.VISA, mkSmi00, t1c), 2)).toBe('DB10');
  });

  it('does not depend on the ARQC, and validates the ATC length', () => {
    const mk = fromHex('0123456789ABCDEFFEDCBA9876543210');
    const a = deriveSecureMessagingSessionKey(EmvProfile.VISA, mk, {
      atc: fromHex('0001'),
      arqc: Buffer.alloc(8),
    });
    const b = deriveSecureMessagingSessionKey(EmvProfile.VISA, mk, {
      atc: fromHex('0001'),
      arqc: Buffer.alloc(8, 1),
    });
    expect(a.equals(b)).toBe(true);
    expect(codeOf(() => deriveVisaSecureMessagingSessionKey(mk, fromHex('01')))).toBe(
      'INVALID_INPUT',
    );
    expect(
      codeOf(() =>
        deriveSecureMessagingSessionKey('AMEX' as EmvProfile, mk, {
          atc: fromHex('0001'),
          arqc: Buffer.alloc(8),
        }),
      ),
    ).toBe('INVALID_INPUT');
  });
});
