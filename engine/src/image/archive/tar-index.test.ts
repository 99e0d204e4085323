import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexTar, type TarIndex } from './tar-index.js';
import { parseNumeric, parsePax } from './tar-header.js';
import { header, paxRecord, tar } from './testdata/tar-writer.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vigil-tar-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function writeTmp(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(work, name);
  await writeFile(path, bytes);
  return path;
}

async function bodyOf(index: TarIndex, name: string): Promise<string> {
  const e = index.resolve(name);
  if (!e) return '<missing>';
  const all = await readFile(index.path);
  return all.subarray(e.offset, e.offset + e.size).toString('utf8');
}

describe('tar header fields', () => {
  it('decodes octal (space/NUL terminated, leading spaces) and GNU base-256 numbers', () => {
    const octal = Buffer.from(' 0000017 \0');
    expect(parseNumeric(octal, 0, octal.length)).toBe(15);
    const b256 = Buffer.alloc(12);
    b256[0] = 0x80;
    b256.writeUIntBE(8 * 1024 ** 3 + 1, 6, 6); // 2^33 + 1 does not fit 11 octal digits
    expect(parseNumeric(b256, 0, 12)).toBe(8589934593);
    expect(() => parseNumeric(Buffer.from('12x4'), 0, 4)).toThrow(/invalid octal/);
  });

  it('parses pax records and keeps the values after "="', () => {
    const body = Buffer.from(paxRecord('path', 'a/b=c') + paxRecord('size', '42') + 'garbage');
    expect(parsePax(body)).toEqual({ path: 'a/b=c', size: '42' });
  });
});

describe('indexTar on archives written by GNU tar', () => {
  const long = `deep/${'d'.repeat(90)}/${'n'.repeat(60)}.txt`; // 160 chars: needs a long-name mechanism
  const files: Record<string, string> = {
    'short.txt': 'short body\n',
    [long]: 'long body\n',
    'dir/empty': '',
  };

  for (const format of ['gnu', 'pax', 'ustar', 'posix']) {
    it(`finds every file body at its offset (--format=${format})`, async () => {
      const src = join(work, `src-${format}`);
      for (const [name, body] of Object.entries(files)) {
        await mkdir(join(src, name, '..'), { recursive: true });
        await writeFile(join(src, name), body);
      }
      const out = join(work, `${format}.tar`);
      execFileSync('tar', ['-C', src, `--format=${format}`, '-cf', out, 'short.txt', long, 'dir']);
      const index = await indexTar(out);
      const bodies: Record<string, string> = {};
      for (const name of Object.keys(files)) bodies[name] = await bodyOf(index, name);
      expect(bodies).toEqual(files);
      expect(index.entries.get('dir')?.type).toBe('dir');
    });
  }
});

