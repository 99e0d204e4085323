/**
 * The rematch batch job (ScanJob.rematch, priority `rematch`): a vulnerability database update re-evaluates the
 * stored inventories of many images without pulling them (control-plane/src/rematch). One delivery:
 *
 * 1. ClaimRematch(batch, attempt): the batch's distinct inventories (images with identical package sets come once);
 *    proceed=false → the batch is finished or this attempt is stale: dropped.
 * 2. each inventory is matched once against the worker's snapshot (the same matchInventory as a scan);
 * 3. ReportRematch with one result per inventory; the control plane records one completed rematch scan per image
 *    (idempotent: a redelivered batch records nothing twice).
 *
 * A match error is reported as failed (retryable unless this is the queue's last delivery) and the job is given
 * back with a delay; an unreachable control plane gives the job back with a delay (rematches are background work
 * and a batch is small, so holding it like a scan job does would only keep a slot from user scans).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Package, ScanResult } from '@vigil/engine/core';
import { matchInventory } from '@vigil/engine/db';
import type { OsRelease } from '@vigil/engine';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { RematchInventory, RematchResult, RematchResultSchema } from '@vigil/proto/v1/worker_pb';
import type { Logger } from 'pino';
import { rpcFailure, type WorkerClient } from '../grpc/worker-client.js';
import { toProtoFinding } from '../mapping.js';
import type { JobDelivery } from '../queue/types.js';
import { classifyFailure } from './failure.js';
import type { ScanJobContext } from './scan-image.js';
import { jobStopOf, type Disposition } from './types.js';

/** How long a lagging worker keeps checking for the snapshot a rematch batch names, and the pause between checks. */
const SNAPSHOT_WAIT_MS = 20_000;
const SNAPSHOT_RECHECK_MS = 250;

export interface RematchJobContext extends Pick<
  ScanJobContext,
  'workerId' | 'client' | 'retryDelayMs' | 'logger'
> {
  /** looks for a newer snapshot now (the claim names `version`); resolves once the check is done */
  snapshot(version: string): Promise<void>;
  /** the current snapshot, held until released */
  acquire(): ScanJobContext['db'] & { release(): void };
}

const DROP_CODES = new Set(['CP_SCAN_ATTEMPT_STALE', 'CP_SCAN_TRANSITION_INVALID', 'CP_NOT_FOUND']);

/** An inventory as the matcher takes it. */
export function rematchScan(osJson: string, packagesJson: string): ScanResult {
  const packages = JSON.parse(packagesJson) as Package[];
  const os = osJson ? (JSON.parse(osJson) as OsRelease) : undefined;
  const now = new Date().toISOString();
  return {
    artifact: { name: 'rematch', kind: 'sbom' } as unknown as ScanResult['artifact'],
    ...(os ? { os } : {}),
    packages,
    unknowns: [],
    status: 'succeeded',
    startedAt: now,
    finishedAt: now,
  };
}

/** Runs one delivery of a rematch batch job. Never throws: every outcome is a disposition. */
export async function runRematchJob(
  delivery: JobDelivery,
  signal: AbortSignal,
  ctx: RematchJobContext,
): Promise<Disposition> {
  const { job, attempt } = delivery;
  const batchId = job.scanId;
  const log = ctx.logger.child({ rematchBatch: batchId, attempt });
  const { client } = ctx;
  if (!client.claimRematch || !client.reportRematch) {
    log.error('this worker client cannot run rematch batches');
    return { outcome: 'requeued', delayMs: ctx.retryDelayMs(attempt) };
  }
  const givenBack = (error: unknown, step: string): Disposition => {
    const failure = rpcFailure(error);
    if (failure.vigilCode && DROP_CODES.has(failure.vigilCode)) {
      log.info({ step, code: failure.vigilCode }, 'rematch batch dropped by control plane');
      return { outcome: 'dropped' };
    }
    const delayMs = jobStopOf(signal)?.kind === 'shutdown' ? 0 : ctx.retryDelayMs(attempt);
    log.warn({ step, code: failure.vigilCode, err: failure.message, delayMs }, 'rematch batch requeued');
    return { outcome: 'requeued', delayMs };
  };

  let claim;
  try {
    claim = await client.claimRematch({ batchId, attempt, workerId: ctx.workerId });
  } catch (error) {
    return givenBack(error, 'claim');
  }
  if (!claim.proceed) {
    log.info('rematch batch dropped by control plane');
    return { outcome: 'dropped' };
  }
  let db = ctx.acquire();
  // the batch re-evaluates with the snapshot it was started for: fetch it first when this worker lags. A check
  // already in flight may have begun before that snapshot was published, and on a loaded machine a download
  // can take a while: checks go on (the job's heartbeat keeps it) for up to SNAPSHOT_WAIT_MS, then ours is used
  const deadline = Date.now() + SNAPSHOT_WAIT_MS;
  while (claim.dbVersion && claim.dbVersion !== db.version && Date.now() < deadline && !signal.aborted) {
    db.release();
    await ctx.snapshot(claim.dbVersion).catch(() => undefined);
    db = ctx.acquire();
    if (claim.dbVersion !== db.version) await delay(SNAPSHOT_RECHECK_MS);
  }
  if (claim.dbVersion && claim.dbVersion !== db.version)
    log.warn({ wanted: claim.dbVersion, using: db.version }, 'rematch database version differs');
  try {
    return await matchAndReport(delivery, signal, ctx, db, claim.inventories, log, givenBack);
  } finally {
    db.release();
  }
}

async function matchAndReport(
  delivery: JobDelivery,
  signal: AbortSignal,
  ctx: RematchJobContext,
  db: ScanJobContext['db'],
  inventories: readonly RematchInventory[],
  log: Logger,
  givenBack: (error: unknown, step: string) => Disposition,
): Promise<Disposition> {
  const { job, attempt } = delivery;
  const batchId = job.scanId;
  const client = ctx.client as Required<Pick<WorkerClient, 'reportRematch'>>;
  const results: MessageInitShape<typeof RematchResultSchema>[] = [];
  let findings = 0;
  let failed: { code: string; message: string; retryable: boolean } | null = null;
  try {
    for (const inventory of inventories) {
      if (signal.aborted) throw signal.reason;
      const matched = matchInventory(rematchScan(inventory.osJson, inventory.packagesJson), db.reader);
      findings += matched.findings.length;
      results.push({ index: inventory.index, findings: matched.findings.map(toProtoFinding) });
    }
  } catch (error) {
    if (jobStopOf(signal)?.kind === 'shutdown') return { outcome: 'requeued', delayMs: 0 };
    const failure = classifyFailure(error);
    failed = { code: failure.code, message: failure.message, retryable: !delivery.lastAttempt };
  }
  try {
    const response = await client.reportRematch({
      batchId,
      attempt,
      workerId: ctx.workerId,
      dbVersion: db.version,
      ...(failed ? { failed } : { results: results as RematchResult[] }),
    });
    if (failed) {
      log.warn({ code: failed.code, err: failed.message, retry: failed.retryable }, 'rematch batch failed');
      return failed.retryable
        ? { outcome: 'retry', delayMs: ctx.retryDelayMs(attempt) }
        : { outcome: 'failed' };
    }
    log.info(
      { inventories: inventories.length, findings, scans: response.scans, ignored: response.ignored },
      'rematch batch completed',
    );
    return { outcome: 'completed' };
  } catch (error) {
    return givenBack(error, 'report');
  }
}
