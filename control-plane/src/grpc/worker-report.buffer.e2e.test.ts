/**
 * readReport's buffered appends against the real chdb analytics store: a report's chunks are written in one
 * append per scan (both tables in one call), or every `flushRows` rows for a large one; a failed report writes
 * nothing; a store without the batch form gets one appendInventory and one appendFindings. What is published
 * afterwards counts every row once either way. A completed report's rows are counted as they are appended and the
 * counts handed to the store (publishing needs no count query); a failed or truncated one hands over nothing. A
 * report still held whole at its end, of a known image digest, is stored content-addressed (storeAttemptRows): a
 * rescan with the same rows writes none.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { ReportRequestSchema, type ReportRequest } from '@vigil/proto/v1/worker_pb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsStore } from '../analytics/index.js';
import type { ClickHouseAnalyticsStore } from '../analytics/store.js';
import type { AnalyticsStore } from '../analytics/types.js';
import { createScanEventBus } from '../services/events.js';
import { wireFinding, wirePackage, type ReportInit } from '../services/testdata/harness.js';
import { readReport } from './worker-report.js';

type Store = AnalyticsStore & { close(): Promise<void> };
let dir: string;
let store: Store;
const orgId = randomUUID();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-report-buffer-'));
  store = (await createAnalyticsStore({ path: join(dir, 'chdb') })) as Store;
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The store, recording the size of every append it is asked for (and then doing it). */
function recording(base: AnalyticsStore, withBatch: boolean) {
  const calls: Array<{ call: string; packages: number; findings: number }> = [];
  const s = Object.create(base) as AnalyticsStore & Record<string, unknown>;
  const batchOf = (base as unknown as Record<string, (...a: unknown[]) => Promise<void>>).appendBatch!;
  if (withBatch) {
    const storeRows = base.storeAttemptRows!;
    s.storeAttemptRows = (...args: Parameters<NonNullable<AnalyticsStore['storeAttemptRows']>>) => {
      const rows = args[2];
      calls.push({
        call: 'storeAttemptRows',
        packages: rows.packages?.length ?? 0,
        findings: rows.findings?.length ?? 0,
      });
      return storeRows.call(base, ...args);
    };
    s.appendBatch = (org: string, batch: Array<{ packages?: unknown[]; findings?: unknown[] }>) => {
      for (const b of batch)
        calls.push({
          call: 'appendBatch',
          packages: b.packages?.length ?? 0,
          findings: b.findings?.length ?? 0,
        });
      return batchOf.call(base, org, batch);
    };
  } else {
    s.appendBatch = undefined;
    s.storeAttemptRows = undefined;
    s.appendInventory = (...args: Parameters<AnalyticsStore['appendInventory']>) => {
      calls.push({ call: 'appendInventory', packages: args[3].length, findings: 0 });
      return base.appendInventory(...args);
    };
    s.appendFindings = (...args: Parameters<AnalyticsStore['appendFindings']>) => {
      calls.push({ call: 'appendFindings', packages: 0, findings: args[3].length });
      return base.appendFindings(...args);
    };
  }
  return { store: s as AnalyticsStore, calls };
}

const PACKAGES = Array.from({ length: 9 }, (_, i) => wirePackage(`pkg-${i}`));
const FINDINGS = [
  wireFinding('CVE-2024-2000', 'CRITICAL', PACKAGES[0]),
  wireFinding('CVE-2024-2001', 'HIGH', PACKAGES[1], '2.0.0'),
  wireFinding('CVE-2024-2002', 'HIGH', PACKAGES[2]),
  wireFinding('CVE-2024-2003', 'LOW', PACKAGES[3]),
];

/** After `started`: three inventory chunks of three packages, two findings chunks of two, then `final`. */
function stream(
  scanId: string,
  final: 'completed' | 'failed',
  claimedFindings = 4,
): AsyncIterator<ReportRequest> {
  const events: ReportInit['event'][] = [
    ...[0, 1, 2].map((seq) => ({
      case: 'inventory' as const,
      value: {
        seq,
        ...(seq === 0 ? { os: { family: 'debian', version: '12' } } : {}),
        packages: PACKAGES.slice(seq * 3, seq * 3 + 3),
      },
    })),
    { case: 'progress', value: { stage: 'match', done: 1n, total: 2n } },
    ...[0, 1].map((seq) => ({
      case: 'findings' as const,
      value: { seq, findings: FINDINGS.slice(seq * 2, seq * 2 + 2) },
    })),
    final === 'completed'
      ? {
          case: 'completed',
          value: {
            packages: 9,
            findings: claimedFindings,
            inventoryChunks: 3,
            findingsChunks: 2,
            counts: { critical: 1, high: 2, medium: 0, low: 1, unknown: 0, total: 4 },
          },
        }
      : { case: 'failed', value: { code: 'WRK_PULL_FAILED', message: 'gone', retryable: false } },
  ];
  const requests = events.map((event) => create(ReportRequestSchema, { scanId, attempt: 1, event }));
  return (async function* () {
    yield* requests;
  })();
}

