/**
 * The scan job: claim the attempt, then one Report stream — started, throttled progress, the
 * inventory in chunks, the findings in chunks, and exactly one of completed, failed or cancelled.
 *
 * - A scan or match error is reported as `failed` with its code; it is retried (given back with a
 *   delay) only when the error is retryable and this is not the queue's last delivery, and the
 *   report's `retryable` says exactly that, so the control plane knows whether an attempt follows.
 * - A cancel aborts the scan through its AbortSignal and is reported as `cancelled`.
 * - A shutdown cuts the stream short (the control plane keeps nothing of the attempt) and gives the
 *   job back at once, for another worker.
 * - While the control plane is unreachable (grpc/control-plane-link.ts), the job keeps its delivery and
 *   claims the same attempt again, with a capped backoff, until it answers; a stream it lost is then sent
 *   again from the start (a finished scan's result is kept, not scanned twice). A cancel meanwhile ends
 *   the job as cancelled (the control plane recorded it before broadcasting), a shutdown gives it back at
 *   once. So an outage consumes no deliveries: only scan failures do.
 * - When the control plane answers the claim or the stream with an error, the job is given back with a
 *   delay; when it says the attempt is stale or the scan is over, the job is dropped.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import {
  scanImage,
  type LayerCache,
  type ScanImageOptions,
  type ScanResult,
  type ScanTarget,
  type VulnerabilityScanResult,
} from '@vigil/engine/core';
import { matchInventory, type AdvisoryReader } from '@vigil/engine/db';
import { ReportRequestSchema, type ReportRequest } from '@vigil/proto/v1/worker_pb';
import type { Logger } from 'pino';
import { WorkerError } from '../errors.js';
import { isUnreachable, type ControlPlaneLink } from '../grpc/control-plane-link.js';
import { rpcFailure, type ReportCall, type WorkerClient } from '../grpc/worker-client.js';
import { toSeverityCounts } from '../mapping.js';
import type { JobDelivery } from '../queue/types.js';
import { findingsChunks, inventoryChunks, type ChunkLimits } from './chunks.js';
import { classifyFailure } from './failure.js';
import { ProgressThrottle } from './progress.js';
import { jobStopOf, type Disposition } from './types.js';

/** Everything a scan job needs besides its delivery; shared by all jobs of a worker. */
export interface ScanJobContext {
  workerId: string;
  client: WorkerClient;
  /** the snapshot every job matches against, opened once */
  db: { reader: AdvisoryReader; version: string };
  cache?: LayerCache;
  registry?: ScanImageOptions['registry'];
  tmpDir?: string;
  limits?: ScanImageOptions['limits'];
  inventoryChunks: ChunkLimits;
  findingsChunks: ChunkLimits;
  progressIntervalMs: number;
  /** a scan running longer is failed with WRK_SCAN_TIMEOUT (retryable); 0 = no limit */
  scanTimeoutMs: number;
  /** redelivery delay after attempt n failed retryably or the control plane refused its report */
  retryDelayMs(attempt: number): number;
  /** whether the control plane answers, shared by the worker's jobs */
  link: ControlPlaneLink;
  logger: Logger;
}

/** Control-plane answers that mean "this attempt has nothing left to do". */
const DROP_CODES = new Set(['CP_SCAN_ATTEMPT_STALE', 'CP_SCAN_TRANSITION_INVALID', 'CP_NOT_FOUND']);

/**
 * What an image reference of a job names: a registry reference (`repo@sha256:…`), or a local image
 * for the all-in-one server — an absolute path or a `docker-archive:` / `oci:` / `oci-archive:` path.
 */
export function targetOf(imageRef: string): ScanTarget {
  const prefixed = /^(?:docker-archive|oci-archive|oci):(.+)$/.exec(imageRef);
  if (prefixed) return { input: prefixed[1]! };
  if (imageRef.startsWith('/')) return { input: imageRef };
  return { ref: imageRef };
}

