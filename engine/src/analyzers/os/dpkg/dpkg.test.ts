import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import type { Package } from '../../../model/package.js';
import { inputFromBuffer, type AnalysisResult } from '../../types.js';
import { dpkgAnalyzer, DPKG_PRESENT_STATES } from './index.js';

const TESTDATA = join(import.meta.dirname, 'testdata');

async function analyze(path: string, content: Buffer | string): Promise<AnalysisResult> {
  return dpkgAnalyzer.analyze(inputFromBuffer(path, Buffer.from(content)));
}

function deb(name: string, version: string, extra: Partial<Package> = {}): Package {
  return {
    name,
    version,
    ecosystem: 'deb',
    srcName: name,
    srcVersion: version,
    foundBy: 'os/dpkg',
    ...extra,
  };
}

describe('dpkgAnalyzer.required', () => {
  it.each([
    ['var/lib/dpkg/status', true],
    ['var/lib/dpkg/status.d/libsqlite3-0', true],
    ['var/lib/dpkg/status.d/base', true],
    ['var/lib/dpkg/status.d/libsqlite3-0.md5sums', false],
    ['var/lib/dpkg/status.d/.hidden', false],
    ['var/lib/dpkg/status.d/', false],
    ['var/lib/dpkg/status.d/sub/x', false],
    ['var/lib/dpkg/status-old', false],
    ['var/lib/dpkg/available', false],
    ['var/lib/dpkg/info/libc6:amd64.list', false],
    ['var/lib/opkg/status', false],
    ['/var/lib/dpkg/status', false],
    ['usr/var/lib/dpkg/status', false],
  ])('%s → %s', (path, expected) => {
    expect(dpkgAnalyzer.required(path)).toBe(expected);
  });
});

describe('dpkgAnalyzer.analyze on hand-written states', () => {
  const statusPath = 'var/lib/dpkg/status';
  const text = readFileSync(join(TESTDATA, 'states', statusPath), 'utf8');
  // dpkg-query --admindir on this file (bad-status paragraph removed) reports: ii st-installed,
  // hi st-hold, ri st-deinstall-still-installed, pc st-purge-config, iH st-half-installed,
  // iU st-unpacked, iF st-half-configured, iW st-triggers-awaited, it st-triggers-pending,
  // ii st-lowercase-fields (source plain-src 2.0); st-not-installed is not listed.
  const expected: AnalysisResult = {
    packages: [
      deb('st-installed', '1:2.0-1+b1', { srcName: 'st-src', srcVersion: '1:2.0-1', arch: 'amd64' }),
      deb('st-hold', '1.0', { arch: 'all' }),
      deb('st-deinstall-still-installed', '1.0'),
      deb('st-unpacked', '1.0'),
      deb('st-half-configured', '1.0'),
      deb('st-triggers-awaited', '1.0'),
      deb('st-triggers-pending', '1.0'),
      deb('st-lowercase-fields', '2.0', { srcName: 'plain-src' }),
    ],
    unknowns: [
      { path: statusPath, message: 'package "st-bad-status" (line 54): unreadable Status "installed"' },
      { path: statusPath, message: 'package "st-bad-version" (line 58): invalid Version' },
    ],
  };

  it('reports the packages whose files are on disk', async () => {
    expect(await analyze(statusPath, text)).toEqual(expected);
  });

  it('reads CRLF line ends the same way', async () => {
    expect(text.includes('\r')).toBe(false);
    expect(await analyze(statusPath, text.replace(/\n/g, '\r\n'))).toEqual(expected);
  });

  it('present states are the documented five plus the dpkg < 1.13 alias', () => {
    expect([...DPKG_PRESENT_STATES].sort()).toEqual(
      [
        'half-configured',
        'installed',
        'post-inst-failed',
        'triggers-awaited',
        'triggers-pending',
        'unpacked',
      ].sort(),
    );
  });

  const pkgs = (...packages: Package[]): AnalysisResult => ({ packages, unknowns: [] });
  const problem = (message: string): AnalysisResult => ({
    packages: [],
    unknowns: [{ path: statusPath, message }],
  });
  it.each<[string, string, AnalysisResult]>([
    ['empty file', '', pkgs()],
    ['blank lines only', '\n \n\t\n', pkgs()],
    ['no Package field', 'Version: 1\n', problem('paragraph at line 1: no Package')],
    [
      'Package with a blank',
      'Package: a b\nVersion: 1\n',
      problem('package "a b" (line 1): invalid Package'),
    ],
    [
      'Source without version',
      'Package: libc6\nSource: glibc\nVersion: 2.36-9\n',
      pkgs(deb('libc6', '2.36-9', { srcName: 'glibc' })),
    ],
    [
      'Source with version',
      'Package: libc-bin\nSource: glibc (2.36-9)\nVersion: 2.36-9+b1\n',
      pkgs(deb('libc-bin', '2.36-9+b1', { srcName: 'glibc', srcVersion: '2.36-9' })),
    ],
    [
      'malformed Source falls back to the binary',
      'Package: x\nSource: a (b\nVersion: 1\n',
      pkgs(deb('x', '1')),
    ],
    ['comment and junk lines are ignored', '# c\nPackage: x\njunk\nVersion: 1\n', pkgs(deb('x', '1'))],
    ['first of a repeated field wins', 'Package: x\nVersion: 1\nVersion: 2\n', pkgs(deb('x', '1'))],
    ['a UTF-8 BOM is skipped', '\uFEFFPackage: x\nVersion: 1\n', pkgs(deb('x', '1'))],
  ])('%s', async (_name, content, expected) => {
    expect(await analyze(statusPath, content)).toEqual(expected);
  });
});

