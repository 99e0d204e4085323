/**
 * The scan lifecycle service (ScanService): scan requests (by image id or by reference, resolved to a digest),
 * one scan per digest and DB version unless forced, priorities manual > ci > scheduled, the organisation's
 * entitlement, cancellation (a running scan's worker gets a cancel message), bulk rescans (one batch, one
 * multi-row insert, its jobs published while the insert runs), watching and CLI report uploads. Every method is
 * org-scoped.
 *
 * Publishing goes through the outbox: a request publishes its new scan at once and records the confirmation;
 * when the queue is down the scan stays queued and the dispatch loop publishes it later, so a request never
 * fails because of the queue. A bulk rescan publishes its jobs side by side with the insert of its scans and is
 * recorded published by the same transaction (store/postgres/scan-batches.ts); when that publish fails, its scans
 * are sent page by page after the commit (dispatchBatch), and failing that, by the dispatch loop.
 */
import { ControlPlaneError } from '../errors.js';
import type { AnalyticsStore } from '../analytics/types.js';
import type { ScanPublisher } from '../dispatch/publisher.js';
import type { JobDispatcher } from '../queue/types.js';
import type { Actor, ScanService, ScanTarget } from './api.js';
import type { ScanEventBus } from './events.js';
import type { ServiceLogger } from './logger.js';
import { ingestUpload } from './report-upload.js';
import type { ImageResolver } from './resolver.js';
import {
  USER_SCAN_PRIORITIES,
  type AuditEntry,
  type ImageRecord,
  type MetadataStores,
  type ScanPriority,
  type UnpublishedScan,
} from './types.js';
import { watchScanEvents } from './watch.js';

export interface ScanServiceDeps {
  stores: MetadataStores;
  analytics: AnalyticsStore;
  dispatcher: JobDispatcher;
  publisher: ScanPublisher;
  /** the vulnerability database version new scans are scheduled against */
  dbVersion: () => string;
  resolver: ImageResolver;
  events: ScanEventBus;
  logger: ServiceLogger;
  /** how often watchScan re-reads a scan from Postgres (default 1,000 ms) */
  watchPollMs?: number;
  /** queued scans per listing and publish while dispatching a batch (default 1,000) */
  batchPageSize?: number;
  /** how long a batch's early publish may hold its transaction open (default {@link EARLY_DISPATCH_LIMIT_MS}) */
  earlyDispatchLimitMs?: number;
}

/** A batch's early publish beyond this leaves its scans to the outbox, so the insert's transaction can commit. */
export const EARLY_DISPATCH_LIMIT_MS = 20_000;

function checkPriority(priority: unknown): asserts priority is ScanPriority {
  if (!(USER_SCAN_PRIORITIES as readonly unknown[]).includes(priority)) {
    throw new ControlPlaneError(
      'CP_INVALID_ARGUMENT',
      `priority must be one of ${USER_SCAN_PRIORITIES.join(', ')}`,
    );
  }
}

function checkTarget(target: unknown): ScanTarget {
  const t = target as Partial<Record<'imageId' | 'reference', unknown>> | null;
  const byId = typeof t?.imageId === 'string' && t.imageId !== '';
  const byRef = typeof t?.reference === 'string' && t.reference !== '';
  if (typeof t !== 'object' || t === null || byId === byRef || Object.keys(t).length !== 1) {
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'target takes exactly one of imageId or reference');
  }
  return byId ? { imageId: t.imageId as string } : { reference: t.reference as string };
}

