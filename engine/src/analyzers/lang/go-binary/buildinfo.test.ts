import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { inputFromBuffer } from '../../types.js';
import { makeElf } from '../binary-format/testdata/make-elf.js';
import { goBinaryAnalyzer } from './index.js';
import { inlineBlob, pointerBlob, wrapModinfo } from './testdata/make-buildinfo.js';

const analyze = (buf: Buffer) => goBinaryAnalyzer.analyze(inputFromBuffer('usr/bin/app', buf, 0o755));
const pkg = (name: string, version: string, main = false) => ({
  name,
  version,
  ecosystem: 'golang',
  foundBy: 'lang/go-binary',
  ...(main ? { metadata: { mainModule: true } } : {}),
});

// A Go 1.16-style modinfo (no `go` line): main module, two deps, one replaced by a newer version.
const LEGACY = wrapModinfo(
  [
    'path\texample.com/legacy/cmd/legacy',
    'mod\texample.com/legacy\tv1.0.0\th1:main=',
    'dep\tgithub.com/pkg/errors\tv0.9.1\th1:errs=',
    'dep\tgolang.org/x/text\tv0.3.0\th1:old=',
    '=>\tgolang.org/x/text\tv0.3.7\th1:new=',
    '',
  ].join('\n'),
);
const LEGACY_PKGS = [
  pkg('example.com/legacy', 'v1.0.0', true),
  pkg('github.com/pkg/errors', 'v0.9.1'),
  pkg('golang.org/x/text', 'v0.3.7'),
  pkg('stdlib', 'v1.16.5'),
];

// A Go 1.22-style modinfo with a boringcrypto toolchain and a stamped version under <main>/cmd/.
const MODERN = wrapModinfo(
  [
    'go\tgo1.22.3 X:boringcrypto',
    'path\tgithub.com/acme/tool/cmd/tool',
    'mod\tgithub.com/acme/tool\t(devel)\t',
    'dep\tgolang.org/x/sys\tv0.20.0\th1:sys=',
    `build\t-ldflags="-s -w -X 'github.com/acme/tool/cmd/tool/version.Version=2.0.1' -X main.version=9.9.9"`,
    'build\tGOOS=linux',
    '',
  ].join('\n'),
);
const MODERN_PKGS = [
  pkg('github.com/acme/tool', 'v2.0.1', true),
  pkg('golang.org/x/sys', 'v0.20.0'),
  pkg('stdlib', 'v1.22.3'),
];

const legacy64 = makeElf({
  sections: [{ name: '.go.buildinfo', ...pointerBlob(8, false, 'go1.16.5', LEGACY) }],
});
const legacy32be = makeElf({
  bits: 32,
  bigEndian: true,
  sections: [
    { name: '.text', data: Buffer.alloc(40, 0x90) },
    { name: '.go.buildinfo', ...pointerBlob(4, true, 'go1.16.5', LEGACY) },
  ],
});
const modern = makeElf({
  sections: [{ name: '.go.buildinfo', data: inlineBlob('go1.22.3 X:boringcrypto', MODERN) }],
});
const sectionless = makeElf({
  sectionHeaders: false,
  sections: [{ name: '', data: inlineBlob('go1.22.3 X:boringcrypto', MODERN) }],
});

describe('Go build info in synthetic ELF files', () => {
  it('decodes the pointer layout (Go < 1.18), 64-bit little endian', async () => {
    expect(await analyze(legacy64)).toEqual({ packages: LEGACY_PKGS });
  });

  it('decodes the pointer layout, 32-bit big endian', async () => {
    expect(await analyze(legacy32be)).toEqual({ packages: LEGACY_PKGS });
  });

  it('decodes the inline layout (Go ≥ 1.18) and strips the experiment suffix', async () => {
    expect(await analyze(modern)).toEqual({ packages: MODERN_PKGS });
  });

  it('finds the blob in the data segment when there are no section headers', async () => {
    expect(await analyze(sectionless)).toEqual({ packages: MODERN_PKGS });
  });

  it('reports only stdlib when the modinfo has no sentinels (GOPATH-mode build)', async () => {
    const elf = makeElf({
      sections: [{ name: '.go.buildinfo', data: inlineBlob('go1.20.1', Buffer.from('junk')) }],
    });
    expect(await analyze(elf)).toEqual({ packages: [pkg('stdlib', 'v1.20.1')] });
  });

  it('reports no stdlib for a development toolchain', async () => {
    const elf = makeElf({
      sections: [{ name: '.go.buildinfo', data: inlineBlob('devel go1.23-abcdef', Buffer.alloc(0)) }],
    });
    expect(await analyze(elf)).toEqual({ packages: [] });
  });

  it('ignores non-Go ELF files and non-ELF files', async () => {
    const cElf = makeElf({
      sections: [
        { name: '.text', data: Buffer.alloc(64, 0xc3) },
        { name: '.data', data: Buffer.alloc(64) },
      ],
    });
    expect([await analyze(cElf), await analyze(Buffer.from('#!/bin/sh\necho hi\n'))]).toEqual([{}, {}]);
  });

  it('turns a damaged blob into an unknown', async () => {
    const truncated = inlineBlob('go1.21.0', MODERN).subarray(0, 60);
    const badPtr = Buffer.from(inlineBlob('go1.21.0', MODERN));
    badPtr[14] = 3;
    badPtr[15] = 0;
    const unmapped = pointerBlob(8, false, 'go1.16.5', LEGACY);
    const results = await Promise.all([
      analyze(makeElf({ sections: [{ name: '.go.buildinfo', data: truncated }] })),
      analyze(makeElf({ sections: [{ name: '.go.buildinfo', data: badPtr }] })),
      // pointers computed for another address: nothing maps them
      analyze(
        makeElf({
          sections: [
            { name: '.go.buildinfo', size: unmapped.size, data: (a) => unmapped.data(a + 0x100000) },
          ],
        }),
      ),
    ]);
    const unknown = (message: string) => ({
      unknowns: [{ path: 'usr/bin/app', message, source: 'lang/go-binary' }],
    });
    expect(results).toEqual([
      unknown('Go build info: truncated string'),
      unknown('Go build info: invalid pointer size 3'),
      unknown('Go build info: string header is outside the file'),
    ]);
  });

  it('never rejects on 12,000 mutated ELF files', async () => {
    const failures = await fuzz([legacy64, legacy32be, modern, sectionless], 12_000, (input) =>
      analyze(input),
    );
    expect(failures).toEqual([]);
  });
});
