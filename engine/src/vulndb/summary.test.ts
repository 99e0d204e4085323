import Database from 'better-sqlite3';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryAdvisoryReader } from '../advisories/memory-reader.js';
import type { FeedRecord } from '../feeds/types.js';
import type { AffectedPackage } from '../model/vulnerability.js';
import { SnapshotReader } from './snapshot-reader.js';
import { SnapshotWriter } from './snapshot-writer.js';
import { verifySnapshot } from './export.js';
import { records, testFeed, vuln } from './testdata/test-feed.js';
import type { AdvisoryReader, VulnSummary } from './types.js';

const NOW = () => new Date('2026-01-02T03:04:05.000Z');
const cvss = {
  version: '3.1',
  vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  source: 'nvd@nist.gov',
} as const;

// NVD's CVE-1 with what matching never reads (CPE configurations, modified), GHSA-1 aliasing it,
// an erratum relating CVE-1 and CVE-2, KEV for CVE-1, EPSS for CVE-1 and for CVE-3 (known to no
// other table)
const SOURCES: [string, FeedRecord[]][] = [
  [
    'nvd',
    [
      vuln('CVE-1', [], {
        description: 'overflow',
        published: '2024-01-01T00:00:00.000Z',
        modified: '2025-01-01T00:00:00.000Z',
        cvss: [cvss],
        cwes: ['CWE-787'],
        references: ['https://nvd.example/CVE-1'],
        cpeConfigurations: [{ nodes: [{ cpeMatch: [{ criteria: 'cpe:2.3:a:x:y:*' }] }] }],
      }),
    ],
  ],
  [
    'ghsa',
    [
      vuln('GHSA-1', [['npm', 'lodash', '4.17.21']], {
        aliases: ['CVE-1'],
        title: 'Prototype pollution',
        vendorSeverities: [{ source: 'ghsa', rating: 'HIGH', severity: 'HIGH' }],
      }),
    ],
  ],
  ['alma', [vuln('ALSA-2024:1', [['almalinux:9', 'openssl', '3.0.7-1']], { related: ['CVE-1', 'CVE-2'] })]],
  ['kev', [{ type: 'kev', entry: { cveId: 'CVE-1', dateAdded: '2024-02-01', product: 'lodash' } }]],
  [
    'epss',
    [
      { type: 'epss', entry: { cveId: 'CVE-1', score: 0.5, percentile: 0.9, date: '2026-01-01' } },
      { type: 'epss', entry: { cveId: 'CVE-3', score: 0.01, percentile: 0.1, date: '2026-01-01' } },
    ],
  ],
];
const IDS = ['CVE-1', 'GHSA-1', 'ALSA-2024:1', 'CVE-2', 'CVE-3', 'CVE-9', 'CVE-1'];

let dir = '';
let target = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-summary-'));
  target = join(dir, 'vigil.db');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function build(sources: [string, FeedRecord[]][], base?: string): Promise<void> {
  const writer = await SnapshotWriter.create({ target, base, now: NOW });
  for (const [name, items] of sources) await writer.applySource(testFeed(name), 'full', records(items));
  await writer.finalize();
}

function read<T>(fn: (r: SnapshotReader) => T): T {
  const reader = SnapshotReader.open(target);
  try {
    return fn(reader);
  } finally {
    reader.close();
  }
}

function memoryReader(sources: [string, FeedRecord[]][]): MemoryAdvisoryReader {
  const reader = new MemoryAdvisoryReader({ now: NOW });
  for (const [name, items] of sources) reader.addRecords(name, items);
  return reader;
}

/** The summaries composed from the four per-table calls, as matching used to read them. */
function composed(r: AdvisoryReader, ids: string[]) {
  const records = r.vulnerabilities(ids);
  const aliases = r.aliases(ids);
  const kev = r.kev(ids);
  const epss = r.epss(ids);
  const out = new Map<string, unknown>();
  for (const id of new Set(ids)) {
    if (!records.has(id) && !aliases.has(id) && !kev.has(id) && !epss.has(id)) continue;
    out.set(id, {
      records: (records.get(id) ?? []).map(({ source, vulnerability }) => {
        // eslint-disable-next-line @typescript-eslint/no-unused-vars
        const { id: _, modified, cpeConfigurations, withdrawn, ...kept } = vulnerability;
        const nonEmpty = Object.entries(kept).filter(([, v]) => !(Array.isArray(v) && v.length === 0));
        return { source, vulnerability: Object.fromEntries(nonEmpty) };
      }),
      aliases: aliases.get(id) ?? [],
      ...(kev.has(id) ? { kev: kev.get(id) } : {}),
      ...(epss.has(id) ? { epss: epss.get(id) } : {}),
    });
  }
  return out;
}

/** Summaries as plain values (their records decoded). */
const decoded = (summaries: Map<string, VulnSummary>) =>
  new Map([...summaries].map(([id, { records, ...head }]) => [id, { ...head, records: records() }]));

