/**
 * The database sync with real parts: the engine's `db update` against the loopback feed replay server of
 * test/e2e/db-update (Alpine secdb and the NVD API; never the internet), the sync lock as a Postgres advisory
 * lock on a scratch database, and two sync instances (two control planes: their own pools, one shared snapshot
 * directory). The seed is the demo feeds' snapshot; the replayed secdb has one more advisory.
 */
import { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readSnapshotMeta } from '@vigil/engine/db';
import { alpineIndex } from '../../../test/e2e/db-update/feed-payloads.js';
import { FeedReplayServer, NVD_PATH } from '../../../test/e2e/db-update/replay-server.js';
import { createScratchDatabase, type ScratchDatabase } from '../store/postgres/testdata/scratch-database.js';
import { startDbSync, type DbSync, type DbSyncOptions } from './db-sync.js';
import { SnapshotStore } from './snapshot-store.js';
import { advisoryLock } from './sync-lock.js';
import { alpineSecdb, buildDemoSnapshot } from './testdata/snapshots.js';

const SECDB = '/alpine/v3.11/main.json';

let work: string;
let scratch: ScratchDatabase;
let server: FeedReplayServer;
let seed: string;
let seedVersion: string;
const open: DbSync[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vigil-dbsync-'));
  seed = join(work, 'seed.db');
  [scratch, seedVersion] = await Promise.all([createScratchDatabase(), buildDemoSnapshot(seed)]);
  server = new FeedReplayServer(
    new Map([
      ['/alpine/', alpineIndex(['v3.11'])],
      [SECDB, await alpineSecdb(true)],
    ]),
    [],
  );
  await server.start();
});

afterAll(async () => {
  await Promise.allSettled(open.map((s) => s.close()));
  await server?.stop();
  await scratch?.drop();
  await rm(work, { recursive: true, force: true });
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(work, 'snapshots-'));
  server.clearFaults();
  server.nvd.hangAtStartIndex = undefined;
  await Promise.allSettled(open.splice(0).map((s) => s.close()));
});

/** A control plane's sync: its own Postgres pool, the shared directory, polled by hand. */
async function sync(extra: Partial<DbSyncOptions> = {}): Promise<DbSync> {
  const s = await startDbSync({
    dir,
    lock: advisoryLock(scratch.open()),
    seed,
    intervalMs: 0,
    pollMs: 3_600_000,
    sources: ['alpine'],
    mirrors: { alpine: `${server.url}/alpine/`, nvd: `${server.url}${NVD_PATH}` },
    ...extra,
  });
  open.push(s);
  return s;
}

const alpineCounts = (path: string) =>
  readSnapshotMeta(path).sources.find((s) => s.name === 'alpine')?.counts.vulnerabilities;

