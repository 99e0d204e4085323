import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../test/support/fuzz.js';
import { isEngineError } from '../errors.js';
import { maybeGunzip, streamObjectMembers, type MemberEvent } from './json-stream.js';

async function members(text: string | Buffer, chunkSize = 1 << 20, maxMemberBytes?: number) {
  const buf = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunkSize) chunks.push(buf.subarray(i, i + chunkSize));
  const out: MemberEvent[] = [];
  for await (const m of streamObjectMembers(Readable.from(chunks), { name: 't.json', maxMemberBytes }))
    out.push(m);
  return out;
}

const DOC = `\uFEFF { "a" : {"x": "}{][\\"", "y": [1, {"z": null}]},
  "b\\u0041": [], "n": -1.5e3, "t": true, "s": "q\\\\", "e": {} }  \n`;
const EXPECTED: MemberEvent[] = [
  { key: 'a', value: { x: '}{]["', y: [1, { z: null }] } },
  { key: 'bA', value: [] },
  { key: 'n', value: -1500 },
  { key: 't', value: true },
  { key: 's', value: 'q\\' },
  { key: 'e', value: {} },
];

describe('streamObjectMembers', () => {
  it.each([1, 2, 3, 7, 64, 1 << 20])(
    'walks every member whatever the chunking (%i-byte chunks)',
    async (size) => {
      expect(await members(DOC, size)).toEqual(EXPECTED);
    },
  );

  it('reports a member whose value does not parse and goes on', async () => {
    expect(await members('{"a": {"x": tru}, "b": [1,,2], "c": 3}', 5)).toEqual([
      { key: 'a', bad: expect.stringMatching(/JSON/) },
      { key: 'b', bad: expect.stringMatching(/JSON/) },
      { key: 'c', value: 3 },
    ]);
  });

  it('skips a member over the size cap', async () => {
    expect(await members('{"big": "0123456789", "ok": 1}', 4, 8)).toEqual([
      { key: 'big', bad: 'member larger than 8 bytes' },
      { key: 'ok', value: 1 },
    ]);
  });

  it('reads an empty object', async () => {
    expect(await members(' {} ')).toEqual([]);
  });

  it.each([
    ['', /empty document/],
    ['[1, 2]', /not a JSON object at byte 0/],
    ['{"a": 1', /truncated/],
    ['{"a": {"b": 1}', /truncated/],
    ['{"a": 1} x', /data after the end of the document at byte 9/],
    ['{"a" 1}', /expected ":"/],
    ['{"a": 1 "b": 2}', /expected "," or "}" after a member/],
    ['{a: 1}', /expected a member name/],
    ['{"a": ]}', /unexpected byte 0x5d/],
  ])('refuses a broken top level %j with ENG_FEED_FORMAT', async (text, message) => {
    const error = await members(text).catch((e: unknown) => e);
    expect(isEngineError(error) && error.code).toBe('ENG_FEED_FORMAT');
    expect((error as Error).message).toMatch(message);
  });

  it('never throws anything but ENG_FEED_FORMAT on mutated input', async () => {
    const failures = await fuzz(
      [Buffer.from(DOC)],
      10_000,
      async (input) => {
        await members(input, 1 + (input.length % 13));
      },
      { allowed: (e) => isEngineError(e) && e.code === 'ENG_FEED_FORMAT' },
    );
    expect(failures).toEqual([]);
  });
});

describe('maybeGunzip', () => {
  const read = async (s: Readable) => Buffer.concat(await s.toArray()).toString();

  it('gunzips a gzip body and passes anything else through', async () => {
    expect(await read(await maybeGunzip(Readable.from([gzipSync('{"a":1}')])))).toBe('{"a":1}');
    expect(await read(await maybeGunzip(Readable.from([Buffer.from('{"a":1}')])))).toBe('{"a":1}');
    expect(await read(await maybeGunzip(Readable.from([Buffer.from('{')])))).toBe('{');
    expect(await read(await maybeGunzip(Readable.from([])))).toBe('');
  });
});
