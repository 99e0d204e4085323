import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import type { OsRelease } from '../../../model/os.js';
import { inputFromBuffer, type AnalysisResult } from '../../types.js';
import { osReleaseAnalyzer, pickOsRelease } from './index.js';

const TESTDATA = join(import.meta.dirname, 'testdata');

async function analyzeText(path: string, text: string | Buffer): Promise<AnalysisResult> {
  return osReleaseAnalyzer.analyze(inputFromBuffer(path, Buffer.from(text)));
}

describe('osReleaseAnalyzer.required', () => {
  it.each([
    ['etc/os-release', true],
    ['usr/lib/os-release', true],
    ['etc/alpine-release', true],
    ['etc/debian_version', true],
    ['etc/redhat-release', true],
    ['etc/centos-release', true],
    ['etc/rocky-release', true],
    ['etc/almalinux-release', true],
    ['etc/oracle-release', true],
    ['etc/fedora-release', true],
    ['etc/system-release', true],
    ['etc/lsb-release', true],
    ['etc/SuSE-release', true],
    ['/etc/os-release', false],
    ['etc/os-release.bak', false],
    ['usr/etc/os-release', false],
    ['etc/system-release-cpe', false],
    ['etc/suse-release', false],
    ['lib/apk/db/installed', false],
  ])('%s → %s', (path, expected) => {
    expect(osReleaseAnalyzer.required(path)).toBe(expected);
  });

  it('lists exactly the required paths as staticPaths', () => {
    for (const p of osReleaseAnalyzer.staticPaths) expect(osReleaseAnalyzer.required(p)).toBe(true);
    expect(osReleaseAnalyzer.staticPaths).toHaveLength(13);
  });
});

/** Where each realdata file lives in an image. */
function imagePathOf(file: string): string {
  if (file.endsWith('.os-release')) return 'etc/os-release';
  if (file.endsWith('-lsb-release')) return 'etc/lsb-release';
  if (file.endsWith('-alpine-release')) return 'etc/alpine-release';
  if (file.startsWith('trivy-debian_version')) return 'etc/debian_version';
  if (file === 'trivy-centos-release') return 'etc/centos-release';
  if (file.startsWith('trivy-redhat-release')) return 'etc/redhat-release';
  throw new Error(`no image path known for ${file}`);
}

