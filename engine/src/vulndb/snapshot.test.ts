import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FeedRecord } from '../feeds/types.js';
import { verifySnapshot } from './export.js';
import { SnapshotReader } from './snapshot-reader.js';
import { SnapshotWriter } from './snapshot-writer.js';
import { records, testFeed, vuln } from './testdata/test-feed.js';

const T0 = '2026-01-02T03:04:05.000Z';
const T1 = '2026-02-03T04:05:06.000Z';
const clock = (iso: string) => () => new Date(iso);
const ghsa = testFeed('ghsa');
const nvd = testFeed('nvd');
const kev = testFeed('kev');
const epss = testFeed('epss');

let dir = '';
let target = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-snapshot-'));
  target = join(dir, 'vigil.db');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function build(
  sources: [typeof ghsa, FeedRecord[]][],
  now = T0,
  base?: string,
  mode: 'full' | 'delta' = 'full',
) {
  const writer = await SnapshotWriter.create({ target, base, now: clock(now) });
  for (const [feed, items] of sources) await writer.applySource(feed, mode, records(items));
  return writer.finalize();
}

function read<T>(fn: (r: SnapshotReader) => T): T {
  const reader = SnapshotReader.open(target);
  try {
    return fn(reader);
  } finally {
    reader.close();
  }
}

