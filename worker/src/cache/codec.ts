/**
 * Wire form of one shared layer-cache entry: gzipped JSON `{ format, key, analysis }` for a layer, or
 * `{ format, key, stack }` for a layer stack's merged inventory. The entry names its own key, so bytes stored
 * under the wrong name are caught, and decoding checks the value's shape: anything that does not decode to what
 * the engine wrote is `undefined` (a miss the next put rewrites), never an exception.
 *
 * Entries are written all ASCII (non-ASCII characters as `\uXXXX` escapes, as the engine's local cache files
 * are) with the envelope's fields in a fixed order, so the value's JSON is a byte range of the inflated entry:
 * a bucket hit is parsed once, from a one-byte string, and its local copy is that byte range, written as it is.
 * Entries written otherwise (raw UTF-8, other field order) still decode, through a full parse.
 */
import { isAscii } from 'node:buffer';
import { gunzipSync, gzipSync } from 'node:zlib';
import { asciiJson, type LayerCache } from '@vigil/engine/core';
import type { LayerAnalysis } from '@vigil/engine/internal';

/** bumped when the envelope changes; entries of another format are misses */
export const ENTRY_FORMAT = 1;

/** A layer stack's merged inventory, as the engine's `LayerCache.getStack` answers it. */
export type StackInventory = NonNullable<Awaited<ReturnType<NonNullable<LayerCache['getStack']>>>>;

/** The field of the envelope that holds the value: a layer's analysis or a stack's inventory. */
export type EntryKind = 'analysis' | 'stack';

/** An entry: its stored bytes, and the value's JSON text (ASCII bytes) for the local directory tier. */
export interface EncodedEntry {
  bytes: Buffer;
  json: Buffer;
}

/** A decoded entry: a fresh value, and its JSON text (UTF-8 bytes) for the local directory tier. */
export interface DecodedEntry<T> {
  value: T;
  json: Buffer;
}

/** What `JSON.stringify` of an envelope for `key` writes before the value (ASCII: chars are bytes). */
const prefixOf = (kind: EntryKind, key: string): string =>
  `{"format":${ENTRY_FORMAT},"key":${JSON.stringify(key)},"${kind}":`;

/** The stored bytes of `value` under `key`, and the value's JSON text. */
function encode(kind: EntryKind, key: string, value: unknown): EncodedEntry {
  const prefix = prefixOf(kind, key);
  // the same text as JSON.stringify({ format, key, [kind]: value }), escaped to ASCII
  const text = Buffer.from(`${prefix}${asciiJson(value)}}`, 'latin1');
  return { bytes: gzipSync(text, { level: 1 }), json: text.subarray(prefix.length, text.length - 1) };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fields the engine's merge reads, with their types: enough to tell an analysis from damage. */
function isLayerAnalysis(v: unknown): v is LayerAnalysis {
  return (
    isObject(v) &&
    typeof v.walkVersion === 'number' &&
    typeof v.diffId === 'string' &&
    Array.isArray(v.files) &&
    v.files.every((f) => isObject(f) && typeof f.path === 'string' && isObject(f.result)) &&
    Array.isArray(v.whiteouts) &&
    Array.isArray(v.opaqueDirs) &&
    isObject(v.symlinks) &&
    Array.isArray(v.unknowns) &&
    typeof v.complete === 'boolean' &&
    isObject(v.stats)
  );
}

/** The fields a scan answered from a stack reads, with their types: enough to tell an inventory from damage. */
function isStackInventory(v: unknown): v is StackInventory {
  return (
    isObject(v) &&
    Array.isArray(v.diffIds) &&
    v.diffIds.every((d) => typeof d === 'string') &&
    (v.os === undefined || isObject(v.os)) &&
    Array.isArray(v.packages) &&
    v.packages.every((p) => isObject(p) && typeof p.name === 'string' && typeof p.version === 'string') &&
    Array.isArray(v.unknowns) &&
    Array.isArray(v.layerFiles) &&
    v.layerFiles.every((n) => typeof n === 'number')
  );
}

/** JSON.parse of `bytes[start, end)`: a one-byte string when they are ASCII (faster to make and to parse). */
function parseRange(bytes: Buffer, start: number, end: number): unknown {
  const range = bytes.subarray(start, end);
  return JSON.parse(range.toString(isAscii(range) ? 'latin1' : 'utf8'));
}

/** The value stored in `bytes` for `key`, or undefined when the bytes are not such an entry. */
function decode<T>(
  kind: EntryKind,
  key: string,
  bytes: Uint8Array,
  isValue: (v: unknown) => v is T,
): DecodedEntry<T> | undefined {
  let text: Buffer;
  try {
    text = gunzipSync(bytes);
  } catch {
    return undefined;
  }
  const prefix = prefixOf(kind, key);
  // an entry as encode writes it: the value alone is parsed, and its bytes are the local copy
  if (
    text.length > prefix.length &&
    text[text.length - 1] === 0x7d && // '}'
    text.toString('latin1', 0, prefix.length) === prefix
  ) {
    let value: unknown;
    try {
      value = parseRange(text, prefix.length, text.length - 1);
    } catch {
      value = undefined; // not the value alone (more fields after it?): the full parse below decides
    }
    if (value !== undefined) {
      if (!isValue(value)) return undefined;
      return { value, json: text.subarray(prefix.length, text.length - 1) };
    }
  }
  let envelope: unknown;
  try {
    envelope = parseRange(text, 0, text.length);
  } catch {
    return undefined;
  }
  if (!isObject(envelope) || envelope.format !== ENTRY_FORMAT || envelope.key !== key) return undefined;
  const value = envelope[kind];
  if (!isValue(value)) return undefined;
  return { value, json: Buffer.from(JSON.stringify(value), 'utf8') };
}

/** A layer's entry: the stored bytes of `analysis` under `key`, and its JSON text. */
export const encodeEntry = (key: string, analysis: LayerAnalysis): EncodedEntry =>
  encode('analysis', key, analysis);

/** The layer analysis stored in `bytes` for `key`, or undefined when the bytes are not such an entry. */
export const decodeEntry = (key: string, bytes: Uint8Array): DecodedEntry<LayerAnalysis> | undefined =>
  decode('analysis', key, bytes, isLayerAnalysis);

/** A layer stack's entry: the stored bytes of `stack` under `key`, and its JSON text. */
export const encodeStack = (key: string, stack: StackInventory): EncodedEntry => encode('stack', key, stack);

/** The stack inventory stored in `bytes` for `key`, or undefined when the bytes are not such an entry. */
export const decodeStack = (key: string, bytes: Uint8Array): DecodedEntry<StackInventory> | undefined =>
  decode('stack', key, bytes, isStackInventory);
