import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { inputFromBuffer, type AnalysisResult } from '../../types.js';
import { dpkgFilesAnalyzer } from './index.js';

const TESTDATA = join(import.meta.dirname, 'testdata');

async function analyze(path: string, content: Buffer | string): Promise<AnalysisResult> {
  return dpkgFilesAnalyzer.analyze(inputFromBuffer(path, Buffer.from(content)));
}

describe('dpkgFilesAnalyzer.required', () => {
  it.each([
    ['var/lib/dpkg/info/libc6:amd64.list', true],
    ['var/lib/dpkg/info/base-files.list', true],
    ['var/lib/dpkg/info/.list', false],
    ['var/lib/dpkg/info/base-files.md5sums', false],
    ['var/lib/dpkg/info/base-files.conffiles', false],
    ['var/lib/dpkg/info/sub/x.list', false],
    ['var/lib/dpkg/status.d/libsqlite3-0.md5sums', true],
    ['var/lib/dpkg/status.d/.md5sums', false],
    ['var/lib/dpkg/status.d/libsqlite3-0', false],
    ['var/lib/dpkg/status', false],
    ['/var/lib/dpkg/info/base-files.list', false],
  ])('%s → %s', (path, expected) => {
    expect(dpkgFilesAnalyzer.required(path)).toBe(expected);
  });
});

describe('dpkgFilesAnalyzer.analyze', () => {
  const listPath = 'var/lib/dpkg/info/zlib1g:amd64.list';
  const zlibList = readFileSync(join(TESTDATA, 'files', listPath), 'utf8');
  const zlibFiles: AnalysisResult = {
    // every line of the file without its leading slash, `/.` (the root) dropped
    ownedFiles: [
      'usr',
      'usr/lib',
      'usr/lib/x86_64-linux-gnu',
      'usr/lib/x86_64-linux-gnu/libz.so.1.2.13',
      'usr/share',
      'usr/share/doc',
      'usr/share/doc/zlib1g',
      'usr/share/doc/zlib1g/changelog.Debian.gz',
      'usr/share/doc/zlib1g/copyright',
      'usr/lib/x86_64-linux-gnu/libz.so.1',
    ],
    unknowns: [],
  };

  it('reads a .list file', async () => {
    expect(await analyze(listPath, zlibList)).toEqual(zlibFiles);
  });

  it('reads a CRLF .list file the same way', async () => {
    expect(await analyze(listPath, zlibList.replace(/\n/g, '\r\n'))).toEqual(zlibFiles);
  });

  it('normalises odd .list lines and refuses paths above the root', async () => {
    const path = 'var/lib/dpkg/info/odd.list';
    expect(await analyze(path, readFileSync(join(TESTDATA, 'files', path)))).toEqual({
      ownedFiles: ['usr/bin/tool', 'relative/path', 'opt/app'],
      unknowns: [{ path, message: '1 unreadable .list line(s), first: "/../../etc/shadow"' }],
    });
  });

  it.each<[string, string, AnalysisResult]>([
    ['empty', '', { ownedFiles: [], unknowns: [] }],
    [
      'binary-mode line',
      'd41d8cd98f00b204e9800998ecf8427e *usr/bin/x\n',
      { ownedFiles: ['usr/bin/x'], unknowns: [] },
    ],
    [
      'malformed lines',
      'nothex  usr/a\nd41d8cd98f00b204e9800998ecf8427e  usr/b\nd41d8cd98f00b204e9800998ecf8427e usr/c\n',
      {
        ownedFiles: ['usr/b'],
        unknowns: [
          {
            path: 'var/lib/dpkg/status.d/x.md5sums',
            message: '2 unreadable .md5sums line(s), first: "nothex  usr/a"',
          },
        ],
      },
    ],
  ])('md5sums: %s', async (_name, content, expected) => {
    expect(await analyze('var/lib/dpkg/status.d/x.md5sums', content)).toEqual(expected);
  });
});

describe.skipIf(!hasRealdata)('dpkgFilesAnalyzer.analyze on realdata', () => {
  it.each<[string, string, string[]]>([
    [
      'syft-distroless-status.d-libsqlite3-0.md5sums',
      'var/lib/dpkg/status.d/libsqlite3-0.md5sums',
      [
        'usr/lib/aarch64-linux-gnu/libsqlite3.so.0.8.6',
        'usr/share/doc/libsqlite3-0/README.Debian',
        'usr/share/doc/libsqlite3-0/changelog.Debian.gz',
        'usr/share/doc/libsqlite3-0/changelog.gz',
        'usr/share/doc/libsqlite3-0/changelog.html.gz',
        'usr/share/doc/libsqlite3-0/copyright',
      ],
    ],
    [
      // an info/*.md5sums file, read here as if it were a status.d one (same format)
      'syft-image-dpkg-libpam-runtime.md5sums',
      'var/lib/dpkg/status.d/libpam-runtime.md5sums',
      [
        'lib/x86_64-linux-gnu/libz.so.1.2.11',
        'usr/share/doc/zlib1g/changelog.Debian.gz',
        'usr/share/doc/zlib1g/changelog.gz',
        'usr/share/doc/zlib1g/copyright',
      ],
    ],
  ])('%s', async (file, path, ownedFiles) => {
    expect(await analyze(path, readFileSync(realdata(`pkgdb/dpkg/${file}`)))).toEqual({
      ownedFiles,
      unknowns: [],
    });
  });
});

describe.skipIf(!hasRealdata)('dpkgFilesAnalyzer fuzz', () => {
  it('never rejects; owned paths are image-relative, normalised and unique', async () => {
    const seeds = [
      readFileSync(realdata('pkgdb/dpkg/syft-distroless-status.d-libsqlite3-0.md5sums')),
      readFileSync(realdata('pkgdb/dpkg/syft-image-dpkg-libpam-runtime.md5sums')),
      readFileSync(join(TESTDATA, 'files/var/lib/dpkg/info/zlib1g:amd64.list')),
      readFileSync(join(TESTDATA, 'files/var/lib/dpkg/info/odd.list')),
    ];
    const check = (result: AnalysisResult) => {
      const files = result.ownedFiles ?? [];
      if (new Set(files).size !== files.length) throw new Error('duplicate owned file');
      for (const f of files) {
        if (f === '' || f.startsWith('/') || f.endsWith('/') || f.includes('\0'))
          throw new Error(`bad path ${f}`);
        if (f.split('/').some((s) => s === '' || s === '.' || s === '..')) throw new Error(`bad path ${f}`);
      }
    };
    const failures = await fuzz(seeds, 12_000, async (input) => {
      check(await analyze('var/lib/dpkg/info/p.list', input));
      check(await analyze('var/lib/dpkg/status.d/p.md5sums', input));
    });
    expect(failures).toEqual([]);
  });
});
