import { describe, expect, it } from 'vitest';

import * as paymentCrypto from './index.js';
import { PaymentCryptoError, PaymentCryptoErrorCode } from './index.js';
import { expectRefusal } from './test-helpers.js';

describe('payment-crypto public surface', () => {
  it('exports exactly the documented names', () => {
    expect(Object.keys(paymentCrypto).sort()).toEqual(
      [
        'DES_BLOCK_SIZE',
        'EmvProfile',
        'ISSUER_SCRIPT_TEMPLATE_1',
        'ISSUER_SCRIPT_TEMPLATE_2',
        'MAC_LENGTH',
        'PIN_BLOCK_LENGTH',
        'PIN_CHANGE_NO_CURRENT_PIN_HEADER_HEX',
        'PIN_UNBLOCK_HEADER_HEX',
        'PaymentCryptoError',
        'PaymentCryptoErrorCode',
        'adjustOddParity',
        'assertTdesKey',
        'buildIssuerScriptTemplate',
        'buildIssuerScriptTemplate2',
        'buildPinChangeCommand',
        'buildPinUnblockCommand',
        'decipherCommandData',
        'decipherFormat4',
        'decodeFormat0',
        'decodeFormat2',
        'decodeFormat3',
        'decodeTlv',
        'deriveCommonSessionKey',
        'deriveIccMasterKeyOptionA',
        'deriveSecureMessagingSessionKey',
        'deriveVisaSecureMessagingSessionKey',
        'desEcbDecrypt',
        'desEcbEncrypt',
        'encipherCommandData',
        'encipherFormat4',
        'encodeFormat0',
        'encodeFormat2',
        'encodeFormat3',
        'encodeLength',
        'encodeTlv',
        'findTlv',
        'formatVisPinBlock',
        'fromHex',
        'hasOddParity',
        'keyCheckValue',
        'openIssuerScriptCommand',
        'pad80',
        'panField4',
        'parseIssuerScriptResults',
        'parseVisPinBlock',
        'pinMatchesBlock',
        'pinField4',
        'retailMac',
        'scriptCommandMacInput',
        'tdesCbcDecrypt',
        'tdesCbcEncrypt',
        'tdesEcbDecrypt',
        'tdesEcbEncrypt',
        'toHex',
        'unpad80',
        'verifyAndOpenPinChangeCommand',
        'verifyPinBlock',
        'verifyPinUnblockCommand',
        'verifyRetailMac',
        'xor',
      ].sort(),
    );
  });

  it('has stable error codes, each equal to its key', () => {
    expect(Object.values(PaymentCryptoErrorCode).sort()).toEqual([
      'BAD_MAC',
      'BAD_PADDING',
      'BAD_PIN_BLOCK',
      'INVALID_BLOCK',
      'INVALID_INPUT',
      'INVALID_KEY',
      'INVALID_PAN',
      'INVALID_PIN',
      'INVALID_RANDOM',
      'MALFORMED_APDU',
      'MALFORMED_TLV',
    ]);
    for (const [key, value] of Object.entries(PaymentCryptoErrorCode)) expect(value).toBe(key);
    const error = new PaymentCryptoError(PaymentCryptoErrorCode.BAD_MAC, 'x');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('PaymentCryptoError');
    expect(error.code).toBe('BAD_MAC');
    expect(error.toJSON()).toEqual({ name: 'PaymentCryptoError', code: 'BAD_MAC', message: 'x' });
  });

  it('never puts a PIN, PAN or key into an error, whatever is malformed', () => {
    const pin = '86420';
    const pan = '5413339000001513';
    const longPan = `${pan}0000`;
    const key = Buffer.alloc(16, 0x11);
    const tdesKeyHex = '0123456789ABCDEFFEDCBA9876543210';
    const tdesKey = Buffer.from(tdesKeyHex, 'hex');
    const secrets = [pin, pan, longPan, pan.slice(-13, -1), pan.slice(0, 6), tdesKeyHex];
    const block8 = paymentCrypto.encodeFormat0(pin, pan);
    const block16 = paymentCrypto.encipherFormat4(pin, pan, key);
    const otherPan = '5413339000001521';
    const cases: [() => unknown, PaymentCryptoErrorCode][] = [
      [() => paymentCrypto.encodeFormat0(`${pin}x`, pan), 'INVALID_PIN'],
      [() => paymentCrypto.encodeFormat0(pin, longPan), 'INVALID_PAN'],
      [() => paymentCrypto.decodeFormat0(block8, otherPan), 'INVALID_BLOCK'],
      [() => paymentCrypto.encodeFormat2(`${pin}${pin}${pin}`), 'INVALID_PIN'],
      [() => paymentCrypto.decodeFormat2(block8), 'INVALID_BLOCK'],
      [() => paymentCrypto.encodeFormat3(pin, `${pan}x`), 'INVALID_PAN'],
      [() => paymentCrypto.decodeFormat3(block8, pan), 'INVALID_BLOCK'],
      [() => paymentCrypto.encipherFormat4(pin, longPan, key), 'INVALID_PAN'],
      [() => paymentCrypto.encipherFormat4(pin, pan, Buffer.from(`${pan}0`)), 'INVALID_KEY'],
      [() => paymentCrypto.decipherFormat4(block16, otherPan, key), 'INVALID_BLOCK'],
      [() => paymentCrypto.decipherFormat4(block8, pan, key), 'INVALID_BLOCK'],
      [() => paymentCrypto.tdesEcbEncrypt(tdesKey, Buffer.from(`${pan}0`)), 'INVALID_INPUT'],
      [() => paymentCrypto.parseVisPinBlock(tdesKey, block8), 'INVALID_BLOCK'],
      [() => paymentCrypto.formatVisPinBlock(tdesKey, `${pin}x`), 'INVALID_PIN'],
      [() => paymentCrypto.deriveIccMasterKeyOptionA(tdesKey, `${pan}x`), 'INVALID_INPUT'],
      [() => paymentCrypto.keyCheckValue(tdesKey.subarray(0, 8)), 'INVALID_KEY'],
      [() => paymentCrypto.pinMatchesBlock(`${pin}x`, { block: block16, key }, pan), 'INVALID_PIN'],
      [
        () => paymentCrypto.pinMatchesBlock(pin, { block: block16, key }, otherPan),
        'INVALID_BLOCK',
      ],
      [
        () =>
          paymentCrypto.verifyPinBlock({
            format: 'ISO_9564_0',
            block: block8,
            pan,
            key: tdesKey.subarray(0, 8),
            reference: { block: block16, key },
          }),
        'INVALID_KEY',
      ],
    ];
    for (const [fn, code] of cases) expectRefusal(fn, code, secrets);
  });
});