describe('vulnerability summaries', () => {
  it('hold every record (reduced to what matching reads, without empty lists), the aliases both ways, KEV and EPSS of an id', async () => {
    await build(SOURCES);
    const summaries = read((r) => decoded(r.summaries(IDS)));
    expect(summaries).toEqual(
      new Map<string, unknown>([
        [
          'ALSA-2024:1',
          {
            records: [
              {
                source: 'alma',
                vulnerability: { related: ['CVE-1', 'CVE-2'] },
              },
            ],
            aliases: [],
          },
        ],
        [
          'CVE-1',
          {
            records: [
              {
                source: 'nvd',
                vulnerability: {
                  description: 'overflow',
                  published: '2024-01-01T00:00:00.000Z',
                  cvss: [cvss],
                  cwes: ['CWE-787'],
                  references: ['https://nvd.example/CVE-1'],
                },
              },
            ],
            aliases: ['GHSA-1'],
            kev: { cveId: 'CVE-1', dateAdded: '2024-02-01', product: 'lodash' },
            epss: { cveId: 'CVE-1', score: 0.5, percentile: 0.9, date: '2026-01-01' },
          },
        ],
        [
          'CVE-3',
          {
            records: [],
            aliases: [],
            epss: { cveId: 'CVE-3', score: 0.01, percentile: 0.1, date: '2026-01-01' },
          },
        ],
        [
          'GHSA-1',
          {
            records: [
              {
                source: 'ghsa',
                vulnerability: {
                  aliases: ['CVE-1'],
                  title: 'Prototype pollution',
                  vendorSeverities: [{ source: 'ghsa', rating: 'HIGH', severity: 'HIGH' }],
                },
              },
            ],
            aliases: ['CVE-1'],
          },
        ],
      ]),
    );
    // the same answers as the per-table calls, and as the in-memory reader loaded with the same records
    expect(summaries).toEqual(read((r) => composed(r, IDS)));
    expect(decoded(memoryReader(SOURCES).summaries(IDS))).toEqual(summaries);
  });

  it('follow updates: an id whose record went away keeps only what the other tables say', async () => {
    await build(SOURCES);
    const base = join(dir, 'base.db');
    await copyFile(target, base);
    // a new snapshot from that one, ghsa now empty
    await build([['ghsa', []]], base);
    const after = [...SOURCES.filter(([name]) => name !== 'ghsa'), ['ghsa', []] as [string, FeedRecord[]]];
    const summaries = read((r) => decoded(r.summaries(IDS)));
    expect(summaries.has('GHSA-1')).toBe(false);
    expect(summaries.get('CVE-1')?.aliases).toEqual([]);
    expect(summaries).toEqual(decoded(memoryReader(after).summaries(IDS)));
  });

  it('refuse a stored summary that is not one (ENG_DB_CORRUPT), its records when they are asked for', async () => {
    await build(SOURCES);
    const db = new Database(target);
    db.prepare(`UPDATE summaries SET head = '{"aliases":7}' WHERE id = 'CVE-1'`).run();
    db.prepare(`UPDATE summaries SET records = '[{"source":1}]' WHERE id = 'GHSA-1'`).run();
    db.close();
    const corrupt = (what: string) =>
      expect.objectContaining({ code: 'ENG_DB_CORRUPT', message: expect.stringContaining(what) });
    expect(() => read((r) => r.summaries(['CVE-1']))).toThrow(corrupt('the summary of CVE-1 is not one'));
    const ghsa = read((r) => r.summaries(['GHSA-1']).get('GHSA-1')!);
    expect(ghsa.aliases).toEqual(['CVE-1']);
    expect(() => ghsa.records()).toThrow(corrupt('the summary of GHSA-1 has records that are not records'));
  });
});

