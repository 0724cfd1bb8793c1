import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../bytes.js';
import { codeOf } from '../test-helpers.js';
import {
  buildIssuerScriptTemplate,
  buildIssuerScriptTemplate2,
  decodeTlv,
  encodeLength,
  encodeTlv,
  findTlv,
  parseIssuerScriptResults,
} from './tlv.js';

// BER-TLV (ISO/IEC 8825-1) as EMV 4.x Book 3 Annex B profiles it.
describe('BER-TLV decode', () => {
  // pyemv tests/test_tlv.py test_decode_tag (the 9C80 indefinite-length case is deliberately
  // rejected here: EMV does not use the indefinite form).
  it.each([
    ['9C00', '9C', ''],
    ['9C01FF', '9C', 'FF'],
    ['9C8101FF', '9C', 'FF'],
    ['9F0200', '9F02', ''],
    ['9F0201FF', '9F02', 'FF'],
    ['9F820100', '9F8201', ''],
    ['9F820101FF', '9F8201', 'FF'],
    ['9C8100', '9C', ''],
    ['9C820000', '9C', ''],
    ['9C83000000', '9C', ''],
    ['9C8400000000', '9C', ''],
    ['9C820001FF', '9C', 'FF'],
    ['9C83000001FF', '9C', 'FF'],
    ['9C8400000001FF', '9C', 'FF'],
  ])('decodes %s', (input, tag, value) => {
    const nodes = decodeTlv(fromHex(input));
    expect(nodes).toHaveLength(1);
    expect(nodes[0]?.tag).toBe(tag);
    expect(toHex(nodes[0]?.value ?? Buffer.alloc(0))).toBe(value);
  });

  // pyemv tests/test_tlv.py test_decode_nested: 9F0201FF E003 9F0300 9F0400
  it('decodes constructed objects recursively', () => {
    const nodes = decodeTlv(fromHex('9F0201FFE0039F03009F0400'));
    expect(nodes.map((n) => n.tag)).toEqual(['9F02', 'E0', '9F04']);
    expect(nodes[1]?.constructed).toBe(true);
    expect(nodes[1]?.children?.map((n) => n.tag)).toEqual(['9F03']);
    expect(findTlv(nodes, '9f03')?.value.length).toBe(0);
    expect(findTlv(nodes, '9F05')).toBeUndefined();
  });

  // pyemv tests/test_tlv.py test_decode_exception (malformed tag / length / value cases).
  it.each([
    '9F',
    '9FF0',
    '9C',
    '9C81',
    '9C8200',
    '9C01',
    '9C0200',
    'E001',
    'E0019F0001FF',
    'E0029C8101FF',
    '9C01FFAA',
    '9C80',
    '9C850000000000',
  ])('rejects %s', (input) => {
    expect(codeOf(() => decodeTlv(fromHex(input)))).toBe('MALFORMED_TLV');
  });

  it('skips 00 padding between objects (EMV Book 3 Annex B)', () => {
    expect(decodeTlv(fromHex('009C01FF00009F0200')).map((n) => n.tag)).toEqual(['9C', '9F02']);
  });
});

describe('BER-TLV encode', () => {
  // pyemv tests/test_tlv.py test_encode.
  it('matches the pyemv encode vectors', () => {
    expect(toHex(encodeTlv('9C', Buffer.alloc(0)))).toBe('9C00');
    expect(toHex(encodeTlv('9C', fromHex('FF')))).toBe('9C01FF');
    expect(toHex(encodeTlv('9F00', fromHex('FF')))).toBe('9F0001FF');
    expect(toHex(encodeTlv('9F8001', fromHex('FF')))).toBe('9F800101FF');
    expect(toHex(encodeTlv('9C', Buffer.alloc(128, 0xff)))).toBe('9C8180' + 'FF'.repeat(128));
    expect(toHex(encodeTlv('9C', Buffer.alloc(511, 0xff)))).toBe('9C8201FF' + 'FF'.repeat(511));
    expect(toHex(encodeTlv('E0', Buffer.alloc(0)))).toBe('E000');
    expect(toHex(encodeTlv('E0', encodeTlv('9F00', fromHex('FF'))))).toBe('E0049F0001FF');
    expect(
      toHex(
        Buffer.concat([
          encodeTlv('E0', encodeTlv('9F00', fromHex('FF'))),
          encodeTlv('9C', fromHex('FF')),
        ]),
      ),
    ).toBe('E0049F0001FF9C01FF');
  });

  it('uses 81 / 82 long forms at the boundaries', () => {
    expect(toHex(encodeLength(127))).toBe('7F');
    expect(toHex(encodeLength(128))).toBe('8180');
    expect(toHex(encodeLength(255))).toBe('81FF');
    expect(toHex(encodeLength(256))).toBe('820100');
    expect(toHex(encodeLength(65535))).toBe('82FFFF');
    expect(codeOf(() => encodeLength(65536))).toBe('MALFORMED_TLV');
    expect(codeOf(() => encodeLength(-1))).toBe('MALFORMED_TLV');
  });

  // pyemv tests/test_tlv.py test_encode_exception (tag format cases).
  it.each(['XX', '00X', '0', '9F', '9F0001', '9F80'])('rejects tag %s', (tag) => {
    expect(codeOf(() => encodeTlv(tag, Buffer.alloc(0)))).toBe('MALFORMED_TLV');
  });

  it('round-trips', () => {
    const value = Buffer.alloc(300, 0x5a);
    const nodes = decodeTlv(encodeTlv('9F18', value));
    expect(nodes[0]?.tag).toBe('9F18');
    expect(nodes[0]?.value.equals(value)).toBe(true);
  });
});