const lodash = vuln(
  'GHSA-1',
  [
    ['npm', 'lodash', '4.17.21'],
    ['npm', 'lodash-es', '4.17.21'],
  ],
  { aliases: ['CVE-1'] },
);
const requests = vuln('GHSA-2', [['pypi', 'requests', '2.32.0']], { aliases: ['CVE-2'] });
const cve1 = vuln('CVE-1', [], {
  cvss: [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', source: 'nvd@nist.gov' }],
});

describe('SnapshotWriter and SnapshotReader', () => {
  it('round-trips vulnerabilities, affected rows, aliases, KEV and EPSS, with per-source counts', async () => {
    const meta = await build([
      [ghsa, [lodash, requests, { type: 'malformed', message: 'bad' }]],
      [nvd, [cve1]],
      [kev, [{ type: 'kev', entry: { cveId: 'CVE-1', dateAdded: '2024-01-01', product: 'lodash' } }]],
      [epss, [{ type: 'epss', entry: { cveId: 'CVE-1', score: 0.5, percentile: 0.9, date: '2026-01-01' } }]],
    ]);
    const counts = (v: number, a: number, k = 0, e = 0, m = 0) => ({
      vulnerabilities: v,
      affected: a,
      kev: k,
      epss: e,
      malformed: m,
      withdrawn: 0,
    });
    const source = (name: string, c: ReturnType<typeof counts>) => ({
      name,
      feedVersion: 1,
      updatedAt: T0,
      checkedAt: T0,
      counts: c,
      contentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(meta).toEqual({
      schemaVersion: 5,
      version: expect.stringMatching(/^[0-9a-f]{64}$/),
      builtAt: T0,
      sources: [
        source('epss', counts(0, 0, 0, 1)),
        source('ghsa', counts(2, 3, 0, 0, 1)),
        source('kev', counts(0, 0, 1)),
        source('nvd', counts(1, 0)),
      ],
    });
    read((r) => {
      expect(r.meta()).toEqual(meta);
      const fixed = (vulnId: string, namespace: string, packageName: string, version: string) => ({
        vulnId,
        source: 'ghsa',
        namespace,
        packageName,
        fixState: 'fixed',
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: version }] }],
        fixedVersion: version,
      });
      expect(
        r.affected([
          { namespace: 'npm', packageName: 'lodash' },
          { namespace: 'npm', packageName: 'lodash' },
          { namespace: 'pypi', packageName: 'requests' },
          { namespace: 'npm', packageName: 'left-pad' },
        ]),
      ).toEqual([fixed('GHSA-1', 'npm', 'lodash', '4.17.21'), fixed('GHSA-2', 'pypi', 'requests', '2.32.0')]);
      const v = (rec: FeedRecord) => (rec.type === 'vulnerability' ? rec.vulnerability : undefined);
      expect(r.vulnerabilities(['CVE-1', 'GHSA-1', 'CVE-9'])).toEqual(
        new Map([
          ['CVE-1', [{ source: 'nvd', vulnerability: v(cve1) }]],
          ['GHSA-1', [{ source: 'ghsa', vulnerability: v(lodash) }]],
        ]),
      );
      expect(r.aliases(['CVE-1', 'GHSA-2', 'CVE-9'])).toEqual(
        new Map([
          ['CVE-1', ['GHSA-1']],
          ['GHSA-2', ['CVE-2']],
        ]),
      );
      expect(r.kev(['CVE-1', 'CVE-2'])).toEqual(
        new Map([['CVE-1', { cveId: 'CVE-1', dateAdded: '2024-01-01', product: 'lodash' }]]),
      );
      expect(r.epss(['CVE-1', 'CVE-2'])).toEqual(
        new Map([['CVE-1', { cveId: 'CVE-1', score: 0.5, percentile: 0.9, date: '2026-01-01' }]]),
      );
    });
  });

  it('delta mode upserts per id and withdraws; full mode replaces only its own source', async () => {
    await build([
      [ghsa, [lodash, requests]],
      [nvd, [cve1]],
    ]);
    const delta = await build(
      [
        [
          ghsa,
          [
            vuln('GHSA-1', [['npm', 'underscore', '1.13.0']], { aliases: ['CVE-11'] }),
            { type: 'withdrawn', id: 'GHSA-2' },
            vuln('GHSA-3', [['pypi', 'requests', '2.33.0']]),
          ],
        ],
      ],
      T1,
      target,
      'delta',
    );
    expect(delta.sources.find((s) => s.name === 'ghsa')?.counts).toEqual({
      vulnerabilities: 2,
      affected: 2,
      kev: 0,
      epss: 0,
      malformed: 0,
      withdrawn: 1,
    });
    const keys = [
      { namespace: 'npm', packageName: 'lodash' },
      { namespace: 'npm', packageName: 'underscore' },
      { namespace: 'pypi', packageName: 'requests' },
    ];
    read((r) => {
      expect(r.affected(keys).map((a) => [a.vulnId, a.packageName, a.fixedVersion])).toEqual([
        ['GHSA-1', 'underscore', '1.13.0'],
        ['GHSA-3', 'requests', '2.33.0'],
      ]);
      expect([...r.vulnerabilities(['GHSA-1', 'GHSA-2', 'GHSA-3', 'CVE-1']).keys()]).toEqual([
        'GHSA-1',
        'GHSA-3',
        'CVE-1',
      ]);
      // GHSA-1's old alias CVE-1 was replaced by CVE-11; GHSA-2's alias went with it
      expect(r.aliases(['GHSA-1', 'CVE-1', 'CVE-2'])).toEqual(new Map([['GHSA-1', ['CVE-11']]]));
    });
    await build([[ghsa, [vuln('GHSA-4', [['gem', 'rack', '3.0.1']])]]], T1, target, 'full');
    read((r) => {
      expect(r.affected(keys)).toEqual([]);
      expect([...r.vulnerabilities(['GHSA-1', 'GHSA-3', 'GHSA-4', 'CVE-1']).keys()]).toEqual([
        'GHSA-4',
        'CVE-1',
      ]);
    });
  });

  it('merges records repeating an id within one application (trackers list a CVE once per package)', async () => {
    const meta = await build([
      [
        testFeed('debian'),
        [
          vuln('CVE-5', [['debian:12', 'openssl', '3.0.1']]),
          vuln('CVE-5', [
            ['debian:12', 'curl'],
            ['debian:12', 'openssl', '3.0.1'],
          ]),
        ],
      ],
    ]);
    expect(meta.sources[0]?.counts).toMatchObject({ vulnerabilities: 1, affected: 2 });
    read((r) =>
      expect(
        r
          .affected([
            { namespace: 'debian:12', packageName: 'openssl' },
            { namespace: 'debian:12', packageName: 'curl' },
          ])
          .map((a) => [a.vulnId, a.packageName, a.fixState]),
      ).toEqual([
        ['CVE-5', 'openssl', 'fixed'],
        ['CVE-5', 'curl', 'unfixed'],
      ]),
    );
  });

  it('counts records of unusable shape as malformed and goes on', async () => {
    const bad = [
      { type: 'vulnerability', vulnerability: { aliases: [] }, affected: [] },
      { type: 'vulnerability', vulnerability: { id: 'X-1', aliases: [] }, affected: [{ packageName: 'p' }] },
      { type: 'epss', entry: { cveId: 'CVE-1', score: Number.NaN, percentile: 0, date: 'd' } },
      { type: 'kev', entry: { cveId: 'CVE-1' } },
      { type: 'something-else' },
      null,
    ] as unknown as FeedRecord[];
    const meta = await build([[ghsa, [...bad, lodash]]]);
    expect(meta.sources[0]?.counts).toEqual({
      vulnerabilities: 1,
      affected: 2,
      kev: 0,
      epss: 0,
      malformed: 6,
      withdrawn: 0,
    });
  });
});

