/**
 * WorkerService (proto/vigil/v1/worker.proto): how workers claim jobs and deliver results.
 *
 * - Workers authenticate with the shared worker token (`authorization: Bearer <token>`, compared in constant
 *   time); anything else is UNAUTHENTICATED (CP_UNAUTHENTICATED).
 * - ClaimJob marks the scan running for the job's delivery attempt; proceed=false for a cancelled, finished or
 *   unknown scan and for a stale attempt. Re-claiming the current attempt proceeds (a retried call). A stale
 *   attempt is dropped even when the current one's worker is gone (a NATS crash can redeliver a job with a lower
 *   delivery count): such a scan shows no activity and the dispatch loop's reaper re-queues it
 *   (dispatch/reaper.ts), rather than letting whichever copy arrives take over a possibly live attempt.
 * - Activity: the claim and the report's start record a sign of life on the scan, and so does every
 *   `activityIntervalMs` while the report stream is open and its outcome is being recorded.
 * - Report reads one attempt's stream (worker-report.ts); its `started` event's db_version is recorded on the scan
 *   (matchedDbVersion). completed → analytics publish, then Postgres
 *   completion (services/completion.ts: a crash between the two is safe); totals that do not match → failed as
 *   truncated; failed → left running when retryable and not the last delivery (the worker naks), else failed
 *   with the worker's error; cancelled → confirmed cancelled. Reports of a stale attempt or a finished scan are
 *   drained and answered ignored=true.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { WorkerService } from '@vigil/proto/v1/worker_pb';
import type { ReportRequest } from '@vigil/proto/v1/worker_pb';
import type { AnalyticsStore } from '../analytics/types.js';
import { ControlPlaneError, isControlPlaneError } from '../errors.js';
import { reportContents } from '../metrics.js';
import { completeScan } from '../services/completion.js';
import type { ScanEventBus } from '../services/events.js';
import type { ServiceLogger } from '../services/logger.js';
import type { MetadataStores, ScanRecord } from '../services/types.js';
import { isFinalStatus } from '../services/watch.js';
import type { CallContext, ServiceHandlers } from './adapter.js';
import { wireScanStatus } from './mapping.js';
import type { Rematch } from '../rematch/service.js';
import { readReport, type ReportOutcome } from './worker-report.js';

/** The error code of a scan whose completed report did not match its chunks. */
export const REPORT_TRUNCATED_CODE = 'CP_SCAN_REPORT_TRUNCATED';

export interface WorkerServiceDeps {
  stores: MetadataStores;
  analytics: AnalyticsStore;
  events: ScanEventBus;
  logger: ServiceLogger;
  /** the shared secret workers present */
  workerToken: string;
  /** the snapshot workers match against (ClaimJob's db_version) */
  dbVersion: () => string;
  /** the queue's maximum deliveries per job: a retryable failure of the last one fails the scan */
  maxDeliveries: number;
  /** how often an open report stream records activity (well under the reaper's idle limit) */
  activityIntervalMs: number;
  /** rematch batches (rematch/service.ts): ClaimRematch and ReportRematch; without it they answer CP_UNAVAILABLE */
  rematch?: () => Pick<Rematch, 'claim' | 'report'> | undefined;
}

/** The handlers of WorkerService, for `addService(server, WorkerService, handlers)`. */
export type WorkerServiceHandlers = ServiceHandlers<(typeof WorkerService)['method']>;

const digestOf = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

function authenticator(token: string): (ctx: CallContext) => void {
  if (token.length < 16)
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'the worker token must have at least 16 characters');
  const expected = digestOf(token);
  return (ctx) => {
    const header = ctx.metadata.get('authorization')[0];
    const presented = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
    // equal-length digests: the comparison time says nothing about the token
    if (!timingSafeEqual(digestOf(presented), expected) || presented === '') {
      throw new ControlPlaneError('CP_UNAUTHENTICATED', 'a worker token is required');
    }
  };
}

function checkAttempt(attempt: number): void {
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > 2 ** 31 - 1) {
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'attempt must be a delivery count from 1');
  }
}

const isCode = (error: unknown, ...codes: string[]): boolean =>
  isControlPlaneError(error) && codes.includes(error.code);

async function drain(requests: AsyncIterator<ReportRequest>): Promise<void> {
  for (let next = await requests.next(); !next.done; next = await requests.next()) {
    // an ignored report: read to the end so the worker's half-close completes the call
  }
}

