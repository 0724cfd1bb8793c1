export { PinBlockError, PinBlockErrorCode } from './errors.js';
export { decodeFormat0, encodeFormat0 } from './format0.js';
export { decodeFormat2, encodeFormat2 } from './format2.js';
export { decodeFormat3, encodeFormat3 } from './format3.js';
export { decipherFormat4, encipherFormat4, panField4, pinField4 } from './format4.js';
export { tdesEcbDecrypt, tdesEcbEncrypt } from './tdes.js';
