import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { compress as zstdCompress } from 'zstd-napi';
import { fuzz } from '../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { isEngineError } from '../../errors.js';
import type { AffectedPackage } from '../../model/vulnerability.js';
import type { FeedBody, FeedRecord } from '../types.js';
import { idFromPath, parseArchiveLatest, parseIndexCsv } from './changes.js';
import { redhatFeed } from './index.js';

const TESTDATA = join(fileURLToPath(new URL('.', import.meta.url)), 'testdata');

const bufferBody = (buf: Buffer | string, name = 'doc.json'): FeedBody => ({
  name,
  open: async () => Readable.from([Buffer.from(buf)]),
});

async function parseAll(body: FeedBody): Promise<FeedRecord[]> {
  const out: FeedRecord[] = [];
  for await (const r of redhatFeed.parse(body)) out.push(r);
  return out;
}

const fixed = (vulnId: string, namespace: string, packageName: string, v: string): AffectedPackage => ({
  vulnId,
  namespace,
  packageName,
  fixState: 'fixed',
  ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: v }] }],
  fixedVersion: v,
});

const MODERATE = { source: 'redhat', rating: 'Moderate', severity: 'MEDIUM' };

/** A tar of [path, content] entries. */
async function makeTar(entries: [string, string | Buffer][]): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of entries) pack.entry({ name }, Buffer.from(content));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe.skipIf(!hasRealdata)('redhat: realdata', () => {
  it('maps the CSAF VEX for CVE-2024-10041 (trimmed: no product_status, remediations decide)', async () => {
    const file = 'feeds/redhat/trivydb-csaf-vex-cve-2024-10041.json';
    expect(await parseAll(bufferBody(await readFile(realdata(file)), file))).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id: 'CVE-2024-10041',
          aliases: [],
          related: ['RHSA-2024:9941'],
          title: 'pam: libpam: Libpam vulnerable to read hashed password',
          description:
            'A vulnerability was found in PAM. The secret information is stored in memory, where the attacker can trigger the victim program to execute.',
          published: '2024-10-18T00:00:00Z',
          modified: '2024-12-18T09:14:23Z',
          cvss: [
            {
              version: '3.1',
              vector: 'CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N',
              baseScore: 4.7,
              source: 'redhat',
            },
          ],
          vendorSeverities: [MODERATE],
          cwes: ['CWE-922'],
          references: [
            'https://bugzilla.redhat.com/show_bug.cgi?id=2319212',
            'https://access.redhat.com/errata/RHSA-2024:9941',
            'https://access.redhat.com/security/data/csaf/v2/vex/2024/cve-2024-10041.json',
          ],
        },
        // x86_64 and aarch64 binaries collapse; no src product in the document → binary name.
        // "red_hat_enterprise_linux_7:pam" (no_fix_planned) is not in the trimmed product tree: skipped.
        affected: [
          {
            ...fixed('CVE-2024-10041', 'rhel:9', 'pam', '1.5.1-21.el9_5'),
            severity: MODERATE,
            extra: { advisory: 'RHSA-2024:9941', binary: true },
          },
        ],
      },
    ]);
  });

  it.each([
    [
      'feeds/redhat/vunnel-csaf-rhsa-2024_6163.json',
      'RHSA-2024:6163',
      '3.9.18-3.el9_4.5',
      '2024-09-03T17:57:24+00:00',
      '2026-03-26T18:50:03+00:00',
      /^Python is an interpreted.*refer to the CVE page\(s\) listed in the References section\.$/s,
      [
        'https://access.redhat.com/errata/RHSA-2024:6163',
        'https://access.redhat.com/security/updates/classification/#moderate',
        'https://bugzilla.redhat.com/show_bug.cgi?id=2302255',
        'https://security.access.redhat.com/data/csaf/v2/advisories/2024/rhsa-2024_6163.json',
      ],
    ],
    [
      'feeds/redhat/vunnel-csaf-rhsa-2024_9371.json',
      'RHSA-2024:9371',
      '3.9.19-8.el9',
      '2024-11-12T09:38:54+00:00',
      '2026-03-18T02:40:17+00:00',
      /^Python is an interpreted.* Linux 9\.5 Release Notes linked from the References section\.$/s,
      [
        'https://access.redhat.com/errata/RHSA-2024:9371',
        'https://docs.redhat.com/en/documentation/red_hat_enterprise_linux/9/html/9.5_release_notes/index',
        'https://access.redhat.com/security/updates/classification/#moderate',
        'https://bugzilla.redhat.com/show_bug.cgi?id=2307370',
        'https://issues.redhat.com/browse/RHEL-40750',
        'https://security.access.redhat.com/data/csaf/v2/advisories/2024/rhsa-2024_9371.json',
      ],
    ],
  ])(
    'maps the security advisory %s to a record of its erratum',
    async (file, id, version, published, modified, details, references) => {
      expect(await parseAll(bufferBody(await readFile(realdata(file)), file))).toEqual([
        {
          type: 'vulnerability',
          vulnerability: {
            id,
            aliases: [],
            related: ['CVE-2024-8088'],
            title: 'Red Hat Security Advisory: python3.9 security update',
            description: expect.stringMatching(details),
            published,
            modified,
            cvss: [],
            vendorSeverities: [MODERATE],
            cwes: [],
            references,
          },
          // AppStream, BaseOS and CRB list the same source rpm: one row
          affected: [fixed(id, 'rhel:9', 'python3.9', version)],
        },
      ]);
    },
  );

  it('maps the Security Data API document for CVE-2021-25220 (RHEL CPEs only, source NEVRs)', async () => {
    const file = 'feeds/redhat/vunnel-hydra-cve-2021-25220.json';
    const row = (ns: string, pkg: string, v: string, advisory: string) => ({
      ...fixed('CVE-2021-25220', ns, pkg, v),
      extra: { advisory },
    });
    expect(await parseAll(bufferBody(await readFile(realdata(file)), file))).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id: 'CVE-2021-25220',
          aliases: [],
          title: 'bind: DNS forwarders - cache poisoning vulnerability',
          description: expect.stringMatching(
            /^BIND 9\.11\.0 -> 9\.11\.36 .*\n\nA cache poisoning vulnerability was found in BIND .* received on the client's end\.$/s,
          ),
          published: '2022-03-16T00:00:00Z',
          cvss: [
            {
              version: '3.1',
              vector: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:N/I:H/A:N',
              baseScore: 6.8,
              source: 'redhat',
            },
          ],
          vendorSeverities: [MODERATE],
          cwes: ['CWE-444'],
          references: [
            'https://bugzilla.redhat.com/show_bug.cgi?id=2064512',
            'https://www.cve.org/CVERecord?id=CVE-2021-25220',
            'https://nvd.nist.gov/vuln/detail/CVE-2021-25220',
            'https://kb.isc.org/docs/CVE-2021-25220',
          ],
        },
        // rhel_els, rhel_aus, rhel_eus(_long_life), rhel_tus and rhel_e4s streams are left out;
        // bind on enterprise_linux:8 is listed under /a: and /o: with one NEVR: one row
        affected: [
          row('rhel:7', 'bind', '32:9.11.4-26.P2.el7_9.13', 'RHSA-2023:0402'),
          row('rhel:8', 'bind9.16', '32:9.16.23-0.9.el8.1', 'RHSA-2022:7643'),
          row('rhel:8', 'bind', '32:9.11.36-5.el8', 'RHSA-2022:7790'),
          row('rhel:9', 'bind', '32:9.16.23-5.el9_1', 'RHSA-2022:8068'),
          row('rhel:9', 'dhcp', '12:4.4.2-17.b1.el9', 'RHSA-2022:8385'),
        ],
      },
    ]);
  });

  it('maps the Security Data API documents with package states (CVE-2017-3509, CVE-2023-4863)', async () => {
    const java = await parseAll(
      bufferBody(await readFile(realdata('feeds/redhat/vunnel-secdata-api-CVE-2017-3509.json'))),
    );
    const a = (id: string, ns: string, pkg: string, v: string, advisory: string) => ({
      ...fixed(id, ns, pkg, v),
      extra: { advisory },
    });
    const state = (id: string, ns: string, pkg: string, fixState: string, extra?: object) => ({
      vulnId: id,
      namespace: ns,
      packageName: pkg,
      fixState,
      ranges: [],
      ...(extra ? { extra } : {}),
    });
    expect(java).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id: 'CVE-2017-3509',
          aliases: [],
          title:
            'CVE-2017-3509 OpenJDK: improper re-use of NTLM authenticated connections (Networking, 8163520)',
          description: expect.stringMatching(
            /^Vulnerability in the Java SE, .*\n\nIt was discovered that the HTTP client implementation.*credentials of a different user\.$/s,
          ),
          published: '2017-04-18T00:00:00Z',
          cvss: [
            {
              version: '3.0',
              vector: 'CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N',
              baseScore: 4.2,
              source: 'redhat',
            },
          ],
          vendorSeverities: [MODERATE],
          cwes: ['CWE-287'],
          references: [
            'https://bugzilla.redhat.com/show_bug.cgi?id=1443052',
            'http://www.oracle.com/technetwork/security-advisory/cpuapr2017-3236618.html#AppendixJAVA',
          ],
        },
        // rhel_extras*, network_satellite: other products
        affected: [
          a('CVE-2017-3509', 'rhel:6', 'java-1.8.0-openjdk', '1:1.8.0.131-0.b11.el6_9', 'RHSA-2017:1109'),
          a('CVE-2017-3509', 'rhel:6', 'java-1.7.0-openjdk', '1:1.7.0.141-2.6.10.1.el6_9', 'RHSA-2017:1204'),
          a('CVE-2017-3509', 'rhel:7', 'java-1.8.0-openjdk', '1:1.8.0.131-2.b11.el7_3', 'RHSA-2017:1108'),
          a('CVE-2017-3509', 'rhel:7', 'java-1.7.0-openjdk', '1:1.7.0.141-2.6.10.1.el7_3', 'RHSA-2017:1204'),
          state('CVE-2017-3509', 'rhel:5', 'java-1.6.0-sun', 'will-not-fix'),
          state('CVE-2017-3509', 'rhel:5', 'java-1.7.0-openjdk', 'will-not-fix'),
          state('CVE-2017-3509', 'rhel:5', 'java-1.7.0-oracle', 'will-not-fix'),
        ],
      },
    ]);
    const webp = await parseAll(
      bufferBody(await readFile(realdata('feeds/redhat/vunnel-secdata-api-CVE-2023-4863.json'))),
    );
    expect(webp.length).toBe(1);
    const record = webp[0]!;
    if (record.type !== 'vulnerability') throw new Error('expected a vulnerability');
    expect(record.vulnerability.vendorSeverities).toEqual([
      { source: 'redhat', rating: 'Important', severity: 'HIGH' },
    ]);
    expect(record.affected).toEqual([
      a('CVE-2023-4863', 'rhel:7', 'thunderbird', '102.15.1-1.el7_9', 'RHSA-2023:5191'),
      a('CVE-2023-4863', 'rhel:7', 'firefox', '102.15.1-1.el7_9', 'RHSA-2023:5197'),
      a('CVE-2023-4863', 'rhel:8', 'firefox', '102.15.1-1.el8_8', 'RHSA-2023:5184'),
      a('CVE-2023-4863', 'rhel:8', 'thunderbird', '102.15.1-1.el8_8', 'RHSA-2023:5201'),
      a('CVE-2023-4863', 'rhel:8', 'libwebp', '1.0.0-8.el8_8.1', 'RHSA-2023:5309'),
      a('CVE-2023-4863', 'rhel:9', 'firefox', '102.15.1-1.el9_2', 'RHSA-2023:5200'),
      a('CVE-2023-4863', 'rhel:9', 'libwebp', '1.2.0-7.el9_2', 'RHSA-2023:5214'),
      a('CVE-2023-4863', 'rhel:9', 'thunderbird', '102.15.1-1.el9_2', 'RHSA-2023:5224'),
      state('CVE-2023-4863', 'rhel:6', 'firefox', 'will-not-fix'),
      state('CVE-2023-4863', 'rhel:7', 'libwebp', 'not-affected'),
      state('CVE-2023-4863', 'rhel:9', 'firefox', 'unfixed', { module: 'firefox:flatpak' }),
      state('CVE-2023-4863', 'rhel:9', 'thunderbird', 'unfixed', { module: 'thunderbird:flatpak' }),
    ]);
  });

  it.each([
    ['trivydb-csaf-vex-cve-2024-10041.json', true],
    ['vunnel-csaf-rhsa-2024_6163.json', true],
    ['vunnel-csaf-rhsa-2024_9371.json', true],
    ['vunnel-hydra-cve-2021-25220.json', true],
    ['vunnel-secdata-api-CVE-2017-3509.json', true],
    ['vunnel-secdata-api-CVE-2023-4863.json', true],
    // indexes and other Red Hat metadata are not data
    ['vunnel-csaf-changes.csv', false],
    ['vunnel-csaf-deletions.csv', false],
    ['vunnel-csaf-archive_latest.txt', false],
    ['trivydb-cpe-repository-to-cpe.json', false],
    ['trivy-buildinfo-ubi8-content-manifest.json', false],
  ])('detect(feeds/redhat/%s) = %s', async (file, expected) => {
    const head = (await readFile(realdata(`feeds/redhat/${file}`))).subarray(0, 64 << 10);
    expect(redhatFeed.detect({ name: file, head })).toBe(expected);
  });

  it('streams a zstd archive of VEX files entry by entry, a broken entry being one malformed record', async () => {
    const vex = await readFile(realdata('feeds/redhat/trivydb-csaf-vex-cve-2024-10041.json'));
    const rhsa = await readFile(realdata('feeds/redhat/vunnel-csaf-rhsa-2024_6163.json'));
    const archive = zstdCompress(
      await makeTar([
        ['2024/cve-2024-10041.json', vex],
        ['index.txt', 'not a document'],
        ['2024/cve-2024-99999.json', '{"document": '],
        ['2024/rhsa-2024_6163.json', rhsa],
      ]),
    );
    const name = 'csaf_vex_2025-02-15.tar.zst';
    expect(redhatFeed.detect({ name, head: archive.subarray(0, 64) })).toBe(true);
    expect(redhatFeed.detect({ name: 'other.tar.zst', head: archive.subarray(0, 64) })).toBe(false);
    const records = await parseAll(bufferBody(archive, name));
    expect(records.map((r) => (r.type === 'vulnerability' ? r.vulnerability.id : r))).toEqual([
      'CVE-2024-10041',
      {
        type: 'malformed',
        message: expect.stringMatching(/JSON/),
        ref: 'csaf_vex_2025-02-15.tar.zst!2024/cve-2024-99999.json',
      },
      'RHSA-2024:6163',
    ]);
    // the same archive gzipped, and plain
    const gz = await parseAll(
      bufferBody(gzipSync(await makeTar([['a/cve-2024-10041.json', vex]])), 'x.tar.gz'),
    );
    expect(gz.map((r) => r.type)).toEqual(['vulnerability']);
  });

  it('reads the CSAF indexes: changes.csv, deletions.csv (as withdrawals) and archive_latest.txt', async () => {
    const changes = parseIndexCsv(await readFile(realdata('feeds/redhat/vunnel-csaf-changes.csv'), 'utf8'));
    expect(changes).toEqual({
      rows: [
        { path: '2024/rhsa-2024_0010.json', time: Date.parse('2025-02-18T14:28:08+00:00') },
        { path: '2024/rhsa-2024_11255.json', time: Date.parse('2025-02-15T14:27:54+00:00') },
        { path: '2024/rhsa-2024_4444.json', time: Date.parse('2025-02-14T14:27:54+00:00') },
        { path: '2024/rhsa-2024_5555.json', time: Date.parse('2025-02-18T14:27:54+00:00') },
        { path: '2024/rhsa-2024_6666.json', time: Date.parse('2025-02-18T14:27:54+00:00') },
      ],
      bad: [],
    });
    expect(changes.rows.map((r) => idFromPath(r.path))).toEqual([
      'RHSA-2024:0010',
      'RHSA-2024:11255',
      'RHSA-2024:4444',
      'RHSA-2024:5555',
      'RHSA-2024:6666',
    ]);
    const deletions = await readFile(realdata('feeds/redhat/vunnel-csaf-deletions.csv'));
    expect(await parseAll(bufferBody(deletions, 'deletions.csv'))).toEqual([
      { type: 'withdrawn', id: 'RHEA-2024:5245' },
      { type: 'withdrawn', id: 'RHSA-2024:2106' },
    ]);
    expect(
      parseArchiveLatest(await readFile(realdata('feeds/redhat/vunnel-csaf-archive_latest.txt'), 'utf8')),
    ).toEqual({
      file: 'csaf_advisories_2025-02-15.tar.zst',
      day: Date.parse('2025-02-15T00:00:00Z'),
    });
  });

  it('never throws on mutated deletions lists and index rows', async () => {
    const seed = await readFile(realdata('feeds/redhat/vunnel-csaf-deletions.csv'));
    const failures = await fuzz(
      [seed, await readFile(realdata('feeds/redhat/vunnel-csaf-changes.csv'))],
      10_000,
      async (input) => {
        await parseAll(bufferBody(input, 'deletions.csv'));
        parseIndexCsv(input.toString('utf8')).rows.forEach((r) => idFromPath(r.path));
        parseArchiveLatest(input.toString('utf8'));
      },
      { allowed: (e) => isEngineError(e) && e.code === 'ENG_FEED_FORMAT' },
    );
    expect(failures).toEqual([]);
  });

  it('never throws anything but ENG_FEED_FORMAT on mutated documents and archives', async () => {
    const seeds = [
      await readFile(realdata('feeds/redhat/trivydb-csaf-vex-cve-2024-10041.json')),
      await readFile(realdata('feeds/redhat/vunnel-hydra-cve-2021-25220.json')),
      await readFile(join(TESTDATA, 'vex-synthetic.json')),
      await makeTar([
        ['2024/cve-2024-10041.json', '{"document": {"category": "csaf_vex"}, "vulnerabilities": []}'],
      ]),
    ];
    const failures = await fuzz(
      seeds,
      10_000,
      async (input) => {
        await parseAll(bufferBody(input));
      },
      { allowed: (e) => isEngineError(e) && e.code === 'ENG_FEED_FORMAT' },
    );
    expect(failures).toEqual([]);
  });
});

