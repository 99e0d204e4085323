/**
 * Writes a layer analysis's (or a layer stack's) JSON text into the worker's local directory tier, an engine
 * FsLayerCache, as the file that cache's own `put` (`putStack`) would write (format 2: `<key>.v2.json`, or
 * `<key>.stack.v2.json`; the JSON as it is up to 1 MiB, gzip above; atomic by temp file and rename; then its
 * size bound enforced). The text is already at hand — the bytes of a bucket hit, or the encoding of a put — so
 * the value is not serialised a second time (`FsLayerCache.put` takes an object). `FsLayerCache.get` and
 * `getStack` read these files; the cache's tests check they do.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FsLayerCache } from '@vigil/engine/core';

/** FsLayerCache's entry format: its files are named `<key>.v<format>.json` */
const FS_FORMAT = 2;
/** FsLayerCache stores entries up to this many bytes of JSON uncompressed */
const PLAIN_MAX = 1024 * 1024;

/** Stores `json` (the JSON text of a LayerAnalysis, or of a stack) under `key` in `local`. Rejects when the directory fails. */
export async function putLocalJson(
  local: FsLayerCache,
  key: string,
  json: Uint8Array,
  kind: 'analysis' | 'stack' = 'analysis',
): Promise<void> {
  await mkdir(local.dir, { recursive: true });
  const tmp = join(local.dir, `.tmp-${randomUUID()}`);
  try {
    await writeFile(tmp, json.byteLength <= PLAIN_MAX ? json : gzipSync(json, { level: 1 }));
    const name = kind === 'stack' ? `${key}.stack.v${FS_FORMAT}.json` : `${key}.v${FS_FORMAT}.json`;
    await rename(tmp, join(local.dir, name));
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await local.evict();
}
