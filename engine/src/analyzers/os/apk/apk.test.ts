import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import type { Package } from '../../../model/package.js';
import { inputFromBuffer, type AnalysisResult } from '../../types.js';
import { apkAnalyzer } from './index.js';

const DB = 'lib/apk/db/installed';
const TESTDATA = join(import.meta.dirname, 'testdata');

async function analyze(content: Buffer | string): Promise<AnalysisResult> {
  return apkAnalyzer.analyze(inputFromBuffer(DB, Buffer.from(content)));
}

/** One row of the expectations: name|version|arch|origin|license, as in the db's P/V/A/o/L lines. */
function apk(row: string): Package {
  const [name, version, arch, origin, license] = row.split('|') as [string, string, string, string, string];
  return {
    name,
    version,
    ecosystem: 'apk',
    srcName: origin,
    srcVersion: version,
    arch,
    licenses: [license],
    foundBy: 'os/apk',
  };
}

/** Number of `R:` lines, counted independently of the parser. */
const fileLines = (text: string) => text.split('\n').filter((l) => l.startsWith('R:')).length;

describe('apkAnalyzer.required', () => {
  it.each([
    ['lib/apk/db/installed', true],
    ['/lib/apk/db/installed', false],
    ['usr/lib/apk/db/installed.old', false],
    ['usr/lib/apk/db/installed', true],
    ['lib/apk/db/triggers', false],
    ['lib/apk/db/scripts.tar', false],
    ['var/lib/dpkg/status', false],
  ])('%s → %s', (path, expected) => {
    expect(apkAnalyzer.required(path)).toBe(expected);
  });

  it('declares its static paths (classic and usr-merged)', () => {
    expect(apkAnalyzer.staticPaths).toEqual([DB, 'usr/lib/apk/db/installed']);
  });
});

describe('apkAnalyzer.analyze on hand-written edge cases', () => {
  const text = readFileSync(join(TESTDATA, 'edge-cases', DB), 'utf8');
  const expected: AnalysisResult = {
    packages: [
      apk('rootfile|1.0-r0|aarch64|rootfile|MIT'), // no o: → srcName is its own name
      {
        name: 'no-origin',
        version: '0.1_git20240101-r3',
        ecosystem: 'apk',
        srcName: 'no-origin',
        srcVersion: '0.1_git20240101-r3',
        foundBy: 'os/apk',
      },
    ],
    ownedFiles: [
      '.rootfile-marker', // R: before any F: is in /
      'usr/bin/tool',
      'usr/share/doc/README', // F:/usr/share/doc/ normalised
      'usr/bin/other', // usr/bin/tool of no-origin is a duplicate; opt/orphan belongs to the rejected stanza
    ],
    unknowns: [
      { path: DB, message: 'stanza at line 13: no P: (name)' },
      { path: DB, message: 'package "bad version" (line 25): invalid P: (name)' },
      { path: DB, message: '1 unusable R: path(s) ignored, first: "usr/bin/../../../etc/shadow"' },
    ],
  };

  it('reads packages, files and problems', async () => {
    expect(await analyze(text)).toEqual(expected);
  });

  it('reads CRLF line ends the same way', async () => {
    expect(text.includes('\r')).toBe(false);
    expect(await analyze(text.replace(/\n/g, '\r\n'))).toEqual(expected);
  });

  it.each<[string, string, AnalysisResult]>([
    ['empty', '', { packages: [], ownedFiles: [], unknowns: [] }],
    [
      'no version',
      'P:x\nA:x86_64\n',
      {
        packages: [],
        ownedFiles: [],
        unknowns: [{ path: DB, message: 'package "x" (line 1): no V: (version)' }],
      },
    ],
    [
      'junk lines only',
      'hello world\n\n',
      { packages: [], ownedFiles: [], unknowns: [{ path: DB, message: 'stanza at line 1: no P: (name)' }] },
    ],
  ])('%s', async (_name, content, result) => {
    expect(await analyze(content)).toEqual(result);
  });
});

