/**
 * Minimal BER-TLV (ISO/IEC 8825-1 as profiled by EMV Book 3 Annex B) plus the two issuer-script
 * structures the backend needs:
 *
 * - Issuer Script Template 2 (tag 72) = 9F18 04 <Script Identifier> ‖ 86 L <command> ‖ …
 * - Issuer Script Results (tag 9F5B, EMV Book 4 Annex A5), 5 bytes per script:
 *     byte 1, high nibble: 0 = script not performed, 1 = script processing failed,
 *                          2 = script processing successful
 *     byte 1, low nibble:  sequence number of the command that failed (0 = not specified,
 *                          1…E = sequence number, F = 15 or above)
 *     bytes 2-5:           Script Identifier (tag 9F18; zeros when the script had none)
 *
 * Tags are upper-case hex strings ("9F18"). Lengths: short form (< 128) and long form 81/82
 * (decode also accepts 83/84); the indefinite form (80) is rejected. '00' bytes between objects
 * are skipped, as EMV Book 3 Annex B allows.
 */
import { fromHex, toHex } from '../bytes.js';
import { PaymentCryptoError, PaymentCryptoErrorCode } from '../errors.js';

export interface TlvNode {
  /** Upper-case hex tag, e.g. "9F18". */
  tag: string;
  /** Bit 6 of the first tag byte: the value is itself a sequence of TLVs. */
  constructed: boolean;
  value: Buffer;
  /** Decoded children, present for constructed tags only. */
  children?: TlvNode[];
}

function malformed(message: string): PaymentCryptoError {
  return new PaymentCryptoError(PaymentCryptoErrorCode.MALFORMED_TLV, message);
}

function hexOrMalformed(text: string, message: string): Buffer {
  try {
    return fromHex(text);
  } catch {
    throw malformed(message);
  }
}

/** Validates a hex tag (one byte, or a first byte with low 5 bits 11111 plus continuation bytes). */
function tagBytes(tag: string): Buffer {
  const bytes = hexOrMalformed(tag, 'A tag must be an even-length hex string.');
  if (bytes.length === 0) throw malformed('A tag must be an even-length hex string.');
  const first = bytes[0] ?? 0;
  const multi = (first & 0x1f) === 0x1f;
  if (!multi && bytes.length !== 1) throw malformed('A single-byte tag has extra bytes.');
  if (multi) {
    if (bytes.length < 2) throw malformed('A multi-byte tag is missing its subsequent bytes.');
    for (let i = 1; i < bytes.length; i += 1) {
      const more = ((bytes[i] ?? 0) & 0x80) !== 0;
      if (more !== i < bytes.length - 1) throw malformed('A multi-byte tag is not well formed.');
    }
  }
  return bytes;
}

/** BER length octets: short form below 128, else 81 xx or 82 xx xx. */
export function encodeLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) {
    throw malformed('TLV length out of range (0-65535).');
  }
  if (length < 0x80) return Buffer.from([length]);
  if (length <= 0xff) return Buffer.from([0x81, length]);
  return Buffer.from([0x82, length >> 8, length & 0xff]);
}

/** Encodes one primitive or constructed data object. */
export function encodeTlv(tag: string, value: Buffer): Buffer {
  return Buffer.concat([tagBytes(tag), encodeLength(value.length), value]);
}

/** Decodes a sequence of data objects, recursing into constructed ones. */
export function decodeTlv(data: Buffer): TlvNode[] {
  const nodes: TlvNode[] = [];
  let pos = 0;
  while (pos < data.length) {
    const first = data[pos];
    if (first === undefined) break;
    if (first === 0x00) {
      pos += 1;
      continue;
    }
    const tagStart = pos;
    pos += 1;
    if ((first & 0x1f) === 0x1f) {
      for (;;) {
        const b = data[pos];
        if (b === undefined) throw malformed('TLV data ends inside a tag.');
        pos += 1;
        if ((b & 0x80) === 0) break;
      }
    }
    const tag = toHex(data.subarray(tagStart, pos));

    const l0 = data[pos];
    if (l0 === undefined) throw malformed('TLV data ends before a length.');
    pos += 1;
    let length = l0;
    if (l0 === 0x80) throw malformed('Indefinite TLV length is not allowed.');
    if (l0 > 0x80) {
      const n = l0 & 0x7f;
      if (n > 4) throw malformed('TLV length field is too long.');
      if (pos + n > data.length) throw malformed('TLV data ends inside a length.');
      length = 0;
      for (let i = 0; i < n; i += 1) length = length * 256 + (data[pos + i] ?? 0);
      pos += n;
    }
    if (pos + length > data.length) throw malformed('TLV value is shorter than its length.');
    const value = Buffer.from(data.subarray(pos, pos + length));
    pos += length;

    const constructed = (first & 0x20) !== 0;
    nodes.push(
      constructed
        ? { tag, constructed, value, children: decodeTlv(value) }
        : { tag, constructed, value },
    );
  }
  return nodes;
}