describe.skipIf(!hasRealdata)('dpkgAnalyzer.analyze on realdata (hand-checked)', () => {
  const read = (f: string) => readFileSync(realdata(`pkgdb/dpkg/${f}`));
  const status = 'var/lib/dpkg/status';

  it.each<[string, string, AnalysisResult]>([
    [
      // paragraph 1 is "Package:" (empty), paragraph 2 "Package: no-version" has nothing else
      'syft-status-multiple',
      status,
      {
        packages: [
          deb('tzdata', '2020a-0+deb10u1', { srcName: 'tzdata-dev', arch: 'all' }),
          deb('util-linux', '2.33.1-0.1', { arch: 'amd64' }),
        ],
        unknowns: [
          { path: status, message: 'paragraph at line 1: no Package' },
          { path: status, message: 'package "no-version" (line 3): no Version' },
        ],
      },
    ],
    [
      // the second paragraph is "deinstall ok config-files"
      'syft-status-deinstall',
      status,
      {
        packages: [
          deb('linux-image-6.14.0-1012-aws', '6.14.0-1012.12~24.04.1', {
            srcName: 'linux-signed-aws-6.14',
            arch: 'amd64',
          }),
        ],
        unknowns: [],
      },
    ],
    [
      'syft-image-dpkg-status',
      status,
      {
        packages: [deb('libpam-runtime', '1.1.8-3.6', { srcName: 'pam', arch: 'all' })],
        unknowns: [{ path: status, message: 'paragraph at line 1: no Package' }],
      },
    ],
    [
      // distroless: no Status field at all
      'syft-distroless-status.d-libsqlite3-0',
      'var/lib/dpkg/status.d/libsqlite3-0',
      { packages: [deb('libsqlite3-0', '3.34.1-3', { srcName: 'sqlite3', arch: 'arm64' })], unknowns: [] },
    ],
    [
      'scalibr-status-transitional',
      status,
      { packages: [deb('git-core', '1:2.14.2-1', { srcName: 'git', arch: 'all' })], unknowns: [] },
    ],
    [
      'scalibr-status-valid',
      status,
      {
        packages: [
          deb('accountsservice', '22.08.8-6', { arch: 'amd64' }),
          deb('acl', '2.3.1-3', { arch: 'amd64' }),
          deb('adduser', '3.131', { arch: 'all' }),
          deb('admin-session', '2023.06.26.c543406313-00', { arch: 'amd64' }),
          deb('attr', '1:2.5.1-4', { arch: 'amd64' }),
          deb('libacl1', '2.3.1-3', { srcName: 'acl', arch: 'amd64' }),
          deb('util-linux-extra', '2.38.1-5+b1', {
            srcName: 'util-linux',
            srcVersion: '2.38.1-5',
            arch: 'amd64',
          }),
        ],
        unknowns: [],
      },
    ],
    [
      'syft-status-coreutils-relationships',
      'var/lib/dpkg/status.d/coreutils-relationships',
      {
        packages: [
          deb('coreutils', '9.1-1', { arch: 'arm64' }),
          deb('libacl1', '2.3.1-3', { srcName: 'acl', arch: 'arm64' }),
          deb('libc6', '2.36-9+deb12u1', { srcName: 'glibc', arch: 'arm64' }),
          deb('libgcc-s1', '12.2.0-14', { srcName: 'gcc-12', arch: 'arm64' }),
          deb('gcc-12-base', '12.2.0-14', { srcName: 'gcc-12', arch: 'arm64' }),
          deb('libattr1', '1:2.5.1-4', { srcName: 'attr', arch: 'arm64' }),
          deb('libgmp10', '2:6.2.1+dfsg1-1.1', { srcName: 'gmp', arch: 'arm64' }),
          deb('libselinux1', '3.4-1+b6', { srcName: 'libselinux', srcVersion: '3.4-1', arch: 'arm64' }),
          deb('libpcre2-8-0', '10.42-1', { srcName: 'pcre2', arch: 'arm64' }),
        ],
        unknowns: [],
      },
    ],
  ])('%s', async (file, path, expected) => {
    expect(await analyze(path, read(file))).toEqual(expected);
  });
});