describe('central database sync', () => {
  it('publishes the update with one more advisory as the new current version', async () => {
    const s = await sync();
    const before = s.current();
    const attempt = await (await s.requestUpdate()).done;
    const after = s.current();
    const store = new SnapshotStore(dir);
    expect({
      seeded: { version: before.manifest.version, origin: before.manifest.origin },
      attempt: {
        trigger: attempt.trigger,
        outcome: attempt.outcome,
        previousVersion: attempt.previousVersion,
        newVersion: attempt.version !== seedVersion && attempt.version === after.manifest.version,
        error: attempt.error,
        feeds: attempt.feeds,
      },
      current: { origin: after.manifest.origin, pointer: await store.currentVersion() },
      advisories: [alpineCounts(before.path), alpineCounts(after.path)],
      published: (await store.list()).map((m) => m.version).sort(),
      status: await s.status(),
    }).toEqual({
      seeded: { version: seedVersion, origin: 'seed' },
      attempt: {
        trigger: 'request',
        outcome: 'updated',
        previousVersion: seedVersion,
        newVersion: true,
        error: null,
        feeds: [{ name: 'alpine', status: 'updated', error: null }],
      },
      current: { origin: 'update', pointer: after.manifest.version },
      advisories: [alpineCounts(before.path), alpineCounts(before.path)! + 1],
      published: [seedVersion, after.manifest.version].sort(),
      status: {
        running: false,
        intervalSeconds: null,
        nextRunAt: null,
        lastAttempt: attempt,
        lastSuccessAt: attempt.finishedAt,
      },
    });
  });

  it('keeps the previous snapshot when the update fails, and records the attempt and its error', async () => {
    const s = await sync();
    const seedBytes = await readFile(s.current().path);
    server.fault(SECDB, [], { status: 500 });
    const attempt = await (await s.requestUpdate()).done;
    const status = await s.status();
    expect({
      outcome: attempt.outcome,
      version: attempt.version,
      error: attempt.error?.code,
      feeds: attempt.feeds.map((f) => ({
        name: f.name,
        status: f.status,
        coded: /^ENG_[A-Z_]+: /.test(f.error ?? ''),
      })),
      current: s.current().manifest.version,
      sameBytes: (await readFile(s.current().path)).equals(seedBytes),
      status: { lastAttempt: status.lastAttempt?.outcome, lastSuccessAt: status.lastSuccessAt },
    }).toEqual({
      outcome: 'failed',
      version: seedVersion,
      error: 'ENG_FEED_HTTP',
      feeds: [{ name: 'alpine', status: 'failed', coded: true }],
      current: seedVersion,
      sameBytes: true,
      status: { lastAttempt: 'failed', lastSuccessAt: null },
    });
  });

  it('runs a scheduled update once the interval has passed since the last one', async () => {
    let now = Date.now();
    const s = await sync({ intervalMs: 3_600_000, now: () => new Date(now) });
    await s.poll(); // the seed was built just now: not due
    const before = (await s.status()).lastAttempt;
    now += 2 * 3_600_000;
    await s.poll();
    const status = await s.status();
    expect({
      before,
      attempt: { trigger: status.lastAttempt?.trigger, outcome: status.lastAttempt?.outcome },
      nextRunAt: status.nextRunAt,
      intervalSeconds: status.intervalSeconds,
    }).toEqual({
      before: null,
      attempt: { trigger: 'schedule', outcome: 'updated' },
      nextRunAt: new Date(Date.parse(status.lastAttempt!.startedAt) + 3_600_000).toISOString(),
      intervalSeconds: 3_600,
    });
  });

  it('lets one sync run at a time across two control planes (Postgres advisory lock)', async () => {
    const a = await sync({ sources: ['nvd', 'alpine'] });
    const b = await sync({ sources: ['nvd', 'alpine'] });
    server.nvd.hangAtStartIndex = 0;
    const from = server.log.length;
    const running = await a.requestUpdate();
    while (!server.since(from).some((r) => r.path === NVD_PATH)) await sleep(20);
    const refused = await b.requestUpdate().catch((e: { code?: string }) => e.code);
    const statusWhileRunning = await b.status();
    await b.poll(); // a scheduled tick on b: the lock is taken, it does nothing
    const duringRun = server.since(from).map((r) => r.path);
    server.nvd.hangAtStartIndex = undefined;
    server.releaseHung();
    const first = await running.done;
    const second = await (await b.requestUpdate()).done;
    expect({
      refused,
      runningSeenByB: statusWhileRunning.running,
      requestsDuringA: [...new Set(duringRun)],
      first: first.outcome,
      second: { outcome: second.outcome, previous: second.previousVersion === first.version },
      sameCurrent: a.current().manifest.version === b.current().manifest.version,
    }).toEqual({
      refused: 'CP_CONFLICT',
      runningSeenByB: true,
      requestsDuringA: [NVD_PATH],
      first: 'updated',
      second: { outcome: 'unchanged', previous: true },
      sameCurrent: true,
    });
  });

  it('picks up a `vigil db build` output dropped into the directory, and rejects a file that is not a snapshot', async () => {
    const s = await sync();
    const lastAttempt = async () => {
      const a = (await s.status()).lastAttempt;
      return { trigger: a?.trigger, outcome: a?.outcome, code: a?.error?.code ?? null };
    };
    const offlineVersion = await buildDemoSnapshot(join(dir, 'offline-build.db'), true);
    await s.poll(); // first sight: its size is noted
    await s.poll(); // unchanged since: taken
    const taken = { current: s.current().manifest, attempt: await lastAttempt() };
    await writeFile(join(dir, 'junk.db'), 'not a snapshot');
    await s.poll();
    await s.poll();
    expect({
      taken: { version: taken.current.version, origin: taken.current.origin, attempt: taken.attempt },
      rejected: await lastAttempt(),
      current: s.current().manifest.version,
      files: (await readdir(dir)).filter((n) => !n.startsWith('.') && !n.endsWith('.json')).sort(),
    }).toEqual({
      taken: {
        version: offlineVersion,
        origin: 'import',
        attempt: { trigger: 'drop', outcome: 'updated', code: null },
      },
      rejected: { trigger: 'drop', outcome: 'failed', code: 'ENG_DB_CORRUPT' },
      current: offlineVersion,
      files: [`${offlineVersion}.db`, `${seedVersion}.db`, 'junk.db.rejected'].sort(),
    });
  });

  it('publishes an uploaded snapshot as current after verifying it, and refuses garbage with CP_INVALID_ARGUMENT', async () => {
    const s = await sync();
    const file = join(work, 'upload.db');
    const version = await buildDemoSnapshot(file, true);
    const manifest = await s.upload(createReadStream(file), 1 << 30);
    const refused = await s
      .upload(Readable.from([Buffer.from('SQLite format 3\0 but nothing else')]), 1 << 30)
      .catch((e: { code?: string }) => e.code);
    expect({
      manifest: { version: manifest.version, origin: manifest.origin },
      current: s.current().manifest.version,
      refused,
      lastAttempt: (await s.status()).lastAttempt?.outcome,
    }).toEqual({
      manifest: { version, origin: 'upload' },
      current: version,
      refused: 'CP_INVALID_ARGUMENT',
      lastAttempt: 'failed',
    });
  });
});