describe.skipIf(!hasRealdata)('osReleaseAnalyzer.analyze on realdata/osrelease', () => {
  it('reads every file', async () => {
    const dir = realdata('osrelease');
    const got: Record<string, AnalysisResult> = {};
    for (const file of readdirSync(dir).sort()) {
      const path = imagePathOf(file);
      got[file] = await osReleaseAnalyzer.analyze(inputFromBuffer(path, readFileSync(join(dir, file))));
    }
    const osr = 'etc/os-release';
    expect(got).toEqual({
      'claircore-alpine-3.18.os-release': {
        os: {
          family: 'alpine',
          version: '3.18.4',
          name: 'Alpine Linux',
          prettyName: 'Alpine Linux v3.18',
          source: osr,
        },
      },
      'claircore-alpine-edge.os-release': {
        os: {
          family: 'alpine',
          version: '3.19_alpha20230901',
          name: 'Alpine Linux',
          prettyName: 'Alpine Linux edge',
          source: osr,
        },
      },
      'claircore-debian-11-distroless.os-release': {
        os: {
          family: 'debian',
          version: '11',
          name: 'Debian GNU/Linux',
          prettyName: 'Distroless',
          codename: 'bullseye', // from VERSION="Debian GNU/Linux 11 (bullseye)"
          distroless: true,
          source: osr,
        },
      },
      'claircore-debian-12.os-release': {
        os: {
          family: 'debian',
          version: '12',
          name: 'Debian GNU/Linux',
          prettyName: 'Debian GNU/Linux 12 (bookworm)',
          codename: 'bookworm',
          source: osr,
        },
      },
      'claircore-debian-8.os-release': {
        os: {
          family: 'debian',
          version: '8',
          name: 'Debian GNU/Linux',
          prettyName: 'Debian GNU/Linux 8 (jessie)',
          codename: 'jessie', // from VERSION="8 (jessie)"
          source: osr,
        },
      },
      'claircore-ubuntu-14.04.os-release': {
        os: {
          family: 'ubuntu',
          version: '14.04',
          name: 'Ubuntu',
          prettyName: 'Ubuntu 14.04.6 LTS',
          codename: 'trusty', // from VERSION="14.04.6 LTS, Trusty Tahr"
          idLike: ['debian'],
          source: osr,
        },
      },
      'claircore-ubuntu-22.04-lsb-release': {
        os: {
          family: 'ubuntu',
          version: '22.04',
          prettyName: 'Ubuntu 22.04 LTS',
          codename: 'jammy',
          source: 'etc/lsb-release',
        },
      },
      'claircore-ubuntu-22.04.os-release': {
        os: {
          family: 'ubuntu',
          version: '22.04',
          name: 'Ubuntu',
          prettyName: 'Ubuntu 22.04 LTS',
          codename: 'jammy',
          idLike: ['debian'],
          source: osr,
        },
      },
      'osvscanner-alpine-3.18-alpine-release': {
        os: { family: 'alpine', version: '3.18.1', source: 'etc/alpine-release' },
      },
      'trivy-alma.os-release': {
        os: {
          family: 'almalinux',
          version: '9.4',
          name: 'AlmaLinux',
          prettyName: 'AlmaLinux 9.4 (Seafoam Ocelot)',
          idLike: ['rhel', 'centos', 'fedora'],
          source: osr,
        },
      },
      'trivy-azurelinux-3.0.os-release': {
        os: {
          family: 'azurelinux',
          version: '3.0',
          name: 'Microsoft Azure Linux',
          prettyName: 'Microsoft Azure Linux 3.0',
          source: osr,
        },
      },
      'trivy-bottlerocket.os-release': {
        os: {
          family: 'bottlerocket',
          version: '1.34.0',
          name: 'Bottlerocket',
          prettyName: 'Bottlerocket OS 1.34.0 (aws-ecs-2)',
          source: osr,
        },
      },
      'trivy-centos-release': {
        os: {
          family: 'centos',
          version: '7.6.1810',
          name: 'CentOS Linux',
          prettyName: 'CentOS Linux release 7.6.1810 (Core)',
          codename: 'Core',
          source: 'etc/centos-release',
        },
      },
      'trivy-centos.os-release': {
        os: {
          family: 'centos',
          version: '7',
          name: 'CentOS Linux',
          prettyName: 'CentOS Linux 7 (Core)',
          idLike: ['rhel', 'fedora'],
          source: osr,
        },
      },
      'trivy-debian_version-9': { os: { family: 'debian', version: '9.8', source: 'etc/debian_version' } },
      'trivy-echo.os-release': { os: { family: 'echo', version: '1', source: osr } },
      'trivy-fedora.os-release': {
        // VERSION_CODENAME="" is no codename
        os: {
          family: 'fedora',
          version: '42',
          name: 'Fedora Linux',
          prettyName: 'Fedora Linux 42 (Container Image)',
          source: osr,
        },
      },
      'trivy-mariner-2.0.os-release': {
        os: {
          family: 'mariner',
          version: '2.0',
          name: 'Common Base Linux Mariner',
          prettyName: 'CBL-Mariner/Linux',
          source: osr,
        },
      },
      'trivy-minimos.os-release': {
        os: { family: 'minimos', version: '20241031', name: 'MinimOS', prettyName: 'MinimOS', source: osr },
      },
      'trivy-opensuse-leap-15.2.os-release': {
        os: {
          family: 'opensuse-leap',
          version: '15.2.1',
          name: 'openSUSE Leap',
          prettyName: 'openSUSE Leap 15.2.1 Beta',
          idLike: ['suse', 'opensuse'],
          source: osr,
        },
      },
      'trivy-opensuse-tumbleweed.os-release': {
        // the commented-out VERSION line is ignored
        os: {
          family: 'opensuse-tumbleweed',
          version: '20220412',
          name: 'openSUSE Tumbleweed',
          prettyName: 'openSUSE Tumbleweed',
          idLike: ['opensuse', 'suse'],
          source: osr,
        },
      },
      'trivy-oracle.os-release': {
        os: {
          family: 'ol',
          version: '8.10',
          name: 'Oracle Linux Server',
          prettyName: 'Oracle Linux Server 8.10',
          idLike: ['fedora'],
          source: osr,
        },
      },
      'trivy-photon.os-release': {
        os: {
          family: 'photon',
          version: '4.0',
          name: 'VMware Photon OS',
          prettyName: 'VMware Photon OS/Linux',
          source: osr,
        },
      },
      'trivy-redhat-release-6': {
        os: {
          family: 'rhel',
          version: '6.2',
          name: 'Red Hat Linux',
          prettyName: 'Red Hat Linux release 6.2 (Zoot)',
          codename: 'Zoot',
          source: 'etc/redhat-release',
        },
      },
      'trivy-rhel.os-release': {
        os: {
          family: 'rhel',
          version: '9.4',
          name: 'Red Hat Enterprise Linux',
          prettyName: 'Red Hat Enterprise Linux 9.4 (Plow)',
          idLike: ['fedora'],
          source: osr,
        },
      },
      'trivy-rocky.os-release': {
        os: {
          family: 'rocky',
          version: '9.3',
          name: 'Rocky Linux',
          prettyName: 'Rocky Linux 9.3 (Blue Onyx)',
          idLike: ['rhel', 'centos', 'fedora'],
          source: osr,
        },
      },
      'trivy-sles.os-release': {
        os: {
          family: 'sles',
          version: '15.3',
          name: 'SLES',
          prettyName: 'SUSE Linux Enterprise Server 15 SP3',
          idLike: ['suse'],
          source: osr,
        },
      },
    });
  });
});

