/**
 * The parts of jose the widgets use, one chunk that crypto.ts loads on demand: no widget needs a
 * JOSE format before it is usable, so jose stays off the path to `load` and out of the
 * documents' size budget.
 */
export { CompactEncrypt, SignJWT, compactDecrypt, importJWK } from 'jose';
