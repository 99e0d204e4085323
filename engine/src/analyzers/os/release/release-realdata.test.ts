import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { inputFromBuffer, type AnalysisResult } from '../../types.js';
import { osReleaseAnalyzer } from './index.js';

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
