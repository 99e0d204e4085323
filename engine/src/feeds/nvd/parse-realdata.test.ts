import { createReadStream, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import type { FeedBody, FeedRecord } from '../types.js';
import { nvdFeed } from './index.js';

const dir = realdata('feeds/nvd');
const fileBody = (path: string): FeedBody => ({ name: path, open: async () => createReadStream(path) });
const bufferBody = (buf: Buffer, name = 'buffer'): FeedBody => ({
  name,
  open: async () => Readable.from([buf]),
});

async function collect(body: FeedBody): Promise<FeedRecord[]> {
  const out: FeedRecord[] = [];
  for await (const r of nvdFeed.parse(body)) out.push(r);
  return out;
}
const raw = (file: string): Buffer => {
  const b = readFileSync(join(dir, file));
  return file.endsWith('.gz') ? gunzipSync(b) : b;
};
/** The cve object of `id` in a realdata file, for pass-through members (configurations). */
function rawCve(file: string, id: string): Record<string, unknown> {
  const doc = JSON.parse(raw(file).toString('utf8')) as Record<string, unknown>;
  if (Array.isArray(doc.vulnerabilities))
    return (doc.vulnerabilities as { cve: Record<string, unknown> }[]).find((v) => v.cve.id === id)!.cve;
  return (doc.cve ?? doc) as Record<string, unknown>;
}
const counts = (records: FeedRecord[]) =>
  records.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.type]: (acc[r.type] ?? 0) + 1 }), {});

