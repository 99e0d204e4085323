import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGo, goToolchainVersion, hasGo, writeGoProxy } from '../../../../../test/support/build-go.js';
import { inputFromBuffer, type FileContent } from '../../types.js';
import { goBinaryAnalyzer } from './index.js';

const TESTDATA = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

describe('goBinaryAnalyzer.required', () => {
  it('wants executable files of at least 64 KiB only', () => {
    expect([
      goBinaryAnalyzer.required('usr/bin/app', { mode: 0o755, size: 2_000_000 }),
      goBinaryAnalyzer.required('usr/bin/app', { mode: 0o100, size: 65_536 }),
      goBinaryAnalyzer.required('usr/bin/script', { mode: 0o755, size: 300 }),
      goBinaryAnalyzer.required('usr/share/data.bin', { mode: 0o644, size: 2_000_000 }),
    ]).toEqual([true, true, false, false]);
  });
});

describe.skipIf(!hasGo)('goBinaryAnalyzer on binaries built by the system go', () => {
  let work: string;
  let plain: Buffer;
  let stripped: Buffer;
  let stdlib: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'vigil-go-'));
    const goproxy = writeGoProxy(join(TESTDATA, 'proxy'), join(work, 'proxy'));
    const common = { sourceDir: TESTDATA, main: 'hello', goproxy };
    buildGo({ ...common, workDir: join(work, 'a'), output: join(work, 'hello') });
    buildGo({
      ...common,
      workDir: join(work, 'b'),
      output: join(work, 'hello-stripped'),
      ldflags: '-s -w -X main.version=1.4.2',
    });
    plain = readFileSync(join(work, 'hello'));
    stripped = readFileSync(join(work, 'hello-stripped'));
    // `go env GOVERSION` is what the toolchain stamps, e.g. go1.19.8 → stdlib v1.19.8
    stdlib = `v${goToolchainVersion().replace(/^go/, '').split(' ')[0]}`;
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  // Expected from testdata/hello/go.mod: greet from the proxy, localdep replaced by a directory
  // (no version), old replaced by the fork v0.9.1; main module built with `go build` → (devel).
  const deps = (main: string) => [
    {
      name: 'example.com/hello',
      version: main,
      ecosystem: 'golang',
      foundBy: 'lang/go-binary',
      metadata: { mainModule: true },
    },
    { name: 'example.com/greet', version: 'v1.2.3', ecosystem: 'golang', foundBy: 'lang/go-binary' },
    { name: '../localdep', version: '', ecosystem: 'golang', foundBy: 'lang/go-binary' },
    { name: 'example.com/fork', version: 'v0.9.1', ecosystem: 'golang', foundBy: 'lang/go-binary' },
    { name: 'stdlib', version: stdlib, ecosystem: 'golang', foundBy: 'lang/go-binary' },
  ];

  it('reads modules, replacements and the toolchain', async () => {
    const result = await goBinaryAnalyzer.analyze(inputFromBuffer('usr/local/bin/hello', plain, 0o755));
    expect(result).toEqual({ packages: deps('') });
  });

  it('reads a -s -w binary and takes the main version from -ldflags -X main.version', async () => {
    const result = await goBinaryAnalyzer.analyze(inputFromBuffer('app/hello', stripped, 0o755));
    expect(result).toEqual({ packages: deps('v1.4.2') });
  });

  it('finds the build info through the data segment when the section headers are removed (sstrip)', async () => {
    const sstripped = Buffer.from(plain);
    // ELF64 little endian (GOOS=linux on amd64/arm64): e_shoff at 40, e_shnum at 60, e_shstrndx at 62
    sstripped.writeBigUInt64LE(0n, 40);
    sstripped.writeUInt16LE(0, 60);
    sstripped.writeUInt16LE(0, 62);
    const result = await goBinaryAnalyzer.analyze(inputFromBuffer('usr/local/bin/hello', sstripped, 0o755));
    expect(result).toEqual({ packages: deps('') });
  });

  it('ignores a non-Go ELF (the node executable, read through readAt only) without an unknown', async () => {
    const fd = openSync(process.execPath, 'r');
    try {
      const size = fstatSync(fd).size;
      const content: FileContent = {
        size,
        read: () => Promise.reject(new Error('whole-file read not expected')),
        readAt: (offset, length) => {
          const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
          readSync(fd, buf, 0, buf.length, offset);
          return Promise.resolve(buf);
        },
      };
      const result = await goBinaryAnalyzer.analyze({ path: 'usr/bin/node', size, mode: 0o755, content });
      // ELF on Linux; on macOS node is Mach-O, which is ignored the same way
      expect(result).toEqual({});
    } finally {
      closeSync(fd);
    }
  });
});