/** The ScanService over the metadata stores, the analytics store and the work queue. */
export function createScanService(deps: ScanServiceDeps): ScanService {
  const { stores, dispatcher, publisher, events, logger } = deps;
  const pageSize = deps.batchPageSize ?? 1_000;
  const earlyLimitMs = deps.earlyDispatchLimitMs ?? EARLY_DISPATCH_LIMIT_MS;

  async function requireScanning(orgId: string): Promise<void> {
    const org = await stores.orgs.getOrg(orgId);
    if (!org) throw new ControlPlaneError('CP_NOT_FOUND', `organisation ${orgId} not found`);
    if (!org.scanningEnabled) {
      throw new ControlPlaneError(
        'CP_ENTITLEMENT_DISABLED',
        `scanning is not enabled for organisation ${org.slug}`,
      );
    }
  }

  async function audit(orgId: string, actor: Actor, entry: Omit<AuditEntry, 'actor'>): Promise<void> {
    await stores.audit.appendAudit(orgId, { actor, ...entry });
  }

  async function imageOf(orgId: string, target: ScanTarget): Promise<ImageRecord> {
    if ('imageId' in target) {
      const image = await stores.images.getImage(orgId, target.imageId);
      if (!image) throw new ControlPlaneError('CP_NOT_FOUND', `image ${target.imageId} not found`);
      return image;
    }
    const resolved = await deps.resolver.resolve(target.reference);
    return (await stores.images.upsertImage(orgId, resolved)).image;
  }

  /**
   * Publishes a batch's queued scans page by page, reading the next page while one publishes. Resolves with the
   * number published; a failure is logged and left to the dispatch loop.
   */
  async function dispatchBatch(orgId: string, batchId: string): Promise<number> {
    const page = (afterId: string | null) =>
      stores.scans.listQueuedScans(orgId, batchId, { afterId, limit: pageSize }).then((scans) => {
        // the page's rows are this call's own: the organisation is added in place (a spread per scan cost
        // 2 µs, 20 ms of a 10,000-scan batch on the thread that publishes)
        for (const scan of scans) (scan as UnpublishedScan).orgId = orgId;
        return scans as UnpublishedScan[];
      });
    async function* pages() {
      let next = page(null);
      for (;;) {
        const current = await next;
        if (current.length === 0) return;
        next = current.length < pageSize ? Promise.resolve([]) : page(current.at(-1)!.id);
        next.catch(() => {}); // observed when awaited; the publisher may stop reading first
        yield current;
      }
    }
    try {
      // pages in scan-id order from the first: each confirmed chunk is one mark on the batch
      return await publisher.publishChunks(pages(), { orgId, batchId });
    } catch (error) {
      // the scans stay queued without a publish record: the dispatch loop sends them
      logger.warn({ err: error, orgId, batchId }, 'batch publish deferred');
      return 0;
    }
  }

  /**
   * A new batch's jobs, published while its scans are inserted (createBatch's early dispatch). False when the queue
   * failed or took longer than the transaction should stay open ({@link EARLY_DISPATCH_LIMIT_MS}): the batch then
   * commits without a publish record and dispatchBatch sends its scans (duplicates are dropped by scan id).
   */
  async function sendEarly(orgId: string, scans: UnpublishedScan[]): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), earlyLimitMs);
    });
    try {
      return await Promise.race([publisher.send(scans).then(() => true), late]);
    } catch (error) {
      logger.warn({ err: error, orgId, scans: scans.length }, 'batch early publish failed');
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async function sendCancel(orgId: string, scanId: string, reason: string): Promise<void> {
    try {
      await dispatcher.cancel({ scanId, orgId, reason });
    } catch (error) {
      // best effort: the worker's next report or claim finds the scan cancelled anyway
      logger.warn({ err: error, orgId, scanId }, 'scan cancel message failed');
    }
  }

  return {
    async requestScan(orgId, input, actor) {
      const target = checkTarget(input?.target);
      checkPriority(input.priority);
      await requireScanning(orgId);
      const image = await imageOf(orgId, target);
      const force = input.force === true;
      const { scan, created } = await stores.scans.createScan(orgId, {
        imageId: image.id,
        dbVersion: deps.dbVersion(),
        priority: input.priority,
        force,
      });
      if (force) {
        await audit(orgId, actor, {
          action: 'scan.force',
          target: { type: 'scan', id: scan.id },
          details: { imageId: image.id },
        });
      }
      if (created) {
        await publisher
          .publish([{ ...scan, orgId, repository: image.repository }])
          .catch((error: unknown) =>
            logger.warn({ err: error, orgId, scanId: scan.id }, 'scan publish deferred'),
          );
      }
      return { scan, created, image: (await stores.images.getImage(orgId, image.id)) ?? image };
    },

    getScan: (orgId, scanId) => stores.scans.getScan(orgId, scanId),

    async cancelScan(orgId, scanId, actor) {
      const { scan, previousStatus } = await stores.scans.cancelScan(orgId, scanId);
      if (previousStatus !== 'cancelled') {
        if (previousStatus === 'running') await sendCancel(orgId, scanId, 'cancelled by request');
        events.emit(orgId, { type: 'status', scan });
        await audit(orgId, actor, {
          action: 'scan.cancel',
          target: { type: 'scan', id: scanId },
          details: { previousStatus },
        });
      }
      return scan;
    },

    async bulkScan(orgId, input, actor) {
      checkPriority(input?.priority);
      await requireScanning(orgId);
      const started = performance.now();
      let sentEarly = false;
      const batch = await stores.scans.createBatch(
        orgId,
        {
          ...(input.imageIds !== undefined ? { imageIds: input.imageIds } : {}),
          ...(input.filter !== undefined ? { filter: input.filter } : {}),
          dbVersion: deps.dbVersion(),
          priority: input.priority,
          force: input.force === true,
        },
        async (scans) => {
          sentEarly = await sendEarly(orgId, scans);
          return sentEarly;
        },
      );
      const inserted = performance.now();
      await audit(orgId, actor, {
        action: 'batch.create',
        target: { type: 'batch', id: batch.id },
        details: {
          requested: batch.requested,
          matched: batch.matched,
          total: batch.total,
          forced: batch.forced,
          ...(input.filter !== undefined ? { filter: input.filter } : {}),
        },
      });
      // sent with the insert and recorded on the batch by its transaction; otherwise page by page from the outbox
      const published = sentEarly ? batch.total : await dispatchBatch(orgId, batch.id);
      logger.info(
        {
          orgId,
          batchId: batch.id,
          total: batch.total,
          published,
          insertMs: Math.round(inserted - started),
          publishMs: Math.round(performance.now() - inserted),
        },
        'batch dispatched',
      );
      return batch;
    },

    getBatch: (orgId, batchId) => stores.scans.getBatch(orgId, batchId),

    async cancelBatch(orgId, batchId, actor) {
      const { cancelled } = await stores.scans.cancelBatch(orgId, batchId);
      await Promise.all(
        cancelled
          .filter((s) => s.previousStatus === 'running')
          .map((s) => sendCancel(orgId, s.id, 'batch cancelled by request')),
      );
      await audit(orgId, actor, {
        action: 'batch.cancel',
        target: { type: 'batch', id: batchId },
        details: { cancelled: cancelled.length },
      });
      const batch = await stores.scans.getBatch(orgId, batchId);
      if (!batch) throw new ControlPlaneError('CP_NOT_FOUND', `batch ${batchId} not found`);
      return batch;
    },

    watchScan: (orgId, scanId, signal) =>
      watchScanEvents(
        { scans: stores.scans, events, pollMs: deps.watchPollMs ?? 1_000 },
        orgId,
        scanId,
        signal,
      ),

    async ingestReport(orgId, report, actor) {
      await requireScanning(orgId);
      const result = await ingestUpload({ stores, analytics: deps.analytics, events }, orgId, report);
      await audit(orgId, actor, {
        action: 'report.upload',
        target: { type: 'scan', id: result.scan.id },
        details: { imageId: result.image.id, digest: result.image.digest },
      });
      return result;
    },
  };
}
