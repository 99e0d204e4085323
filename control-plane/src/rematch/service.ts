/**
 * Rematch (issue #6 item 3): a newly published vulnerability database snapshot (or POST /db/rematch) re-evaluates
 * every image's latest stored inventory, without pulling any image, in batches through the work queue at priority
 * `rematch` (below scheduled: a free worker takes user jobs first, and a user job waits at most one batch).
 *
 * - start: reads each image's latest published (scan, attempt) from ClickHouse `image_latest` (one scan per digest
 *   serves all its images), cuts the org's scans into batches of `batchSize`, records the run and its batches in
 *   Postgres in one insert each (each item gets its rematch scan id here, so completion is idempotent), then
 *   publishes one job per batch (message id = batch id: a republish is deduplicated).
 * - claim (WorkerService.ClaimRematch): the batch becomes running for the delivery attempt; its inventories are
 *   bulk-read from ClickHouse `packages` in one query, and identical package sets are sent once.
 * - report (WorkerService.ReportRematch): the batch's results become completed rematch scans (report.ts).
 * - a failed batch is retried by the queue (retryable failure, worker gone) and recorded failed after the last
 *   delivery (report with retryable=false, or the queue's dead-job notice).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ClaimRematchRequest, ReportRematchRequest } from '@vigil/proto/v1/worker_pb';
import type { ClickHouseDriver } from '../analytics/driver.js';
import { ControlPlaneError } from '../errors.js';
import type { JobDispatcher, ScanJobMessage } from '../queue/types.js';
import { SILENT_LOGGER, type ServiceLogger } from '../services/logger.js';
import type { SqlDatabase } from '../store/postgres/sql.js';
import { attemptsWhere, previousPackagesOf, UUID, type BatchItem } from './batch.js';
import { reportRematchBatch } from './report.js';

/** Default images (distinct digests) per rematch batch: a user job waits at most one batch of this size. */
export const DEFAULT_REMATCH_BATCH_SIZE = 100;
/** Default interval of the watcher (new snapshot versions, unpublished batches). */
export const DEFAULT_REMATCH_WATCH_MS = 5_000;

export interface RematchOptions {
  db: SqlDatabase;
  analytics: { driver: ClickHouseDriver };
  dispatcher: JobDispatcher;
  /** the current snapshot version */
  dbVersion: () => string;
  logger?: ServiceLogger;
  /** digests per batch (default {@link DEFAULT_REMATCH_BATCH_SIZE}) */
  batchSize?: number;
  /** the queue's maximum deliveries per job: a retryable failure of the last one fails the batch */
  maxDeliveries?: number;
  /** watcher interval (default {@link DEFAULT_REMATCH_WATCH_MS}) */
  watchIntervalMs?: number;
}

export interface RematchRun {
  id: string;
  dbVersion: string;
  trigger: 'snapshot' | 'api';
  images: number;
  batches: number;
}

export interface RematchRunStatus extends RematchRun {
  counts: Record<'queued' | 'running' | 'completed' | 'failed', number>;
  createdAt: Date;
}

export interface RematchChange {
  vulnerabilityId: string;
  packageName: string;
  installedVersion: string;
  severity: string;
}

/** What a scan changed against its image's previous scan when it was a rematch. */
export interface ScanRematchInfo {
  scanId: string;
  kind: 'scan' | 'rematch';
  /** the snapshot the rematch evaluated with (null for an ordinary scan) */
  dbVersion: string | null;
  previousScanId: string | null;
  /** found by re-evaluation with `dbVersion` */
  found: RematchChange[];
  /** no longer reported with `dbVersion` */
  resolved: RematchChange[];
}

