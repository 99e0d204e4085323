import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { LayerAnalysis } from '../image/walk/types.js';
import { WALK_VERSION } from '../image/walk/types.js';
import { FsLayerCache } from './fs-layer-cache.js';
import { layerCacheKey, stackCacheKey, type StackInventory } from './types.js';

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

  it('stores small entries as plain JSON and large ones gzipped, both read back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-cache-'));
    dirs.push(dir);
    const cache = new FsLayerCache({ dir });
    const [small, large] = [analysis('sha256:s', 10), analysis('sha256:l', 2 * 1024 * 1024)];
    await cache.put('1'.repeat(64), small);
    await cache.put('2'.repeat(64), large);
    const head = async (c: string) => (await readFile(join(dir, `${c.repeat(64)}.v2.json`))).subarray(0, 2);
    expect({
      small: await cache.get('1'.repeat(64)),
      large: await cache.get('2'.repeat(64)),
      heads: [(await head('1')).toString('latin1'), (await head('2')).toString('hex')],
    }).toEqual({ small, large, heads: ['{"', '1f8b'] });
  });

  it('writes non-ASCII text as escapes (an all-ASCII file) and reads it back, as well as raw UTF-8 files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-cache-'));
    dirs.push(dir);
    const cache = new FsLayerCache({ dir });
    // Latin-1, BMP, an astral pair, a lone surrogate, DEL and a control character
    const text = 'Jérôme Müller 日本 😀 \ud800 \u007f \u0001';
    const value = analysis('sha256:u');
    value.files[0]!.result.unknowns![0]!.message = text;
    await cache.put('3'.repeat(64), value);
    const bytes = await readFile(join(dir, `${'3'.repeat(64)}.v2.json`));
    // a format-2 file of earlier builds: the same JSON as raw UTF-8
    await writeFile(join(dir, `${'4'.repeat(64)}.v2.json`), JSON.stringify(value), 'utf8');
    expect({
      ascii: bytes.every((b) => b < 0x80),
      escaped: bytes.toString('latin1').includes('J\\u00e9r\\u00f4me'),
      read: await cache.get('3'.repeat(64)),
      readRaw: await cache.get('4'.repeat(64)),
    }).toEqual({ ascii: true, escaped: true, read: value, readRaw: value });
  });

  it('keeps layer stacks beside layers, each in its own file, under the same bound', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-cache-'));
    dirs.push(dir);
    const cache = new FsLayerCache({ dir });
    const apk = [{ name: 'os/apk', version: 1, tags: [], required: () => false, analyze: () => ({}) }];
    const key = stackCacheKey(['sha256:a', 'sha256:b'], apk, { maxFileSize: 1 });
    const stack: StackInventory = {
      diffIds: ['sha256:a', 'sha256:b'],
      os: { family: 'alpine', version: '3.19.1' },
      packages: [
        { name: 'musl', version: '1.2.4-r2', ecosystem: 'apk', purl: 'pkg:apk/alpine/musl@1.2.4-r2' },
      ],
      unknowns: [],
      layerFiles: [2, 1],
    };
    await cache.putStack(key, stack);
    await cache.put(key, analysis('sha256:a'));
    expect({
      stack: await cache.getStack(key),
      layer: await cache.get(key),
      files: (await readdir(dir)).sort(),
      // order matters: the same layers stacked otherwise are another stack
      otherOrder: stackCacheKey(['sha256:b', 'sha256:a'], apk, { maxFileSize: 1 }) === key,
    }).toEqual({
      stack,
      layer: analysis('sha256:a'),
      files: [`${key}.stack.v2.json`, `${key}.v2.json`],
      otherOrder: false,
    });
    const small = new FsLayerCache({ dir, maxBytes: 1 });
    await small.evict();
    expect(await readdir(dir)).toEqual([]);
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
    await writeFile(join(dir, `${k('f')}.v2.json`), 'not json');
    expect(await cache.get(k('f'))).toBeUndefined();
    // a format-1 entry of the same key is not read, and is evicted like any entry
    await writeFile(join(dir, `${k('e')}.json.gz`), gzipSync(JSON.stringify(analysis('e'))));
    expect(await cache.get(k('e'))).toBeUndefined();
    // incompressible padding so each entry is ~1 KB on disk
    const noisy = (id: string) => {
      const a = analysis(id);
      a.files[0]!.result.unknowns![0]!.message = randomBytes(900).toString('base64');
      return a;
    };
    await cache.put(k('a'), noisy('a'));
    await new Promise((r) => setTimeout(r, 20));
    await cache.put(k('b'), noisy('b'));
    expect((await readdir(dir)).sort()).toEqual([`${k('b')}.v2.json`]);
  });

  it('rejects keys that are not hex digests', async () => {
    const cache = new FsLayerCache({ dir: tmpdir() });
    await expect(cache.put('../../etc/passwd', analysis('x'))).rejects.toMatchObject({
      code: 'ENG_INVALID_ARGUMENT',
    });
  });
});
