import { describe, expect, it } from 'vitest';
import { scanTopLevel, type ScanEvent } from './json-scan.js';

const options = { arrayKey: 'items', maxFieldBytes: 1024, maxElementBytes: 64, name: 'doc' };

async function scan(text: string | Buffer, chunk = Infinity, o = options): Promise<ScanEvent[]> {
  const buf = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += Math.min(chunk, buf.length)) chunks.push(buf.subarray(i, i + chunk));
  const out: ScanEvent[] = [];
  for await (const e of scanTopLevel(
    (async function* () {
      yield* chunks;
    })(),
    o,
  ))
    out.push(e);
  return out;
}

const doc =
  '\ufeff { "n" : -1.5e+2, "t":true,"s":"a\\"}]\\\\", "o": {"x": [1, {"y": "]"}]},\n' +
  ' "items" : [ {"a": "\\"["}, 7 , "str\\"", null, [ {"z": {}} ], {"big": "' +
  'x'.repeat(80) +
  '"}, {"bad": tru} ],' +
  ' "after": 12 }\n';

describe('scanTopLevel', () => {
  it('hands out members parsed and array elements raw, in document order', async () => {
    expect(await scan(doc)).toEqual([
      { kind: 'field', key: 'n', value: -150 },
      { kind: 'field', key: 't', value: true },
      { kind: 'field', key: 's', value: 'a"}]\\' },
      { kind: 'field', key: 'o', value: { x: [1, { y: ']' }] } },
      { kind: 'array-start' },
      { kind: 'element', index: 0, raw: '{"a": "\\"["}' },
      { kind: 'element', index: 1, raw: '7' },
      { kind: 'element', index: 2, raw: '"str\\""' },
      { kind: 'element', index: 3, raw: 'null' },
      { kind: 'element', index: 4, raw: '[ {"z": {}} ]' },
      // 92 bytes, over the 64-byte element cap
      { kind: 'element', index: 5, tooLarge: true },
      { kind: 'element', index: 6, raw: '{"bad": tru}' },
      { kind: 'field', key: 'after', value: 12 },
    ]);
  });

  it.each([1, 2, 3, 7, 64])('gives the same events when the input arrives in %i-byte chunks', async (n) => {
    expect(await scan(doc, n)).toEqual(await scan(doc));
  });

  it('handles empty objects and arrays', async () => {
    expect(await scan('{}')).toEqual([]);
    expect(await scan('{"items": []}')).toEqual([{ kind: 'array-start' }]);
    // the array key with a non-array value is an ordinary member
    expect(await scan('{"items": null}')).toEqual([{ kind: 'field', key: 'items', value: null }]);
  });

  it.each([
    ['', 'doc: empty document at byte 0'],
    ['  ', 'doc: empty document at byte 2'],
    ['[1]', 'doc: not a JSON object at byte 0'],
    ['{"a" 1}', 'doc: expected ":" at byte 5'],
    ['{"a": 1 "b": 2}', 'doc: expected "," or "}" at byte 8'],
    ['{"a": 1,}', 'doc: expected a member name at byte 8'],
    ['{"a": tru}', 'doc: member "a" is not valid JSON at byte 9'],
    ['{"a": }', 'doc: unexpected byte 0x7d at byte 6'],
    ['{"items": [1 2]}', 'doc: expected "," or "]" between array elements at byte 13'],
    ['{"items": [1,]}', 'doc: unexpected byte 0x5d at byte 13'],
    ['{"items": [1]', 'doc: truncated document at byte 13'],
    ['{"a": "x\\q"}', 'doc: member "a" is not valid JSON at byte 10'],
    ['{"\\q": 1}', 'doc: member name is not a valid JSON string at byte 4'],
    ['{} {}', 'doc: data after the end of the document at byte 3'],
    [`{"a": "${'x'.repeat(2000)}"}`, 'doc: member "a" exceeds 1024 bytes at byte 2007'],
  ])('%j → ENG_FEED_FORMAT %s', async (text, message) => {
    await expect(scan(text)).rejects.toMatchObject({ code: 'ENG_FEED_FORMAT', message });
  });

  it('refuses an oversized member noticed at a chunk boundary', async () => {
    // the value starts at byte 6; after the 11th 100-byte chunk 1,094 bytes are held (> 1,024)
    await expect(scan(`{"a": "${'x'.repeat(2000)}"}`, 100)).rejects.toMatchObject({
      code: 'ENG_FEED_FORMAT',
      message: 'doc: member "a" exceeds 1024 bytes at byte 1100',
    });
  });
});
