import { describe, expect, it } from 'vitest';
import * as emv from './index.js';

describe('index', () => {
  it('names every public runtime export', () => {
    expect(Object.keys(emv).sort()).toEqual(
      [
        'DES_BLOCK_SIZE',
        'EmvCryptoError',
        'EmvErrorCode',
        'EmvProfile',
        'ISSUER_SCRIPT_TEMPLATE_1',
        'ISSUER_SCRIPT_TEMPLATE_2',
        'MAC_LENGTH',
        'PIN_BLOCK_LENGTH',
        'PIN_CHANGE_NO_CURRENT_PIN_HEADER_HEX',
        'adjustOddParity',
        'buildIssuerScriptTemplate',
        'buildIssuerScriptTemplate2',
        'buildPinChangeCommand',
        'decipherCommandData',
        'decodeTlv',
        'deriveCommonSessionKey',
        'deriveIccMasterKeyOptionA',
        'deriveSecureMessagingSessionKey',
        'deriveVisaSecureMessagingSessionKey',
        'desEcbDecrypt',
        'desEcbEncrypt',
        'encipherCommandData',
        'encodeLength',
        'encodeTlv',
        'findTlv',
        'formatIso9564Format2PinBlock',
        'formatVisPinBlock',
        'hasOddParity',
        'keyCheckValue',
        'pad80',
        'parseIso9564Format2PinBlock',
        'parseIssuerScriptResults',
        'parseVisPinBlock',
        'retailMac',
        'scriptCommandMacInput',
        'tdesCbcDecrypt',
        'tdesCbcEncrypt',
        'tdesEcbDecrypt',
        'tdesEcbEncrypt',
        'unpad80',
        'verifyAndOpenPinChangeCommand',
        'verifyRetailMac',
        'xor',
      ].sort(),
    );
  });

  it('error codes are stable strings equal to their keys', () => {
    for (const [k, v] of Object.entries(emv.EmvErrorCode)) expect(v).toBe(k);
    const err = new emv.EmvCryptoError(emv.EmvErrorCode.BAD_MAC, 'x');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('EmvCryptoError');
    expect(err.toJSON()).toEqual({ name: 'EmvCryptoError', code: 'BAD_MAC', message: 'x' });
  });
});
