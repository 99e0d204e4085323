import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasRealdata } from '../../../../test/support/realdata.js';
import type { AffectedPackage } from '../../model/vulnerability.js';
import { ghsaFeed, osvFeed } from './index.js';
import { newOsvParseStats } from './osv-record.js';
import { bufferBody, collect, feed } from './testdata/support.js';

const REST = JSON.parse(
  readFileSync(fileURLToPath(new URL('./testdata/ghsa-rest-advisory.json', import.meta.url)), 'utf8'),
);
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe.skipIf(!hasRealdata)('GitHub advisories in GraphQL shape (osv-schema converter inputs)', () => {
  it('full_ranges: two Maven packages, CVSS 3.0 with its score, CRITICAL', async () => {
    const rel = 'ghsa/osvschema-ghsa-api-full_ranges.json';
    const records = await collect(ghsaFeed.parse(bufferBody(feed(rel).bytes, rel)));
    const id = 'GHSA-mr95-9rr4-668f';
    const row = (name: string) => ({
      vulnId: id,
      namespace: 'maven',
      packageName: name,
      fixState: 'fixed',
      ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.5.0' }, { fixed: '2.5.16' }] }],
      fixedVersion: '2.5.16',
      extra: { vulnerableVersionRange: '>= 2.5.0, < 2.5.16' },
    });
    expect(records).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id,
          aliases: ['CVE-2018-16115'],
          title:
            'High severity vulnerability that affects com.typesafe.akka:akka-actor_2.11 and com.typesafe.akka:akka-actor_2.12',
          description: feed(rel).json.description,
          published: '2018-10-22T20:44:26Z',
          modified: '2021-09-15T20:58:47Z',
          cvss: [
            {
              version: '3.0',
              vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N',
              baseScore: 9.1,
              source: 'ghsa',
            },
          ],
          vendorSeverities: [{ source: 'ghsa', rating: 'CRITICAL', severity: 'CRITICAL' }],
          cwes: ['CWE-338'],
          // the permalink is already the second reference
          references: [
            'https://nvd.nist.gov/vuln/detail/CVE-2018-16115',
            'https://github.com/advisories/GHSA-mr95-9rr4-668f',
          ],
        },
        affected: [row('com.typesafe.akka:akka-actor_2.12'), row('com.typesafe.akka:akka-actor_2.11')],
      },
    ]);
  });

  it('full_ranges: the rows equal those of the OSV the osv-schema converter produced from it', async () => {
    const api = await collect(
      ghsaFeed.parse(bufferBody(feed('ghsa/osvschema-ghsa-api-full_ranges.json').bytes)),
    );
    const osv = await collect(
      osvFeed.parse(bufferBody(feed('ghsa/osvschema-ghsa-api-full_ranges.osv.json').bytes)),
    );
    const rows = (r: (typeof api)[number] | undefined) =>
      r?.type === 'vulnerability'
        ? r.affected.map(({ extra: _extra, ...rest }: AffectedPackage) => rest)
        : undefined;
    expect(rows(api[0])).toEqual(rows(osv[0]));
    expect(rows(api[0])).toHaveLength(2);
  });

  it('withdrawn advisory → withdrawn', async () => {
    const stats = newOsvParseStats();
    const records = await collect(
      ghsaFeed.parse(bufferBody(feed('ghsa/osvschema-ghsa-api-withdrawn.json').bytes), { stats }),
    );
    expect([records, stats.withdrawn]).toEqual([[{ type: 'withdrawn', id: 'GHSA-35c4-f3rq-f9g3' }], 1]);
  });
});