describe('redhat: CSAF VEX states', () => {
  it('maps every product state, module, stream and name rule of a synthetic VEX', async () => {
    const records = await parseAll(
      bufferBody(await readFile(join(TESTDATA, 'vex-synthetic.json')), 'synthetic.json'),
    );
    const id = 'CVE-2025-0001';
    const row = (ns: string, pkg: string, fixState: string, extra?: object) => ({
      vulnId: id,
      namespace: ns,
      packageName: pkg,
      fixState,
      ranges: [],
      ...(extra ? { extra } : {}),
    });
    expect(records).toEqual([
      {
        type: 'malformed',
        message: 'fixed product without a version',
        ref: `${id}:BaseOS-9.4.0.Z.MAIN:broken`,
      },
      {
        type: 'vulnerability',
        vulnerability: {
          id,
          aliases: [],
          related: ['RHSA-2025:1111', 'RHSA-2025:2222'],
          title: 'libfoo: synthetic flaw',
          description: 'A synthetic flaw in libfoo.',
          published: '2025-01-02T00:00:00Z',
          modified: '2025-03-01T00:00:00Z',
          cvss: [
            {
              version: '3.1',
              vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N',
              baseScore: 7.5,
              source: 'redhat',
            },
            { version: '2.0', vector: 'AV:N/AC:L/Au:N/C:P/I:P/A:P', baseScore: 7.5, source: 'redhat' },
          ],
          // the impact threat without products covers the CVE (it wins over aggregate_severity)
          vendorSeverities: [{ source: 'redhat', rating: 'Low', severity: 'LOW' }],
          cwes: ['CWE-79'],
          references: [
            'https://bugzilla.redhat.com/show_bug.cgi?id=1',
            'https://access.redhat.com/errata/RHSA-2025:1111',
            'https://access.redhat.com/errata/RHSA-2025:2222',
            'https://security.access.redhat.com/data/csaf/v2/vex/2025/cve-2025-0001.json',
          ],
        },
        affected: [
          // src row kept, the x86_64 libfoo and libfoo-devel binaries dropped (same release)
          {
            ...fixed(id, 'rhel:9', 'libfoo', '1:2.0-3.el9_4'),
            severity: { source: 'redhat', rating: 'Important', severity: 'HIGH' },
            extra: { advisory: 'RHSA-2025:1111' },
          },
          // module from the purl's rpmmod qualifier
          {
            ...fixed(id, 'rhel:8', 'nodejs', '1:18.20.2-1.module+el8.10.0+21000+abcdef12'),
            extra: { module: 'nodejs:18', advisory: 'RHSA-2025:2222' },
          },
          // no purl: NEVRA and "::httpd:2.4" suffix of the id; no src rpm for that module → binary name
          {
            ...fixed(id, 'rhel:8', 'httpd', '2.4.37-65.module+el8.10.0+1+2'),
            extra: { module: 'httpd:2.4', advisory: 'RHSA-2025:2222', binary: true },
          },
          row('rhel:7', 'libqux', 'not-affected'),
          // known_affected + no_fix_planned "Out of support scope"; libfoo-tools (binary) dropped
          row('rhel:7', 'libfoo', 'will-not-fix'),
          // known_affected + none_available "Deferred"; a bare name is not known to be a source rpm
          row('rhel:6', 'libbar', 'deferred', { binary: true }),
          row('rhel:7', 'libzzz', 'unfixed'),
          // rhel_eus, the oci image and the id missing from the tree give no row
        ],
      },
      { type: 'malformed', message: 'vulnerability without a CVE id', ref: 'synthetic.json#1' },
    ]);
  });

  it('turns a deletions list into withdrawals', async () => {
    const csv =
      '"2024/cve-2024-1234.json","2025-02-07T17:44:49+00:00"\n"2024/rhsa-2024_2106.json","2024-12-01T21:27:56+00:00"\nbogus\n';
    expect(await parseAll(bufferBody(csv, 'deletions-since-1.csv'))).toEqual([
      { type: 'malformed', message: 'unreadable index row', ref: 'deletions-since-1.csv:3' },
      { type: 'withdrawn', id: 'CVE-2024-1234' },
      { type: 'withdrawn', id: 'RHSA-2024:2106' },
    ]);
  });

  it.each([
    ['{"document": {"category": "csaf_base"}, "vulnerabilities": []}', /not a CSAF VEX or security advisory/],
    ['{"document": {"category": "csaf_vex"}}', /without vulnerabilities/],
    ['{"document": ', /invalid JSON/],
    ['"2024/cve-2024-1.json","2025-01-01T00:00:00Z"', /not a Red Hat CSAF archive or document/],
    ['', /not a Red Hat CSAF archive or document/],
  ])('refuses %j with ENG_FEED_FORMAT', async (text, message) => {
    const error = await parseAll(bufferBody(text)).catch((e: unknown) => e);
    expect(isEngineError(error) && error.code).toBe('ENG_FEED_FORMAT');
    expect((error as Error).message).toMatch(message);
  });
});
