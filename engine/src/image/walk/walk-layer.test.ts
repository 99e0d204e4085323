import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import * as tar from 'tar-stream';
import { compress as zstdCompress } from 'zstd-napi';
import { defineAnalyzer } from '../../analyzers/types.js';
import { isEngineError } from '../../errors.js';
import { fuzz } from '../../../../test/support/fuzz.js';
import { mergeLayers } from '../../scan/merge.js';
import { walkLayer } from './walk-layer.js';

/** A real analyzer for tests: every `*.pkg` file holds `name version` and yields that package. */
const pkgAnalyzer = defineAnalyzer({
  name: 'test/pkg',
  version: 1,
  tags: ['lang', 'installed'],
  required: (path: string) => path.endsWith('.pkg') || path === 'etc/os-release',
  analyze: async ({ path, content }) => {
    const text = (await content.read()).toString('utf8').trim();
    if (path === 'etc/os-release') return { os: { family: 'test', version: text } };
    const [name, version] = text.split(' ');
    if (!name || !version) throw new Error('bad pkg file');
    return { packages: [{ name, version, ecosystem: 'npm' as const, foundBy: 'test/pkg' }] };
  },
});

type Entry = {
  name: string;
  body?: string;
  type?: 'file' | 'symlink' | 'link' | 'directory';
  linkname?: string;
  mode?: number;
};