/** Runs one delivery of a scan job. Never throws: every outcome is a disposition. */
export async function runScanJob(
  delivery: JobDelivery,
  signal: AbortSignal,
  ctx: ScanJobContext,
): Promise<Disposition> {
  const { job, attempt } = delivery;
  const log = ctx.logger.child({ scanId: job.scanId, attempt });
  // the control plane answered the claim or the stream with an error
  const requeue = (error: unknown, step: string): Disposition => {
    const failure = rpcFailure(error);
    if (failure.vigilCode && DROP_CODES.has(failure.vigilCode)) {
      log.info({ step, code: failure.vigilCode }, 'job dropped by control plane');
      return { outcome: 'dropped' };
    }
    const delayMs = jobStopOf(signal)?.kind === 'shutdown' ? 0 : ctx.retryDelayMs(attempt);
    log.warn(
      { step, grpcCode: failure.grpcCode, code: failure.vigilCode, err: failure.message, delayMs },
      'job requeued',
    );
    return { outcome: 'requeued', delayMs };
  };

  const link = ctx.link.forJob();
  const scanned: ScanMemo = {};
  try {
    for (;;) {
      let step = 'claim';
      try {
        const claim = await link.observe(
          ctx.client.claimJob({ scanId: job.scanId, attempt, workerId: ctx.workerId }),
        );
        if (!claim.proceed) {
          log.info({ status: claim.status }, 'job dropped by control plane');
          return { outcome: 'dropped' };
        }
        if (claim.dbVersion && claim.dbVersion !== ctx.db.version) {
          log.warn({ wanted: claim.dbVersion, using: ctx.db.version }, 'job database version differs');
        }
        step = 'report';
        return await link.observe(report(delivery, signal, ctx, log, scanned));
      } catch (error) {
        if (!isUnreachable(error)) return requeue(error, step);
        const failure = rpcFailure(error);
        log.warn(
          { step, grpcCode: failure.grpcCode, err: failure.message, retryMs: link.retryMs },
          'control plane unreachable: job held until it answers',
        );
        if (!(await link.wait(signal))) return stoppedWhileUnreachable(signal, log);
      }
    }
  } finally {
    link.close();
  }
}

/** Stopped while waiting for the control plane: nothing can be reported. */
function stoppedWhileUnreachable(signal: AbortSignal, log: Logger): Disposition {
  const stop = jobStopOf(signal);
  if (stop?.kind === 'cancel') {
    log.info({ reason: stop.reason }, 'scan cancelled while the control plane was unreachable');
    return { outcome: 'cancelled' };
  }
  log.info('job given back: stopped while the control plane was unreachable');
  return { outcome: 'requeued', delayMs: 0 };
}

/** One Report stream of the attempt; rejects when the stream fails. */
async function report(
  delivery: JobDelivery,
  signal: AbortSignal,
  ctx: ScanJobContext,
  log: Logger,
  scanned: ScanMemo,
): Promise<Disposition> {
  const call = ctx.client.openReport();
  // the job's own signal: the worker's (cancel, shutdown) or the scan timeout
  const controller = new AbortController();
  const relay = () => controller.abort(signal.reason);
  if (signal.aborted) relay();
  else signal.addEventListener('abort', relay, { once: true });
  const timer =
    ctx.scanTimeoutMs > 0
      ? setTimeout(() => controller.abort({ kind: 'timeout', afterMs: ctx.scanTimeoutMs }), ctx.scanTimeoutMs)
      : undefined;
  try {
    return await new ReportRun(delivery, call, controller.signal, ctx, log, scanned).run();
  } catch (error) {
    // scan and match errors become `failed` events: what reaches here is the stream's own failure
    call.cancel();
    throw error;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', relay);
  }
}

/** A scan's result, kept across the attempt's Report streams (one lost to an outage is sent again). */
interface ScanMemo {
  scan?: ScanResult;
  matched?: VulnerabilityScanResult;
}

type ReportEvent = MessageInitShape<typeof ReportRequestSchema>['event'];

/** One attempt's Report stream. `run` rejects only when the stream fails. */
class ReportRun {
  private readonly progress: ProgressThrottle;

  constructor(
    private readonly delivery: JobDelivery,
    private readonly call: ReportCall,
    private readonly signal: AbortSignal,
    private readonly ctx: ScanJobContext,
    private readonly log: Logger,
    private readonly scanned: ScanMemo,
  ) {
    this.progress = new ProgressThrottle(
      (value) => call.write(this.request({ case: 'progress', value })),
      ctx.progressIntervalMs,
    );
  }