describe('snapshot version (content hash)', () => {
  it('is the same for the same content built twice, in any record or source order, at other times', async () => {
    const first = await build([
      [ghsa, [lodash, requests]],
      [nvd, [cve1]],
    ]);
    const second = await build(
      [
        [nvd, [cve1]],
        [ghsa, [requests, lodash]],
      ],
      T1,
    );
    expect(second.builtAt).toBe(T1);
    expect(second.version).toBe(first.version);
  });

  it('follows its definition over the logical rows, whatever the file layout (and verifies from the packed file)', async () => {
    // package names whose UTF-16 order differs from their code point (SQLite BINARY) order:
    // U+FFFD sorts after the surrogate pair of U+1F600 in UTF-16, before it in code points
    const tricky = vuln('GHSA-9', [
      ['npm', '\u{1F600}-emoji', '2.0.0'],
      ['npm', '\uFFFD-replacement', '1.0.0'],
      ['npm', 'a', '3.0.0'],
    ]);
    const extra = vuln('GHSA-8', [['npm', 'a']]);
    if (extra.type === 'vulnerability')
      // an own "__proto__" member (JSON.parse makes one; an object literal would set the prototype)
      extra.affected[0]!.extra = JSON.parse('{"__proto__":"x","2":"two","lone":"\\ud800"}') as Record<
        string,
        string
      >;
    const meta = await build([[ghsa, [tricky, extra, lodash]]]);
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const byCodePoints = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const items = [tricky, extra, lodash].flatMap((r) => (r.type === 'vulnerability' ? [r] : []));
    const vLines = items
      .map((r) => [r.vulnerability.id, JSON.stringify(r.vulnerability)] as const)
      .sort((x, y) => byCodePoints(x[0], y[0]))
      .map((row) => `${JSON.stringify(row)}\n`);
    const aRows = items.flatMap((r) =>
      r.affected.map(({ vulnId, namespace, packageName, ...rest }) => [
        namespace,
        packageName,
        vulnId,
        JSON.stringify(rest),
      ]),
    );
    aRows.sort((x, y) => {
      for (let i = 0; i < 4; i++) {
        const c = byCodePoints(x[i]!, y[i]!);
        if (c) return c;
      }
      return 0;
    });
    const a = sha(aRows.map((row) => `${JSON.stringify(row)}\n`).join(''));
    const empty = sha('');
    const contentHash = sha(`v ${sha(vLines.join(''))}\na ${a}\nk ${empty}\ne ${empty}\n`);
    expect(meta.sources[0]?.contentHash).toBe(contentHash);
    expect(meta.version).toBe(sha(JSON.stringify({ schemaVersion: 5, sources: [['ghsa', 1, contentHash]] })));
    // recomputed from the packed rows (their JSON restored), the version is the same
    expect(verifySnapshot(target)).toEqual(meta);
    // and the reader returns the entries of one package in (vulnId, source, JSON) order
    read((r) =>
      expect(r.affected([{ namespace: 'npm', packageName: 'a' }]).map((x) => [x.vulnId, x.extra])).toEqual([
        ['GHSA-8', JSON.parse('{"__proto__":"x","2":"two","lone":"\\ud800"}')],
        ['GHSA-9', undefined],
      ]),
    );
  });

  it('changes when one fixed version changes', async () => {
    const first = await build([[ghsa, [lodash, requests]]]);
    const changed = vuln('GHSA-2', [['pypi', 'requests', '2.32.1']], { aliases: ['CVE-2'] });
    const second = await build([[ghsa, [lodash, changed]]]);
    expect(second.version).not.toBe(first.version);
  });

  it('stays when a re-sync brings nothing new: only checkedAt moves, updatedAt stays', async () => {
    const first = await build([[ghsa, [lodash]]]);
    const writer = await SnapshotWriter.create({ target, base: target, now: clock(T1) });
    await writer.applySource(ghsa, 'full', records([lodash]), { checkpoint: { etag: 'b' } });
    writer.markChecked(nvd);
    const second = await writer.finalize();
    expect(second.version).toBe(first.version);
    expect(
      second.sources.map(({ name, updatedAt, checkedAt, checkpoint }) => ({
        name,
        updatedAt,
        checkedAt,
        checkpoint,
      })),
    ).toEqual([
      { name: 'ghsa', updatedAt: T0, checkedAt: T1, checkpoint: { etag: 'b' } },
      { name: 'nvd', checkedAt: T1 },
    ]);
  });
});

