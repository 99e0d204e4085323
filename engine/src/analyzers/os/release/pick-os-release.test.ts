import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import type { OsRelease } from '../../../model/os.js';
import { inputFromBuffer } from '../../types.js';
import { osReleaseAnalyzer, pickOsRelease } from './index.js';

/** Release files of one image (path → content), each turned into a candidate by the analyzer. */
async function candidates(files: Record<string, string>): Promise<OsRelease[]> {
  const out: OsRelease[] = [];
  for (const [path, text] of Object.entries(files)) {
    const { os } = await osReleaseAnalyzer.analyze(inputFromBuffer(path, Buffer.from(text)));
    if (os) out.push(os);
  }
  return out;
}

const DEBIAN_12 =
  'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n';
const CENTOS_7 = 'NAME="CentOS Linux"\nID="centos"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n';
const DISTROLESS_11 =
  'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID="debian"\nVERSION_ID="11"\nVERSION="Debian GNU/Linux 11 (bullseye)"\n';

describe('pickOsRelease', () => {
  it.each<[string, Record<string, string>, OsRelease | undefined]>([
    ['no candidates', {}, undefined],
    [
      'alpine: alpine-release refines a major.minor VERSION_ID',
      { 'etc/os-release': 'ID=alpine\nVERSION_ID=3.10\n', 'etc/alpine-release': '3.10.4\n' },
      { family: 'alpine', version: '3.10.4', source: 'etc/alpine-release' },
    ],
    [
      'alpine: a disagreeing alpine-release does not override os-release',
      { 'etc/os-release': 'ID=alpine\nVERSION_ID=3.18.4\n', 'etc/alpine-release': '3.17.1\n' },
      { family: 'alpine', version: '3.18.4', source: 'etc/os-release' },
    ],
    [
      'alpine: alpine-release alone',
      { 'etc/alpine-release': '3.18.1\n' },
      { family: 'alpine', version: '3.18.1', source: 'etc/alpine-release' },
    ],
    [
      'debian: numeric debian_version refines VERSION_ID',
      { 'etc/debian_version': '12.5\n', 'etc/os-release': DEBIAN_12 },
      {
        family: 'debian',
        version: '12.5',
        prettyName: 'Debian GNU/Linux 12 (bookworm)',
        codename: 'bookworm',
        source: 'etc/debian_version',
      },
    ],
    [
      'debian: debian_version of another release is ignored',
      { 'etc/os-release': DEBIAN_12, 'etc/debian_version': '11.9\n' },
      {
        family: 'debian',
        version: '12',
        prettyName: 'Debian GNU/Linux 12 (bookworm)',
        codename: 'bookworm',
        source: 'etc/os-release',
      },
    ],
    [
      'debian sid: codename/sid never becomes the version',
      { 'etc/os-release': 'ID=debian\nVERSION_CODENAME=trixie\n', 'etc/debian_version': 'trixie/sid\n' },
      { family: 'debian', version: '', codename: 'trixie', source: 'etc/os-release' },
    ],
    [
      'debian sid without VERSION_CODENAME: codename from debian_version',
      { 'etc/os-release': 'ID=debian\n', 'etc/debian_version': 'trixie/sid\n' },
      { family: 'debian', version: '', codename: 'trixie', source: 'etc/os-release' },
    ],
    [
      'ubuntu: debian_version bookworm/sid does not make it debian',
      {
        'etc/debian_version': 'bookworm/sid\n',
        'etc/os-release': 'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\n',
      },
      { family: 'ubuntu', version: '24.04', codename: 'noble', idLike: ['debian'], source: 'etc/os-release' },
    ],
    [
      'ubuntu without os-release: lsb-release beats debian_version',
      {
        'etc/debian_version': 'bookworm/sid\n',
        'etc/lsb-release': 'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n',
      },
      { family: 'ubuntu', version: '22.04', source: 'etc/lsb-release' },
    ],
    [
      'distroless debian keeps the flag and takes the point release',
      { 'etc/os-release': DISTROLESS_11, 'etc/debian_version': '11.9\n' },
      {
        family: 'debian',
        version: '11.9',
        name: 'Debian GNU/Linux',
        prettyName: 'Distroless',
        codename: 'bullseye',
        distroless: true,
        source: 'etc/debian_version',
      },
    ],
    [
      'redhat family: os-release first, centos-release only fills the codename',
      {
        'etc/centos-release': 'CentOS Linux release 7.6.1810 (Core)\n',
        'etc/redhat-release': 'CentOS Linux release 7.6.1810 (Core)\n',
        'etc/os-release': CENTOS_7,
      },
      {
        family: 'centos',
        version: '7',
        name: 'CentOS Linux',
        prettyName: 'CentOS Linux 7 (Core)',
        codename: 'Core',
        source: 'etc/os-release',
      },
    ],
    [
      'redhat family without os-release: the specific file beats redhat-release and system-release',
      {
        'etc/system-release': 'Rocky Linux release 8.5 (Green Obsidian)\n',
        'etc/redhat-release': 'Rocky Linux release 8.5 (Green Obsidian)\n',
        'etc/rocky-release': 'Rocky Linux release 8.5 (Green Obsidian)\n',
      },
      {
        family: 'rocky',
        version: '8.5',
        name: 'Rocky Linux',
        prettyName: 'Rocky Linux release 8.5 (Green Obsidian)',
        codename: 'Green Obsidian',
        source: 'etc/rocky-release',
      },
    ],
    [
      '/etc/os-release wins over /usr/lib/os-release',
      { 'usr/lib/os-release': 'ID=fedora\nVERSION_ID=41\n', 'etc/os-release': 'ID=fedora\nVERSION_ID=42\n' },
      { family: 'fedora', version: '42', source: 'etc/os-release' },
    ],
  ])('%s', async (_name, files, expected) => {
    expect(pickOsRelease(await candidates(files))).toEqual(expected);
  });

  it('does not modify its input', async () => {
    const input = await candidates({ 'etc/os-release': DEBIAN_12, 'etc/debian_version': '12.5\n' });
    const copy = structuredClone(input);
    pickOsRelease(input);
    expect(input).toEqual(copy);
  });
});

describe.skipIf(!hasRealdata)('pickOsRelease on a real image', () => {
  it('alpine 3.10 docker save: os-release and alpine-release agree on 3.10.4', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-release-'));
    try {
      execFileSync('tar', [
        '-xzf',
        realdata('images/docker-archive/trivy-alpine-3.10-docker-save.tar.gz'),
        '-C',
        dir,
      ]);
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
      const layer = join(dir, manifest[0]!.Layers[0]!);
      execFileSync('tar', ['-xf', layer, '-C', dir, 'etc/os-release', 'etc/alpine-release']);
      const files = {
        'etc/os-release': readFileSync(join(dir, 'etc/os-release'), 'utf8'),
        'etc/alpine-release': readFileSync(join(dir, 'etc/alpine-release'), 'utf8'),
      };
      // etc/alpine-release is "3.10.4"; os-release has VERSION_ID=3.10.4, PRETTY_NAME="Alpine Linux v3.10"
      expect(pickOsRelease(await candidates(files))).toEqual({
        family: 'alpine',
        version: '3.10.4',
        name: 'Alpine Linux',
        prettyName: 'Alpine Linux v3.10',
        source: 'etc/os-release',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
