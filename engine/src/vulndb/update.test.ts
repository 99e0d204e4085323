import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireDbLock } from './lock.js';
import { SnapshotReader } from './snapshot-reader.js';
import { body, testFeed, vuln, writeUpstream } from './testdata/test-feed.js';
import { updateSnapshot, type UpdateProgress, type UpdateSnapshotOptions } from './update.js';

let dir = '';
let db = '';
let clock = '2026-04-01T00:00:00.000Z';
const ghsa = testFeed('ghsa');
const nvd = testFeed('nvd', { onError: 'skip' });

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-update-'));
  db = join(dir, 'db/vigil.db');
  clock = '2026-04-01T00:00:00.000Z';
  await writeUpstream(
    join(dir, 'up/ghsa'),
    {
      'all.jsonl': body('ghsa', [
        vuln('GHSA-1', [['npm', 'a', '1.0.1']]),
        vuln('GHSA-2', [['npm', 'b', '2.0.1']]),
      ]),
    },
    { serial: 1, full: ['all.jsonl'] },
  );
  await writeUpstream(
    join(dir, 'up/nvd'),
    { 'page.jsonl': body('nvd', [vuln('CVE-1')]) },
    { serial: 1, full: ['page.jsonl'] },
  );
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const update = (extra: Partial<UpdateSnapshotOptions> = {}) =>
  updateSnapshot({
    db,
    feeds: [ghsa, nvd],
    baseUrls: { ghsa: join(dir, 'up/ghsa'), nvd: join(dir, 'up/nvd') },
    workDir: join(dir, 'work'),
    now: () => new Date(clock),
    ...extra,
  });

const ids = () => {
  const r = SnapshotReader.open(db);
  try {
    return [...r.vulnerabilities(['GHSA-1', 'GHSA-2', 'GHSA-3', 'CVE-1', 'CVE-2']).keys()];
  } finally {
    r.close();
  }
};

