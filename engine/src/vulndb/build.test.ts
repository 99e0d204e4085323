import { zipSync, strToU8 } from 'fflate';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../test/support/realdata.js';
import { buildSnapshot } from './build.js';
import { SnapshotReader } from './snapshot-reader.js';
import { body, testFeed, vuln } from './testdata/test-feed.js';

const NOW = () => new Date('2026-03-01T00:00:00.000Z');
const ghsa = testFeed('ghsa');
const nvd = testFeed('nvd');
const feeds = [ghsa, nvd];

let dir = '';
let input = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-build-'));
  input = join(dir, 'in');
  await mkdir(join(input, 'ghsa/sub'), { recursive: true });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function writeInput() {
  await writeFile(
    join(input, 'ghsa/a.jsonl'),
    body('ghsa', [vuln('GHSA-1', [['npm', 'lodash', '4.17.21']])]),
  );
  await writeFile(
    join(input, 'ghsa/sub/b.jsonl.gz'),
    gzipSync(body('ghsa', [vuln('GHSA-2', [['pypi', 'requests', '2.32.0']]), 'not json'])),
  );
  await writeFile(
    join(input, 'export.zip'),
    zipSync({
      'x/': new Uint8Array(0),
      'x/GHSA-3.json': strToU8(body('ghsa', [vuln('GHSA-3', [['gem', 'rack', '3.0.1']])])),
      'x/notes.txt': strToU8('release notes'),
      'nvd/CVE-1.json': [strToU8(body('nvd', [vuln('CVE-1')])), { level: 0 }],
    }),
  );
  await writeFile(join(input, 'README.md'), '# mirror\n');
  await writeFile(join(input, 'broken.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff]));
}

describe('buildSnapshot', () => {
  it('recognises plain, gzip and zipped files by content, lists the rest, applies each feed in full', async () => {
    await writeInput();
    const out = join(dir, 'out/vigil.db');
    const result = await buildSnapshot({ from: input, out, feeds, now: NOW });
    expect({
      files: result.files,
      unrecognized: result.unrecognized,
      skipped: result.skipped,
      applied: result.applied.map((s) => [s.name, s.counts]),
    }).toEqual({
      // README.md, broken.gz, export.zip + its 3 file entries, ghsa/a.jsonl, ghsa/sub/b.jsonl.gz
      files: 8,
      unrecognized: [
        { path: 'README.md', message: 'no feed recognises this content' },
        { path: 'broken.gz', message: expect.stringMatching(/^unreadable: /) },
        { path: 'export.zip!/x/notes.txt', message: 'no feed recognises this content' },
      ],
      skipped: [],
      applied: [
        ['ghsa', { vulnerabilities: 3, affected: 3, kev: 0, epss: 0, malformed: 1, withdrawn: 0 }],
        ['nvd', { vulnerabilities: 1, affected: 0, kev: 0, epss: 0, malformed: 0, withdrawn: 0 }],
      ],
    });
    const reader = SnapshotReader.open(out);
    try {
      expect(reader.meta().version).toBe(result.meta.version);
      expect(
        reader
          .affected([
            { namespace: 'npm', packageName: 'lodash' },
            { namespace: 'pypi', packageName: 'requests' },
            { namespace: 'gem', packageName: 'rack' },
          ])
          .map((a) => a.vulnId),
      ).toEqual(['GHSA-1', 'GHSA-2', 'GHSA-3']);
    } finally {
      reader.close();
    }
  });

  it('gives the same version when built twice from the same files', async () => {
    await writeInput();
    const a = await buildSnapshot({ from: input, out: join(dir, 'a.db'), feeds });
    const b = await buildSnapshot({ from: input, out: join(dir, 'b.db'), feeds });
    expect(b.meta.version).toBe(a.meta.version);
  });

  it('fails with ENG_DB_BUILD_FAILED when a body of an on-error fail feed breaks, leaving the output as it was', async () => {
    await writeInput();
    const out = join(dir, 'vigil.db');
    await buildSnapshot({ from: input, out, feeds });
    const before = await readFile(out);
    await writeFile(join(input, 'ghsa/c.jsonl'), body('ghsa', [vuln('GHSA-9'), '!fail']));
    await expect(buildSnapshot({ from: input, out, feeds })).rejects.toMatchObject({
      code: 'ENG_DB_BUILD_FAILED',
      message: 'feed ghsa failed on ghsa/c.jsonl: ENG_FEED_FORMAT: ghsa/c.jsonl: broken on purpose',
    });
    expect(await readFile(out)).toEqual(before);
  });

  it('skips a broken body of an on-error skip feed, keeps its records read so far, records the error', async () => {
    await writeFile(join(input, 'ghsa/c.jsonl'), body('ghsa', [vuln('GHSA-9'), '!fail', vuln('GHSA-10')]));
    await writeFile(join(input, 'ghsa/d.jsonl'), body('ghsa', [vuln('GHSA-11')]));
    const result = await buildSnapshot({
      from: input,
      out: join(dir, 'x.db'),
      feeds: [testFeed('ghsa', { onError: 'skip' })],
    });
    expect(result.skipped).toEqual([
      { path: 'ghsa/c.jsonl', message: 'ENG_FEED_FORMAT: ghsa/c.jsonl: broken on purpose', source: 'ghsa' },
    ]);
    expect(result.meta.sources.map((s) => [s.counts.vulnerabilities, s.lastError])).toEqual([
      [2, '1 file(s) skipped, first ghsa/c.jsonl: ENG_FEED_FORMAT: ghsa/c.jsonl: broken on purpose'],
    ]);
  });

  it('refuses input where no file is recognised, and a missing directory', async () => {
    await writeFile(join(input, 'README.md'), '# nothing\n');
    await expect(buildSnapshot({ from: input, out: join(dir, 'x.db'), feeds })).rejects.toMatchObject({
      code: 'ENG_DB_EMPTY_INPUT',
    });
    await expect(
      buildSnapshot({ from: join(dir, 'nope'), out: join(dir, 'x.db'), feeds }),
    ).rejects.toMatchObject({
      code: 'ENG_INVALID_ARGUMENT',
    });
  });
});

describe.skipIf(!hasRealdata)('buildSnapshot with the real feeds', () => {
  it('reads OSV files the same from a zip (as osv.dev exports them) as from a directory: same version', async () => {
    // feeds/osv (language records, an ALSA, an RLSA, and non-OSV files) and feeds/ubuntu mixed in
    // one archive, as osv.dev's all.zip mixes ecosystems
    const files = [
      ...(await readdir(realdata('feeds/osv'))).map((n) => `osv/${n}`),
      ...(await readdir(realdata('feeds/ubuntu'))).map((n) => `ubuntu/${n}`),
    ].filter((n) => n.endsWith('.json'));
    await mkdir(join(input, 'plain/osv'), { recursive: true });
    await mkdir(join(input, 'plain/ubuntu'), { recursive: true });
    const entries: Record<string, Uint8Array> = {};
    for (const name of files) {
      const bytes = await readFile(realdata(`feeds/${name}`));
      await writeFile(join(input, 'plain', name), bytes);
      entries[`all/${name}`] = bytes;
    }
    await mkdir(join(input, 'zipped'));
    await writeFile(join(input, 'zipped/all.zip'), zipSync(entries));
    const plain = await buildSnapshot({ from: join(input, 'plain'), out: join(dir, 'plain.db'), now: NOW });
    const zipped = await buildSnapshot({
      from: join(input, 'zipped'),
      out: join(dir, 'zipped.db'),
      now: NOW,
    });
    expect(zipped.unrecognized.map((u) => u.path.replace('all.zip!/all/', ''))).toEqual(
      plain.unrecognized.map((u) => u.path),
    );
    expect(zipped.meta).toEqual(plain.meta);
    expect(plain.applied.map((s) => s.name)).toEqual(['osv', 'ubuntu', 'almalinux', 'rocky']);
  });
});
