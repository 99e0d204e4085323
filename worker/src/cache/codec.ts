/**
 * Wire form of one shared layer-cache entry: gzipped JSON `{ format, key, analysis }`. The entry names its own
 * key, so bytes stored under the wrong name are caught, and decoding checks the analysis's shape: anything that
 * does not decode to what the engine wrote is `undefined` (a miss the next put rewrites), never an exception.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { LayerAnalysis } from '@vigil/engine/internal';

/** bumped when the envelope changes; entries of another format are misses */
export const ENTRY_FORMAT = 1;

interface Envelope {
  format: number;
  key: string;
  analysis: LayerAnalysis;
}

/** The stored bytes of `analysis` under `key`. */
export function encodeEntry(key: string, analysis: LayerAnalysis): Buffer {
  const envelope: Envelope = { format: ENTRY_FORMAT, key, analysis };
  return gzipSync(JSON.stringify(envelope), { level: 1 });
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

/** The analysis stored in `bytes` for `key`, or undefined when the bytes are not such an entry. */
export function decodeEntry(key: string, bytes: Uint8Array): LayerAnalysis | undefined {
  let envelope: unknown;
  try {
    envelope = JSON.parse(gunzipSync(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(envelope) || envelope.format !== ENTRY_FORMAT || envelope.key !== key) return undefined;
  return isLayerAnalysis(envelope.analysis) ? envelope.analysis : undefined;
}
