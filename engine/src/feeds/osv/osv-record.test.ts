/**
 * The OSV parser on real records, whole-structure expectations written from the input files
 * (descriptions and long `versions` lists are compared with the file's own `details` / `versions`,
 * which the parser keeps verbatim by design).
 */
import { describe, expect, it } from 'vitest';
import { hasRealdata } from '../../../../test/support/realdata.js';
import { osvFeed } from './index.js';
import { newOsvParseStats, parseOsvRecord, type OsvParseStats } from './osv-record.js';
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

describe.skipIf(!hasRealdata)('OSV records from the advisory database and osv.dev', () => {
  it('GHSA with three ranges for one package (npm semver)', async () => {
    const rel = 'ghsa/advisorydb-GHSA-c2qf-rxjj-qqgw.json';
    const { records, stats } = await parseFile(osvFeed, rel);
    const id = 'GHSA-c2qf-rxjj-qqgw';
    expect(records).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id,
          aliases: ['CVE-2022-25883'],
          title: 'semver vulnerable to Regular Expression Denial of Service',
          description: feed(rel).json.details,
          published: '2023-06-21T06:30:28Z',
          modified: '2023-07-10T22:57:56Z',
          cvss: [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L', source: 'ghsa' }],
          vendorSeverities: [{ source: 'ghsa', rating: 'MODERATE', severity: 'MEDIUM' }],
          cwes: ['CWE-1333'],
          references: [
            'https://nvd.nist.gov/vuln/detail/CVE-2022-25883',
            'https://github.com/npm/node-semver/pull/564',
            'https://github.com/npm/node-semver/pull/585',
            'https://github.com/npm/node-semver/pull/593',
            'https://github.com/npm/node-semver/commit/2f8fd41487acf380194579ecb6f8b1bbfe116be0',
            'https://github.com/npm/node-semver/commit/717534ee353682f3bcf33e60a8af4292626d4441',
            'https://github.com/npm/node-semver/commit/928e56d21150da0413a3333a3148b20e741a920c',
            'https://github.com/npm/node-semver',
            'https://github.com/npm/node-semver/blob/main/classes/range.js#L97-L104',
            'https://github.com/npm/node-semver/blob/main/internal/re.js#L138',
            'https://github.com/npm/node-semver/blob/main/internal/re.js#L160',
            'https://security.snyk.io/vuln/SNYK-JS-SEMVER-3247795',
          ],
        },
        affected: [
          fixed(id, 'npm', 'semver', '7.0.0', '7.5.2'),
          fixed(id, 'npm', 'semver', '6.0.0', '6.3.1'),
          fixed(id, 'npm', 'semver', '0', '5.7.2'),
        ],
      },
    ]);
    expect(stats).toEqual({
      records: 1,
      vulnerabilities: 1,
      withdrawn: 0,
      malformed: 0,
      skippedAffected: 0,
      skippedByEcosystem: {},
    });
  });

  it('unreviewed GHSA with an empty affected[] stays a vulnerability without rows', async () => {
    const rel = 'ghsa/advisorydb-GHSA-2273-x2j3-xp63-unreviewed.json';
    const { records } = await parseFile(osvFeed, rel);
    expect(records).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id: 'GHSA-2273-x2j3-xp63',
          aliases: ['CVE-2024-4756'],
          description: feed(rel).json.details,
          published: '2024-06-07T06:30:30Z',
          modified: '2024-08-01T15:31:47Z',
          cvss: [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N', source: 'ghsa' }],
          vendorSeverities: [{ source: 'ghsa', rating: 'MODERATE', severity: 'MEDIUM' }],
          cwes: [],
          references: [
            'https://nvd.nist.gov/vuln/detail/CVE-2024-4756',
            'https://wpscan.com/vulnerability/ce4688b6-6713-43b5-aa63-8a3b036bd332',
          ],
        },
        affected: [],
      },
    ]);
  });

  it('withdrawn record → withdrawn (the real GHSA-c2qf with a withdrawn date added)', () => {
    const json = {
      ...feed('ghsa/advisorydb-GHSA-c2qf-rxjj-qqgw.json').json,
      withdrawn: '2024-01-01T00:00:00Z',
    };
    const stats = newOsvParseStats();
    expect(parseOsvRecord(json, { stats })).toEqual({ type: 'withdrawn', id: 'GHSA-c2qf-rxjj-qqgw' });
    expect([stats.withdrawn, stats.vulnerabilities]).toEqual([1, 0]);
  });

  it('Go stdlib record: SEMVER events kept, the first fixed event is the fixed version', async () => {
    const rel = 'osv/osvschema-GO-2024-2963.json';
    const { records } = await parseFile(osvFeed, rel);
    expect(records).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id: 'GO-2024-2963',
          aliases: ['CVE-2024-24791'],
          title: 'Denial of service due to improper 100-continue handling in net/http',
          description: feed(rel).json.details,
          published: '2024-07-02T20:11:00Z',
          modified: '2024-07-02T20:11:00Z',
          cvss: [],
          vendorSeverities: [],
          cwes: [],
          references: [
            'https://go.dev/cl/591255',
            'https://go.dev/issue/67555',
            'https://groups.google.com/g/golang-dev/c/t0rK-qHBqzY/m/6MMoAZkMAgAJ',
          ],
        },
        affected: [
          {
            vulnId: 'GO-2024-2963',
            namespace: 'golang',
            packageName: 'stdlib',
            fixState: 'fixed',
            ranges: [
              {
                type: 'SEMVER',
                events: [
                  { introduced: '0' },
                  { fixed: '1.21.12' },
                  { introduced: '1.22.0-0' },
                  { fixed: '1.22.5' },
                ],
              },
            ],
            fixedVersion: '1.21.12',
          },
        ],
      },
    ]);
  });

  it('GitHub advisory for Go packages (net/http twice, golang.org/x/net)', async () => {
    const { records } = await parseFile(osvFeed, 'ghsa/advisorydb-GHSA-4v7x-pqxf-cx7m.json');
    const id = 'GHSA-4v7x-pqxf-cx7m';
    expect(records[0]?.type === 'vulnerability' && records[0].affected).toEqual([
      fixed(id, 'golang', 'net/http', '0', '1.21.9'),
      fixed(id, 'golang', 'golang.org/x/net/http2', '0', '0.23.0'),
      fixed(id, 'golang', 'net/http', '1.22.0-0', '1.22.2'),
      fixed(id, 'golang', 'golang.org/x/net', '0', '0.23.0'),
    ]);
  });

  it('PYSEC with last_affected only: unfixed, bounds kept, versions kept', async () => {
    const rel = 'osv/trivydb-PYSEC-2023-120.json';
    const { records } = await parseFile(osvFeed, rel);
    expect(records).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id: 'PYSEC-2023-120',
          aliases: ['GHSA-45c4-8wx5-qw6w', 'CVE-2023-37276'],
          title:
            'aiohttp.web.Application vulnerable to HTTP request smuggling via llhttp HTTP request parser',
          description: feed(rel).json.details,
          published: '2023-07-20T14:52:00Z',
          modified: '2023-07-24T14:58:05.562874Z',
          cvss: [],
          vendorSeverities: [],
          cwes: [],
          references: [
            'https://github.com/aio-libs/aiohttp/security/advisories/GHSA-45c4-8wx5-qw6w',
            'https://nvd.nist.gov/vuln/detail/CVE-2023-37276',
            'https://github.com/aio-libs/aiohttp',
            'https://hackerone.com/reports/2001873',
          ],
        },
        affected: [
          {
            vulnId: 'PYSEC-2023-120',
            namespace: 'pypi',
            packageName: 'aiohttp',
            fixState: 'unfixed',
            ranges: [
              {
                type: 'ECOSYSTEM',
                events: [
                  { introduced: '0' },
                  { last_affected: '3.8.4' },
                  { introduced: '4.0.1' },
                  { last_affected: '4.0.1' },
                ],
              },
            ],
            versions: feed(rel).json.affected[0].versions,
          },
        ],
      },
    ]);
  });

  it('PYSEC with a GIT range first: the fixed version comes from the ECOSYSTEM range; upstream joins aliases', async () => {
    const rel = 'osv/trivydb-PYSEC-2018-27.json';
    const { records } = await parseFile(osvFeed, rel);
    expect(records).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id: 'PYSEC-2018-27',
          aliases: ['GHSA-wgmx-52ph-qqcw', 'CVE-2018-10895'],
          description: feed(rel).json.details,
          published: '2018-07-12T12:29:00Z',
          modified: '2021-06-10T06:51:37.378319Z',
          cvss: [],
          vendorSeverities: [],
          cwes: [],
          references: [
            'https://github.com/qutebrowser/qutebrowser/commit/43e58ac865ff862c2008c510fc5f7627e10b4660',
            'https://bugzilla.redhat.com/show_bug.cgi?id=CVE-2018-10895',
            'http://www.openwall.com/lists/oss-security/2018/07/11/7',
            'https://github.com/advisories/GHSA-wgmx-52ph-qqcw',
          ],
        },
        affected: [
          {
            vulnId: 'PYSEC-2018-27',
            namespace: 'pypi',
            packageName: 'qutebrowser',
            fixState: 'fixed',
            ranges: [
              {
                type: 'GIT',
                events: [{ introduced: '0' }, { fixed: '43e58ac865ff862c2008c510fc5f7627e10b4660' }],
              },
              { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.4.1' }] },
            ],
            versions: feed(rel).json.affected[0].versions,
            fixedVersion: '1.4.1',
          },
        ],
      },
    ]);
  });

  it('PyPI names are PEP 503-normalised (GHSA-9v2f "Gradio" → gradio), explicit versions without ranges', async () => {
    const { records } = await parseFile(osvFeed, 'osv/osvschema-GHSA-9v2f-6vcg-3hgv.json');
    expect(records[0]?.type === 'vulnerability' && records[0].affected).toEqual([
      {
        vulnId: 'GHSA-9v2f-6vcg-3hgv',
        namespace: 'pypi',
        packageName: 'gradio',
        fixState: 'unfixed',
        ranges: [],
        versions: ['4.36.1', '4.36.-1'],
      },
    ]);
  });
});

