/**
 * EMV cryptography for keeping a chip card's offline PIN in sync through an issuer script
 * (PIN CHANGE/UNBLOCK without the current PIN). Pure functions: Buffer in, Buffer out.
 */
export { EmvCryptoError, EmvErrorCode } from './errors.js';

export {
  DES_BLOCK_SIZE,
  adjustOddParity,
  desEcbDecrypt,
  desEcbEncrypt,
  hasOddParity,
  keyCheckValue,
  pad80,
  tdesCbcDecrypt,
  tdesCbcEncrypt,
  tdesEcbDecrypt,
  tdesEcbEncrypt,
  unpad80,
  xor,
} from './des.js';

export { MAC_LENGTH, retailMac, verifyRetailMac } from './mac.js';

export {
  EmvProfile,
  deriveCommonSessionKey,
  deriveIccMasterKeyOptionA,
  deriveSecureMessagingSessionKey,
  deriveVisaSecureMessagingSessionKey,
} from './keys.js';

export {
  PIN_BLOCK_LENGTH,
  formatIso9564Format2PinBlock,
  formatVisPinBlock,
  parseIso9564Format2PinBlock,
  parseVisPinBlock,
} from './pin-block.js';

export {
  PIN_CHANGE_NO_CURRENT_PIN_HEADER_HEX,
  buildPinChangeCommand,
  decipherCommandData,
  encipherCommandData,
  scriptCommandMacInput,
  verifyAndOpenPinChangeCommand,
} from './pin-change.js';
export type {
  BuildPinChangeCommandInput,
  PinChangeCommand,
  PinChangeOpenFailureCode,
  PinChangeOpenResult,
  VerifyAndOpenPinChangeCommandInput,
} from './pin-change.js';

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
} from './tlv.js';
export type { IssuerScriptResult, IssuerScriptResultStatus, TlvNode } from './tlv.js';