  private request(event: ReportEvent): ReportRequest {
    const { job, attempt } = this.delivery;
    return create(ReportRequestSchema, { scanId: job.scanId, attempt, event });
  }

  private send(event: ReportEvent): Promise<void> {
    return this.call.send(this.request(event));
  }

  async run(): Promise<Disposition> {
    const { job } = this.delivery;
    const { ctx } = this;
    try {
      await this.send({
        case: 'started',
        value: { workerId: ctx.workerId, startedAt: timestampNow(), dbVersion: ctx.db.version },
      });
      this.log.info({ imageRef: job.imageRef }, 'scan start');
      const { scanned } = this;
      let scan: ScanResult;
      let matched: VulnerabilityScanResult;
      try {
        if (this.signal.aborted) throw this.signal.reason;
        scan = scanned.scan ??= await scanImage(targetOf(job.imageRef), {
          cache: ctx.cache,
          registry: ctx.registry,
          tmpDir: ctx.tmpDir,
          limits: ctx.limits,
          signal: this.signal,
          onEvent: this.progress.onEvent,
        });
      } catch (error) {
        return await this.endEarly(error);
      }
      let inventoryCount = 0;
      for (const chunk of inventoryChunks(scan, ctx.inventoryChunks)) {
        if (this.signal.aborted) return await this.endEarly(this.signal.reason);
        await this.send({ case: 'inventory', value: chunk });
        inventoryCount++;
      }
      this.progress.update('match', 0, scan.packages.length);
      this.progress.flush();
      try {
        matched = scanned.matched ??= matchInventory(scan, ctx.db.reader);
      } catch (error) {
        return await this.endEarly(error);
      }
      this.progress.update('match', scan.packages.length, scan.packages.length);
      this.progress.flush();
      let findingsCount = 0;
      for (const chunk of findingsChunks(matched.findings, matched.warnings, ctx.findingsChunks)) {
        if (this.signal.aborted) return await this.endEarly(this.signal.reason);
        await this.send({ case: 'findings', value: chunk });
        findingsCount++;
      }
      this.progress.close();
      await this.send({
        case: 'completed',
        value: {
          finishedAt: timestampNow(),
          partial: scan.status === 'partial',
          packages: scan.packages.length,
          findings: matched.findings.length,
          inventoryChunks: inventoryCount,
          findingsChunks: findingsCount,
          counts: toSeverityCounts(matched.findings),
        },
      });
      const response = await this.call.finish();
      this.log.info(
        { packages: scan.packages.length, findings: matched.findings.length, ignored: response.ignored },
        'scan completed',
      );
      return { outcome: 'completed' };
    } finally {
      this.progress.close();
    }
  }

  /** Ends the stream after a scan or match error, or a stop by the worker. */
  private async endEarly(error: unknown): Promise<Disposition> {
    this.progress.close();
    const stop = jobStopOf(this.signal);
    if (stop?.kind === 'shutdown') {
      this.call.cancel();
      this.log.info('scan interrupted by shutdown');
      return { outcome: 'requeued', delayMs: 0 };
    }
    if (stop?.kind === 'cancel') {
      await this.send({ case: 'cancelled', value: { reason: stop.reason } });
      await this.call.finish();
      this.log.info({ reason: stop.reason }, 'scan cancelled');
      return { outcome: 'cancelled' };
    }
    const failure = classifyFailure(
      stop?.kind === 'timeout'
        ? new WorkerError('WRK_SCAN_TIMEOUT', `scan ran longer than ${stop.afterMs} ms`, { cause: error })
        : error,
    );
    const retry = failure.retryable && !this.delivery.lastAttempt;
    await this.send({
      case: 'failed',
      value: { code: failure.code, message: failure.message, retryable: retry },
    });
    await this.call.finish();
    this.log.warn({ code: failure.code, err: failure.message, retry }, 'scan failed');
    if (!retry) return { outcome: 'failed' };
    return { outcome: 'retry', delayMs: this.ctx.retryDelayMs(this.delivery.attempt) };
  }
}
