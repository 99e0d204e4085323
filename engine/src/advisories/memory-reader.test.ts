import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedRecord } from '../feeds/types.js';
import { SnapshotReader } from '../vulndb/snapshot-reader.js';
import { SnapshotWriter } from '../vulndb/snapshot-writer.js';
import { row, vuln } from '../matchers/testdata/advisories.js';
import { MemoryAdvisoryReader } from './memory-reader.js';

const T0 = new Date('2026-11-27T00:00:00Z');
const keys = (...k: [string, string][]) => k.map(([namespace, packageName]) => ({ namespace, packageName }));

const GHSA: FeedRecord[] = [
  vuln(
    'GHSA-1',
    [row('npm', 'lodash', { fixed: '4.17.21' }), row('npm', 'lodash-es', { fixed: '4.17.21' })],
    {
      aliases: ['CVE-1'],
    },
  ),
  vuln('GHSA-2', [row('pypi', 'requests', { fixed: '2.32.0' })], { aliases: ['CVE-2'] }),
  { type: 'malformed', message: 'broken' },
  // an affected row without a package name makes the record malformed (as the snapshot does)
  vuln('GHSA-3', [{ ...row('npm', 'x'), packageName: '' }]),
];
const DEBIAN: FeedRecord[] = [
  // a tracker lists a CVE once per package: the second record of CVE-9 in the same application merges
  vuln('CVE-9', [row('debian:12', 'openssl', { fixed: '3.0.13-1' })]),
  vuln('CVE-9', [
    row('debian:12', 'openssl3', { state: 'unfixed' }),
    row('debian:12', 'openssl', { fixed: '3.0.13-1' }),
  ]),
];
const EXTRA: FeedRecord[] = [
  { type: 'kev', entry: { cveId: 'CVE-1', dateAdded: '2024-01-01' } },
  { type: 'epss', entry: { cveId: 'CVE-1', score: 0.25, percentile: 0.75, date: '2026-11-26' } },
  { type: 'kev', entry: { cveId: '', dateAdded: '2024-01-01' } },
];