export interface Rematch {
  /** Starts a run for `dbVersion` (default the current one); null when a snapshot run of that version exists. */
  start(trigger: 'snapshot' | 'api', dbVersion?: string): Promise<RematchRun | null>;
  runStatus(runId: string): Promise<RematchRunStatus | null>;
  claim(request: Pick<ClaimRematchRequest, 'batchId' | 'attempt'>): Promise<{
    proceed: boolean;
    dbVersion: string;
    inventories: Array<{ index: number; osJson: string; packagesJson: string; images: number }>;
  }>;
  report(
    request: Pick<ReportRematchRequest, 'batchId' | 'attempt' | 'dbVersion' | 'results' | 'failed'>,
  ): Promise<{ ignored: boolean; scans: number }>;
  scanRematch(orgId: string, scanId: string): Promise<ScanRematchInfo | null>;
  /** {@link scanRematch} of the image's latest completed scan; null for an unknown or never-scanned image. */
  imageRematch(orgId: string, imageId: string): Promise<ScanRematchInfo | null>;
  /** One watcher pass: start a run for a newly current snapshot, publish batches left unpublished. */
  tick(): Promise<void>;
  /** Starts the watcher (the version current now counts as seen). */
  watch(): void;
  close(): Promise<void>;
}

export function createRematch(options: RematchOptions): Rematch {
  const { db, analytics, dispatcher } = options;
  const driver = analytics.driver;
  const log = options.logger ?? SILENT_LOGGER;
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_REMATCH_BATCH_SIZE);
  const maxDeliveries = options.maxDeliveries ?? 5;
  let seen: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> = Promise.resolve();
  const unsubscribe = dispatcher.onDeadJob((job) => {
    if (!UUID.test(job.scanId)) return;
    db.query(
      `UPDATE rematch_batches SET status = 'failed', finished_at = now(), error_code = 'CP_SCAN_WORKER_LOST',
         error_message = $2
       WHERE id = $1 AND status IN ('queued', 'running')`,
      [job.scanId, `the batch's job exhausted its ${job.deliveries} deliveries`],
    ).catch((err: unknown) => log.warn({ err, batchId: job.scanId }, 'rematch dead batch not recorded'));
  });

  async function publish(batches: Array<{ id: string; org_id: string; db_version: string }>): Promise<void> {
    if (batches.length === 0) return;
    const queuedAt = new Date();
    const jobs: ScanJobMessage[] = batches.map((b) => ({
      scanId: b.id,
      orgId: b.org_id,
      imageId: b.id,
      imageRef: `rematch:${b.id}`,
      digest: '',
      dbVersion: b.db_version,
      priority: 'rematch',
      queuedAt,
      attemptBase: 0,
      rematch: true,
    }));
    await dispatcher.publish(jobs);
    await db.query(`UPDATE rematch_batches SET published_at = now() WHERE id = ANY ($1::uuid[])`, [
      batches.map((b) => b.id),
    ]);
  }

  const rematch: Rematch = {
    async start(trigger, dbVersion = options.dbVersion()) {
      const started = performance.now();
      // each image's latest published scan, with a fingerprint of its inventory: identical inventories are sorted
      // next to each other, so a batch holds them together and its worker matches each once
      // (the inventory and findings rows are where the scan holds them: itself, or the attempt it shares them with;
      // each held inventory is fingerprinted once however many scans share it)
      const latest = await driver.query(
        `SELECT l.org_id AS org_id, l.scan_id AS scan_id, l.attempt AS attempt, l.digest AS digest, l.os AS os,
           l.image_ids AS image_ids, toString(f.fingerprint) AS fingerprint,
           l.findings_scan_id AS findings_scan_id, l.findings_attempt AS findings_attempt,
           l.packages_scan_id AS packages_scan_id, l.packages_attempt AS packages_attempt
         FROM (
           SELECT org_id, scan_id, attempt, digest, os, findings_scan_id, findings_attempt, packages_scan_id,
             packages_attempt, arraySort(groupArray(image_id)) AS image_ids
           FROM image_latest FINAL
           GROUP BY org_id, scan_id, attempt, digest, os, findings_scan_id, findings_attempt, packages_scan_id,
             packages_attempt
         ) AS l
         LEFT JOIN (
           SELECT org_id, scan_id, attempt, sum(cityHash64(package)) AS fingerprint
           FROM (
             SELECT org_id, scan_id, attempt, package FROM packages
             WHERE (org_id, scan_id, attempt) IN (
               SELECT DISTINCT org_id, packages_scan_id, packages_attempt FROM image_latest FINAL)
             LIMIT 1 BY org_id, scan_id, attempt, name, package_key
           )
           GROUP BY org_id, scan_id, attempt
         ) AS f ON f.org_id = l.org_id AND f.scan_id = l.packages_scan_id AND f.attempt = l.packages_attempt
         ORDER BY l.org_id, l.os, fingerprint, l.scan_id`,
      );
      // organisations whose scanning entitlement is off get no rematch scans either
      const { rows: enabled } = await db.query<{ id: string }>('SELECT id FROM orgs WHERE scanning_enabled');
      const entitled = new Set(enabled.map((o) => String(o.id)));
      const byOrg = new Map<string, BatchItem[]>();
      for (const r of latest) {
        const orgId = String(r.org_id);
        if (!entitled.has(orgId)) continue;
        const items = byOrg.get(orgId) ?? [];
        items.push({
          scanId: randomUUID(),
          previousScanId: String(r.scan_id),
          previousAttempt: Number(r.attempt),
          digest: String(r.digest),
          imageIds: (r.image_ids as string[]).map(String),
          os: String(r.os ?? ''),
          fingerprint: String(r.fingerprint ?? '0'),
          previousFindings: { scanId: String(r.findings_scan_id), attempt: Number(r.findings_attempt) },
          previousPackages: { scanId: String(r.packages_scan_id), attempt: Number(r.packages_attempt) },
        });
        byOrg.set(orgId, items);
      }
      const batches: Array<{ id: string; org_id: string; db_version: string; items: BatchItem[] }> = [];
      for (const [orgId, items] of byOrg) {
        for (let i = 0; i < items.length; i += batchSize) {
          batches.push({
            id: randomUUID(),
            org_id: orgId,
            db_version: dbVersion,
            items: items.slice(i, i + batchSize),
          });
        }
      }
      const images = batches.reduce((n, b) => n + b.items.reduce((m, it) => m + it.imageIds.length, 0), 0);
      const run = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: string }>(
          `INSERT INTO rematch_runs (db_version, trigger, images, batches) VALUES ($1, $2, $3, $4)
           ON CONFLICT (db_version) WHERE trigger = 'snapshot' DO NOTHING RETURNING id`,
          [dbVersion, trigger, images, batches.length],
        );
        if (!rows[0]) return null;
        if (batches.length > 0) {
          await tx.query(
            `INSERT INTO rematch_batches (id, run_id, org_id, db_version, items)
             SELECT b.id, $1, b.org_id, b.db_version, b.items
             FROM jsonb_to_recordset($2::jsonb) AS b(id uuid, org_id uuid, db_version text, items jsonb)`,
            [rows[0].id, JSON.stringify(batches)],
          );
        }
        return { id: rows[0].id, dbVersion, trigger, images, batches: batches.length };
      });
      if (!run) return null;
      log.info(
        {
          runId: run.id,
          dbVersion,
          trigger,
          images,
          batches: batches.length,
          ms: Math.round(performance.now() - started),
        },
        'rematch started',
      );
      // a failed publish leaves the batches to the watcher's next pass
      await publish(batches).catch((err: unknown) =>
        log.warn({ err, runId: run.id }, 'rematch batches not published yet'),
      );
      return run;
    },

    async runStatus(runId) {
      if (!UUID.test(runId)) return null;
      const { rows } = await db.query(
        `SELECT r.id, r.db_version, r.trigger, r.images, r.batches, r.created_at,
           count(*) FILTER (WHERE b.status = 'queued')::int AS queued,
           count(*) FILTER (WHERE b.status = 'running')::int AS running,
           count(*) FILTER (WHERE b.status = 'completed')::int AS completed,
           count(*) FILTER (WHERE b.status = 'failed')::int AS failed
         FROM rematch_runs r LEFT JOIN rematch_batches b ON b.run_id = r.id
         WHERE r.id = $1 GROUP BY r.id`,
        [runId],
      );
      const r = rows[0];
      if (!r) return null;
      return {
        id: String(r.id),
        dbVersion: String(r.db_version),
        trigger: r.trigger as 'snapshot' | 'api',
        images: Number(r.images),
        batches: Number(r.batches),
        createdAt: r.created_at as Date,
        counts: {
          queued: Number(r.queued),
          running: Number(r.running),
          completed: Number(r.completed),
          failed: Number(r.failed),
        },
      };
    },

    async claim({ batchId, attempt }) {
      if (!UUID.test(batchId))
        throw new ControlPlaneError('CP_NOT_FOUND', `rematch batch ${batchId} not found`);
      let { rows } = await db.query(
        `UPDATE rematch_batches SET status = 'running', attempt = $2, groups = NULL
         WHERE id = $1 AND status IN ('queued', 'running') AND attempt < $2
         RETURNING org_id, db_version, items, status, attempt`,
        [batchId, attempt],
      );
      if (!rows[0]) {
        ({ rows } = await db.query(
          `SELECT org_id, db_version, items, status, attempt FROM rematch_batches WHERE id = $1`,
          [batchId],
        ));
        const current = rows[0];
        if (!current || current.status !== 'running' || Number(current.attempt) !== attempt)
          return { proceed: false, dbVersion: current ? String(current.db_version) : '', inventories: [] };
      }
      const batch = rows[0]!;
      const current = options.dbVersion();
      if (String(batch.db_version) !== current) {
        // a newer snapshot is current (its own run re-evaluates these images): results of the older one completed
        // later would replace newer ones as the images' latest scans
        await db.query(
          `UPDATE rematch_batches SET status = 'failed', finished_at = now(), error_code = 'CP_CONFLICT',
             error_message = $3
           WHERE id = $1 AND attempt = $2 AND status = 'running'`,
          [batchId, attempt, `superseded by snapshot ${current}`],
        );
        log.info({ batchId, dbVersion: batch.db_version, current }, 'rematch batch superseded');
        return { proceed: false, dbVersion: String(batch.db_version), inventories: [] };
      }
      const claimStarted = performance.now();
      const orgId = String(batch.org_id);
      const items = batch.items as BatchItem[];
      // items with the same OS and inventory fingerprint share an inventory: one of them is read and matched
      const groupOf = new Map<string, number[]>();
      items.forEach((item, i) => {
        const key = `${item.os}\n${item.fingerprint}`;
        const members = groupOf.get(key);
        if (members) members.push(i);
        else groupOf.set(key, [i]);
      });
      const representatives = [...groupOf.values()].map((members) => items[members[0]!]!);
      const { where, params } = attemptsWhere(orgId, representatives.map(previousPackagesOf));
      const stored = await driver.query(
        `SELECT scan_id, attempt, arraySort(groupArray(package)) AS packages FROM (
           SELECT scan_id, attempt, package FROM packages WHERE ${where}
           LIMIT 1 BY scan_id, attempt, name, package_key
         ) GROUP BY scan_id, attempt`,
        params,
      );
      const packagesOf = new Map(stored.map((r) => [`${r.attempt}:${r.scan_id}`, r.packages as string[]]));
      const inventories: Array<{ index: number; osJson: string; packagesJson: string; images: number }> = [];
      const groups: Array<{ members: number[]; packages: number }> = [];
      for (const members of groupOf.values()) {
        const first = items[members[0]!]!;
        const held = previousPackagesOf(first);
        const packages = packagesOf.get(`${held.attempt}:${held.scanId}`);
        // no stored inventory (pruned, or an image without packages): nothing to re-evaluate
        if (!packages || packages.length === 0) continue;
        inventories.push({
          index: inventories.length,
          osJson: first.os,
          packagesJson: `[${packages.join(',')}]`,
          images: members.reduce((n, m) => n + items[m]!.imageIds.length, 0),
        });
        groups.push({ members, packages: packages.length });
      }
      await db.query(`UPDATE rematch_batches SET groups = $3 WHERE id = $1 AND attempt = $2`, [
        batchId,
        attempt,
        JSON.stringify(groups),
      ]);
      log.info(
        {
          batchId,
          attempt,
          items: items.length,
          inventories: inventories.length,
          ms: Math.round(performance.now() - claimStarted),
        },
        'rematch batch claimed',
      );
      return { proceed: true, dbVersion: String(batch.db_version), inventories };
    },

    report: (request) => reportRematchBatch({ db, driver, log, maxDeliveries }, request),

    async scanRematch(orgId, scanId) {
      if (!UUID.test(scanId)) return null;
      const { rows } = await db.query(
        `SELECT kind, db_version, previous_scan_id FROM scans WHERE org_id = $1 AND id = $2`,
        [orgId, scanId],
      );
      const scan = rows[0];
      if (!scan) return null;
      const { rows: changes } = await db.query(
        `SELECT change, vulnerability_id, package_name, installed_version, severity FROM rematch_changes
         WHERE org_id = $1 AND scan_id = $2 ORDER BY change, vulnerability_id, package_name, package_key`,
        [orgId, scanId],
      );
      const list = (change: string): RematchChange[] =>
        changes
          .filter((c) => c.change === change)
          .map((c) => ({
            vulnerabilityId: String(c.vulnerability_id),
            packageName: String(c.package_name),
            installedVersion: String(c.installed_version),
            severity: String(c.severity),
          }));
      const isRematch = scan.kind === 'rematch';
      return {
        scanId,
        kind: isRematch ? 'rematch' : 'scan',
        dbVersion: isRematch ? String(scan.db_version) : null,
        previousScanId: scan.previous_scan_id ? String(scan.previous_scan_id) : null,
        found: list('found'),
        resolved: list('resolved'),
      };
    },

    async imageRematch(orgId, imageId) {
      if (!UUID.test(imageId)) return null;
      const { rows } = await db.query<{ scan: string | null }>(
        `SELECT last_completed_scan_id AS scan FROM images WHERE org_id = $1 AND id = $2`,
        [orgId, imageId],
      );
      const scanId = rows[0]?.scan;
      return scanId ? rematch.scanRematch(orgId, String(scanId)) : null;
    },

    async tick() {
      const version = options.dbVersion();
      if (seen !== null && version !== seen) {
        seen = version;
        await rematch.start('snapshot', version);
      }
      seen ??= version;
      const { rows } = await db.query<{ id: string; org_id: string; db_version: string }>(
        `SELECT id, org_id, db_version FROM rematch_batches
         WHERE published_at IS NULL AND status = 'queued' AND created_at < now() - interval '5 seconds'
         ORDER BY created_at LIMIT 1000`,
      );
      await publish(rows);
    },

    watch() {
      seen ??= options.dbVersion();
      const interval = options.watchIntervalMs ?? DEFAULT_REMATCH_WATCH_MS;
      const loop = () => {
        ticking = rematch
          .tick()
          .catch((err: unknown) => log.warn({ err }, 'rematch watch failed'))
          .finally(() => {
            if (timer !== undefined) timer = setTimeout(loop, interval);
          });
      };
      timer = setTimeout(loop, interval);
      timer.unref?.();
    },

    async close() {
      const t = timer;
      timer = undefined;
      clearTimeout(t);
      unsubscribe();
      await ticking;
    },
  };
  return rematch;
}