describe.skipIf(!hasRealdata)('NVD parse on real data', () => {
  it('claircore 2.0 feed: CVSS v3.1/v3.0/v2 with sources, duplicated CWEs and references folded, a rejected CVE', async () => {
    const records = await collect(fileBody(join(dir, 'claircore-nvdcve-2.0-feed.json')));
    expect(records[0]).toEqual({
      type: 'vulnerability',
      affected: [],
      vulnerability: {
        id: 'CVE-2016-2781',
        aliases: [],
        description:
          "chroot in GNU coreutils, when used with --userspec, allows local users to escape to the parent session via a crafted TIOCSTI ioctl call, which pushes characters to the terminal's input buffer.",
        published: '2017-02-07T15:59:00.333Z',
        modified: '2025-06-09T16:15:25.013Z',
        cvss: [
          {
            version: '3.1',
            vector: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N',
            baseScore: 4.6,
            source: '134c704f-9b21-4f2e-91b3-4a467353bcc0',
            type: 'Secondary',
          },
          {
            version: '3.0',
            vector: 'CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N',
            baseScore: 6.5,
            source: 'nvd@nist.gov',
            type: 'Primary',
          },
          {
            version: '2.0',
            vector: 'AV:L/AC:L/Au:N/C:N/I:P/A:N',
            baseScore: 2.1,
            source: 'nvd@nist.gov',
            type: 'Primary',
          },
        ],
        vendorSeverities: [],
        // CWE-20 is listed by NVD and by the CNA: once
        cwes: ['CWE-20'],
        // each of the three URLs appears twice (two reference sources)
        references: [
          'http://www.openwall.com/lists/oss-security/2016/02/28/2',
          'http://www.openwall.com/lists/oss-security/2016/02/28/3',
          'https://lists.apache.org/thread.html/rf9fa47ab66495c78bb4120b0754dd9531ca2ff0430f6685ac9b07772%40%3Cdev.mina.apache.org%3E',
        ],
        cpeConfigurations: [
          {
            nodes: [
              {
                operator: 'OR',
                negate: false,
                cpeMatch: [
                  {
                    vulnerable: true,
                    criteria: 'cpe:2.3:a:gnu:coreutils:*:*:*:*:*:*:*:*',
                    matchCriteriaId: '982C2F02-A3D5-4ED7-B2C0-48CA01758EF4',
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    expect(records.slice(1).map((r) => (r.type === 'vulnerability' ? r.vulnerability.id : r))).toEqual([
      { type: 'withdrawn', id: 'CVE-2016-3197' },
      'CVE-2016-3674',
    ]);
  });

  it('vuln-list bare cve object: v4.0, two v3.1 and a CNA v2, CPE configurations kept as published', async () => {
    const records = await collect(fileBody(join(dir, 'trivydb-CVE-2024-5732.json')));
    expect(records).toEqual([
      {
        type: 'vulnerability',
        affected: [],
        vulnerability: {
          id: 'CVE-2024-5732',
          aliases: [],
          description:
            'A vulnerability was found in Clash up to 0.20.1 on Windows. It has been declared as critical. This vulnerability affects unknown code of the component Proxy Port. The manipulation leads to improper authentication. The attack can be initiated remotely. The exploit has been disclosed to the public and may be used. It is recommended to change the configuration settings. VDB-267406 is the identifier assigned to this vulnerability.',
          published: '2024-06-07T10:15:12.293Z',
          modified: '2024-06-11T17:57:13.767Z',
          cvss: [
            {
              version: '4.0',
              vector:
                'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N/E:X/CR:X/IR:X/AR:X/MAV:X/MAC:X/MAT:X/MPR:X/MUI:X/MVC:X/MVI:X/MVA:X/MSC:X/MSI:X/MSA:X/S:X/AU:X/R:X/V:X/RE:X/U:X',
              baseScore: 6.9,
              source: 'nvd@nist.gov',
              type: 'Primary',
            },
            {
              version: '3.1',
              vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
              baseScore: 9.8,
              source: 'nvd@nist.gov',
              type: 'Primary',
            },
            {
              version: '3.1',
              vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:L',
              baseScore: 7.3,
              source: 'cna@vuldb.com',
              type: 'Secondary',
            },
            {
              version: '2.0',
              vector: 'AV:N/AC:L/Au:N/C:P/I:P/A:P',
              baseScore: 7.5,
              source: 'cna@vuldb.com',
              type: 'Secondary',
            },
          ],
          vendorSeverities: [],
          cwes: ['CWE-287'],
          references: [
            'https://github.com/GTA12138/vul/blob/main/clash%20for%20windows.md',
            'https://vuldb.com/?ctiid.267406',
            'https://vuldb.com/?id.267406',
            'https://vuldb.com/?submit.345469',
          ],
          cpeConfigurations: [
            {
              nodes: [
                {
                  operator: 'OR',
                  negate: false,
                  cpeMatch: [
                    {
                      vulnerable: true,
                      criteria: 'cpe:2.3:a:clashforwindows:clash:*:*:*:*:*:windows:*:*',
                      matchCriteriaId: '329C7DB6-FE20-4BA7-ADFF-383019916ACC',
                      versionStartIncluding: '0.1.0',
                      versionEndIncluding: '0.20.1',
                    },
                  ],
                },
              ],
            },
          ],
        },
      },
    ]);
  });

  it('grype {cve} record: CNA v4.0 Secondary beside a v3.1 Primary', async () => {
    const file = 'grype-CVE-2026-25076.json';
    const records = await collect(fileBody(join(dir, file)));
    expect(records).toEqual([
      {
        type: 'vulnerability',
        affected: [],
        vulnerability: {
          id: 'CVE-2026-25076',
          aliases: [],
          description:
            'Anchore Enterprise versions before 5.25.1 contain an SQL injection vulnerability in the GraphQL Reports API. An authenticated attacker that is able to access the GraphQL API could execute arbitrary SQL instructions resulting in modifications to the data contained in the Anchore Enterprise database.',
          published: '2026-03-13T19:54:18.827Z',
          modified: '2026-03-16T14:54:11.293Z',
          cvss: [
            {
              version: '4.0',
              vector:
                'CVSS:4.0/AV:A/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N/E:X/CR:X/IR:X/AR:X/MAV:X/MAC:X/MAT:X/MPR:X/MUI:X/MVC:X/MVI:X/MVA:X/MSC:X/MSI:X/MSA:X/S:X/AU:X/R:X/V:X/RE:X/U:X',
              baseScore: 8.5,
              source: 'disclosure@vulncheck.com',
              type: 'Secondary',
            },
            {
              version: '3.1',
              vector: 'CVSS:3.1/AV:A/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N',
              baseScore: 7.3,
              source: 'disclosure@vulncheck.com',
              type: 'Primary',
            },
          ],
          vendorSeverities: [],
          cwes: ['CWE-89'],
          references: [
            'https://anchore.com/platform/',
            'https://docs.anchore.com/current/docs/release_notes/enterprise/5251/',
            'https://www.vulncheck.com/advisories/anchore-enterprise-graphql-reports-api-sql-injection',
          ],
          // two configurations (three OR nodes with grype's `fix` annotations, one node): as published
          cpeConfigurations: rawCve(file, 'CVE-2026-25076').configurations,
        },
      },
    ]);
  });

  it('vunnel single-entry page: one reference URL listed by two sources is kept once', async () => {
    const file = 'vunnel-nvd-api2-single-entry.json';
    expect(await collect(fileBody(join(dir, file)))).toEqual([
      {
        type: 'vulnerability',
        affected: [],
        vulnerability: {
          id: 'CVE-2022-1576',
          aliases: [],
          description:
            'The WP Maintenance Mode & Coming Soon WordPress plugin before 2.4.5 is lacking CSRF when emptying the subscribed users list, which could allow attackers to make a logged in admin perform such action via a CSRF attack',
          published: '2022-07-11T13:15:08.503Z',
          modified: '2024-11-21T06:41:00.133Z',
          cvss: [
            {
              version: '3.1',
              vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:N',
              baseScore: 6.5,
              source: 'nvd@nist.gov',
              type: 'Primary',
            },
            {
              version: '2.0',
              vector: 'AV:N/AC:M/Au:N/C:N/I:P/A:N',
              baseScore: 4.3,
              source: 'nvd@nist.gov',
              type: 'Primary',
            },
          ],
          vendorSeverities: [],
          cwes: ['CWE-352'],
          references: ['https://wpscan.com/vulnerability/68deab46-1c16-46ae-a912-a104958ca4cf'],
          cpeConfigurations: rawCve(file, 'CVE-2022-1576').configurations,
        },
      },
    ]);
  });

  it('gzip API page of 1999 CVEs: NVD-CWE-Other is not a CWE id, three rejected CVEs', async () => {
    const file = 'nvdgo-api2-cves-page-startIndex0.json.gz';
    const records = await collect(fileBody(join(dir, file)));
    expect(counts(records)).toEqual({ vulnerability: 197, withdrawn: 3 });
    expect(records.filter((r) => r.type === 'withdrawn')).toEqual([
      { type: 'withdrawn', id: 'CVE-1999-1056' },
      { type: 'withdrawn', id: 'CVE-1999-1310' },
      { type: 'withdrawn', id: 'CVE-1999-0335' },
    ]);
    expect(records[0]).toEqual({
      type: 'vulnerability',
      affected: [],
      vulnerability: {
        id: 'CVE-1999-0095',
        aliases: [],
        description:
          'The debug command in Sendmail is enabled, allowing attackers to execute commands as root.',
        published: '1988-10-01T04:00:00.000Z',
        modified: '2019-06-11T20:29:00.263Z',
        cvss: [
          {
            version: '2.0',
            vector: 'AV:N/AC:L/Au:N/C:C/I:C/A:C',
            baseScore: 10,
            source: 'nvd@nist.gov',
            type: 'Primary',
          },
        ],
        vendorSeverities: [],
        cwes: [],
        references: [
          'http://seclists.org/fulldisclosure/2019/Jun/16',
          'http://www.openwall.com/lists/oss-security/2019/06/05/4',
          'http://www.openwall.com/lists/oss-security/2019/06/06/1',
          'http://www.securityfocus.com/bid/1',
        ],
        cpeConfigurations: [
          {
            nodes: [
              {
                operator: 'OR',
                negate: false,
                cpeMatch: [
                  {
                    vulnerable: true,
                    criteria: 'cpe:2.3:a:eric_allman:sendmail:5.58:*:*:*:*:*:*:*',
                    matchCriteriaId: '1D07F493-9C8D-44A4-8652-F28B46CBA27C',
                  },
                ],
              },
            ],
          },
        ],
      },
    });
  });

  it.each([
    ['nvdgo-api2-cves-page-startIndex0.json.gz', { vulnerability: 197, withdrawn: 3 }],
    ['nvdgo-api2-cves-page-startIndex200000.json.gz', { vulnerability: 199, withdrawn: 1 }],
    ['nvdgo-api2-cves-CVE-2023-0001.json.gz', { vulnerability: 1 }],
    ['vunnel-nvd-api2-full-page.json', { vulnerability: 38 }],
    ['fkie-nvd-api2-alpine-image-cves.json', { vulnerability: 24 }],
    ['claircore-nvdcve-2.0-feed.json', { vulnerability: 2, withdrawn: 1 }],
    ['vunnel-nvd-api2-single-entry.json', { vulnerability: 1 }],
    ['grype-CVE-2023-45283-platform-cpe.json', { vulnerability: 1 }],
    ['grype-CVE-2026-25076.json', { vulnerability: 1 }],
    ['trivydb-CVE-2020-0001.json', { vulnerability: 1 }],
    ['trivydb-CVE-2023-0001.json', { vulnerability: 1 }],
    ['trivydb-CVE-2024-5732.json', { vulnerability: 1 }],
  ])(
    '%s: counts, and ids, rejections and metric counts agree with a whole-document JSON.parse',
    async (file, expected) => {
      const records = await collect(fileBody(join(dir, file)));
      expect(counts(records)).toEqual(expected);
      // independent reading: the whole document through JSON.parse, no streaming
      const doc = JSON.parse(raw(file).toString('utf8')) as Record<string, unknown>;
      const cves = (
        Array.isArray(doc.vulnerabilities)
          ? (doc.vulnerabilities as { cve: unknown }[]).map((v) => v.cve)
          : [doc.cve ?? doc]
      ) as { id: string; vulnStatus?: string; metrics?: Record<string, unknown[]> }[];
      const kinds = ['cvssMetricV40', 'cvssMetricV31', 'cvssMetricV30', 'cvssMetricV2'];
      expect(
        records.map((r) =>
          r.type === 'vulnerability' ? [r.vulnerability.id, r.vulnerability.cvss.length] : r,
        ),
      ).toEqual(
        cves.map((c) =>
          c.vulnStatus === 'Rejected'
            ? { type: 'withdrawn', id: c.id }
            : [c.id, kinds.reduce((n, k) => n + (c.metrics?.[k]?.length ?? 0), 0)],
        ),
      );
    },
  );

  it('every realdata file: detect() agrees with parse() (NVD_CVE pages and cve objects yes; other NVD APIs and .meta no)', async () => {
    const verdicts: Record<string, [boolean, string]> = {};
    for (const file of readdirSync(dir).filter((f) => f !== 'schemas')) {
      const head = raw(file).subarray(0, 4096);
      let outcome = 'parsed';
      try {
        await collect(fileBody(join(dir, file)));
      } catch (e) {
        outcome = (e as { code?: string }).code ?? String(e);
      }
      verdicts[file] = [nvdFeed.detect({ name: file, head }), outcome];
    }
    expect(verdicts).toEqual({
      'claircore-nvdcve-2.0-feed.json': [true, 'parsed'],
      'claircore-nvdcve-2.0-feed.meta': [false, 'ENG_FEED_FORMAT'],
      'fkie-nvd-api2-alpine-image-cves.json': [true, 'parsed'],
      'grype-CVE-2023-45283-platform-cpe.json': [true, 'parsed'],
      'grype-CVE-2026-25076.json': [true, 'parsed'],
      'nvdgo-api2-cpematch-CVE-2022-32223.json.gz': [false, 'ENG_FEED_FORMAT'],
      'nvdgo-api2-cvehistory-CVE-2019-1010218.json.gz': [false, 'ENG_FEED_FORMAT'],
      'nvdgo-api2-cves-CVE-2023-0001.json.gz': [true, 'parsed'],
      'nvdgo-api2-cves-page-startIndex0.json.gz': [true, 'parsed'],
      'nvdgo-api2-cves-page-startIndex200000.json.gz': [true, 'parsed'],
      'nvdgo-api2-sources-20.json.gz': [false, 'ENG_FEED_FORMAT'],
      'trivydb-CVE-2020-0001.json': [true, 'parsed'],
      'trivydb-CVE-2023-0001.json': [true, 'parsed'],
      'trivydb-CVE-2024-5732.json': [true, 'parsed'],
      'vunnel-nvd-api2-full-page.json': [true, 'parsed'],
      'vunnel-nvd-api2-single-entry.json': [true, 'parsed'],
    });
  });

  it('a plain page gzipped, or cut into 1-byte chunks, parses to the same records', async () => {
    const plain = raw('vunnel-nvd-api2-full-page.json');
    const expected = await collect(bufferBody(plain));
    expect(await collect(bufferBody(gzipSync(plain)))).toEqual(expected);
    const bytes: FeedBody = {
      name: 'bytes',
      open: async () => Readable.from([...plain].map((b) => Buffer.from([b]))),
    };
    expect(await collect(bytes)).toEqual(expected);
  });
});