describe('updateSnapshot', () => {
  it('creates, re-checks unchanged feeds (same version), then applies a delta', async () => {
    const events: UpdateProgress[] = [];
    const first = await update({ onProgress: (e) => events.push(e) });
    expect(first.feeds.map(({ name, status, mode }) => ({ name, status, mode }))).toEqual([
      { name: 'ghsa', status: 'updated', mode: 'full' },
      { name: 'nvd', status: 'updated', mode: 'full' },
    ]);
    expect(first.previousVersion).toBeUndefined();
    expect(events).toEqual([
      { feed: 'ghsa', phase: 'fetch' },
      { feed: 'ghsa', phase: 'fetch', done: 1, total: 1 },
      { feed: 'ghsa', phase: 'apply', done: 1, total: 1 },
      { feed: 'ghsa', phase: 'updated' },
      { feed: 'nvd', phase: 'fetch' },
      { feed: 'nvd', phase: 'fetch', done: 1, total: 1 },
      { feed: 'nvd', phase: 'apply', done: 1, total: 1 },
      { feed: 'nvd', phase: 'updated' },
    ]);
    // the raw bodies are archived under <workDir>/<feed>
    expect(await readdir(join(dir, 'work/ghsa'))).toEqual(['0-all.jsonl']);
    expect(ids()).toEqual(['GHSA-1', 'GHSA-2', 'CVE-1']);

    clock = '2026-04-02T00:00:00.000Z';
    const second = await update();
    expect(second.feeds.map((f) => f.status)).toEqual(['unchanged', 'unchanged']);
    expect(second.previousVersion).toBe(first.meta.version);
    expect(second.meta.version).toBe(first.meta.version);
    expect(second.meta.sources.map((s) => [s.name, s.updatedAt, s.checkedAt, s.checkpoint])).toEqual([
      ['ghsa', '2026-04-01T00:00:00.000Z', '2026-04-02T00:00:00.000Z', { serial: 1 }],
      ['nvd', '2026-04-01T00:00:00.000Z', '2026-04-02T00:00:00.000Z', { serial: 1 }],
    ]);

    await writeUpstream(
      join(dir, 'up/ghsa'),
      {
        'd2.jsonl': body('ghsa', [
          { type: 'withdrawn', id: 'GHSA-2' },
          vuln('GHSA-3', [['npm', 'c', '3.0.1']]),
        ]),
      },
      { serial: 2, full: ['all.jsonl'], delta: ['d2.jsonl'] },
    );
    const third = await update();
    expect(third.feeds.map(({ status, mode }) => [status, mode])).toEqual([
      ['updated', 'delta'],
      ['unchanged', undefined],
    ]);
    expect(third.meta.version).not.toBe(first.meta.version);
    expect(third.feeds[0]?.source?.counts).toEqual({
      vulnerabilities: 2,
      affected: 2,
      kev: 0,
      epss: 0,
      malformed: 0,
      withdrawn: 1,
    });
    expect(ids()).toEqual(['GHSA-1', 'GHSA-3', 'CVE-1']);
  });

  it('a failing on-error skip feed keeps its rows and records the error; the others go on', async () => {
    await update();
    await writeUpstream(join(dir, 'up/nvd'), {}, { serial: 2, full: [], fail: 'HTTP 503 from the mirror' });
    await writeUpstream(
      join(dir, 'up/ghsa'),
      { 'd2.jsonl': body('ghsa', [vuln('GHSA-3')]) },
      { serial: 2, full: ['all.jsonl'], delta: ['d2.jsonl'] },
    );
    const result = await update();
    expect(result.feeds.map(({ name, status, error }) => ({ name, status, error }))).toEqual([
      { name: 'ghsa', status: 'updated', error: undefined },
      { name: 'nvd', status: 'failed', error: 'ENG_FEED_HTTP: HTTP 503 from the mirror' },
    ]);
    expect(result.meta.sources.find((s) => s.name === 'nvd')).toMatchObject({
      lastError: 'ENG_FEED_HTTP: HTTP 503 from the mirror',
      counts: { vulnerabilities: 1 },
    });
    expect(ids()).toEqual(['GHSA-1', 'GHSA-2', 'GHSA-3', 'CVE-1']);
  });

  it('a failing feed keeps its previous data and records its error; the other feeds still update; the lock is released', async () => {
    await update();
    const meta = () => {
      const reader = SnapshotReader.open(db);
      try {
        return reader.meta();
      } finally {
        reader.close();
      }
    };
    const before = meta();
    const ghsaBefore = before.sources.find((s) => s.name === 'ghsa')!;
    await writeUpstream(
      join(dir, 'up/ghsa'),
      { 'd2.jsonl': body('ghsa', [{ type: 'withdrawn', id: 'GHSA-1' }, '!fail']) },
      { serial: 2, full: ['all.jsonl'], delta: ['d2.jsonl'] },
    );
    const broken = await update();
    expect(broken.feeds.find((f) => f.name === 'ghsa')).toMatchObject({
      status: 'failed',
      error:
        'ENG_DB_BUILD_FAILED: feed ghsa failed on d2.jsonl: ENG_FEED_FORMAT: d2.jsonl: broken on purpose',
    });
    const afterBroken = meta().sources.find((s) => s.name === 'ghsa')!;
    // the withdrawal before the broken record was rolled back with the rest of that source's application
    expect([afterBroken.contentHash, afterBroken.lastError]).toEqual([
      ghsaBefore.contentHash,
      'ENG_DB_BUILD_FAILED: feed ghsa failed on d2.jsonl: ENG_FEED_FORMAT: d2.jsonl: broken on purpose',
    ]);

    await writeUpstream(join(dir, 'up/ghsa'), {}, { serial: 3, full: [], fail: 'connection refused' });
    const refused = await update();
    expect(refused.feeds.find((f) => f.name === 'ghsa')).toMatchObject({
      status: 'failed',
      error: 'ENG_FEED_HTTP: connection refused',
    });
    expect(meta().version).toBe(before.version);
    expect((await readdir(join(dir, 'db'))).sort()).toEqual(['vigil.db']);
  });

  it('drops the checkpoint of a feed whose version changed (full fetch)', async () => {
    await update();
    await writeUpstream(
      join(dir, 'up/ghsa'),
      { 'd2.jsonl': body('ghsa', [vuln('GHSA-3')]) },
      { serial: 2, full: ['all.jsonl'], delta: ['d2.jsonl'] },
    );
    const result = await update({ feeds: [testFeed('ghsa', { version: 2 })] });
    expect(result.feeds.map(({ status, mode, source }) => [status, mode, source?.feedVersion])).toEqual([
      ['updated', 'full', 2],
    ]);
  });

  it('starts afresh over a file that is not a usable snapshot', async () => {
    await update();
    await writeFile(db, 'garbage');
    const result = await update();
    expect(result.rebuiltBecause).toMatch(/^ENG_DB_CORRUPT: /);
    expect(result.feeds.map((f) => f.mode)).toEqual(['full', 'full']);
    expect(ids()).toEqual(['GHSA-1', 'GHSA-2', 'CVE-1']);
  });
});

describe('update lock', () => {
  it('refuses to run while a live process holds the lock, and runs after it is released', async () => {
    const lock = await acquireDbLock(db);
    await expect(update()).rejects.toMatchObject({ code: 'ENG_DB_LOCKED' });
    await lock.release();
    await expect(update()).resolves.toMatchObject({ feeds: [{ status: 'updated' }, { status: 'updated' }] });
  });

  it('takes over a stale lock left by a dead process and removes it when done', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await update();
    await writeFile(
      `${db}.lock`,
      JSON.stringify({ pid: dead, host: hostname(), startedAt: 'x', token: 'y' }),
    );
    await expect(update()).resolves.toMatchObject({
      feeds: [{ status: 'unchanged' }, { status: 'unchanged' }],
    });
    expect((await readdir(join(dir, 'db'))).sort()).toEqual(['vigil.db']);
  });

  it('treats a lock of another host as live (it cannot be checked)', async () => {
    await mkdir(join(dir, 'db'));
    await writeFile(`${db}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: 'x', token: 'y' }));
    await expect(update()).rejects.toMatchObject({
      code: 'ENG_DB_LOCKED',
      message: expect.stringContaining('process 1 on elsewhere'),
    });
  });
});
