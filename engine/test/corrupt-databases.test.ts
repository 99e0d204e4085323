/**
 * Scenario: damaged package databases inside a real image (umoci layers, skopeo docker-archive).
 * The scan must finish with `status: partial`, keep every readable package and name each damaged
 * file in an unknown. The content below is ours, so each expectation follows from it:
 * - lib/apk/db/installed: musl and zlib stanzas, between them a stanza of binary junk with an
 *   empty `P:` (an unknown, the rest kept);
 * - var/lib/dpkg/status: libc6 and zlib1g paragraphs around one without Version (an unknown);
 * - app/node_modules: ok@2.0.0 and a truncated broken/package.json (an unknown);
 * - a dist-info METADATA without Version (an unknown);
 * - var/lib/rpm/rpmdb.sqlite: the real CBL-Mariner 2.0 rpmdb (realdata) cut in half: sqlite
 *   (and rpm itself) refuse the whole file, so no rpm package and one unknown.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOciLayout, makeTempDir, removeTemp, toDockerArchive } from '../../test/harness/images.js';
import { hasRealdata, realdata } from '../../test/support/realdata.js';
import { scanImage } from '../src/scan/scan-image.js';
import type { ScanResult } from '../src/model/index.js';
import { normalizeScan } from './support/inventory.js';

const APK_DB = [
  'P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nL:MIT\n',
  'C:\x01\x02\x03\nP:\nV:1.0\n\u0000\u0000 junk that is no field \uFFFD\nR:x\n',
  'P:zlib\nV:1.3.1-r0\nA:x86_64\no:zlib\nL:Zlib\n',
].join('\n');

const DPKG_STATUS = `Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries

Package: broken-pkg
Status: install ok installed
Architecture: amd64
Description: a paragraph without Version

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime
`;

const RPMDB = 'var/lib/rpm/rpmdb.sqlite';

/** `name epoch:version-release` of every package rpm itself reads from `dbDir`. */
function rpmOracle(dbDir: string): Set<string> {
  const out = spawnSync('rpm', ['--dbpath', dbDir, '-qa', '--qf', '%{NAME} %{VERSION}-%{RELEASE}\\n'], {
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`rpm -qa failed: ${out.stderr}`);
  return new Set(out.stdout.split('\n').filter(Boolean));
}

const hasRpm = spawnSync('rpm', ['--version']).status === 0;

describe.skipIf(!hasRealdata || !hasRpm)('corrupt package databases inside an image', () => {
  let work = '';
  let layout = '';
  let scan: ScanResult;
  let oracle: Set<string>;

  beforeAll(async () => {
    work = await makeTempDir();
    const full = realdata('pkgdb/rpm/gorpmdb-cbl-mariner-2.0-rpmdb.sqlite');
    await mkdir(join(work, 'rpm'));
    await copyFile(full, join(work, 'rpm', 'rpmdb.sqlite'));
    oracle = rpmOracle(join(work, 'rpm'));
    const bytes = await readFile(full);
    layout = await buildOciLayout({
      files: {
        'lib/apk/db/installed': APK_DB,
        'var/lib/dpkg/status': DPKG_STATUS,
        [RPMDB]: bytes.subarray(0, Math.floor(bytes.length / 2)),
        'app/node_modules/ok/package.json': '{"name":"ok","version":"2.0.0"}\n',
        'app/node_modules/broken/package.json': '{"name": "broken", "version": "1.',
        'usr/lib/python3.11/site-packages/noversion-1.0.dist-info/METADATA':
          'Metadata-Version: 2.1\nName: noversion\n',
      },
    });
    scan = await scanImage({ input: await toDockerArchive(layout) });
  });
  afterAll(() => removeTemp(work, layout));

  it('keeps the readable packages and names every damaged file', () => {
    const normal = normalizeScan(scan);
    const unknowns = scan.unknowns
      .map((u) => ({ path: u.path, source: u.source, message: u.message }))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
    expect({
      status: normal.status,
      packages: normal.packages.filter((p) => p.ecosystem !== 'rpm'),
      unknownLayers: [...new Set(normal.unknowns.map((u) => u.layer))],
      unknowns,
    }).toEqual({
      status: 'partial',
      packages: [
        {
          ecosystem: 'apk',
          name: 'musl',
          version: '1.2.4-r2',
          srcName: 'musl',
          path: 'lib/apk/db/installed',
          layer: 0,
        },
        {
          ecosystem: 'apk',
          name: 'zlib',
          version: '1.3.1-r0',
          srcName: 'zlib',
          path: 'lib/apk/db/installed',
          layer: 0,
        },
        {
          ecosystem: 'deb',
          name: 'libc6',
          version: '2.36-9+deb12u4',
          srcName: 'glibc',
          path: 'var/lib/dpkg/status',
          layer: 0,
        },
        {
          ecosystem: 'deb',
          name: 'zlib1g',
          version: '1:1.2.13.dfsg-1',
          srcName: 'zlib',
          path: 'var/lib/dpkg/status',
          layer: 0,
        },
        {
          ecosystem: 'npm',
          name: 'ok',
          version: '2.0.0',
          path: 'app/node_modules/ok/package.json',
          layer: 0,
        },
      ],
      unknownLayers: [0],
      unknowns: [
        {
          path: 'app/node_modules/broken/package.json',
          source: 'lang/npm',
          message: expect.stringMatching(/^cannot parse package\.json: invalid JSON: /),
        },
        // the junk stanza starts on line 7 (5 musl lines, a blank line)
        { path: 'lib/apk/db/installed', source: 'os/apk', message: 'stanza at line 7: no P: (name)' },
        {
          path: 'usr/lib/python3.11/site-packages/noversion-1.0.dist-info/METADATA',
          source: 'lang/python',
          message: 'cannot parse METADATA: metadata has no Name or no Version',
        },
        // broken-pkg's paragraph starts on line 8 (6 libc6 lines, a blank line)
        {
          path: 'var/lib/dpkg/status',
          source: 'os/dpkg',
          message: 'package "broken-pkg" (line 8): no Version',
        },
        // sqlite refuses the whole truncated file, as rpm itself does
        { path: RPMDB, source: 'os/rpm', message: 'rpm database: sqlite: database disk image is malformed' },
      ],
    });
  });

  it('reads no rpm package from the truncated file, as rpm itself reads none', async () => {
    expect(oracle.size).toBe(129); // the intact database, for scale
    await mkdir(join(work, 'half'));
    const bytes = await readFile(join(work, 'rpm', 'rpmdb.sqlite'));
    await writeFile(join(work, 'half', 'rpmdb.sqlite'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(() => rpmOracle(join(work, 'half'))).toThrow(/malformed/);
    const rpms = scan.packages.filter((p) => p.ecosystem === 'rpm').map((p) => `${p.name} ${p.version}`);
    expect(rpms).toEqual([]);
  });
});