/** The WorkerService handlers over the stores and the analytics store. */
export function createWorkerService(deps: WorkerServiceDeps): WorkerServiceHandlers {
  const { stores, events, logger } = deps;
  const authenticate = authenticator(deps.workerToken);
  const reply = (scan: ScanRecord, ignored = false) => ({ status: wireScanStatus(scan.status), ignored });
  const emit = (scan: ScanRecord): void => events.emit(scan.orgId, { type: 'status', scan });

  /** The scan as it is now; answers ignored (the outcome is someone else's). */
  async function ignoredReply(scan: ScanRecord) {
    return reply((await stores.scans.getScan(scan.orgId, scan.id)) ?? scan, true);
  }

  async function finish(scan: ScanRecord, attempt: number, outcome: ReportOutcome) {
    const { final } = outcome;
    if (final.case === 'cancelled') {
      const { scan: cancelled, previousStatus } = await stores.scans
        .cancelScan(scan.orgId, scan.id)
        .catch((error: unknown) => {
          if (isCode(error, 'CP_SCAN_TRANSITION_INVALID')) return { scan, previousStatus: scan.status };
          throw error;
        });
      if (previousStatus !== cancelled.status) emit(cancelled);
      return reply(cancelled);
    }
    if (final.case === 'failed' && final.value.retryable && attempt < deps.maxDeliveries) {
      logger.info({ scanId: scan.id, attempt, code: final.value.code }, 'scan attempt failed retryably');
      return reply(scan);
    }
    let next: ScanRecord;
    if (final.case === 'failed' || outcome.truncated) {
      const error =
        final.case === 'failed'
          ? { code: final.value.code, message: final.value.message }
          : { code: REPORT_TRUNCATED_CODE, message: outcome.truncated! };
      next = await stores.scans.transitionScan(scan.orgId, scan.id, { to: 'failed', attempt, error });
    } else {
      // cancelled while the stream ran: leave it cancelled, publish nothing
      const current = await stores.scans.getScan(scan.orgId, scan.id);
      if (!current || current.status !== 'running' || current.attempt !== attempt) return ignoredReply(scan);
      next = await completeScan(
        { analytics: deps.analytics, images: stores.images, scans: stores.scans },
        current,
        attempt,
        outcome.os,
        outcome.counts,
        outcome.contents,
      );
    }
    emit(next);
    return reply(next);
  }

  const rematchOf = (): Pick<Rematch, 'claim' | 'report'> => {
    const rematch = deps.rematch?.();
    if (!rematch)
      throw new ControlPlaneError('CP_UNAVAILABLE', 'rematch is not enabled on this control plane');
    return rematch;
  };

  return {
    async claimRematch(request, ctx) {
      authenticate(ctx);
      checkAttempt(request.attempt);
      return rematchOf().claim(request);
    },

    async reportRematch(request, ctx) {
      authenticate(ctx);
      checkAttempt(request.attempt);
      return rematchOf().report(request);
    },

    async claimJob(request, ctx) {
      authenticate(ctx);
      checkAttempt(request.attempt);
      // a bulk rescan's job can arrive before its scan commits: an unknown id waits for batches being created
      const scan = await stores.outbox.findScan(request.scanId, { awaitBatches: true });
      const dbVersion = deps.dbVersion();
      if (!scan) return { proceed: false, dbVersion };
      if (isFinalStatus(scan.status))
        return { proceed: false, status: wireScanStatus(scan.status), dbVersion };
      try {
        const running = await stores.scans.transitionScan(scan.orgId, scan.id, {
          to: 'running',
          attempt: request.attempt,
        });
        emit(running);
        logger.info(
          { scanId: scan.id, attempt: request.attempt, workerId: request.workerId },
          'scan claimed',
        );
        return { proceed: true, status: wireScanStatus(running.status), dbVersion };
      } catch (error) {
        if (!isCode(error, 'CP_SCAN_ATTEMPT_STALE', 'CP_SCAN_TRANSITION_INVALID')) throw error;
        const current = (await stores.scans.getScan(scan.orgId, scan.id)) ?? scan;
        // the same attempt claimed again (a retried call): still this worker's job
        const proceed = current.status === 'running' && current.attempt === request.attempt;
        return { proceed, status: wireScanStatus(current.status), dbVersion };
      }
    },

    async report(requests, ctx) {
      authenticate(ctx);
      const iterator = requests[Symbol.asyncIterator]();
      const first = await iterator.next();
      if (first.done) throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'report stream: empty');
      const { scanId, attempt, event } = first.value;
      if (event.case !== 'started')
        throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'report stream: the first event must be started');
      checkAttempt(attempt);
      const found = await stores.outbox.findScan(scanId);
      if (!found) throw new ControlPlaneError('CP_NOT_FOUND', `scan ${scanId} not found`);
      const { started, scan } = await stores.scans.startReport(
        found.orgId,
        scanId,
        attempt,
        event.value.dbVersion,
      );
      if (!started) {
        if (scan.status === 'running' && scan.attempt === attempt) {
          throw new ControlPlaneError(
            'CP_CONFLICT',
            `a report of attempt ${attempt} of scan ${scanId} already started`,
          );
        }
        if (scan.status === 'queued' || (scan.status === 'running' && attempt > scan.attempt)) {
          throw new ControlPlaneError(
            'CP_SCAN_TRANSITION_INVALID',
            `attempt ${attempt} of scan ${scanId} was not claimed`,
          );
        }
        await drain(iterator);
        return reply(scan, true);
      }
      logger.debug(
        { scanId, attempt, workerId: event.value.workerId, dbVersion: event.value.dbVersion },
        'scan report started',
      );
      const alive = setInterval(() => {
        stores.outbox
          .recordActivity(scanId, attempt)
          .catch((error: unknown) =>
            logger.warn({ err: error, scanId, attempt }, 'scan activity not recorded'),
          );
      }, deps.activityIntervalMs);
      alive.unref();
      try {
        const outcome = await readReport(
          iterator,
          { orgId: scan.orgId, scanId, attempt, digest: scan.digest },
          { analytics: deps.analytics, events },
        );
        if (outcome.contents) {
          for (const kind of ['packages', 'findings'] as const)
            reportContents.inc({ kind, stored: outcome.contents[kind].reused ? 'reused' : 'written' });
        }
        return await finish(scan, attempt, outcome).catch((error: unknown) => {
          // cancelled or superseded while finishing: the report no longer decides anything
          if (isCode(error, 'CP_SCAN_TRANSITION_INVALID', 'CP_SCAN_ATTEMPT_STALE')) return ignoredReply(scan);
          throw error;
        });
      } finally {
        clearInterval(alive);
      }
    },
  };
}
