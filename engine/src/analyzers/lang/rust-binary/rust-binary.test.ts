import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { inputFromBuffer } from '../../types.js';
import { makeElf } from '../binary-format/testdata/make-elf.js';
import { rustBinaryAnalyzer } from './index.js';

const analyze = (buf: Buffer) =>
  rustBinaryAnalyzer.analyze(inputFromBuffer('usr/local/bin/myapp', buf, 0o755));

// Shaped like `cargo auditable build` output (testdata/audit-data.json): runtime deps have no "kind", the root
// crate has "root": true, build-only deps (cc for a build script) have "kind": "build", one entry lacks a version.
const AUDIT: unknown = JSON.parse(
  readFileSync(new URL('./testdata/audit-data.json', import.meta.url), 'utf8'),
);
const depSection = (doc: unknown) => ({ name: '.dep-v0', data: deflateSync(JSON.stringify(doc)) });
const auditable = makeElf({ sections: [{ name: '.text', data: Buffer.alloc(32, 0xc3) }, depSection(AUDIT)] });
const auditable32be = makeElf({ bits: 32, bigEndian: true, sections: [depSection(AUDIT)] });

const pkg = (name: string, version: string, root = false) => ({
  name,
  version,
  ecosystem: 'cargo',
  foundBy: 'lang/rust-binary',
  ...(root ? { metadata: { root: true } } : {}),
});
const unknown = (message: string) => ({
  unknowns: [
    { path: 'usr/local/bin/myapp', message: `cargo-auditable data: ${message}`, source: 'lang/rust-binary' },
  ],
});

describe('rustBinaryAnalyzer', () => {
  it('has the binary gate', () => {
    expect([
      rustBinaryAnalyzer.required('usr/bin/app', { mode: 0o755, size: 500_000 }),
      rustBinaryAnalyzer.required('usr/lib/app.a', { mode: 0o644, size: 500_000 }),
    ]).toEqual([true, false]);
  });

  it('reports runtime crates and the root crate, not build dependencies or entries without a version', async () => {
    const expected = {
      packages: [pkg('adler', '1.0.2'), pkg('libc', '0.2.150'), pkg('myapp', '0.1.0', true)],
    };
    expect([await analyze(auditable), await analyze(auditable32be)]).toEqual([expected, expected]);
  });

  it('ignores ELF files without .dep-v0 and non-ELF files', async () => {
    const plain = makeElf({ sections: [{ name: '.text', data: Buffer.alloc(32, 0xc3) }] });
    expect([await analyze(plain), await analyze(Buffer.from('not an elf at all'))]).toEqual([{}, {}]);
  });

  it('turns unreadable audit data into unknowns', async () => {
    const bad = (data: Buffer) => analyze(makeElf({ sections: [{ name: '.dep-v0', data }] }));
    const results = await Promise.all([
      bad(Buffer.from('not zlib')),
      bad(deflateSync('{"packages": [')),
      bad(deflateSync('{"crates": []}')),
      bad(deflateSync(Buffer.alloc(9 << 20, 0x20))),
      analyze(makeElf({ sections: [{ name: '.dep-v0', data: Buffer.alloc(16), type: 8 }] })),
    ]);
    expect(results).toEqual([
      unknown('cannot inflate: incorrect header check'),
      unknown('invalid JSON'),
      unknown('no "packages" array'),
      unknown('decompressed data over 8 MiB'),
      unknown('.dep-v0 section (16 bytes) is unreadable or too large'),
    ]);
  });

  it('never rejects on 10,000 mutated ELF files', async () => {
    const failures = await fuzz([auditable, auditable32be], 10_000, (input) => analyze(input));
    expect(failures).toEqual([]);
  });
});
