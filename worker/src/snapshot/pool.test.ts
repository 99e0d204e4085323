/**
 * The snapshot pool on real snapshot files (built from the demo feeds, one of them with one more advisory):
 * a lease keeps its snapshot to the end whatever is installed meanwhile; the replaced snapshot is closed, and
 * its file removed when the worker downloaded it, once the last lease is released.
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildDemoSnapshot } from '../../../control-plane/src/vulndb-sync/testdata/snapshots.js';
import { createWorkerLogger } from '../logger.js';
import { SnapshotPool } from './pool.js';

let dir: string;
let v1: string;
let v2: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-pool-'));
  [v1, v2] = await Promise.all([
    buildDemoSnapshot(join(dir, 'v1.db')),
    buildDemoSnapshot(join(dir, 'v2.db'), true),
  ]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const logger = createWorkerLogger({ level: 'silent' });

describe('SnapshotPool', () => {
  it('keeps a leased snapshot open across a swap and removes its downloaded file after the last release', async () => {
    const pool = new SnapshotPool(logger);
    const first = join(dir, 'downloaded-v1.db');
    await copyFile(join(dir, 'v1.db'), first);
    pool.install(first, { owned: true, expected: v1 });
    const inFlight = pool.acquire();
    pool.install(join(dir, 'v2.db'), { owned: false });
    const next = pool.acquire();
    const during = {
      current: pool.version,
      leases: [inFlight.version, next.version],
      // the leased reader still answers after the swap
      readable: inFlight.reader.meta().version,
      retiring: pool.retiringVersions,
      fileKept: existsSync(first),
    };
    inFlight.release();
    inFlight.release(); // a second release changes nothing
    await vi.waitFor(() => expect(existsSync(first)).toBe(false));
    const after = { retiring: pool.retiringVersions, fileKept: existsSync(first) };
    next.release();
    pool.close();
    expect({ during, after, sharedFileKept: existsSync(join(dir, 'v2.db')) }).toEqual({
      during: { current: v2, leases: [v1, v2], readable: v1, retiring: [v1], fileKept: true },
      after: { retiring: [], fileKept: false },
      sharedFileKept: true,
    });
  });

  it('refuses a file that is not the version it was fetched as, and keeps the current one', () => {
    const pool = new SnapshotPool(logger);
    pool.install(join(dir, 'v1.db'), { owned: false });
    const error = (() => {
      try {
        pool.install(join(dir, 'v2.db'), { owned: false, expected: v1 });
      } catch (e) {
        return (e as { code?: string }).code;
      }
    })();
    expect({ error, current: pool.version }).toEqual({ error: 'WRK_SNAPSHOT_INVALID', current: v1 });
    pool.close();
  });
});