describe('affectedEach', () => {
  it('hands over the rows of each key in key order, a repeated key at each position, the rows affected() returns', async () => {
    const ghsa: [string, FeedRecord[]][] = [
      [
        'ghsa',
        [
          vuln('GHSA-1', [
            ['npm', 'a', '1.0.1'],
            ['npm', 'b', '2.0.0'],
          ]),
          vuln('GHSA-2', [['npm', 'a', '1.2.0']]),
        ],
      ],
    ];
    await build(ghsa);
    const keys = [
      { namespace: 'npm', packageName: 'b' },
      { namespace: 'npm', packageName: 'none' },
      { namespace: 'npm', packageName: 'a' },
      { namespace: 'npm', packageName: 'b' },
    ];
    for (const reader of [SnapshotReader.open(target), memoryReader(ghsa)]) {
      const visits: [number, AffectedPackage[]][] = [];
      reader.affectedEach(keys, (i, rows) => visits.push([i, rows]));
      expect(visits.map(([i, rows]) => [i, rows.map((r) => `${r.vulnId} ${r.packageName}`)])).toEqual([
        [0, ['GHSA-1 b']],
        [2, ['GHSA-1 a', 'GHSA-2 a']],
        [3, ['GHSA-1 b']],
      ]);
      expect(visits[2]![1]).toEqual(visits[0]![1]);
      expect(visits.slice(0, 2).flatMap(([, rows]) => rows)).toEqual(reader.affected(keys));
      reader.close();
    }
  });

  // debian:12/openssl: fixed in 3.0.1 (CVE-1), 3.0.5 (CVE-3), open records CVE-2 (unfixed) and
  // CVE-4 (will-not-fix) between them in (vulnId) order; debian:12/zlib: open records only
  const tracker: [string, FeedRecord[]][] = [
    [
      'debian',
      [
        vuln('CVE-1', [['debian:12', 'openssl', '3.0.1']]),
        vuln('CVE-2', [
          ['debian:12', 'openssl'],
          ['debian:12', 'zlib'],
        ]),
        vuln('CVE-3', [['debian:12', 'openssl', '3.0.5']]),
        vuln('CVE-4', [['debian:12', 'openssl']]),
      ],
    ],
  ];
  const keys = [
    { namespace: 'debian:12', packageName: 'openssl' },
    { namespace: 'debian:12', packageName: 'zlib' },
    { namespace: 'debian:12', packageName: 'openssl' },
  ];
  const ids = (rows: AffectedPackage[]) => rows.map((r) => `${r.vulnId} ${r.packageName} ${r.fixState}`);

  it('keeps open entries apart: a skipped key hands over only its open entries, any other key every entry in order', async () => {
    await build(tracker);
    const all = [
      'CVE-1 openssl fixed',
      'CVE-2 openssl unfixed',
      'CVE-3 openssl fixed',
      'CVE-4 openssl unfixed',
    ];
    const db = new Database(target, { readonly: true });
    expect(
      db
        .prepare(
          'SELECT package, clear_scheme, clear_above, open_at, rows IS NOT NULL FROM affected ORDER BY package',
        )
        .raw()
        .all(),
    ).toEqual([
      // the clear-above version is that of the fixed entries; the open ones sit at positions 1 and 3
      ['openssl', 'deb', '3.0.5', '[1,3]', 1],
      ['zlib', null, null, '[0]', 1],
    ]);
    db.close();
    const reader = SnapshotReader.open(target);
    try {
      expect(ids(reader.affected(keys))).toEqual([...all, 'CVE-2 zlib unfixed']);
      const offered: [number, string, string][] = [];
      const visits: [number, string[]][] = [];
      // position 0 is above 3.0.5 (skipped: open entries only), position 2 below (every entry)
      reader.affectedEach(
        keys,
        (i, rows) => visits.push([i, ids(rows)]),
        (i, scheme, version) => (offered.push([i, scheme, version]), i === 0),
      );
      expect({ offered, visits }).toEqual({
        offered: [
          [0, 'deb', '3.0.5'],
          [2, 'deb', '3.0.5'],
        ],
        visits: [
          [0, ['CVE-2 openssl unfixed', 'CVE-4 openssl unfixed']],
          [1, ['CVE-2 zlib unfixed']],
          [2, all],
        ],
      });
    } finally {
      reader.close();
    }
    // the memory reader (no clear-above versions) gives the same rows, in the same order
    const memory = memoryReader(tracker);
    expect(ids(memory.affected(keys))).toEqual([...all, 'CVE-2 zlib unfixed']);
  });

  it.each([
    ['positions that do not fit', `UPDATE affected SET open_at = '[0,9]' WHERE package = 'openssl'`],
    ['positions that are not JSON', `UPDATE affected SET open_at = '[1,' WHERE package = 'openssl'`],
    ['open entries without positions', `UPDATE affected SET open_at = NULL WHERE package = 'openssl'`],
    ['open entries that are not JSON', `UPDATE affected SET open_rows = '[{' WHERE package = 'openssl'`],
  ])('refuses a packed row with %s (ENG_DB_CORRUPT), and verifySnapshot finds it', async (_, sql) => {
    await build(tracker);
    const db = new Database(target);
    db.exec(sql);
    db.close();
    expect(() => read((r) => r.affected(keys.slice(0, 1)))).toThrow(
      expect.objectContaining({
        code: 'ENG_DB_CORRUPT',
        message: expect.stringContaining('debian:12 openssl'),
      }),
    );
    expect(() => verifySnapshot(target)).toThrow(expect.objectContaining({ code: 'ENG_DB_CORRUPT' }));
  });

  it('verifySnapshot refuses open entries stored with the ranged ones', async () => {
    await build(tracker);
    const db = new Database(target);
    db.exec(
      `UPDATE affected SET open_at = NULL, open_rows = NULL, rows = '[' || json_extract(open_rows, '$[0]') || ']' WHERE package = 'zlib'`,
    );
    db.close();
    expect(ids(read((r) => r.affected(keys.slice(1, 2))))).toEqual(['CVE-2 zlib unfixed']);
    expect(() => verifySnapshot(target)).toThrow(expect.objectContaining({ code: 'ENG_DB_CORRUPT' }));
  });
});