describe('malformed OSV records are counted, not thrown', () => {
  const base = { id: 'X-1', modified: '2024-01-01T00:00:00Z' };
  it.each([
    ['not an object', [1, 2]],
    ['no id', { modified: 'x' }],
    ['affected not a list', { ...base, affected: { package: 1 } }],
    ['package without name', { ...base, affected: [{ package: { ecosystem: 'npm' } }] }],
    [
      'unknown range type',
      {
        ...base,
        affected: [
          {
            package: { ecosystem: 'npm', name: 'a' },
            ranges: [{ type: 'X', events: [{ introduced: '0' }] }],
          },
        ],
      },
    ],
    [
      'event with two keys',
      {
        ...base,
        affected: [
          {
            package: { ecosystem: 'npm', name: 'a' },
            ranges: [{ type: 'SEMVER', events: [{ introduced: '0', fixed: '1' }] }],
          },
        ],
      },
    ],
    [
      'event with a number',
      {
        ...base,
        affected: [
          { package: { ecosystem: 'npm', name: 'a' }, ranges: [{ type: 'SEMVER', events: [{ fixed: 1 }] }] },
        ],
      },
    ],
    ['aliases not strings', { ...base, aliases: [1] }],
    ['severity without score', { ...base, severity: [{ type: 'CVSS_V3' }] }],
  ])('%s', (_name, doc) => {
    const stats = newOsvParseStats();
    const record = parseOsvRecord(doc, { stats });
    expect([record.type, stats.malformed, stats.records]).toEqual(['malformed', 1, 1]);
  });

  it('unsupported ecosystems and GIT-only entries are skipped, not malformed', () => {
    const stats = newOsvParseStats();
    const record = parseOsvRecord(
      {
        id: 'X-2',
        modified: 'm',
        affected: [
          { package: { ecosystem: 'Wolfi', name: 'a' } },
          { package: { ecosystem: 'Chainguard', name: 'b' } },
          {
            package: { ecosystem: 'Alpine:v3.19', name: 'c' },
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1-r0' }] }],
          },
          { package: { ecosystem: 'Debian:12', name: 'd' } },
          { ranges: [{ type: 'GIT', repo: 'r', events: [{ introduced: '0' }] }] },
        ],
      },
      { stats, family: 'osv' },
    );
    expect(record).toEqual({
      type: 'vulnerability',
      vulnerability: {
        id: 'X-2',
        aliases: [],
        modified: 'm',
        cvss: [],
        vendorSeverities: [],
        cwes: [],
        references: [],
      },
      affected: [
        {
          vulnId: 'X-2',
          namespace: 'alpine:3.19',
          packageName: 'c',
          fixState: 'fixed',
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1-r0' }] }],
          fixedVersion: '1-r0',
        },
        { vulnId: 'X-2', namespace: 'debian:12', packageName: 'd', fixState: 'unfixed', ranges: [] },
      ],
    });
    expect(stats).toEqual({
      records: 1,
      vulnerabilities: 1,
      withdrawn: 0,
      malformed: 0,
      skippedAffected: 3,
      skippedByEcosystem: { Wolfi: 1, Chainguard: 1, '(no package)': 1 },
    });
  });
});
