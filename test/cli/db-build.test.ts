/**
 * `vigil db build | status` on the built CLI: the acceptance check over the realdata feeds
 * folder (every feed Vigil has contributes rows), a small synthetic KEV + EPSS set with exact
 * output, and the error exits.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEED_NAMES } from '../../engine/src/feeds/index.js';
import type { SnapshotMeta } from '../../engine/src/vulndb/types.js';
import { runVigil } from '../support/cli.js';
import { hasRealdata, realdata } from '../support/realdata.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-cli-db-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const status = async (db: string) => {
  const r = await runVigil(['db', 'status', '--db', db, '--format', 'json']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as SnapshotMeta & { path: string };
};

describe.skipIf(!hasRealdata)('vigil db build --from realdata/feeds (issue #3 acceptance)', () => {
  it('succeeds, and db status shows rows from every feed Vigil has', async () => {
    const out = join(dir, 'realdata.db');
    const build = await runVigil(['db', 'build', '--from', realdata('feeds'), '--out', out]);
    expect(build.code).toBe(0);
    // files in no feed format (here a JSON schema NIST publishes beside the API) are reported, not dropped
    expect(build.stderr).toContain(
      'vigil: warning: not used: nvd/schemas/cvss-v3.1.json: no feed recognises this content\n',
    );
    const meta = await status(out);
    const rows = (s: SnapshotMeta['sources'][number]) =>
      s.counts.vulnerabilities + s.counts.affected + s.counts.kev + s.counts.epss;
    expect(
      meta.sources
        .map((s) => ({ name: s.name, hasRows: rows(s) > 0 }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    ).toEqual([...FEED_NAMES].sort().map((name) => ({ name, hasRows: true })));
    const by = new Map(meta.sources.map((s) => [s.name, s.counts]));
    // kev/: CVE-2017-3066, CVE-2021-44228 (claircore catalog), CVE-2024-53704, CVE-2024-57727,
    // CVE-2025-0108 (vunnel slice; the single-entry file repeats CVE-2025-0108): 5 CVEs
    expect(by.get('kev')?.kev).toBe(5);
    // epss/: 19 + 15 data rows in the two valid files, CVE-1999-0005 in both: 33 CVEs; the
    // invalid-header and missing-date files are skipped (on-error skip) and say so
    expect(by.get('epss')?.epss).toBe(33);
    expect(build.stderr).toContain('vigil: warning: skipped (epss): epss/vunnel-epss-invalid-header.csv: ');
  });
});

describe('vigil db build and status on synthetic feed files', () => {
  it('builds from a KEV catalog and an EPSS CSV and prints their counts', async () => {
    const input = join(dir, 'small');
    await mkdir(join(input, 'kev'), { recursive: true });
    await writeFile(
      join(input, 'kev/catalog.json'),
      JSON.stringify({
        title: 'CISA Catalog of Known Exploited Vulnerabilities',
        catalogVersion: '2026.01.01',
        count: 2,
        vulnerabilities: [
          { cveID: 'CVE-2024-0001', vendorProject: 'A', product: 'a', dateAdded: '2024-02-01' },
          { cveID: 'CVE-2024-0002', vendorProject: 'B', product: 'b', dateAdded: '2024-02-02' },
        ],
      }),
    );
    await writeFile(
      join(input, 'scores.csv'),
      '#model_version:v2025.03.14,score_date:2026-01-01T00:00:00+0000\ncve,epss,percentile\n' +
        'CVE-2024-0001,0.5,0.9\nCVE-2024-0002,0.01,0.2\nCVE-2024-0003,0.02,0.3\n',
    );
    await writeFile(join(input, 'notes.txt'), 'not a feed\n');
    const out = join(dir, 'small.db');
    const build = await runVigil(['db', 'build', '--from', input, '--out', out]);
    expect(build.code).toBe(0);
    expect(build.stderr.replace(/version [0-9a-f]{12}/, 'version <v>').replaceAll(out, '<db>'))
      .toMatchInlineSnapshot(`
      "vigil: warning: not used: notes.txt: no feed recognises this content
      vigil: kev: 0 vulnerabilities, 0 affected, 2 kev
      vigil: epss: 0 vulnerabilities, 0 affected, 3 epss
      vigil: wrote <db>: version <v>, 3 files read, 1 not used
      "
    `);
    const table = await runVigil(['db', 'status'], { env: { VIGIL_DB: out } });
    expect(table.code).toBe(0);
    expect(
      table.stdout
        .replaceAll(out, '<db>')
        .replace(/[0-9a-f]{64}/, '<version>')
        .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+[smhd] ago\)/g, '<time>')
        .replace(/ {2,}/g, ' '),
    ).toMatchInlineSnapshot(`
      "database <db>
      version <version>
      built <time>
      schema 5

      SOURCE VULNS AFFECTED KEV EPSS MALFORMED UPDATED CHECKED LAST ERROR
      epss 0 0 0 3 0 <time> <time>
      kev 0 0 2 0 0 <time> <time>
      "
    `);
  });
});

describe('vigil db errors', () => {
  it.each([
    [
      'status of a missing file',
      ['db', 'status', '--db', '<dir>/none.db'],
      8,
      'ENG_DB_NOT_FOUND: no vulnerability database at <dir>/none.db',
    ],
    [
      'status of a file that is not a snapshot',
      ['db', 'status', '--db', '<dir>/text.db'],
      8,
      'ENG_DB_CORRUPT: <dir>/text.db is not a readable Vigil snapshot: file is not a database',
    ],
    [
      'build from files no feed reads',
      ['db', 'build', '--from', '<dir>/junk', '--out', '<dir>/x.db'],
      8,
      'ENG_DB_EMPTY_INPUT: no file under <dir>/junk is in a format of the feeds',
    ],
    [
      'build with an unknown feed',
      ['db', 'build', '--from', '<dir>/junk', '--out', '<dir>/x.db', '--sources', 'kev,oval'],
      2,
      'ENG_FEED_UNKNOWN: unknown feed oval; feeds: nvd',
    ],
    [
      'update with a mirror of an unknown feed',
      ['db', 'update', '--db', '<dir>/x.db', '--mirror', 'oval=http://127.0.0.1:9/'],
      2,
      'ENG_FEED_UNKNOWN: unknown feed oval',
    ],
  ])('%s', async (_, args, code, message) => {
    await mkdir(join(dir, 'junk'), { recursive: true });
    await writeFile(join(dir, 'junk/readme.md'), '# nothing\n');
    await writeFile(join(dir, 'text.db'), 'hello '.repeat(1000));
    const r = await runVigil(
      args.map((a) => a.replace('<dir>', dir)),
      { env: { VIGIL_CACHE_DIR: join(dir, 'cache') } },
    );
    expect({
      code: r.code,
      stderr: r.stderr.replaceAll(dir, '<dir>').slice(0, `vigil: ${message}`.length),
    }).toEqual({
      code,
      stderr: `vigil: ${message}`,
    });
  });

  it('a missing --from is a usage error', async () => {
    expect((await runVigil(['db', 'build', '--out', join(dir, 'x.db')])).code).toBe(2);
  });
});