/** Every file under testdata/<case>/, analysed at its image path. */
function analyzeFixtures(): Promise<Record<string, AnalysisResult>> {
  const out: Record<string, AnalysisResult> = {};
  const walk = async (caseDir: string, dir: string): Promise<void> => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) await walk(caseDir, full);
      else {
        const path = relative(caseDir, full);
        if (osReleaseAnalyzer.required(path)) {
          out[`${relative(TESTDATA, caseDir)}/${path}`] = await osReleaseAnalyzer.analyze(
            inputFromBuffer(path, readFileSync(full)),
          );
        }
      }
    }
  };
  return (async () => {
    for (const c of readdirSync(TESTDATA).sort()) await walk(join(TESTDATA, c), join(TESTDATA, c));
    return out;
  })();
}

describe('osReleaseAnalyzer.analyze on testdata', () => {
  it('reads the hand-written cases', async () => {
    expect(await analyzeFixtures()).toEqual({
      'amazon-2/etc/system-release': {
        os: {
          family: 'amzn',
          version: '2',
          name: 'Amazon Linux',
          prettyName: 'Amazon Linux release 2 (Karoo)',
          codename: 'Karoo',
          source: 'etc/system-release',
        },
      },
      'no-id/etc/os-release': { unknowns: [{ path: 'etc/os-release', message: 'os-release has no ID' }] },
      'quoting/etc/os-release': {
        os: {
          family: 'debian', // ID="Debian", lower-cased
          version: '12', // indented line, unquoted value ends at the blank before the comment
          name: 'Quoted Linux', // single quotes
          prettyName: 'Say "hi" for $5 \\ \\x', // \" \$ \\ unescaped, \x kept as written
          codename: 'bookworm', // VERSION_CODENAME= is empty, so from VERSION="12 (bookworm)"
          idLike: ['foo', 'bar'],
          source: 'etc/os-release',
        },
      },
      'scientific/etc/redhat-release': {
        unknowns: [
          {
            path: 'etc/redhat-release',
            message: 'release file: unrecognised distribution "Scientific Linux"',
          },
        ],
      },
      'sles-11/etc/SuSE-release': {
        os: {
          family: 'sles',
          version: '11.4',
          name: 'SUSE Linux Enterprise Server 11',
          prettyName: 'SUSE Linux Enterprise Server 11 (x86_64)',
          source: 'etc/SuSE-release',
        },
      },
      'ubuntu-noble/etc/debian_version': {
        os: { family: 'debian', version: 'trixie/sid', codename: 'trixie', source: 'etc/debian_version' },
      },
    });
  });

  it.each([
    [
      'empty os-release',
      'etc/os-release',
      '',
      { unknowns: [{ path: 'etc/os-release', message: 'os-release has no ID' }] },
    ],
    [
      'empty alpine-release',
      'etc/alpine-release',
      '\n',
      { unknowns: [{ path: 'etc/alpine-release', message: 'alpine-release: unexpected content ""' }] },
    ],
    [
      'binary',
      'etc/debian_version',
      '12\0\x01',
      { unknowns: [{ path: 'etc/debian_version', message: 'release file is binary' }] },
    ],
    [
      'CRLF and BOM',
      'etc/os-release',
      '\uFEFFID=alpine\r\nVERSION_ID=3.19.1\r\n',
      { os: { family: 'alpine', version: '3.19.1', source: 'etc/os-release' } },
    ],
    [
      'no VERSION_ID (Debian sid)',
      'usr/lib/os-release',
      'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nID=debian\nVERSION_CODENAME=trixie\n',
      {
        os: {
          family: 'debian',
          version: '',
          prettyName: 'Debian GNU/Linux trixie/sid',
          codename: 'trixie',
          source: 'usr/lib/os-release',
        },
      },
    ],
    [
      'alias id',
      'etc/os-release',
      'ID=opensuse\nVERSION_ID=42.3\n',
      { os: { family: 'opensuse-leap', version: '42.3', source: 'etc/os-release' } },
    ],
    [
      'old Ubuntu VERSION codename',
      'etc/os-release',
      'ID=ubuntu\nVERSION="16.04.7 LTS (Xenial Xerus)"\nVERSION_ID="16.04"\n',
      { os: { family: 'ubuntu', version: '16.04', codename: 'xenial', source: 'etc/os-release' } },
    ],
    [
      'Rocky release file',
      'etc/rocky-release',
      'Rocky Linux release 8.5 (Green Obsidian)\n',
      {
        os: {
          family: 'rocky',
          version: '8.5',
          name: 'Rocky Linux',
          prettyName: 'Rocky Linux release 8.5 (Green Obsidian)',
          codename: 'Green Obsidian',
          source: 'etc/rocky-release',
        },
      },
    ],
    [
      'no release line',
      'etc/redhat-release',
      'hello\n',
      {
        unknowns: [
          { path: 'etc/redhat-release', message: 'release file: no "<name> release <version>" line' },
        ],
      },
    ],
  ])('%s', async (_name, path, text, expected) => {
    expect(await analyzeText(path, text)).toEqual(expected);
  });

  it('refuses an oversized file without reading it', async () => {
    const input = inputFromBuffer('etc/os-release', Buffer.alloc(0));
    expect(await osReleaseAnalyzer.analyze({ ...input, size: 1 << 20 })).toEqual({
      unknowns: [{ path: 'etc/os-release', message: 'release file too large (1048576 bytes)' }],
    });
  });
});

describe.skipIf(!hasRealdata)('osReleaseAnalyzer fuzz', () => {
  it('never rejects and always yields an os or an unknown, for every parser', async () => {
    const dir = realdata('osrelease');
    const seeds = readdirSync(dir).map((f) => readFileSync(join(dir, f)));
    // one path per parser
    const paths = [
      'etc/os-release',
      'etc/lsb-release',
      'etc/alpine-release',
      'etc/debian_version',
      'etc/redhat-release',
      'etc/SuSE-release',
    ];
    let calls = 0;
    const failures = await fuzz(seeds, 12_000, async (input) => {
      const found: OsRelease[] = [];
      for (const path of paths) {
        const result = await osReleaseAnalyzer.analyze(inputFromBuffer(path, input));
        calls++;
        if (result.os) {
          if (result.os.family === '' || result.os.source !== path)
            throw new Error(`bad os ${JSON.stringify(result.os)}`);
          found.push(result.os);
        } else if (result.unknowns?.length !== 1) {
          throw new Error(`neither os nor one unknown: ${JSON.stringify(result)}`);
        }
      }
      pickOsRelease(found);
    });
    expect(failures).toEqual([]);
    expect(calls).toBe(12_000 * paths.length);
  });
});