async function makeTar(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve) => pack.on('end', resolve));
  for (const e of entries) {
    const type = e.type ?? 'file';
    if (type === 'file') pack.entry({ name: e.name, mode: e.mode ?? 0o644 }, e.body ?? '');
    else pack.entry({ name: e.name, type, linkname: e.linkname, mode: 0o755 });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

const walk = (buf: Buffer, diffId = 'sha256:l1', limits = {}) =>
  walkLayer(Readable.from([buf]), { diffId, analyzers: [pkgAnalyzer], limits });

const summary = (r: Awaited<ReturnType<typeof walk>>) => ({
  files: r.files.map((f) => [f.path, f.result]),
  whiteouts: r.whiteouts,
  opaqueDirs: r.opaqueDirs,
  symlinks: r.symlinks,
  unknowns: r.unknowns.map((u) => [u.path, u.message]),
  complete: r.complete,
});

describe('walkLayer', () => {
  it('finds wanted files in plain, gzip and zstd layers alike', async () => {
    const raw = await makeTar([
      { name: 'app/a.pkg', body: 'a 1.0' },
      { name: 'app/readme', body: 'x' },
    ]);
    const expected = {
      files: [
        ['app/a.pkg', { packages: [{ name: 'a', version: '1.0', ecosystem: 'npm', foundBy: 'test/pkg' }] }],
      ],
      whiteouts: [],
      opaqueDirs: [],
      symlinks: {},
      unknowns: [],
      complete: true,
    };
    expect(summary(await walk(raw))).toEqual(expected);
    expect(summary(await walk(gzipSync(raw)))).toEqual(expected);
    expect(summary(await walk(zstdCompress(raw)))).toEqual(expected);
  });

  it('records whiteouts, opaque dirs and symlinks, and normalises names', async () => {
    const raw = await makeTar([
      { name: './etc/.wh.old.pkg' },
      { name: 'var/cache/.wh..wh..opq' },
      { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
      { name: '/usr//lib/./x.pkg', body: 'x 2' },
    ]);
    expect(summary(await walk(raw))).toEqual({
      files: [
        ['usr/lib/x.pkg', { packages: [{ name: 'x', version: '2', ecosystem: 'npm', foundBy: 'test/pkg' }] }],
      ],
      whiteouts: ['etc/old.pkg'],
      opaqueDirs: ['var/cache'],
      symlinks: { 'etc/os-release': '../usr/lib/os-release' },
      unknowns: [],
      complete: true,
    });
  });

  it('refuses entries that leave the root and keeps going', async () => {
    const raw = await makeTar([
      { name: '.', type: 'directory' }, // the root entry umoci writes: not an escape
      { name: './', type: 'directory' },
      { name: '../../etc/evil.pkg', body: 'evil 1' },
      { name: 'ok.pkg', body: 'ok 1' },
    ]);
    const r = summary(await walk(raw));
    expect(r.files.map((f) => f[0])).toEqual(['ok.pkg']);
    expect(r.unknowns).toEqual([['../../etc/evil.pkg', 'entry name leaves the image root; skipped']]);
  });

  it('analyzes hard links with their target content and reports analyzer failures as unknowns', async () => {
    const raw = await makeTar([
      { name: 'a.pkg', body: 'a 1' },
      { name: 'b.pkg', type: 'link', linkname: 'a.pkg' },
      { name: 'c.pkg', body: 'garbage' },
    ]);
    const r = summary(await walk(raw));
    // c.pkg yields nothing but is recorded: it hides lower-layer versions of itself
    expect(r.files.map((f) => [f[0], Object.keys(f[1] as object)])).toEqual([
      ['a.pkg', ['packages']],
      ['b.pkg', ['packages']],
      ['c.pkg', []],
    ]);
    expect(r.unknowns).toEqual([['c.pkg', 'test/pkg failed: bad pkg file']]);
  });

  it('spools large files to disk and reads them back', async () => {
    const body = 'big 9.9' + ' '.repeat(70_000);
    const raw = await makeTar([{ name: 'big.pkg', body }]);
    const r = await walk(raw, 'sha256:l1', { spoolThreshold: 1024 });
    expect(r.files.map((f) => f.result.packages?.[0]?.name)).toEqual(['big']);
  });

  it('skips files over the size cap with an unknown', async () => {
    const raw = await makeTar([{ name: 'huge.pkg', body: 'h 1' + 'x'.repeat(5000) }]);
    const r = summary(await walk(raw, 'sha256:l1', { maxFileSize: 100 }));
    expect(r.unknowns).toEqual([['huge.pkg', 'file of 5003 bytes exceeds the 100-byte cap; skipped']]);
  });

  it('stops a decompression bomb at the layer cap', async () => {
    const bomb = gzipSync(await makeTar([{ name: 'zeros', body: '\0'.repeat(20 * 1024 * 1024) }]));
    expect(bomb.length).toBeLessThan(100_000);
    const err = await walk(bomb, 'sha256:l1', { maxLayerBytes: 1024 * 1024 }).catch((e: unknown) => e);
    expect(isEngineError(err) && err.code).toBe('ENG_LAYER_TOO_LARGE');
  });

  it('keeps what it read from a truncated gzip layer and marks it incomplete', async () => {
    const raw = await makeTar([
      { name: 'a.pkg', body: 'a 1' },
      { name: 'pad', body: 'p'.repeat(200_000) },
    ]);
    const gz = gzipSync(raw);
    const r = await walk(gz.subarray(0, Math.floor(gz.length / 2)));
    expect(r.complete).toBe(false);
    expect(r.files.map((f) => f.path)).toEqual(['a.pkg']);
    expect(r.unknowns[0]?.message).toMatch(/^ENG_LAYER_CORRUPT: layer sha256:l1 is corrupt/);
  });

  it('marks a layer that is not a tar as incomplete instead of failing', async () => {
    const r = await walk(Buffer.from('this is not a tar archive at all, just text'.repeat(20)));
    expect({
      complete: r.complete,
      files: r.files.length,
      code: r.unknowns[0]?.message.split(':')[0],
    }).toEqual({
      complete: false,
      files: 0,
      code: 'ENG_LAYER_CORRUPT',
    });
  });

  it('reports bzip2 and xz layers as unsupported compression, not as corrupt tars', async () => {
    const bz = await walk(Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(64)]));
    const xz = await walk(
      Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(64)]),
    );
    expect([bz, xz].map((r) => [r.complete, r.unknowns.map((u) => u.message)])).toEqual([
      [
        false,
        [
          'ENG_LAYER_COMPRESSION_UNSUPPORTED: bzip2 layers are not supported (OCI layers are gzip, zstd or plain tar)',
        ],
      ],
      [
        false,
        [
          'ENG_LAYER_COMPRESSION_UNSUPPORTED: xz layers are not supported (OCI layers are gzip, zstd or plain tar)',
        ],
      ],
    ]);
  });

  it('honours an aborted signal', async () => {
    const raw = await makeTar([{ name: 'a.pkg', body: 'a 1' }]);
    const controller = new AbortController();
    controller.abort();
    const err = await walkLayer(Readable.from([raw]), {
      diffId: 'x',
      analyzers: [pkgAnalyzer],
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(isEngineError(err) && err.code).toBe('ENG_ABORTED');
  });

  it('never rejects on mutated layers except with coded errors (fuzz, 10,000 cases)', async () => {
    const seeds = [
      await makeTar([
        { name: 'a.pkg', body: 'a 1' },
        { name: 'etc/.wh.x' },
        { name: 'l', type: 'symlink', linkname: '/etc/os-release' },
        { name: 'etc/os-release', body: '1.0' },
        { name: 'h.pkg', type: 'link', linkname: 'a.pkg' },
      ]),
    ];
    seeds.push(gzipSync(seeds[0]!));
    const failures = await fuzz(
      seeds,
      10_000,
      async (input) => {
        const r = await walk(input);
        mergeLayers([r]);
      },
      { allowed: (e) => isEngineError(e) && e.code === 'ENG_LAYER_TOO_LARGE' },
    );
    expect(failures.map((f) => String(f.error))).toEqual([]);
  }, 120_000);
});

