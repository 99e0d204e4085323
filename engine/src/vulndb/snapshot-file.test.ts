import Database from 'better-sqlite3';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_APPLICATION_ID } from './schema.js';
import { SnapshotReader } from './snapshot-reader.js';
import { SnapshotWriter } from './snapshot-writer.js';
import { records, testFeed, vuln } from './testdata/test-feed.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-snapfile-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const code = (fn: () => unknown) => {
  try {
    fn();
    return 'opened';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

function sqlite(path: string, sql: string) {
  const db = new Database(path);
  db.exec(sql);
  db.close();
}

async function goodSnapshot(path: string, count = 1) {
  const writer = await SnapshotWriter.create({ target: path });
  const items = Array.from({ length: count }, (_, i) => vuln(`CVE-${i}`, [['npm', `p${i}`, '1.0.0']]));
  await writer.applySource(testFeed('t'), 'full', records(items));
  await writer.finalize();
}

describe('SnapshotReader.open on bad files', () => {
  it.each([
    ['a missing file', async () => join(dir, 'missing.db'), 'ENG_DB_NOT_FOUND'],
    [
      'a directory',
      async () => (await mkdir(join(dir, 'd'), { recursive: true }), join(dir, 'd')),
      'ENG_DB_CORRUPT',
    ],
    [
      'an empty file',
      async () => (await writeFile(join(dir, 'empty.db'), ''), join(dir, 'empty.db')),
      'ENG_DB_CORRUPT',
    ],
    [
      'a text file',
      async () => (await writeFile(join(dir, 'text.db'), 'hello '.repeat(2000)), join(dir, 'text.db')),
      'ENG_DB_CORRUPT',
    ],
    [
      'another SQLite database',
      async () => (sqlite(join(dir, 'other.db'), 'CREATE TABLE t (x)'), join(dir, 'other.db')),
      'ENG_DB_CORRUPT',
    ],
    [
      'a snapshot of an older schema',
      async () => (
        sqlite(
          join(dir, 'old.db'),
          `CREATE TABLE meta (key, value); PRAGMA application_id = ${SNAPSHOT_APPLICATION_ID}; PRAGMA user_version = 0`,
        ),
        join(dir, 'old.db')
      ),
      'ENG_DB_SCHEMA_UNSUPPORTED',
    ],
    [
      'a snapshot of a newer schema',
      async () => {
        const path = join(dir, 'new.db');
        await goodSnapshot(path);
        sqlite(path, 'PRAGMA user_version = 99');
        return path;
      },
      'ENG_DB_SCHEMA_UNSUPPORTED',
    ],
    [
      'a snapshot without its metadata (an unfinished build)',
      async () => {
        const path = join(dir, 'nometa.db');
        await goodSnapshot(path);
        sqlite(path, 'DELETE FROM meta');
        return path;
      },
      'ENG_DB_CORRUPT',
    ],
  ])('%s', async (_, make, expected) => {
    const path = await make();
    expect(code(() => SnapshotReader.open(path).close())).toBe(expected);
  });

  it('a truncated snapshot fails with ENG_DB_CORRUPT on open or on lookup, never a raw SQLite error', async () => {
    const path = join(dir, 'truncated.db');
    await goodSnapshot(path, 3000);
    const size = (await readFile(path)).length;
    await truncate(path, Math.floor(size / 2));
    expect(
      code(() => {
        const r = SnapshotReader.open(path);
        try {
          r.affected(Array.from({ length: 3000 }, (_, i) => ({ namespace: 'npm', packageName: `p${i}` })));
          r.vulnerabilities(Array.from({ length: 3000 }, (_, i) => `CVE-${i}`));
        } finally {
          r.close();
        }
      }),
    ).toBe('ENG_DB_CORRUPT');
  });

  it('a writer refuses a base that is not a snapshot', async () => {
    const path = join(dir, 'text.db');
    await expect(SnapshotWriter.create({ target: join(dir, 'out.db'), base: path })).rejects.toMatchObject({
      code: 'ENG_DB_CORRUPT',
    });
    await expect(
      SnapshotWriter.create({ target: join(dir, 'out.db'), base: join(dir, 'missing.db') }),
    ).rejects.toMatchObject({ code: 'ENG_DB_NOT_FOUND' });
  });
});