// EMV 4.x Book 3 Annex A data elements: Issuer Script Templates 71 / 72, Script Identifier
// 9F18, Issuer Script Command 86.
describe('Issuer Script Template', () => {
  // mmattice/pyemvtlv test/test_encode_ingenico.py (a captured host response, base64):
  //   91 0A 90CA8ABBFEE0BE240012
  //   71 1E 9F18 04 00000001 86 15 8424000210 22C3089F35064C14 2447F11FA2EC0AA1
  //   8A 02 3030
  const published = Buffer.from(
    'kQqQyoq7/uC+JAAScR6fGAQAAAABhhWEJAACECLDCJ81BkwUJEfxH6LsCqGKAjAw',
    'base64',
  );
  const scriptBody = '9F1804000000018615842400021022C3089F35064C142447F11FA2EC0AA1';
  const pinChange = fromHex('842400021022C3089F35064C142447F11FA2EC0AA1');

  it('decodes the published host response', () => {
    const nodes = decodeTlv(published);
    expect(nodes.map((n) => n.tag)).toEqual(['91', '71', '8A']);
    expect(toHex(nodes[0]?.value ?? Buffer.alloc(0))).toBe('90CA8ABBFEE0BE240012');
    expect(toHex(nodes[1]?.value ?? Buffer.alloc(0))).toBe(scriptBody);
    expect(nodes[1]?.children?.map((n) => n.tag)).toEqual(['9F18', '86']);
    expect(toHex(findTlv(nodes, '86')?.value ?? Buffer.alloc(0))).toBe(toHex(pinChange));
  });

  it('rebuilds the published template 71 byte for byte', () => {
    expect(toHex(buildIssuerScriptTemplate('71', fromHex('00000001'), [pinChange]))).toBe(
      '711E' + scriptBody,
    );
    expect(toHex(published.subarray(12, 12 + 32))).toBe('711E' + scriptBody);
  });

  it('builds template 72 with the same body', () => {
    expect(toHex(buildIssuerScriptTemplate2(fromHex('00000001'), [pinChange]))).toBe(
      '721E' + scriptBody,
    );
  });

  it('puts one 86 per command, in order, and uses long lengths when needed', () => {
    const cmds = [
      fromHex('8418000008' + '0102030405060708'),
      fromHex('8424000210' + 'AA'.repeat(16)),
      Buffer.alloc(120, 0x11),
    ];
    const tpl = buildIssuerScriptTemplate2(fromHex('CAFEBABE'), cmds);
    expect(toHex(tpl.subarray(0, 3))).toBe('7281A7'); // 7 + 15 + 23 + 122 = 167 = A7;
    const nodes = decodeTlv(tpl);
    const children = nodes[0]?.children ?? [];
    expect(children.map((n) => n.tag)).toEqual(['9F18', '86', '86', '86']);
    expect(toHex(children[0]?.value ?? Buffer.alloc(0))).toBe('CAFEBABE');
    children
      .slice(1)
      .forEach((c, i) => expect(c.value.equals(cmds[i] ?? Buffer.alloc(0))).toBe(true));
  });

  it('validates the script id and commands', () => {
    expect(codeOf(() => buildIssuerScriptTemplate2(fromHex('000001'), [pinChange]))).toBe(
      'INVALID_INPUT',
    );
    expect(codeOf(() => buildIssuerScriptTemplate2(fromHex('00000001'), []))).toBe('INVALID_INPUT');
    expect(codeOf(() => buildIssuerScriptTemplate2(fromHex('00000001'), [fromHex('8424')]))).toBe(
      'INVALID_INPUT',
    );
  });
});

describe('Issuer Script Results (9F5B)', () => {
  // Constructed from the data-element definition (EMV 4.x Book 4 Annex A5 / Book 3 Annex A):
  // byte 1 high nibble 0/1/2 = not performed/failed/successful, low nibble = sequence number,
  // bytes 2-5 = Script Identifier. No published 9F5B hex example was found.
  it('parses a bare value of several scripts', () => {
    expect(parseIssuerScriptResults('2000000001' + '1312345678' + '0000000000')).toEqual([
      { scriptId: fromHex('00000001'), result: 'SUCCESSFUL', sequence: 0 },
      { scriptId: fromHex('12345678'), result: 'FAILED', sequence: 3 },
      { scriptId: fromHex('00000000'), result: 'NOT_PERFORMED', sequence: 0 },
    ]);
  });

  it('accepts the full TLV, a Buffer, lower case and spaces', () => {
    const expected = [{ scriptId: fromHex('CAFEBABE'), result: 'FAILED', sequence: 15 }];
    expect(parseIssuerScriptResults('9F5B05 1F CAFEBABE')).toEqual(expected);
    expect(parseIssuerScriptResults(fromHex('9F5B051FCAFEBABE'))).toEqual(expected);
    expect(parseIssuerScriptResults('1fcafebabe')).toEqual(expected);
    expect(parseIssuerScriptResults('')).toEqual([]);
  });

  it('rejects malformed input', () => {
    expect(codeOf(() => parseIssuerScriptResults('20000000'))).toBe('MALFORMED_TLV');
    expect(codeOf(() => parseIssuerScriptResults('3000000001'))).toBe('MALFORMED_TLV');
    expect(codeOf(() => parseIssuerScriptResults('9F5C052000000001'))).toBe('MALFORMED_TLV');
    expect(codeOf(() => parseIssuerScriptResults('9F5B0620000000'))).toBe('MALFORMED_TLV');
    expect(codeOf(() => parseIssuerScriptResults('9F5B052000000001' + '9F5B00'))).toBe(
      'MALFORMED_TLV',
    );
    expect(codeOf(() => parseIssuerScriptResults('zz'))).toBe('MALFORMED_TLV');
    expect(codeOf(() => parseIssuerScriptResults('200'))).toBe('MALFORMED_TLV');
  });
});
