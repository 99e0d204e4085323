import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LayerAnalysis } from '../image/walk/types.js';
import { WALK_VERSION } from '../image/walk/types.js';
import { FsLayerCache } from './fs-layer-cache.js';
import { layerCacheKey } from './types.js';

const analysis = (diffId: string, pad = 0): LayerAnalysis => ({
  walkVersion: WALK_VERSION,
  diffId,
  files: [{ path: 'a', analyzer: 'x', result: { unknowns: [{ path: 'a', message: 'r'.repeat(pad) }] } }],
  whiteouts: [],
  opaqueDirs: [],
  symlinks: {},
  unknowns: [],
  complete: true,
  stats: { entries: 1, bytes: 1, analyzedFiles: 1 },
});

const dirs: string[] = [];
afterEach(async () => Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }))));

describe('FsLayerCache', () => {
  it('round-trips an analysis and misses on unknown keys', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-cache-'));
    dirs.push(dir);
    const cache = new FsLayerCache({ dir });
    const key = layerCacheKey(
      'sha256:a',
      [{ name: 'os/apk', version: 1, tags: [], required: () => false, analyze: () => ({}) }],
      {
        maxFileSize: 1,
      },
    );
    await cache.put(key, analysis('sha256:a'));
    expect({ hit: await cache.get(key), miss: await cache.get('0'.repeat(64)) }).toEqual({
      hit: analysis('sha256:a'),
      miss: undefined,
    });
  });

  it('keys change with analyzer versions', () => {
    const a = (version: number) => [
      { name: 'os/apk', version, tags: [], required: () => false, analyze: () => ({}) },
    ];
    expect(layerCacheKey('sha256:a', a(1), { maxFileSize: 1 })).not.toBe(
      layerCacheKey('sha256:a', a(2), { maxFileSize: 1 }),
    );
  });

  it('treats a damaged entry as a miss and evicts the least recently used past its bound', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-cache-'));
    dirs.push(dir);
    const cache = new FsLayerCache({ dir, maxBytes: 1500 });
    const k = (c: string) => c.repeat(64);
    await writeFile(join(dir, `${k('f')}.json.gz`), 'not gzip');
    expect(await cache.get(k('f'))).toBeUndefined();
    // incompressible padding so each entry is ~1 KB on disk
    const noisy = (id: string) => {
      const a = analysis(id);
      a.files[0]!.result.unknowns![0]!.message = randomBytes(900).toString('base64');
      return a;
    };
    await cache.put(k('a'), noisy('a'));
    await new Promise((r) => setTimeout(r, 20));
    await cache.put(k('b'), noisy('b'));
    const left = (await readdir(dir)).filter((n) => n.endsWith('.json.gz')).sort();
    expect(left).toEqual([`${k('b')}.json.gz`]);
  });

  it('rejects keys that are not hex digests', async () => {
    const cache = new FsLayerCache({ dir: tmpdir() });
    await expect(cache.put('../../etc/passwd', analysis('x'))).rejects.toMatchObject({
      code: 'ENG_INVALID_ARGUMENT',
    });
  });
});