/** First node with `tag`, searching depth-first through constructed nodes. */
export function findTlv(nodes: readonly TlvNode[], tag: string): TlvNode | undefined {
  const wanted = tag.toUpperCase();
  for (const node of nodes) {
    if (node.tag === wanted) return node;
    if (node.children) {
      const hit = findTlv(node.children, wanted);
      if (hit) return hit;
    }
  }
  return undefined;
}

export const ISSUER_SCRIPT_TEMPLATE_1 = '71';
export const ISSUER_SCRIPT_TEMPLATE_2 = '72';

/**
 * Issuer Script Template (71 or 72) with Script Identifier 9F18 and one 86 per command.
 * @param scriptId exactly 4 bytes
 * @param commands one or more complete command APDUs (header ‖ Lc ‖ data, at least 4 bytes)
 */
export function buildIssuerScriptTemplate(
  templateTag: typeof ISSUER_SCRIPT_TEMPLATE_1 | typeof ISSUER_SCRIPT_TEMPLATE_2,
  scriptId: Buffer,
  commands: readonly Buffer[],
): Buffer {
  if (scriptId.length !== 4) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_INPUT,
      'The Script Identifier must be 4 bytes.',
    );
  }
  if (commands.length === 0) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_INPUT,
      'An issuer script needs at least one command.',
    );
  }
  if (commands.some((c) => c.length < 4)) {
    throw new PaymentCryptoError(
      PaymentCryptoErrorCode.INVALID_INPUT,
      'A script command is shorter than an APDU header.',
    );
  }
  const body = Buffer.concat([
    encodeTlv('9F18', scriptId),
    ...commands.map((c) => encodeTlv('86', c)),
  ]);
  return encodeTlv(templateTag, body);
}

/** Issuer Script Template 2 (tag 72): delivered to the card after the second GENERATE AC. */
export function buildIssuerScriptTemplate2(scriptId: Buffer, commands: readonly Buffer[]): Buffer {
  return buildIssuerScriptTemplate(ISSUER_SCRIPT_TEMPLATE_2, scriptId, commands);
}

export type IssuerScriptResultStatus = 'NOT_PERFORMED' | 'FAILED' | 'SUCCESSFUL';

export interface IssuerScriptResult {
  /** 4-byte Script Identifier (00000000 when the script had none). */
  scriptId: Buffer;
  result: IssuerScriptResultStatus;
  /** 0 = not specified, 1-14 = failing command's sequence number, 15 = 15 or above. */
  sequence: number;
}

const STATUS_BY_NIBBLE: Readonly<Record<number, IssuerScriptResultStatus>> = {
  0: 'NOT_PERFORMED',
  1: 'FAILED',
  2: 'SUCCESSFUL',
};

function toBuffer(input: string | Buffer): Buffer {
  if (Buffer.isBuffer(input)) return input;
  return hexOrMalformed(input.replace(/\s+/g, ''), 'Issuer Script Results must be hex.');
}

/**
 * Parses Issuer Script Results (tag 9F5B). Accepts either the whole TLV (9F5B L V) or just the
 * value, as a Buffer or a hex string. A bare value can never start with 9F (high nibble ≤ 2).
 */
export function parseIssuerScriptResults(input: string | Buffer): IssuerScriptResult[] {
  let value = toBuffer(input);
  if (value[0] === 0x9f) {
    const nodes = decodeTlv(value);
    const node = nodes[0];
    if (nodes.length !== 1 || node === undefined || node.tag !== '9F5B') {
      throw malformed('Expected a single 9F5B data object.');
    }
    value = node.value;
  }
  if (value.length % 5 !== 0) throw malformed('Issuer Script Results must be 5 bytes per script.');
  const results: IssuerScriptResult[] = [];
  for (let off = 0; off < value.length; off += 5) {
    const b1 = value[off] ?? 0;
    const result = STATUS_BY_NIBBLE[b1 >> 4];
    if (result === undefined) throw malformed('Unknown issuer script result code.');
    results.push({
      scriptId: Buffer.from(value.subarray(off + 1, off + 5)),
      result,
      sequence: b1 & 0x0f,
    });
  }
  return results;
}