describe.skipIf(!hasRealdata)('apkAnalyzer.analyze on realdata', () => {
  const read = (f: string) => readFileSync(realdata(`pkgdb/apk/${f}`), 'utf8');

  it('syft-installed-single: one package, every file', async () => {
    expect(await analyze(read('syft-installed-single'))).toEqual({
      packages: [apk('musl-utils|1.1.24-r2|x86_64|musl|MIT BSD GPL2+')],
      ownedFiles: ['sbin/ldconfig', 'usr/bin/iconv', 'usr/bin/ldd', 'usr/bin/getconf', 'usr/bin/getent'],
      unknowns: [],
    });
  });

  it('syft-installed-base: alpine-baselayout and its 27 files', async () => {
    expect(await analyze(read('syft-installed-base'))).toEqual({
      packages: [apk('alpine-baselayout|3.2.0-r6|x86_64|alpine-baselayout|GPL-2.0-only')],
      // F:/R: pairs of the file, in file order
      ownedFiles: [
        'etc/fstab',
        'etc/group',
        'etc/hostname',
        'etc/hosts',
        'etc/inittab',
        'etc/modules',
        'etc/motd',
        'etc/mtab',
        'etc/passwd',
        'etc/profile',
        'etc/protocols',
        'etc/services',
        'etc/shadow',
        'etc/shells',
        'etc/sysctl.conf',
        'etc/crontabs/root',
        'etc/modprobe.d/aliases.conf',
        'etc/modprobe.d/blacklist.conf',
        'etc/modprobe.d/i386.conf',
        'etc/modprobe.d/kms.conf',
        'etc/profile.d/color_prompt',
        'etc/profile.d/locale',
        'lib/sysctl.d/00-alpine.conf',
        'sbin/mkmntdirs',
        'var/run',
        'var/spool/mail',
        'var/spool/cron/crontabs',
      ],
      unknowns: [],
    });
  });

  it.each<[string, string[], AnalysisResult['unknowns'], string[]]>([
    [
      'scalibr-alpine-3.18-installed',
      [
        'alpine-baselayout|3.4.3-r1|x86_64|alpine-baselayout|GPL-2.0-only',
        'alpine-baselayout-data|3.4.3-r1|x86_64|alpine-baselayout|GPL-2.0-only',
        'alpine-keys|2.4-r1|x86_64|alpine-keys|MIT',
        'apk-tools|2.14.0-r0|x86_64|apk-tools|GPL-2.0-only',
        'busybox|1.36.0-r9|x86_64|busybox|GPL-2.0-only',
        'busybox-binsh|1.36.0-r9|x86_64|busybox|GPL-2.0-only',
        'ca-certificates-bundle|20230506-r0|x86_64|ca-certificates|MPL-2.0 AND MIT',
        'libc-utils|0.7.2-r5|x86_64|libc-dev|BSD-2-Clause AND BSD-3-Clause',
        'libcrypto3|3.1.0-r4|x86_64|openssl|Apache-2.0',
        'libssl3|3.1.0-r4|x86_64|openssl|Apache-2.0',
        'musl|1.2.4-r0|x86_64|musl|MIT',
        'musl-utils|1.2.4-r0|x86_64|musl|MIT AND BSD-2-Clause AND GPL-2.0-or-later',
        'scanelf|1.3.7-r1|x86_64|pax-utils|GPL-2.0-only',
        'ssl_client|1.36.0-r9|x86_64|busybox|GPL-2.0-only',
        'zlib|1.2.13-r1|x86_64|zlib|Zlib',
      ],
      [],
      ['lib/ld-musl-x86_64.so.1', 'bin/busybox', 'lib/libz.so.1'],
    ],
    [
      'syft-alpine-3.16-installed',
      [
        'alpine-baselayout-data|3.2.0-r22|x86_64|alpine-baselayout|GPL-2.0-only',
        'musl|1.2.3-r0|x86_64|musl|MIT',
        'busybox|1.35.0-r17|x86_64|busybox|GPL-2.0-only',
        'alpine-baselayout|3.2.0-r22|x86_64|alpine-baselayout|GPL-2.0-only',
        'alpine-keys|2.4-r1|x86_64|alpine-keys|MIT',
        'ca-certificates-bundle|20220614-r0|x86_64|ca-certificates|MPL-2.0 AND MIT',
        'libcrypto1.1|1.1.1q-r0|x86_64|openssl|OpenSSL',
        'libssl1.1|1.1.1q-r0|x86_64|openssl|OpenSSL',
        'ssl_client|1.35.0-r17|x86_64|busybox|GPL-2.0-only',
        'zlib|1.2.12-r3|x86_64|zlib|Zlib',
        'apk-tools|2.12.9-r3|x86_64|apk-tools|GPL-2.0-only',
        'scanelf|1.3.4-r0|x86_64|pax-utils|GPL-2.0-only',
        'musl-utils|1.2.3-r0|x86_64|musl|MIT BSD GPL2+',
        'libc-utils|0.7.2-r3|x86_64|libc-dev|BSD-2-Clause AND BSD-3-Clause',
      ],
      [],
      ['lib/libcrypto.so.1.1', 'sbin/apk', 'usr/bin/ssl_client'],
    ],
    [
      // stanza 2 (line 23) is a bare "P:invalidPackageWithoutAVersion"
      'trivy-installed-with-invalid-entry',
      [
        'musl|1.1.14-r10|x86_64|musl|MIT',
        'busybox|1.24.2-r9|x86_64|busybox|GPL2',
        'alpine-baselayout|3.0.3-r0|x86_64|alpine-baselayout|GPL2',
        'alpine-keys|1.1-r0|x86_64|alpine-keys|GPL',
        'zlib|1.2.8-r2|x86_64|zlib|zlib',
        'libcrypto1.0|1.0.2h-r1|x86_64|openssl|openssl',
        'libssl1.0|1.0.2h-r1|x86_64|openssl|openssl',
        'apk-tools|2.6.7-r0|x86_64|apk-tools|GPL2',
        'scanelf|1.1.6-r0|x86_64|pax-utils|GPL2',
        'musl-utils|1.1.14-r10|x86_64|musl|MIT BSD GPL2+',
        'libc-utils|0.7-r0|x86_64|libc-dev|GPL',
        'pkgconf|1.6.0-r0|x86_64|pkgconf|ISC',
        'sqlite-libs|3.26.0-r3|x86_64|sqlite|Public-Domain',
        'test|2.9.11_pre20061021-r2|x86_64|test-parent|Public-Domain',
        'ada-libs|2.7.4-r0|x86_64|ada|( Apache-2.0 OR MIT ) AND MPL-2.0',
      ],
      [{ path: DB, message: 'package "invalidPackageWithoutAVersion" (line 23): no V: (version)' }],
      ['usr/lib/libsqlite3.so', 'usr/include/sqlite3.h', 'usr/lib/libada.so.2.7.4'],
    ],
  ])('%s: packages, one owned file per R: line', async (file, rows, unknowns, someFiles) => {
    const text = read(file);
    const result = await analyze(text);
    expect({ ...result, ownedFiles: undefined }).toEqual({
      packages: rows.map(apk),
      ownedFiles: undefined,
      unknowns,
    });
    // real dbs list each file once, so every R: line is one owned file
    expect(result.ownedFiles).toHaveLength(fileLines(text));
    expect(result.ownedFiles).toEqual(expect.arrayContaining(someFiles));
  });
});

