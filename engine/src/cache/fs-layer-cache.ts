/**
 * Local directory layer cache: one gzipped JSON file per key, a size bound enforced on write by
 * evicting the least recently used entries (mtime is refreshed on every hit). Writes are atomic
 * (temp file + rename), so concurrent scans sharing a directory never read half a file.
 */
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { EngineError } from '../errors.js';
import type { LayerAnalysis } from '../image/walk/types.js';
import type { LayerCache } from './types.js';

export interface FsLayerCacheOptions {
  dir: string;
  /** size bound in bytes (default 2 GiB) */
  maxBytes?: number;
}

const KEY_RE = /^[a-f0-9]{64}$/;

export class FsLayerCache implements LayerCache {
  readonly dir: string;
  readonly maxBytes: number;

  constructor(options: FsLayerCacheOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? 2 * 1024 * 1024 * 1024;
  }

  private file(key: string): string {
    if (!KEY_RE.test(key)) throw new EngineError('ENG_INVALID_ARGUMENT', `invalid layer cache key "${key}"`);
    return join(this.dir, `${key}.json.gz`);
  }

  async get(key: string): Promise<LayerAnalysis | undefined> {
    const file = this.file(key);
    try {
      const value = JSON.parse(gunzipSync(await readFile(file)).toString('utf8')) as LayerAnalysis;
      const now = new Date();
      await utimes(file, now, now).catch(() => undefined);
      return value;
    } catch {
      return undefined; // a miss, or a damaged entry that the next put replaces
    }
  }

  async put(key: string, value: LayerAnalysis): Promise<void> {
    const file = this.file(key);
    try {
      await mkdir(this.dir, { recursive: true });
      const tmp = join(this.dir, `.tmp-${randomUUID()}`);
      await writeFile(tmp, gzipSync(JSON.stringify(value), { level: 1 }));
      await rename(tmp, file);
      await this.evict();
    } catch (e) {
      throw new EngineError(
        'ENG_CACHE_IO',
        `cannot write layer cache entry in ${this.dir}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }

  /** Removes least recently used entries until the cache fits its bound. */
  async evict(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => n.endsWith('.json.gz'));
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
