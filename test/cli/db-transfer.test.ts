/**
 * `vigil db export | import` on the built CLI: the air-gapped path. The export carries the snapshot
 * and a manifest with its version; import verifies it and refuses a tampered archive.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVigil } from '../support/cli.js';

let dir = '';
let db = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-cli-transfer-'));
  await mkdir(join(dir, 'in'));
  await writeFile(
    join(dir, 'in/scores.csv'),
    '#model_version:v2025.03.14,score_date:2026-01-01T00:00:00+0000\ncve,epss,percentile\nCVE-2024-0001,0.5,0.9\n',
  );
  db = join(dir, 'source.db');
  expect((await runVigil(['db', 'build', '--from', join(dir, 'in'), '--out', db, '-q'])).code).toBe(0);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const version = async (path: string) =>
  (
    JSON.parse((await runVigil(['db', 'status', '--db', path, '--format', 'json'])).stdout) as {
      version: string;
    }
  ).version;

describe('vigil db export / import', () => {
  it('moves a snapshot byte for byte and keeps its version', async () => {
    const archive = join(dir, 'vigil-db.tar.gz');
    const exported = await runVigil(['db', 'export', '--db', db, '--out', archive]);
    const v = await version(db);
    expect(exported).toEqual({
      code: 0,
      stdout: '',
      stderr: `vigil: exported version ${v.slice(0, 12)} (${(await readFile(db)).length} bytes) to ${archive}\n`,
    });
    const target = join(dir, 'site/vigil.db');
    const imported = await runVigil(['db', 'import', archive], { env: { VIGIL_DB: target } });
    expect(imported.code).toBe(0);
    expect(imported.stderr).toMatch(
      new RegExp(`^vigil: imported version ${v.slice(0, 12)} \\(built .*\\) into ${target}\\n$`),
    );
    expect(await readFile(target)).toEqual(await readFile(db));
    expect(await version(target)).toBe(v);
  });

  it('refuses an archive whose database was altered (exit 8, ENG_DB_CORRUPT), leaving the target as it was', async () => {
    const archive = join(dir, 'good.tar.gz');
    expect((await runVigil(['db', 'export', '--db', db, '--out', archive])).code).toBe(0);
    const tar = gunzipSync(await readFile(archive));
    // flip one byte inside the database entry's data (found by SQLite's file header)
    const at = tar.indexOf(Buffer.from('SQLite format 3\0')) + 2000;
    tar[at] = tar[at]! ^ 0xff;
    const bad = join(dir, 'bad.tar.gz');
    await writeFile(bad, gzipSync(tar));
    const target = join(dir, 'kept.db');
    await writeFile(target, 'previous');
    const r = await runVigil(['db', 'import', bad, '--db', target]);
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(
      /^vigil: ENG_DB_CORRUPT: .*bad\.tar\.gz: vigil\.db has sha256 [0-9a-f]{64} \(\d+ bytes\), the manifest says/,
    );
    expect(await readFile(target, 'utf8')).toBe('previous');
  });
});