describe.skipIf(!hasRealdata)('apkAnalyzer.analyze on the alpine 3.10 image', () => {
  it('reads the db of the docker-save archive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-apk-'));
    try {
      execFileSync('tar', [
        '-xzf',
        realdata('images/docker-archive/trivy-alpine-3.10-docker-save.tar.gz'),
        '-C',
        dir,
      ]);
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
      const layers = manifest[0]!.Layers;
      expect(layers).toHaveLength(1);
      execFileSync('tar', ['-xf', join(dir, layers[0]!), '-C', dir, DB]);
      const text = readFileSync(join(dir, DB), 'utf8');
      const result = await analyze(text);
      // P/V/A/o/L lines of the db, read with grep
      expect({ ...result, ownedFiles: undefined }).toEqual({
        packages: [
          'musl|1.1.22-r3|x86_64|musl|MIT',
          'busybox|1.30.1-r3|x86_64|busybox|GPL-2.0',
          'alpine-baselayout|3.1.2-r0|x86_64|alpine-baselayout|GPL-2.0-only',
          'alpine-keys|2.1-r2|x86_64|alpine-keys|MIT',
          'libcrypto1.1|1.1.1d-r2|x86_64|openssl|OpenSSL',
          'libssl1.1|1.1.1d-r2|x86_64|openssl|OpenSSL',
          'ca-certificates-cacert|20190108-r0|x86_64|ca-certificates|MPL-2.0 GPL-2.0-or-later',
          'libtls-standalone|2.9.1-r0|x86_64|libtls-standalone|ISC',
          'ssl_client|1.30.1-r3|x86_64|busybox|GPL-2.0',
          'zlib|1.2.11-r1|x86_64|zlib|zlib',
          'apk-tools|2.10.4-r2|x86_64|apk-tools|GPL2',
          'scanelf|1.2.3-r0|x86_64|pax-utils|GPL-2.0',
          'musl-utils|1.1.22-r3|x86_64|musl|MIT BSD GPL2+',
          'libc-utils|0.7.1-r0|x86_64|libc-dev|BSD',
        ].map(apk),
        ownedFiles: undefined,
        unknowns: [],
      });
      expect(result.ownedFiles).toHaveLength(78); // grep -c '^R:' on the extracted db
      expect(result.ownedFiles).toEqual(
        expect.arrayContaining([
          'lib/libcrypto.so.1.1',
          'lib/libssl.so.1.1',
          'bin/busybox',
          'sbin/apk',
          'lib/libz.so.1.2.11',
        ]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasRealdata)('apkAnalyzer fuzz', () => {
  it('never rejects; packages have a name and version, owned paths stay inside the image', async () => {
    const dir = realdata('pkgdb/apk');
    const seeds = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
    seeds.push(readFileSync(join(TESTDATA, 'edge-cases', DB)));
    const failures = await fuzz(seeds, 12_000, async (input) => {
      const result = await analyze(input);
      for (const p of result.packages ?? []) {
        if (!/^\S+$/.test(p.name) || !/^\S+$/.test(p.version) || p.ecosystem !== 'apk' || !p.srcName) {
          throw new Error(`bad package ${JSON.stringify(p)}`);
        }
      }
      for (const f of result.ownedFiles ?? []) {
        if (f.startsWith('/') || f.split('/').some((s) => s === '' || s === '.' || s === '..')) {
          throw new Error(`bad path ${f}`);
        }
      }
    });
    expect(failures).toEqual([]);
  });
});
