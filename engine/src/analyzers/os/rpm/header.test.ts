import { describe, expect, test } from 'vitest';
import { parseHeader, RpmHeaderError } from './header.js';
import { buildHeader } from './testdata/fixtures.js';

/** A hand-laid header: region 63 + NAME (string) + DIRINDEXES (int32 ×2) + BASENAMES (2 strings). */
function handHeader(): Buffer {
  const entries = [
    [63, 7, 32, 16], // region marker: its value is the trailer at data offset 32
    [1000, 6, 0, 1], // "bash\0" at 0..4
    [1116, 4, 8, 2], // after 3 bytes of padding: 8..15
    [1117, 8, 16, 2], // "sh\0bash\0" at 16..23, then 8 unused bytes
  ];
  const head = Buffer.alloc(8 + entries.length * 16);
  head.writeUInt32BE(entries.length, 0);
  head.writeUInt32BE(48, 4);
  entries.forEach(([tag, type, offset, count], i) => {
    head.writeInt32BE(tag!, 8 + i * 16);
    head.writeUInt32BE(type!, 12 + i * 16);
    head.writeInt32BE(offset!, 16 + i * 16);
    head.writeUInt32BE(count!, 20 + i * 16);
  });
  const data = Buffer.alloc(48);
  data.write('bash\0', 0, 'latin1');
  data.writeUInt32BE(0, 8);
  data.writeUInt32BE(7, 12);
  data.write('sh\0bash\0', 16, 'latin1');
  return Buffer.concat([head, data]);
}

describe('parseHeader', () => {
  test('decodes strings, string arrays and int32 arrays, skipping the region marker', () => {
    expect(parseHeader(handHeader())).toEqual(
      new Map<number, unknown>([
        [1000, { type: 6, value: 'bash' }],
        [1116, { type: 4, value: [0, 7] }],
        [1117, { type: 8, value: ['sh', 'bash'] }],
      ]),
    );
  });

  test('reads what the fixture writer lays out like rpm', () => {
    const blob = buildHeader([
      { tag: 1000, type: 6, value: 'zlib' },
      { tag: 1003, type: 4, value: [2] },
      { tag: 1118, type: 8, value: ['/usr/lib64/', '/usr/share/doc/zlib/'] },
    ]);
    expect(parseHeader(blob)).toEqual(
      new Map<number, unknown>([
        [1000, { type: 6, value: 'zlib' }],
        [1003, { type: 4, value: [2] }],
        [1118, { type: 8, value: ['/usr/lib64/', '/usr/share/doc/zlib/'] }],
      ]),
    );
  });

  test('a later (dribble) entry for the same tag wins', () => {
    const blob = handHeader();
    // retarget DIRINDEXES (entry 2) to tag 1000: its value now follows NAME's in index order
    blob.writeInt32BE(1000, 8 + 2 * 16);
    expect(parseHeader(blob).get(1000)).toEqual({ type: 4, value: [0, 7] });
  });

  const corrupt: [string, (b: Buffer) => Buffer, string][] = [
    ['too short', (b) => b.subarray(0, 5), 'header blob too short (5 bytes)'],
    ['no entries', (b) => (b.writeUInt32BE(0, 0), b), 'bad index entry count 0'],
    ['truncated data', (b) => b.subarray(0, b.length - 1), 'header blob truncated: needs 120 bytes, has 119'],
    [
      'offset past the data',
      (b) => (b.writeInt32BE(48, 8 + 16 + 8), b),
      'tag 1000: offset 48 outside data (48)',
    ],
    ['negative offset', (b) => (b.writeInt32BE(-4, 8 + 16 + 8), b), 'tag 1000: offset -4 outside data (48)'],
    ['misaligned int32', (b) => (b.writeInt32BE(6, 8 + 32 + 8), b), 'tag 1116: misaligned offset 6'],
    ['int32 overrun', (b) => (b.writeUInt32BE(11, 8 + 32 + 12), b), 'tag 1116: 11 integers overrun the data'],
    ['string count ≠ 1', (b) => (b.writeUInt32BE(2, 8 + 16 + 12), b), 'tag 1000: string with count 2'],
    ['unknown type', (b) => (b.writeUInt32BE(12, 8 + 16 + 4), b), 'tag 1000: unknown type 12'],
    [
      'overlapping data',
      (b) => (b.writeInt32BE(4, 8 + 32 + 8), b),
      'tag 1116: data at 4 overlaps the previous entry (ends at 5)',
    ],
    ['unterminated string', (b) => (b.fill(0x41, b.length - 32), b), 'tag 1117: unterminated string'],
  ];
  test.each(corrupt)('%s → RpmHeaderError', (_name, damage, message) => {
    expect(() => parseHeader(damage(handHeader()))).toThrow(new RpmHeaderError(message));
  });
});