describe('atomicity', () => {
  it('keeps a source as it was when its records fail half-way, and the writer goes on', async () => {
    await build([[ghsa, [lodash, requests]]]);
    const writer = await SnapshotWriter.create({ target, base: target, now: clock(T1) });
    async function* broken(): AsyncGenerator<FeedRecord> {
      yield { type: 'withdrawn', id: 'GHSA-1' };
      throw new Error('connection reset');
    }
    await expect(writer.applySource(ghsa, 'full', broken())).rejects.toThrow('connection reset');
    writer.recordError(ghsa, 'connection reset');
    await writer.applySource(nvd, 'full', records([cve1]));
    const meta = await writer.finalize();
    expect(meta.sources.find((s) => s.name === 'ghsa')).toMatchObject({
      updatedAt: T0,
      lastError: 'connection reset',
      counts: { vulnerabilities: 2, affected: 3 },
    });
    read((r) =>
      expect([...r.vulnerabilities(['GHSA-1', 'GHSA-2', 'CVE-1']).keys()]).toEqual([
        'GHSA-1',
        'GHSA-2',
        'CVE-1',
      ]),
    );
  });

  it('abort() leaves the target byte for byte and no temporary file behind', async () => {
    await build([[ghsa, [lodash]]]);
    const before = await readFile(target);
    const writer = await SnapshotWriter.create({ target, base: target });
    await writer.applySource(ghsa, 'full', records([requests]));
    await writer.abort();
    expect(await readFile(target)).toEqual(before);
    expect(await readdir(dir)).toEqual(['vigil.db']);
  });

  it('a new writer removes the temporary snapshot and staging files a dead writer left behind', async () => {
    // pid 999999999 is above Linux's pid_max: no such process
    const stale = ['.vigil.db.999999999.0badc0de.tmp', '.vigil.db.999999999.0badc0de.tmp-staging'];
    for (const name of [...stale, ...stale.map((n) => `${n}-journal`)]) await writeFile(join(dir, name), 'x');
    await build([[ghsa, [lodash]]]);
    expect(await readdir(dir)).toEqual(['vigil.db']);
  });

  it('refuses overlapping calls', async () => {
    const writer = await SnapshotWriter.create({ target });
    const pending = writer.applySource(ghsa, 'full', records([lodash]));
    expect(() => writer.markChecked(nvd)).toThrow(expect.objectContaining({ code: 'ENG_INVALID_ARGUMENT' }));
    await pending;
    await writer.abort();
  });
});
