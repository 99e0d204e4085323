import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportSnapshot, importSnapshot, type ExportManifest } from './export.js';
import { readSnapshotMeta } from './snapshot-reader.js';
import { SnapshotWriter } from './snapshot-writer.js';
import { records, testFeed, vuln } from './testdata/test-feed.js';

let dir = '';
let db = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-export-'));
  db = join(dir, 'vigil.db');
  const writer = await SnapshotWriter.create({ target: db });
  await writer.applySource(testFeed('ghsa'), 'full', records([vuln('GHSA-1', [['npm', 'a', '1.0.1']])]));
  await writer.finalize();
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function pack(entries: [string, Buffer | string][]): Promise<Buffer> {
  const p = tar.pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const end = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const [name, data] of entries) p.entry({ name }, data);
  p.finalize();
  await end;
  return gzipSync(Buffer.concat(chunks));
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('exportSnapshot / importSnapshot', () => {
  it('round-trips a snapshot through a .tar.gz with a manifest carrying its version and sha256', async () => {
    const out = join(dir, 'export/vigil-db.tar.gz');
    const manifest = await exportSnapshot({ db, out });
    const bytes = await readFile(db);
    const meta = readSnapshotMeta(db);
    expect(manifest).toEqual({
      format: 'vigil-db-export',
      formatVersion: 1,
      file: 'vigil.db',
      version: meta.version,
      schemaVersion: 5,
      builtAt: meta.builtAt,
      size: bytes.length,
      sha256: sha256(bytes),
    });
    const target = join(dir, 'site/db/vigil.db');
    expect(await importSnapshot({ archive: out, db: target })).toEqual(meta);
    expect(await readFile(target)).toEqual(bytes);
  });

  it('refuses an archive whose database does not match the manifest hash (ENG_DB_CORRUPT), keeping the target', async () => {
    const bytes = await readFile(db);
    const manifest = { ...(await exportSnapshot({ db, out: join(dir, 'x.tar.gz') })) };
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 100] = tampered[tampered.length - 100]! ^ 0xff;
    const archive = join(dir, 'tampered.tar.gz');
    await writeFile(
      archive,
      await pack([
        ['manifest.json', JSON.stringify(manifest)],
        ['vigil.db', tampered],
      ]),
    );
    const target = join(dir, 'target.db');
    await writeFile(target, 'previous');
    await expect(importSnapshot({ archive, db: target })).rejects.toMatchObject({
      code: 'ENG_DB_CORRUPT',
      message: expect.stringContaining('the manifest says'),
    });
    expect(await readFile(target, 'utf8')).toBe('previous');
  });

  it.each([
    [
      'whose rows do not match its version',
      "UPDATE affected SET package = 'b'",
      /: vigil\.db: content does not match its version .* \(sources ghsa\)$/,
    ],
    // a zeroed filter rules every package out: the rows would silently never be found
    [
      'whose package key filter does not match its rows',
      'UPDATE affected_filter SET bits = zeroblob(length(bits))',
      /: vigil\.db: its package key filter does not match its rows$/,
    ],
    // a stale summary would give findings another severity or no KEV flag
    [
      'whose vulnerability summaries do not match its rows',
      `UPDATE summaries SET head = replace(head, '"aliases":', '"aliases":["X-1"],"was":')`,
      /: vigil\.db: its vulnerability summaries do not match its rows$/,
    ],
  ])('refuses a snapshot %s, even with a matching file hash', async (_, edit, message) => {
    const edited = join(dir, 'edited.db');
    await writeFile(edited, await readFile(db));
    const handle = new Database(edited);
    handle.prepare(edit).run();
    handle.close();
    const bytes = await readFile(edited);
    const meta = readSnapshotMeta(edited);
    const manifest: ExportManifest = {
      format: 'vigil-db-export',
      formatVersion: 1,
      file: 'vigil.db',
      version: meta.version,
      schemaVersion: 5,
      builtAt: meta.builtAt,
      size: bytes.length,
      sha256: sha256(bytes),
    };
    const archive = join(dir, 'edited.tar.gz');
    await writeFile(
      archive,
      await pack([
        ['manifest.json', JSON.stringify(manifest)],
        ['vigil.db', bytes],
      ]),
    );
    await expect(importSnapshot({ archive, db: join(dir, 't.db') })).rejects.toMatchObject({
      code: 'ENG_DB_CORRUPT',
      message: expect.stringMatching(message),
    });
  });

  it('refuses a manifest whose version differs from the snapshot', async () => {
    const out = join(dir, 'x.tar.gz');
    const manifest = await exportSnapshot({ db, out });
    const bytes = await readFile(db);
    const archive = join(dir, 'other.tar.gz');
    await writeFile(
      archive,
      await pack([
        ['manifest.json', JSON.stringify({ ...manifest, version: '0'.repeat(64) })],
        ['vigil.db', bytes],
      ]),
    );
    await expect(importSnapshot({ archive, db: join(dir, 't.db') })).rejects.toMatchObject({
      code: 'ENG_DB_CORRUPT',
      message: expect.stringContaining(`differs from the manifest's ${'0'.repeat(64)}`),
    });
  });

  it.each([
    ['not gzip', async (p: string) => writeFile(p, 'hello')],
    ['gzip but not tar', async (p: string) => writeFile(p, gzipSync(Buffer.alloc(3000, 7)))],
    ['no manifest', async (p: string) => writeFile(p, await pack([['vigil.db', 'x']]))],
    [
      'another manifest',
      async (p: string) => writeFile(p, await pack([['manifest.json', '{"format":"x"}']])),
    ],
    [
      'truncated',
      async (p: string) => {
        await exportSnapshot({ db, out: p });
        const gz = await readFile(p);
        expect(gunzipSync(gz).length).toBeGreaterThan(1000);
        await writeFile(p, gz.subarray(0, gz.length >> 1));
      },
    ],
  ])('refuses an archive that is %s (ENG_DB_CORRUPT)', async (_, make) => {
    const archive = join(dir, 'bad.tar.gz');
    await make(archive);
    await expect(importSnapshot({ archive, db: join(dir, 't.db') })).rejects.toMatchObject({
      code: 'ENG_DB_CORRUPT',
    });
  });

  it('reports a missing archive (ENG_DB_NOT_FOUND) and a missing database to export', async () => {
    await expect(importSnapshot({ archive: join(dir, 'none.tar.gz'), db })).rejects.toMatchObject({
      code: 'ENG_DB_NOT_FOUND',
    });
    await expect(
      exportSnapshot({ db: join(dir, 'none.db'), out: join(dir, 'o.tar.gz') }),
    ).rejects.toMatchObject({
      code: 'ENG_DB_NOT_FOUND',
    });
  });
});
