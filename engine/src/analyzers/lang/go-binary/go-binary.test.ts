import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGo, goToolchainVersion, hasGo, writeGoProxy } from '../../../../../test/support/build-go.js';
import { inputFromBuffer } from '../../types.js';
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

  it('ignores a non-Go ELF (the node executable) without an unknown', async () => {
    const node = readFileSync(process.execPath);
    if (node.readUInt32BE(0) !== 0x7f454c46) return expect(node.length).toBeGreaterThan(0);
    const result = await goBinaryAnalyzer.analyze(inputFromBuffer('usr/bin/node', node, 0o755));
    expect(result).toEqual({});
  });
});
