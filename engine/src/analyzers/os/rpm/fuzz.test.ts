/**
 * Mutation fuzzing of every rpm parser: the header parser on its own (only RpmHeaderError may
 * escape it), and analyze() over mutated Berkeley DB, ndb and SQLite databases (it must always
 * resolve, whatever the bytes). The SQLite file is costlier to open, so it gets fewer file-level
 * mutations and, in addition, databases whose header blobs are mutated heavily.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { fuzz, mutate, prng } from '../../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { bufferContent, inputFromBuffer } from '../../types.js';
import { parseHeader, RpmHeaderError } from './header.js';
import { rpmAnalyzer } from './index.js';
import { readNdb } from './ndb.js';
import { headerToPackage } from './package-info.js';
import { readSqlite } from './sqlite.js';
import { makeNdb, makeSqliteRpmdb, packageHeader } from './testdata/fixtures.js';

const rpmdb = (name: string) => readFileSync(realdata(`pkgdb/rpm/${name}`));

async function analyzeOk(path: string, bytes: Buffer): Promise<void> {
  const result = await rpmAnalyzer.analyze(inputFromBuffer(path, bytes));
  if (!Array.isArray(result.packages) || !Array.isArray(result.ownedFiles))
    throw new Error('bad result shape');
}

/** The `count` smallest header blobs of the real SQLite and ndb databases, plus a synthetic one. */
async function headerSeeds(count: number): Promise<Buffer[]> {
  const blobs: Buffer[] = [];
  for (const r of readSqlite(rpmdb('gorpmdb-cbl-mariner-2.0-rpmdb.sqlite')))
    if (r.kind === 'blob') blobs.push(r.blob);
  for await (const r of readNdb(bufferContent(rpmdb('gorpmdb-sle15-bci-Packages.db'))))
    if (r.kind === 'blob') blobs.push(r.blob);
  blobs.sort((a, b) => a.length - b.length);
  return [
    ...blobs.slice(0, count),
    packageHeader({ name: 'x', version: '1', release: '1', epoch: 3, arch: 'noarch' }),
  ];
}

describe.skipIf(!hasRealdata)('fuzz', () => {
  test('header parser: 20,000 mutated header blobs, only RpmHeaderError escapes', async () => {
    const seeds = await headerSeeds(6);
    const failures = await fuzz(seeds, 20_000, (blob) => headerToPackage(parseHeader(blob), 'os/rpm'), {
      allowed: (e) => e instanceof RpmHeaderError,
    });
    expect(failures).toEqual([]);
  });

  test('Berkeley DB: 10,000 mutated Packages files', async () => {
    const seeds = ['gorpmdb-libuuid-Packages', 'scalibr-Packages_epoch', 'syft-Packages-bdb'].map(rpmdb);
    const failures = await fuzz(seeds, 10_000, (bytes) => analyzeOk('var/lib/rpm/Packages', bytes), {
      seed: 1,
    });
    expect(failures).toEqual([]);
  });

  test('ndb: 10,000 mutated Packages.db files', async () => {
    const blobs = await headerSeeds(3);
    const seeds = [makeNdb(blobs), makeNdb(blobs.slice(0, 1))];
    const failures = await fuzz(seeds, 10_000, (bytes) => analyzeOk('var/lib/rpm/Packages.db', bytes), {
      seed: 2,
    });
    expect(failures).toEqual([]);
  });

  test('SQLite: 3,000 mutated files + 8,000 mutated header blobs in 80 databases', async () => {
    const blobs = await headerSeeds(3);
    const seeds = [makeSqliteRpmdb(blobs)];
    const fileFailures = await fuzz(seeds, 3_000, (bytes) => analyzeOk('var/lib/rpm/rpmdb.sqlite', bytes), {
      seed: 3,
    });
    expect(fileFailures).toEqual([]);

    const rand = prng(4);
    const dbs = Array.from({ length: 80 }, () =>
      makeSqliteRpmdb(Array.from({ length: 100 }, (_, i) => mutate(blobs[i % blobs.length]!, rand, blobs))),
    );
    const blobFailures: unknown[] = [];
    for (const db of dbs)
      await analyzeOk('var/lib/rpm/rpmdb.sqlite', db).catch((e: unknown) => blobFailures.push(e));
    expect(blobFailures).toEqual([]);
  });
});
