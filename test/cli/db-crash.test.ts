/**
 * Crash safety of `vigil db build`: a build killed with SIGKILL half-way leaves the previous
 * snapshot at the target path (the new one is written to a temporary file beside it and renamed
 * only when complete); the next build removes the dead process's temporary file.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVigil, VIGIL_BIN } from '../support/cli.js';

const HEADER = '#model_version:v2025.03.14,score_date:2026-01-01T00:00:00+0000\ncve,epss,percentile\n';
const TEMP = /^\.vigil\.db\.\d+\.[0-9a-f]{8}\.tmp$/;

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-cli-crash-'));
  await mkdir(join(dir, 'small'));
  await writeFile(join(dir, 'small/scores.csv'), `${HEADER}CVE-2024-0001,0.5,0.9\n`);
  // ~3M rows (~100 MB): a build of many seconds, so the kill lands while it writes
  await mkdir(join(dir, 'big'));
  const out = createWriteStream(join(dir, 'big/scores.csv'));
  out.write(HEADER);
  for (let block = 0; block < 300; block++) {
    let text = '';
    for (let i = 0; i < 10_000; i++) text += `CVE-2024-${block * 10_000 + i},0.0${i % 10}1,0.${i % 97}\n`;
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('vigil db build killed half-way', () => {
  it('leaves the previous snapshot at the target; the next build cleans up', async () => {
    const db = join(dir, 'db/vigil.db');
    expect((await runVigil(['db', 'build', '--from', join(dir, 'small'), '--out', db, '-q'])).code).toBe(0);
    const before = await readFile(db);

    const child = spawn(
      process.execPath,
      [VIGIL_BIN, 'db', 'build', '--from', join(dir, 'big'), '--out', db, '-q'],
      {
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let temp: string | undefined;
    // wait until the temporary snapshot exists and has grown past its empty schema
    for (let i = 0; i < 1200 && child.exitCode === null; i++) {
      temp = (await readdir(join(dir, 'db'))).find((n) => TEMP.test(n));
      const size = temp ? ((await stat(join(dir, 'db', temp)).catch(() => undefined))?.size ?? 0) : 0;
      if (size > 1 << 20) break;
      await sleep(50);
    }
    child.kill('SIGKILL');
    expect(await exited).toBeNull(); // killed, not finished
    expect(temp).toBeDefined();

    expect(await readFile(db)).toEqual(before);
    expect((await runVigil(['db', 'status', '--db', db])).code).toBe(0);
    expect((await readdir(join(dir, 'db'))).filter((n) => TEMP.test(n))).not.toEqual([]);

    expect((await runVigil(['db', 'build', '--from', join(dir, 'small'), '--out', db, '-q'])).code).toBe(0);
    expect(await readdir(join(dir, 'db'))).toEqual(['vigil.db']);
  });
});
