/**
 * Payment cryptography: ISO 9564 PIN blocks and PIN verification by block comparison, DES /
 * triple DES, key check values, the ISO/IEC 9797-1 retail MAC, EMV key derivation, EMV secure
 * messaging for the offline PIN change and unblock scripts, and BER-TLV. Pure functions: bytes in, bytes out. README.md lists each module with
 * the standard it implements and where its test vectors come from.
 */
export { PaymentCryptoError, PaymentCryptoErrorCode } from './errors.js';

export { fromHex, toHex, xor } from './bytes.js';

export {
  DES_BLOCK_SIZE,
  adjustOddParity,
  assertTdesKey,
  desEcbDecrypt,
  desEcbEncrypt,
  hasOddParity,
  tdesCbcDecrypt,
  tdesCbcEncrypt,
  tdesEcbDecrypt,
  tdesEcbEncrypt,
} from './des.js';

export { pad80, unpad80 } from './padding.js';

export { keyCheckValue } from './kcv.js';
export type { KeyCheckCipher } from './kcv.js';

export { MAC_LENGTH, retailMac, verifyRetailMac } from './mac.js';

export { PIN_BLOCK_LENGTH } from './iso9564/pin-field.js';
export { decodeFormat0, encodeFormat0 } from './iso9564/format0.js';
export { decodeFormat2, encodeFormat2 } from './iso9564/format2.js';
export { decodeFormat3, encodeFormat3 } from './iso9564/format3.js';
export { decipherFormat4, encipherFormat4, panField4, pinField4 } from './iso9564/format4.js';
export { pinMatchesBlock, verifyPinBlock } from './iso9564/verify.js';
export type {
  PinBlockVerification,
  ReferencePinBlock,
  VerifyPinBlockInput,
  ZonePinBlockFormat,
} from './iso9564/verify.js';

export {
  EmvProfile,
  deriveCommonSessionKey,
  deriveIccMasterKeyOptionA,
  deriveSecureMessagingSessionKey,
  deriveVisaSecureMessagingSessionKey,
} from './emv/keys.js';

export { formatVisPinBlock, parseVisPinBlock } from './emv/vis-pin-block.js';

export {
  PIN_CHANGE_NO_CURRENT_PIN_HEADER_HEX,
  PIN_UNBLOCK_HEADER_HEX,
  buildPinChangeCommand,
  buildPinUnblockCommand,
  decipherCommandData,
  encipherCommandData,
  openIssuerScriptCommand,
  scriptCommandMacInput,
  verifyAndOpenPinChangeCommand,
  verifyPinUnblockCommand,
} from './emv/pin-change.js';
export type {
  BuildPinChangeCommandInput,
  BuildPinUnblockCommandInput,
  IssuerScriptCommandOpenResult,
  OpenIssuerScriptCommandInput,
  PinChangeCommand,
  PinChangeOpenFailureCode,
  PinChangeOpenResult,
  PinUnblockCommand,
  PinUnblockVerifyFailureCode,
  PinUnblockVerifyResult,
  VerifyAndOpenPinChangeCommandInput,
  VerifyPinUnblockCommandInput,
} from './emv/pin-change.js';

export {
  ISSUER_SCRIPT_TEMPLATE_1,
  ISSUER_SCRIPT_TEMPLATE_2,
  buildIssuerScriptTemplate,
  buildIssuerScriptTemplate2,
  decodeTlv,
  encodeLength,
  encodeTlv,
  findTlv,
  parseIssuerScriptResults,
} from './emv/tlv.js';
export type { IssuerScriptResult, IssuerScriptResultStatus, TlvNode } from './emv/tlv.js';