const hasDpkgQuery = spawnSync('dpkg-query', ['--version']).status === 0;

/**
 * What the real dpkg-query says is on disk: `--admindir` pointed at a copy of the file, one line
 * per package with its state, filtered to the present states.
 */
function dpkgQueryPackages(file: string): Package[] {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-dpkg-'));
  try {
    copyFileSync(file, join(dir, 'status'));
    const format =
      '${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\t${db:Status-Status}\\n';
    const out = execFileSync('dpkg-query', [`--admindir=${dir}`, '-W', `-f=${format}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t'))
      .filter(([, , , , , state]) => DPKG_PRESENT_STATES.has(state!))
      .map(([name, version, arch, srcName, srcVersion]) => ({
        name: name!,
        version: version!,
        ecosystem: 'deb' as const,
        srcName: srcName!,
        srcVersion: srcVersion!,
        ...(arch ? { arch } : {}),
        foundBy: 'os/dpkg',
      }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const byName = (a: Package, b: Package) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version);

describe.skipIf(!hasRealdata || !hasDpkgQuery)('dpkgAnalyzer.analyze against dpkg-query', () => {
  // every realdata status file dpkg-query accepts (the others have deliberately broken paragraphs
  // or no Status fields and are checked by hand above)
  it.each([
    ['apt-ubuntu-i386-status', 80],
    ['trivy-ubuntu-18.04-status', 90], // 91 paragraphs, git is "deinstall ok config-files"
    ['scalibr-status-valid', 7],
    ['scalibr-status-transitional', 1],
    ['syft-status-coreutils-relationships', 9],
    ['syft-status-deinstall', 1],
  ])('%s: same packages as dpkg-query (%i)', async (file, count) => {
    const path = realdata(`pkgdb/dpkg/${file}`);
    const expected = dpkgQueryPackages(path);
    const got = await analyze('var/lib/dpkg/status', readFileSync(path));
    expect(expected).toHaveLength(count);
    expect({ packages: [...(got.packages ?? [])].sort(byName), unknowns: got.unknowns }).toEqual({
      packages: expected.sort(byName),
      unknowns: [],
    });
  });
});

describe.skipIf(!hasRealdata)('dpkgAnalyzer fuzz', () => {
  it('never rejects; every package has a name and version without blanks', async () => {
    const dir = realdata('pkgdb/dpkg');
    const seeds = readdirSync(dir)
      .filter((f) => !f.startsWith('syft-copyright'))
      .map((f) => readFileSync(join(dir, f)));
    seeds.push(readFileSync(join(TESTDATA, 'states/var/lib/dpkg/status')));
    const failures = await fuzz(seeds, 12_000, async (input) => {
      const result = await analyze('var/lib/dpkg/status', input);
      for (const p of result.packages ?? []) {
        if (
          !/^\S+$/.test(p.name) ||
          !/^\S+$/.test(p.version) ||
          p.ecosystem !== 'deb' ||
          !p.srcName ||
          !p.srcVersion
        ) {
          throw new Error(`bad package ${JSON.stringify(p)}`);
        }
      }
      for (const u of result.unknowns ?? [])
        if (u.path !== 'var/lib/dpkg/status' || !u.message) throw new Error('bad unknown');
    });
    expect(failures).toEqual([]);
  });
});