describe('MemoryAdvisoryReader', () => {
  it('applies records like the snapshot: merge within an application, malformed counted', () => {
    const reader = new MemoryAdvisoryReader({ now: () => T0 });
    const meta = reader.addRecords('ghsa', GHSA);
    reader.addRecords('debian', DEBIAN);
    expect({
      meta,
      lodash: reader
        .affected(keys(['npm', 'lodash'], ['npm', 'lodash'], ['npm', 'none']))
        .map((a) => [a.vulnId, a.source, a.fixedVersion]),
      debian: reader
        .affected(keys(['debian:12', 'openssl'], ['debian:12', 'openssl3']))
        .map((a) => [a.packageName, a.fixState]),
      aliases: Object.fromEntries(reader.aliases(['CVE-1', 'GHSA-2', 'nothing'])),
    }).toEqual({
      meta: {
        name: 'ghsa',
        feedVersion: 1,
        updatedAt: T0.toISOString(),
        checkedAt: T0.toISOString(),
        counts: { vulnerabilities: 2, affected: 3, kev: 0, epss: 0, malformed: 2, withdrawn: 0 },
      },
      // duplicate keys are looked up once
      lodash: [['GHSA-1', 'ghsa', '4.17.21']],
      // the repeated openssl row is not stored twice
      debian: [
        ['openssl', 'fixed'],
        ['openssl3', 'unfixed'],
      ],
      // both directions: CVE-1 is named by GHSA-1, GHSA-2 names CVE-2
      aliases: { 'CVE-1': ['GHSA-1'], 'GHSA-2': ['CVE-2'] },
    });
  });

  it('full applications replace a source; deltas upsert and withdraw', () => {
    const reader = new MemoryAdvisoryReader({ now: () => T0 });
    reader.addRecords('ghsa', GHSA);
    reader.addRecords(
      'ghsa',
      [{ type: 'withdrawn', id: 'GHSA-1' }, vuln('GHSA-2', [row('pypi', 'requests', { fixed: '2.32.3' })])],
      {
        mode: 'delta',
      },
    );
    const afterDelta = {
      lodash: reader.affected(keys(['npm', 'lodash'])).length,
      requests: reader.affected(keys(['pypi', 'requests'])).map((a) => a.fixedVersion),
      aliases: Object.fromEntries(reader.aliases(['CVE-1', 'GHSA-2'])),
    };
    reader.addRecords('ghsa', [vuln('GHSA-4', [row('gem', 'rack', { fixed: '2.2.6' })])]);
    expect({
      afterDelta,
      afterFull: {
        requests: reader.affected(keys(['pypi', 'requests'])).length,
        rack: reader.affected(keys(['gem', 'rack'])).length,
        vulns: [...reader.vulnerabilities(['GHSA-2', 'GHSA-4']).keys()],
      },
    }).toEqual({
      // GHSA-1 withdrawn with its rows and aliases; GHSA-2 replaced (2.32.0 → 2.32.3) by a record
      // without aliases, so neither lookup has links left
      afterDelta: { lodash: 0, requests: ['2.32.3'], aliases: {} },
      afterFull: { requests: 0, rack: 1, vulns: ['GHSA-4'] },
    });
  });

  it('keeps KEV and EPSS per CVE', () => {
    const reader = new MemoryAdvisoryReader({ now: () => T0 });
    const meta = reader.addRecords('kev', EXTRA);
    expect({
      counts: meta.counts,
      kev: Object.fromEntries(reader.kev(['CVE-1', 'CVE-2'])),
      epss: Object.fromEntries(reader.epss(['CVE-1', 'CVE-2'])),
    }).toEqual({
      counts: { vulnerabilities: 0, affected: 0, kev: 1, epss: 1, malformed: 1, withdrawn: 0 },
      kev: { 'CVE-1': { cveId: 'CVE-1', dateAdded: '2024-01-01' } },
      epss: { 'CVE-1': { cveId: 'CVE-1', score: 0.25, percentile: 0.75, date: '2026-11-26' } },
    });
  });

  it('has a version that depends on the content only', () => {
    const a = new MemoryAdvisoryReader({ now: () => T0 });
    const b = new MemoryAdvisoryReader({ now: () => new Date('2030-01-01T00:00:00Z') });
    a.addRecords('ghsa', GHSA);
    a.addRecords('debian', DEBIAN);
    b.addRecords('debian', DEBIAN);
    b.addRecords('ghsa', GHSA);
    const before = a.meta().version;
    a.addRecords('debian', [vuln('CVE-10', [])], { mode: 'delta' });
    expect({ same: before === b.meta().version, changed: before !== a.meta().version }).toEqual({
      same: true,
      changed: true,
    });
  });
});

describe('MemoryAdvisoryReader answers like SnapshotReader for the same records', () => {
  let dir = '';
  let snapshot: SnapshotReader;
  const memory = new MemoryAdvisoryReader({ now: () => T0 });
  const sources: [string, FeedRecord[]][] = [
    ['ghsa', GHSA],
    ['debian', DEBIAN],
    ['kev', EXTRA],
    [
      'osv',
      [vuln('PYSEC-1', [row('pypi', 'requests', { fixed: '2.31.0' })], { aliases: ['GHSA-2', 'CVE-2'] })],
    ],
  ];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-memreader-'));
    const writer = await SnapshotWriter.create({ target: join(dir, 'db'), now: () => T0 });
    for (const [name, records] of sources) {
      await writer.applySource(
        { name, version: 1 },
        'full',
        (async function* () {
          yield* records;
        })(),
      );
      memory.addRecords(name, records);
    }
    await writer.finalize();
    snapshot = SnapshotReader.open(join(dir, 'db'));
  });
  afterAll(async () => {
    snapshot.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('affected, vulnerabilities, aliases, kev, epss and source counts', () => {
    const ask = (r: SnapshotReader | MemoryAdvisoryReader) => ({
      affected: r.affected(
        keys(['pypi', 'requests'], ['npm', 'lodash'], ['debian:12', 'openssl'], ['npm', 'lodash-es']),
      ),
      vulns: Object.fromEntries(r.vulnerabilities(['GHSA-2', 'CVE-9', 'PYSEC-1', 'nope'])),
      aliases: Object.fromEntries(r.aliases(['CVE-2', 'GHSA-2', 'PYSEC-1', 'CVE-1'])),
      kev: Object.fromEntries(r.kev(['CVE-1'])),
      epss: Object.fromEntries(r.epss(['CVE-1'])),
      counts: r.meta().sources.map((s) => [s.name, s.counts]),
    });
    expect(ask(memory)).toEqual(ask(snapshot));
  });
});