describe('GitHub advisories in REST shape', () => {
  it('maps one advisory: CVSS v3.1 and v4.0 (the legacy cvss duplicate once), PEP 503 names, skipped ecosystems', async () => {
    const stats = newOsvParseStats();
    const records = await collect(ghsaFeed.parse(bufferBody(json(REST)), { stats }));
    const id = 'GHSA-9999-aaaa-bbbb';
    expect(records).toEqual([
      {
        type: 'vulnerability',
        vulnerability: {
          id,
          aliases: ['CVE-2099-0001'],
          title: 'Prototype pollution in example-lib',
          description: 'example-lib before 1.2.3 lets an attacker pollute Object.prototype.',
          published: '2099-01-02T03:04:05Z',
          modified: '2099-01-03T00:00:00Z',
          cvss: [
            {
              version: '3.1',
              vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
              baseScore: 9.8,
              source: 'ghsa',
            },
            {
              version: '4.0',
              vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
              baseScore: 9.3,
              source: 'ghsa',
            },
          ],
          vendorSeverities: [{ source: 'ghsa', rating: 'high', severity: 'HIGH' }],
          cwes: ['CWE-1321'],
          references: [
            'https://nvd.nist.gov/vuln/detail/CVE-2099-0001',
            'https://github.com/example/example-lib/commit/0123456789abcdef0123456789abcdef01234567',
            'https://github.com/advisories/GHSA-9999-aaaa-bbbb',
          ],
        },
        affected: [
          {
            vulnId: id,
            namespace: 'npm',
            packageName: 'example-lib',
            fixState: 'fixed',
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '1.0.0' }, { fixed: '1.2.3' }] }],
            fixedVersion: '1.2.3',
            extra: { vulnerableVersionRange: '>= 1.0.0, < 1.2.3' },
          },
          {
            vulnId: id,
            namespace: 'pypi',
            packageName: 'example-lib-py',
            fixState: 'unfixed',
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { last_affected: '0.9' }] }],
            extra: { vulnerableVersionRange: '<= 0.9' },
          },
        ],
      },
    ]);
    expect(stats.skippedByEcosystem).toEqual({ actions: 1 });
  });

  it('a page: advisories, a withdrawn one, a malformed one (unreadable range) counted', async () => {
    const page = [
      REST,
      { ...REST, ghsa_id: 'GHSA-9999-cccc-dddd', withdrawn_at: '2099-02-01T00:00:00Z' },
      {
        ...REST,
        ghsa_id: 'GHSA-9999-eeee-ffff',
        vulnerabilities: [{ package: { ecosystem: 'npm', name: 'x' }, vulnerable_version_range: '~> 1.0' }],
      },
      { ...REST, ghsa_id: 42 },
    ];
    const stats = newOsvParseStats();
    const records = await collect(ghsaFeed.parse(bufferBody(json(page), 'page', 7), { stats }));
    expect(
      records.map((r) => [
        r.type,
        'ref' in r
          ? r.ref
          : r.type === 'withdrawn'
            ? r.id
            : r.type === 'vulnerability'
              ? r.vulnerability.id
              : '',
      ]),
    ).toEqual([
      ['vulnerability', 'GHSA-9999-aaaa-bbbb'],
      ['withdrawn', 'GHSA-9999-cccc-dddd'],
      ['malformed', 'GHSA-9999-eeee-ffff'],
      ['malformed', ''], // ghsa_id 42: no id to refer to
    ]);
    expect(records[2]).toEqual({
      type: 'malformed',
      ref: 'GHSA-9999-eeee-ffff',
      message:
        'GitHub advisory GHSA-9999-eeee-ffff: vulnerabilities[0].vulnerable_version_range: cannot read constraint "~> 1.0" in "~> 1.0"',
    });
    expect([stats.records, stats.vulnerabilities, stats.withdrawn, stats.malformed]).toEqual([4, 1, 1, 2]);
  });

  it('a body that is not a GitHub advisory document is refused with ENG_FEED_FORMAT', async () => {
    for (const body of [json({ id: 'GHSA-x', modified: 'm' }), Buffer.from('not json'), json(42)])
      await expect(collect(ghsaFeed.parse(bufferBody(body)))).rejects.toMatchObject({
        code: 'ENG_FEED_FORMAT',
      });
  });
});
