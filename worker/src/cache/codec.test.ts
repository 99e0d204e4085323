/**
 * The shared layer-cache entry codec: entries round-trip (non-ASCII text included) and are written all ASCII;
 * the analysis's JSON handed to the local tier parses to the analysis; entries in the earlier encoder's form
 * (raw UTF-8) or another field order decode the same; a layer stack's entry is not a layer's, nor the reverse;
 * anything else is undefined.
 */
import { isAscii } from 'node:buffer';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeEntry, decodeStack, encodeEntry, encodeStack, ENTRY_FORMAT } from './codec.js';
import { layerAnalysis, stackInventory } from './testdata/layer-analysis.js';

const KEY = 'a'.repeat(64);
/** an analysis with non-ASCII text: a BMP character, one outside the BMP (a surrogate pair), a control one */
const withText = () => {
  const analysis = layerAnalysis('sha256:text');
  analysis.files[0]!.result.packages![0]!.name = 'mü\u{1F600}\u0001lib';
  return analysis;
};
const gzipJson = (value: unknown) => gzipSync(JSON.stringify(value));

describe('layer cache entry codec', () => {
  it('round-trips an analysis with non-ASCII text, stored all ASCII', () => {
    const analysis = withText();
    const { bytes, json } = encodeEntry(KEY, analysis);
    const decoded = decodeEntry(KEY, bytes);
    expect({
      ascii: isAscii(gunzipSync(bytes)) && isAscii(json),
      json: JSON.parse(json.toString('latin1')),
      analysis: decoded?.value,
      decodedJson: JSON.parse(decoded!.json.toString('utf8')),
    }).toEqual({ ascii: true, json: analysis, analysis, decodedJson: analysis });
  });

  it('decodes entries in the earlier encoder form (raw UTF-8) and in another field order', () => {
    const analysis = withText();
    const earlier = gzipJson({ format: ENTRY_FORMAT, key: KEY, analysis });
    const reordered = gzipJson({ analysis, key: KEY, format: ENTRY_FORMAT });
    const extraField = gzipJson({ format: ENTRY_FORMAT, key: KEY, analysis, note: 'x' });
    const decoded = [earlier, reordered, extraField].map((bytes) => decodeEntry(KEY, bytes));
    expect(decoded.map((d) => ({ analysis: d?.value, json: JSON.parse(d!.json.toString('utf8')) }))).toEqual(
      [1, 2, 3].map(() => ({ analysis, json: analysis })),
    );
  });

  it("round-trips a layer stack's inventory; a stack entry is no layer entry, nor the reverse", () => {
    const stack = stackInventory(['sha256:a', 'sha256:b']);
    stack.packages[0]!.name = 'mü\u{1F600}lib';
    const encoded = encodeStack(KEY, stack);
    const layer = encodeEntry(KEY, layerAnalysis('sha256:a')).bytes;
    const broken = gzipJson({ format: ENTRY_FORMAT, key: KEY, stack: { ...stack, layerFiles: ['1'] } });
    expect({
      ascii: isAscii(gunzipSync(encoded.bytes)),
      stack: decodeStack(KEY, encoded.bytes)?.value,
      json: JSON.parse(decodeStack(KEY, encoded.bytes)!.json.toString('latin1')),
      asLayer: decodeEntry(KEY, encoded.bytes),
      layerAsStack: decodeStack(KEY, layer),
      broken: decodeStack(KEY, broken),
    }).toEqual({
      ascii: true,
      stack,
      json: stack,
      asLayer: undefined,
      layerAsStack: undefined,
      broken: undefined,
    });
  });

  it('each decode is a fresh copy', () => {
    const { bytes } = encodeEntry(KEY, layerAnalysis('sha256:x'));
    const first = decodeEntry(KEY, bytes)!.value;
    first.files.length = 0;
    expect(decodeEntry(KEY, bytes)!.value).toEqual(layerAnalysis('sha256:x'));
  });

  it.each([
    ['another key', () => encodeEntry('b'.repeat(64), layerAnalysis('sha256:x')).bytes],
    [
      'another format',
      () => gzipJson({ format: ENTRY_FORMAT + 1, key: KEY, analysis: layerAnalysis('sha256:x') }),
    ],
    ['not gzip', () => Buffer.from('not gzip')],
    ['truncated gzip', () => encodeEntry(KEY, layerAnalysis('sha256:x')).bytes.subarray(0, 40)],
    ['gzip of no JSON', () => gzipSync('{"format":1,"key":"' + KEY + '","analysis":{"walk')],
    [
      'an analysis missing fields',
      () =>
        gzipJson({
          format: ENTRY_FORMAT,
          key: KEY,
          analysis: { ...layerAnalysis('sha256:x'), files: undefined },
        }),
    ],
    ['an envelope that is an array', () => gzipJson([ENTRY_FORMAT, KEY])],
  ])('%s is undefined', (_name, bytes) => {
    expect(decodeEntry(KEY, bytes())).toBeUndefined();
  });
});
