/**
 * Hostile bytes never crash the store: mutated snapshot files fail with ENG_DB_* codes (never a
 * raw SQLite or JSON error), mutated offline inputs (zip, gzip, plain) become unrecognised files,
 * and mutated export archives are refused with ENG_DB_CORRUPT.
 */
import { strToU8, zipSync } from 'fflate';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzz } from '../../../test/support/fuzz.js';
import { isEngineError } from '../errors.js';
import type { FeedRecord } from '../feeds/types.js';
import { exportSnapshot, importSnapshot } from './export.js';
import { readOfflineInput } from './offline-input.js';
import { SnapshotReader } from './snapshot-reader.js';
import { SnapshotWriter } from './snapshot-writer.js';
import { body, records, testFeed, vuln } from './testdata/test-feed.js';

let dir = '';
let snapshot = Buffer.alloc(0);
const feed = testFeed('t', { onError: 'skip' });
const dbError = (e: unknown) => isEngineError(e) && e.code.startsWith('ENG_DB_');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-fuzz-db-'));
  const items: FeedRecord[] = [
    ...Array.from({ length: 40 }, (_, i) =>
      vuln(`GHSA-${i}`, [[i % 2 ? 'npm' : 'debian:12', `p${i % 7}`, `1.${i}`]], { aliases: [`CVE-${i}`] }),
    ),
    { type: 'kev', entry: { cveId: 'CVE-1', dateAdded: '2024-01-01' } },
    { type: 'epss', entry: { cveId: 'CVE-1', score: 0.1, percentile: 0.2, date: '2026-01-01' } },
  ];
  const writer = await SnapshotWriter.create({ target: join(dir, 'seed.db') });
  await writer.applySource(feed, 'full', records(items));
  await writer.finalize();
  snapshot = await readFile(join(dir, 'seed.db'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('fuzz', () => {
  it('SnapshotReader on mutated snapshot files: ENG_DB_* errors only', async () => {
    const path = join(dir, 'mutated.db');
    const failures = await fuzz(
      [snapshot],
      10_000,
      async (input) => {
        await writeFile(path, input);
        const r = SnapshotReader.open(path);
        try {
          r.meta();
          const keys = Array.from({ length: 7 }, (_, i) => ({ namespace: 'npm', packageName: `p${i}` }));
          r.affected([...keys, ...keys.map((k) => ({ ...k, namespace: 'debian:12' }))]);
          const ids = Array.from({ length: 40 }, (_, i) => `GHSA-${i}`);
          r.vulnerabilities(ids);
          r.aliases(ids);
          r.kev(['CVE-1']);
          r.epss(['CVE-1']);
        } finally {
          r.close();
        }
      },
      { allowed: dbError },
    );
    expect(failures).toEqual([]);
  });

  it('offline input over mutated zip, gzip and plain files: never throws, streams end or fail', async () => {
    const text = body('t', [vuln('GHSA-1', [['npm', 'a', '1.0.1']])]);
    const seeds = [
      zipSync({ 'a/GHSA-1.json': strToU8(text), 'b/x.json': [strToU8(text), { level: 0 }] }),
      gzipSync(text),
      Buffer.from(text),
    ];
    const input = join(dir, 'input');
    await mkdir(input, { recursive: true });
    const failures = await fuzz(seeds, 10_000, async (bytes) => {
      await writeFile(join(input, 'file'), bytes);
      const offline = await readOfflineInput(input, [feed]);
      try {
        for (const b of offline.bodies.get(feed) ?? []) {
          try {
            for await (const chunk of await b.open()) void chunk;
          } catch (e) {
            // a body whose bytes break while streaming fails its parse, as a feed error
            if (!(e instanceof Error)) throw e;
          }
        }
      } finally {
        await offline.close();
      }
    });
    expect(failures).toEqual([]);
  });

  it.each([
    ['the .tar.gz bytes', false],
    ['the tar inside (gzipped again)', true],
  ])('importSnapshot on mutations of %s: ENG_DB_* errors only', async (_, inner) => {
    const archive = join(dir, 'seed.tar.gz');
    await exportSnapshot({ db: join(dir, 'seed.db'), out: archive });
    const seed = inner ? gunzipSync(await readFile(archive)) : await readFile(archive);
    const mutated = join(dir, 'mutated.tar.gz');
    const failures = await fuzz(
      [seed],
      5_000,
      async (bytes) => {
        await writeFile(mutated, inner ? gzipSync(bytes, { level: 1 }) : bytes);
        await importSnapshot({ archive: mutated, db: join(dir, 'imported.db') });
      },
      { allowed: dbError, seed: inner ? 2 : 1 },
    );
    expect(failures).toEqual([]);
  });
});
