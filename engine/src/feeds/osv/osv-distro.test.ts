/**
 * The OSV parser on the distro feeds' real records (AlmaLinux, Rocky Linux, Ubuntu), whole-structure
 * expectations written from the input files (descriptions compared with the file's own `details`).
 */
import { describe, expect, it } from 'vitest';
import { hasRealdata } from '../../../../test/support/realdata.js';
import { almaFeed, osvFeed, rockyFeed, ubuntuFeed } from './index.js';
import { newOsvParseStats, type OsvParseStats } from './osv-record.js';
import { bufferBody, collect, feed } from './testdata/support.js';
import type { Feed } from '../types.js';

async function parseFile(f: Feed, rel: string, stats: OsvParseStats = newOsvParseStats()) {
  const records = await collect(f.parse(bufferBody(feed(rel).bytes, rel), { stats } as never));
  return { records, stats };
}

const fixed = (vulnId: string, namespace: string, packageName: string, introduced: string, fix: string) => ({
  vulnId,
  namespace,
  packageName,
  fixState: 'fixed',
  ranges: [{ type: 'ECOSYSTEM', events: [{ introduced }, { fixed: fix }] }],
  fixedVersion: fix,
});

describe.skipIf(!hasRealdata)('OSV records of the distro feeds', () => {
  it('ALSA (AlmaLinux 9): ten packages fixed in 0.8-20.el9, Moderate impact, CVEs as related', async () => {
    const rel = 'osv/vunnel-ALSA-2024_2433.json';
    const { records } = await parseFile(almaFeed, rel);
    const id = 'ALSA-2024:2433';
    const names = [
      'avahi',
      'avahi-compat-howl',
      'avahi-compat-howl-devel',
      'avahi-compat-libdns_sd',
      'avahi-compat-libdns_sd-devel',
      'avahi-devel',
      'avahi-glib',
      'avahi-glib-devel',
      'avahi-libs',
      'avahi-tools',
    ];
    expect(records).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id,
          aliases: [],
          related: ['CVE-2023-38469', 'CVE-2023-38470', 'CVE-2023-38471', 'CVE-2023-38472', 'CVE-2023-38473'],
          title: 'Moderate: avahi security update',
          description: feed(rel).json.details,
          published: '2024-04-30T00:00:00Z',
          modified: '2024-05-07T15:04:20Z',
          cvss: [],
          vendorSeverities: [{ source: 'almalinux', rating: 'Moderate', severity: 'MEDIUM' }],
          cwes: [],
          references: [
            'https://access.redhat.com/errata/RHSA-2024:2433',
            'https://access.redhat.com/security/cve/CVE-2023-38469',
            'https://access.redhat.com/security/cve/CVE-2023-38470',
            'https://access.redhat.com/security/cve/CVE-2023-38471',
            'https://access.redhat.com/security/cve/CVE-2023-38472',
            'https://access.redhat.com/security/cve/CVE-2023-38473',
            'https://bugzilla.redhat.com/2191687',
            'https://bugzilla.redhat.com/2191690',
            'https://bugzilla.redhat.com/2191691',
            'https://bugzilla.redhat.com/2191692',
            'https://bugzilla.redhat.com/2191694',
            'https://errata.almalinux.org/9/ALSA-2024-2433.html',
          ],
        },
        affected: names.map((n) => fixed(id, 'almalinux:9', n, '0', '0.8-20.el9')),
      },
    ]);
  });

  it('RLSA (Rocky Linux 9): module builds with epochs as fixed versions', async () => {
    const rel = 'osv/vunnel-RLSA-2024_3671.json';
    const { records } = await parseFile(rockyFeed, rel);
    const id = 'RLSA-2024:3671';
    expect(records).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id,
          aliases: [],
          related: ['CVE-2024-27280', 'CVE-2024-27281', 'CVE-2024-27282'],
          title: 'Moderate: ruby:3.3 security, bug fix, and enhancement update',
          description: feed(rel).json.details,
          published: '2024-06-14T14:00:40.182624Z',
          modified: '2024-06-14T14:02:44.124064Z',
          cvss: [],
          vendorSeverities: [{ source: 'rocky', rating: 'Moderate', severity: 'MEDIUM' }],
          cwes: [],
          references: [
            'https://errata.rockylinux.org/RLSA-2024:3671',
            'https://bugzilla.redhat.com/show_bug.cgi?id=2270749',
            'https://bugzilla.redhat.com/show_bug.cgi?id=2270750',
            'https://bugzilla.redhat.com/show_bug.cgi?id=2276810',
          ],
        },
        affected: [
          fixed(id, 'rocky:9', 'ruby', '0', '0:3.3.1-2.module+el9.4.0+20787+4c237fd3'),
          fixed(id, 'rocky:9', 'rubygem-mysql2', '0', '0:0.5.5-1.module+el9.4.0+20787+4c237fd3'),
          fixed(id, 'rocky:9', 'rubygem-pg', '0', '0:1.5.4-1.module+el9.4.0+20787+4c237fd3'),
        ],
      },
    ]);
  });

  it('Ubuntu CVE record with Pro/ESM streams: priority on every row, pro/esm extras, unfixed releases', async () => {
    const rel = 'ubuntu/vunnel-UBUNTU-CVE-2022-24823-esm.json';
    const { records } = await parseFile(ubuntuFeed, rel);
    const id = 'UBUNTU-CVE-2022-24823';
    const low = { source: 'ubuntu', rating: 'low', severity: 'LOW' };
    const row = (
      release: string,
      fix: string | undefined,
      versions: string[],
      extra?: Record<string, unknown>,
    ) => ({
      vulnId: id,
      namespace: `ubuntu:${release}`,
      packageName: 'netty',
      fixState: fix ? 'fixed' : 'unfixed',
      ranges: [
        { type: 'ECOSYSTEM', events: fix ? [{ introduced: '0' }, { fixed: fix }] : [{ introduced: '0' }] },
      ],
      versions,
      ...(fix ? { fixedVersion: fix } : {}),
      severity: low,
      ...(extra ? { extra } : {}),
    });
    expect(records).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id,
          aliases: ['CVE-2022-24823'],
          related: ['USN-7284-1'],
          description: feed(rel).json.details,
          published: '2022-05-06T12:15:00Z',
          modified: '2026-06-08T16:11:47Z',
          // the same vector twice in the record: kept once
          cvss: [
            { version: '3.1', vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N', source: 'ubuntu' },
          ],
          vendorSeverities: [low],
          cwes: [],
          references: [
            'https://ubuntu.com/security/CVE-2022-24823',
            'https://github.com/netty/netty/commit/185f8b2756a36aaa4f973f1a2a025e7d981823f1',
            'https://github.com/netty/netty/security/advisories/GHSA-5mcr-gq6c-3hq2',
            'https://github.com/netty/netty/security/advisories/GHSA-269q-hmxg-m83q',
            'https://www.cve.org/CVERecord?id=CVE-2022-24823',
            'https://ubuntu.com/security/notices/USN-7284-1',
          ],
        },
        affected: [
          row(
            '14.04',
            undefined,
            [
              '1:3.2.6.Final-2',
              '1:3.2.6.Final-2+deb8u2build0.14.04.1~esm1',
              '1:3.2.6.Final-2+deb8u2ubuntu0.1~esm1',
            ],
            {
              pro: true,
              esm: 'esm-infra-legacy',
            },
          ),
          row(
            '16.04',
            '1:4.0.34-1ubuntu0.1~esm2',
            ['1:3.2.6.Final-2', '1:4.0.32-1', '1:4.0.33-1', '1:4.0.34-1', '1:4.0.34-1ubuntu0.1~esm1'],
            {
              pro: true,
              esm: 'esm-apps',
            },
          ),
          row(
            '18.04',
            '1:4.1.7-4ubuntu0.1+esm3',
            [
              '1:4.1.7-4',
              '1:4.1.7-4ubuntu0.1~esm1',
              '1:4.1.7-4ubuntu0.1',
              '1:4.1.7-4ubuntu0.1+esm1',
              '1:4.1.7-4ubuntu0.1+esm2',
            ],
            {
              pro: true,
              esm: 'esm-apps',
            },
          ),
          row(
            '20.04',
            '1:4.1.45-1ubuntu0.1~esm2',
            ['1:4.1.33-1', '1:4.1.33-2', '1:4.1.33-3', '1:4.1.45-1', '1:4.1.45-1ubuntu0.1~esm1'],
            {
              pro: true,
              esm: 'esm-apps',
            },
          ),
          row(
            '22.04',
            '1:4.1.48-4+deb11u2ubuntu0.1~esm1',
            ['1:4.1.48-4', '1:4.1.48-4+deb11u1build0.22.04.1', '1:4.1.48-4+deb11u2build0.22.04.1'],
            {
              pro: true,
              esm: 'esm-apps',
            },
          ),
          row('24.04', '1:4.1.48-9ubuntu0.1~esm1', ['1:4.1.48-7', '1:4.1.48-8', '1:4.1.48-9'], {
            pro: true,
            esm: 'esm-apps',
          }),
          row('25.10', undefined, [
            '1:4.1.48-10',
            '1:4.1.48-10ubuntu0.25.10.1',
            '1:4.1.48-10ubuntu0.25.10.2',
          ]),
          row(
            '26.04',
            undefined,
            [
              '1:4.1.48-10',
              '1:4.1.48-11',
              '1:4.1.48-12',
              '1:4.1.48-13',
              '1:4.1.48-14',
              '1:4.1.48-16',
              '1:4.1.48-16ubuntu0.1~esm2',
            ],
            { pro: true, esm: 'esm-apps' },
          ),
        ],
      },
    ]);
  });

  it('USN: no priority of its own, its upstream UBUNTU-CVE id as alias', async () => {
    const rel = 'ubuntu/vunnel-USN-5614-1.json';
    const { records } = await parseFile(ubuntuFeed, rel);
    const id = 'USN-5614-1';
    const raw = feed(rel).json.affected;
    expect(records).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id,
          aliases: ['UBUNTU-CVE-2021-3782'],
          title: 'wayland vulnerability',
          description: feed(rel).json.details,
          published: '2022-09-15T16:43:06Z',
          modified: '2026-04-22T07:37:02Z',
          cvss: [],
          vendorSeverities: [],
          cwes: [],
          references: [
            'https://ubuntu.com/security/notices/USN-5614-1',
            'https://ubuntu.com/security/CVE-2021-3782',
          ],
        },
        affected: [
          {
            ...fixed(id, 'ubuntu:18.04', 'wayland', '0', '1.16.0-1ubuntu1.1~18.04.4'),
            versions: raw[0].versions,
          },
          { ...fixed(id, 'ubuntu:20.04', 'wayland', '0', '1.18.0-1ubuntu0.1'), versions: raw[1].versions },
          { ...fixed(id, 'ubuntu:22.04', 'wayland', '0', '1.20.0-1ubuntu0.1'), versions: raw[2].versions },
        ],
      },
    ]);
  });

  it('each feed keeps its own namespaces: Ubuntu rows through the osv feed are skipped and counted', async () => {
    const { records, stats } = await parseFile(osvFeed, 'ubuntu/vunnel-USN-5614-1.json');
    expect([records[0]?.type === 'vulnerability' && records[0].affected, stats.skippedByEcosystem]).toEqual([
      [],
      { Ubuntu: 3 },
    ]);
    const alma = await parseFile(ubuntuFeed, 'osv/vunnel-ALSA-2024_2433.json');
    expect(alma.stats.skippedByEcosystem).toEqual({ AlmaLinux: 10 });
  });
});