async function run(
  final: 'completed' | 'failed',
  options: { withBatch?: boolean; flushRows?: number; claimedFindings?: number; digest?: string } = {},
) {
  const scanId = randomUUID();
  const { store: s, calls } = recording(store, options.withBatch ?? true);
  const outcome = await readReport(
    stream(scanId, final, options.claimedFindings),
    { orgId, scanId, attempt: 1, ...(options.digest ? { digest: options.digest } : {}) },
    { analytics: s, events: createScanEventBus(), flushRows: options.flushRows },
  );
  if (outcome.contents) {
    // stored content-addressed: published as a worker report is, with where its rows are
    const summary = await store.publishScan(orgId, {
      scanId,
      attempt: 1,
      digest: options.digest!,
      imageIds: [randomUUID()],
      completedAt: new Date(),
      os: outcome.os,
      counted: outcome.counts!,
      contents: outcome.contents,
    });
    return {
      scanId,
      calls,
      counts: outcome.counts,
      reused: [outcome.contents.packages.reused, outcome.contents.findings.reused],
      from: outcome.contents.findings.from.scanId,
      published: { packages: summary.packages, counts: summary.counts, fixable: summary.fixable },
    };
  }
  // published the old way (its stored rows counted by queries), to compare with the counts taken on the way
  const summary = await store.publishScan(orgId, {
    scanId,
    attempt: 1,
    digest: `sha256:${'a'.repeat(64)}`,
    imageIds: [randomUUID()],
    completedAt: new Date(),
    os: outcome.os,
  });
  return {
    final: outcome.final.case,
    truncated: outcome.truncated,
    calls,
    counts: outcome.counts ?? null,
    published: { packages: summary.packages, counts: summary.counts, fixable: summary.fixable },
  };
}

const PUBLISHED = {
  packages: 9,
  counts: { critical: 1, high: 2, medium: 0, low: 1, unknown: 0, total: 4 },
  fixable: 1,
};

/** A whole report with flushRows 4: three appends as the rows come, counted and published whole. */
const FLUSHED_EVERY_4 = {
  final: 'completed',
  truncated: null,
  calls: [
    { call: 'appendBatch', packages: 6, findings: 0 },
    { call: 'appendBatch', packages: 3, findings: 2 },
    { call: 'appendBatch', packages: 0, findings: 2 },
  ],
  counts: PUBLISHED,
  published: PUBLISHED,
};

describe('readReport appends', () => {
  it('a whole report in one append of both tables', async () => {
    expect(await run('completed')).toEqual({
      final: 'completed',
      truncated: null,
      calls: [{ call: 'appendBatch', packages: 9, findings: 4 }],
      counts: PUBLISHED,
      published: PUBLISHED,
    });
  });

  it('every flushRows rows for a large report, the rest at the end', async () => {
    expect(await run('completed', { flushRows: 4 })).toEqual(FLUSHED_EVERY_4);
  });

  it('nothing for a failed report', async () => {
    expect(await run('failed')).toEqual({
      final: 'failed',
      truncated: null,
      calls: [],
      counts: null,
      published: {
        packages: 0,
        counts: { ...PUBLISHED.counts, critical: 0, high: 0, low: 0, total: 0 },
        fixable: 0,
      },
    });
  });

  it('a store without the batch form: one appendInventory and one appendFindings', async () => {
    expect(await run('completed', { withBatch: false })).toEqual({
      final: 'completed',
      truncated: null,
      calls: [
        { call: 'appendInventory', packages: 9, findings: 0 },
        { call: 'appendFindings', packages: 0, findings: 4 },
      ],
      counts: null,
      published: PUBLISHED,
    });
  });

  it('a report held whole is stored content-addressed: a rescan of the same image digest writes no rows', async () => {
    const image = `sha256:${randomUUID().replaceAll('-', '')}`;
    const first = await run('completed', { digest: image });
    const rescan = await run('completed', { digest: image });
    // flushed on the way: written as it came, its own rows, no contents
    const flushed = await run('completed', { digest: image, flushRows: 4 });
    const rows = await (store as ClickHouseAnalyticsStore).driver.query(
      `SELECT scan_id, toUInt32(count()) AS n FROM findings WHERE org_id = {org:String}
         AND scan_id IN {ids:Array(String)} GROUP BY scan_id ORDER BY scan_id`,
      { org: orgId, ids: [first.scanId, rescan.scanId] },
    );
    // one call storing the whole report; the rows held by the first scan
    const stored = (scanId: string, reused: boolean) => ({
      scanId,
      calls: [{ call: 'storeAttemptRows', packages: 9, findings: 4 }],
      counts: PUBLISHED,
      reused: [reused, reused],
      from: first.scanId,
      published: PUBLISHED,
    });
    expect({ first, rescan, flushed, rows }).toEqual({
      first: stored(first.scanId, false),
      rescan: stored(rescan.scanId, true),
      flushed: FLUSHED_EVERY_4,
      rows: [{ scan_id: first.scanId, n: 4 }],
    });
  });

  it('no counts for a truncated report (its scan fails; nothing is published)', async () => {
    const result = await run('completed', { claimedFindings: 5 });
    expect(result.truncated).toMatch(/^report truncated: findings 5 claimed, 4 received/);
    expect(result.counts).toBeNull();
  });
});
