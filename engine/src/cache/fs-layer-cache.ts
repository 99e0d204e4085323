/**
 * Local directory layer cache: one JSON file per key, a size bound enforced on write by evicting
 * the least recently used entries (mtime is refreshed on every hit). Writes are atomic (temp file
 * + rename), so concurrent scans sharing a directory never read half a file.
 *
 * Format 2 (`<key>.v2.json`): plain UTF-8 JSON up to PLAIN_MAX bytes, gzip above it (told apart by
 * gzip's magic bytes). Inflating was about a third of a hit's CPU time, the rest `JSON.parse`;
 * entries of the usual size stay small on disk either way. Format-1 files (`<key>.json.gz`, always
 * gzip) are misses: never read, evicted like any other entry. Non-ASCII characters are written as
 * `\uXXXX` escapes, so a file is all ASCII and reads back as a one-byte string (one layer with a
 * single non-ASCII licence or author name otherwise makes the whole text two-byte: slower to decode,
 * to parse, and twice the memory); files written before with raw UTF-8 read the same. A layer
 * stack's merged inventory (getStack/putStack) is `<key>.stack.v2.json`, in the same format and
 * under the same bound.
 */
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { isAscii } from 'node:buffer';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { EngineError } from '../errors.js';
import type { LayerAnalysis } from '../image/walk/types.js';
import type { LayerCache, StackInventory } from './types.js';

export interface FsLayerCacheOptions {
  dir: string;
  /** size bound in bytes (default 2 GiB) */
  maxBytes?: number;
}

const KEY_RE = /^[a-f0-9]{64}$/;
/** Entry files of this and earlier formats (what eviction counts and removes). */
const ENTRY_RE = /^[a-f0-9]{64}\.(?:(?:stack\.)?v\d+\.json|json\.gz)$/;
const FORMAT = 2;
/** Entries up to this many bytes of JSON are stored uncompressed. */
const PLAIN_MAX = 1024 * 1024;
const GZIP_MAGIC = 0x1f8b;

const NON_ASCII = /[\u0080-\uffff]/g;

/** `JSON.stringify(value)` with every non-ASCII UTF-16 unit escaped (a pair as two escapes, which
 * JSON.parse joins again). */
export function asciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  // the UTF-8 length equals the length only when every unit is ASCII (most layers): no regex scan
  if (Buffer.byteLength(json, 'utf8') === json.length) return json;
  return json.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export class FsLayerCache implements LayerCache {
  readonly dir: string;
  readonly maxBytes: number;

  constructor(options: FsLayerCacheOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? 2 * 1024 * 1024 * 1024;
  }

  private file(key: string, kind?: 'stack'): string {
    if (!KEY_RE.test(key)) throw new EngineError('ENG_INVALID_ARGUMENT', `invalid layer cache key "${key}"`);
    return join(this.dir, kind ? `${key}.${kind}.v${FORMAT}.json` : `${key}.v${FORMAT}.json`);
  }

  async get(key: string): Promise<LayerAnalysis | undefined> {
    return this.read<LayerAnalysis>(this.file(key));
  }

  async put(key: string, value: LayerAnalysis): Promise<void> {
    await this.putJson(key, Buffer.from(asciiJson(value), 'latin1'));
  }

  async getStack(key: string): Promise<StackInventory | undefined> {
    return this.read<StackInventory>(this.file(key, 'stack'));
  }

  async putStack(key: string, value: StackInventory): Promise<void> {
    await this.putJson(key, Buffer.from(asciiJson(value), 'latin1'), 'stack');
  }

  /**
   * Stores the JSON text of a layer's analysis (or, with `'stack'`, of a stack's inventory) as it
   * is, for a caller that has it serialised already (the fleet cache's bucket hits): the entry
   * `put` (`putStack`) would write for the value. ASCII text (asciiJson) reads back fastest.
   */
  async putJson(key: string, json: Uint8Array, kind?: 'stack'): Promise<void> {
    const file = this.file(key, kind);
    const tmp = join(this.dir, `.tmp-${randomUUID()}`);
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(tmp, json.byteLength <= PLAIN_MAX ? json : gzipSync(json, { level: 1 }));
      await rename(tmp, file);
      await this.evict();
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new EngineError(
        'ENG_CACHE_IO',
        `cannot write layer cache entry in ${this.dir}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  private async read<T>(file: string): Promise<T | undefined> {
    try {
      const body = await readFile(file);
      const json = body.length > 2 && body.readUInt16BE(0) === GZIP_MAGIC ? gunzipSync(body) : body;
      // entries are written ASCII (asciiJson): Latin-1 decoding is a plain copy, UTF-8 2–3× that
      const value = JSON.parse(json.toString(isAscii(json) ? 'latin1' : 'utf8')) as T;
      const now = new Date();
      await utimes(file, now, now).catch(() => undefined);
      return value;
    } catch {
      return undefined; // a miss, or a damaged entry that the next put replaces
    }
  }

  /** Removes least recently used entries until the cache fits its bound. */
  async evict(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => ENTRY_RE.test(n));
    const entries = await Promise.all(
      names.map(async (n) => {
        const st = await stat(join(this.dir, n)).catch(() => undefined);
        return { n, size: st?.size ?? 0, mtime: st?.mtimeMs ?? 0 };
      }),
    );
    let total = entries.reduce((s, e) => s + e.size, 0);
    if (total <= this.maxBytes) return;
    entries.sort((a, b) => a.mtime - b.mtime);
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      await rm(join(this.dir, e.n), { force: true });
      total -= e.size;
    }
  }
}