describe('mergeLayers', () => {
  it('applies upper-layer replacements, whiteouts and opaque directories', async () => {
    const l1 = await walk(
      await makeTar([
        { name: 'etc/os-release', body: '1.0' },
        { name: 'app/a.pkg', body: 'a 1' },
        { name: 'app/b.pkg', body: 'b 1' },
        { name: 'opt/c.pkg', body: 'c 1' },
      ]),
      'sha256:one',
    );
    const l2 = await walk(
      await makeTar([
        { name: 'app/.wh.b.pkg' },
        { name: 'opt/.wh..wh..opq' },
        { name: 'opt/d.pkg', body: 'd 1' },
        { name: 'app/a.pkg', body: 'a 2' },
      ]),
      'sha256:two',
    );
    const merged = mergeLayers([l1, l2]);
    expect(merged.packages.map((p) => [p.name, p.version, p.path, p.layer])).toEqual([
      ['a', '2', 'app/a.pkg', 'sha256:two'],
      ['d', '1', 'opt/d.pkg', 'sha256:two'],
    ]);
    expect(merged.osCandidates).toEqual([{ family: 'test', version: '1.0' }]);
  });

  it('follows an os-release symlink inside the root, never outside it', async () => {
    const l1 = await walk(
      await makeTar([
        { name: 'usr/lib/os-release', body: '2.0' },
        { name: 'etc/os-release', type: 'symlink', linkname: '../../../../usr/lib/os-release' },
      ]),
    );
    const withRealFile = { ...l1, files: l1.files.map((f) => ({ ...f, path: f.path })) };
    // usr/lib/os-release is not wanted by the test analyzer, so give the merge a result for it by hand
    withRealFile.files.push({
      path: 'usr/lib/os-release',
      analyzer: 'test/pkg',
      result: { os: { family: 'test', version: '2.0' } },
    });
    expect(mergeLayers([withRealFile]).osCandidates).toEqual([
      { family: 'test', version: '2.0', source: 'etc/os-release -> ../../../../usr/lib/os-release' },
      { family: 'test', version: '2.0' },
    ]);
  });
});