describe('indexTar on hand-written headers', () => {
  it('applies the ustar prefix, GNU long names and pax paths (local over global)', async () => {
    const path = await writeTmp(
      'meta.tar',
      tar([
        { name: 'file.txt', prefix: 'some/prefix', body: 'prefixed' },
        { name: '././@LongLink', type: 'L', body: `gnu/${'l'.repeat(120)}\0` },
        { name: 'truncated-name', body: 'gnu long' },
        { name: 'pax_global_header', type: 'g', body: paxRecord('comment', 'x') },
        { name: 'PaxHeaders/x', type: 'x', body: paxRecord('path', 'pax/ünïcode name.txt') },
        { name: 'short', body: 'pax long' },
      ]),
    );
    const index = await indexTar(path);
    expect([...index.entries.keys()]).toEqual([
      'some/prefix/file.txt',
      `gnu/${'l'.repeat(120)}`,
      'pax/ünïcode name.txt',
    ]);
    expect(await bodyOf(index, 'pax/ünïcode name.txt')).toBe('pax long');
    expect(await bodyOf(index, `gnu/${'l'.repeat(120)}`)).toBe('gnu long');
  });

  it('seeks past a base-256 sized 8 GiB body without reading it (sparse file)', async () => {
    const size = 8 * 1024 ** 3 + 5;
    const path = join(work, 'big.tar');
    const fh = await open(path, 'w');
    try {
      await fh.write(header({ name: 'big.bin', size, base256: true }), 0, 512, 0);
      const next = 512 + Math.ceil(size / 512) * 512;
      await fh.write(header({ name: 'after.txt', body: 'after' }), 0, 512, next);
      await fh.write(Buffer.from('after'), 0, 5, next + 512);
      await fh.truncate(next + 1024 + 1024);
    } finally {
      await fh.close();
    }
    const index = await indexTar(path);
    expect(index.entries.get('big.bin')).toEqual({
      name: 'big.bin',
      type: 'file',
      offset: 512,
      size,
      linkname: '',
    });
    expect(index.entries.get('after.txt')?.offset).toBe(512 + Math.ceil(size / 512) * 512 + 512);
  });

  it('leaves out absolute and ../ names, so lookups cannot reach them', async () => {
    const path = await writeTmp(
      'evil.tar',
      tar([
        { name: '../evil', body: 'x' },
        { name: '/etc/passwd', body: 'x' },
        { name: 'a/../../b', body: 'x' },
        { name: './ok//fine', body: 'ok' },
      ]),
    );
    const index = await indexTar(path);
    expect([...index.entries.keys()]).toEqual(['ok/fine']);
    expect([index.resolve('../evil'), index.resolve('/etc/passwd'), index.resolve('b')]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(await bodyOf(index, 'ok/fine')).toBe('ok');
  });

  it('follows in-archive symlinks and hard links, never out of the archive or in a loop', async () => {
    const path = await writeTmp(
      'links.tar',
      tar([
        { name: 'blob.tar', body: 'layer' },
        { name: 'id1/layer.tar', type: '2', linkname: '../blob.tar' },
        { name: 'id2/layer.tar', type: '1', linkname: 'blob.tar' },
        { name: 'escape', type: '2', linkname: '../../etc/passwd' },
        { name: 'absolute', type: '2', linkname: '/etc/passwd' },
        { name: 'loop1', type: '2', linkname: 'loop2' },
        { name: 'loop2', type: '2', linkname: 'loop1' },
      ]),
    );
    const index = await indexTar(path);
    expect(await bodyOf(index, 'id1/layer.tar')).toBe('layer');
    expect(await bodyOf(index, 'id2/layer.tar')).toBe('layer');
    expect([index.resolve('escape'), index.resolve('absolute'), index.resolve('loop1')]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('accepts an archive without end-of-archive blocks', async () => {
    const index = await indexTar(
      await writeTmp('noend.tar', tar([{ name: 'a', body: 'abc' }], { end: false })),
    );
    expect(await bodyOf(index, 'a')).toBe('abc');
  });
});

describe('indexTar on hostile or foreign files', () => {
  const whole = tar([
    { name: 'first', body: 'x'.repeat(600) },
    { name: 'second', body: 'y' },
  ]);

  it.each([
    // first: header at 0, 600-byte body padded to 1024 at 512; second header at 1536
    [
      'truncated in a body',
      whole.subarray(0, 700),
      'ENG_IMAGE_ARCHIVE_CORRUPT',
      /truncated: entry at offset 0 needs 1024 bytes, 188 remain/,
    ],
    [
      'truncated in the padding',
      whole.subarray(0, 1200),
      'ENG_IMAGE_ARCHIVE_CORRUPT',
      /truncated: entry at offset 0 needs 1024 bytes, 688 remain/,
    ],
    [
      'truncated in a header',
      whole.subarray(0, 1536 + 100),
      'ENG_IMAGE_ARCHIVE_CORRUPT',
      /truncated tar header at offset 1536/,
    ],
    [
      'a JSON file',
      Buffer.from(JSON.stringify({ hello: 'x'.repeat(600) })),
      'ENG_IMAGE_FORMAT_UNKNOWN',
      /not a tar archive/,
    ],
    ['a short text file', Buffer.from('hello'), 'ENG_IMAGE_FORMAT_UNKNOWN', /shorter than one block/],
    ['an empty file', Buffer.alloc(0), 'ENG_IMAGE_FORMAT_UNKNOWN', /empty file/],
    [
      'a bad checksum after the first entry',
      tar([
        { name: 'a', body: 'a' },
        { name: 'b', badChecksum: true },
      ]),
      'ENG_IMAGE_ARCHIVE_CORRUPT',
      /bad tar header at offset 1024: header checksum mismatch/,
    ],
  ])('rejects %s', async (_case, bytes, code, message) => {
    const path = await writeTmp(`hostile-${code}-${bytes.length}.tar`, bytes);
    await expect(indexTar(path)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });
});
