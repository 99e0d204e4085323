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
 * - report (WorkerService.ReportRematch): copies the inventories to the new scans (one INSERT … SELECT), appends the
 *   findings and publishes the attempts (one insert per table), diffs them against the previous scans' findings
 *   (one query), then in one Postgres transaction inserts the completed rematch scans (ON CONFLICT DO NOTHING),
 *   moves the images' latest-scan summaries, records the changes and completes the batch.
 * - a failed batch is retried by the queue (retryable failure, worker gone) and recorded failed after the last
 *   delivery (report with retryable=false, or the queue's dead-job notice).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Finding } from '@vigil/engine';
import type { ClaimRematchRequest, ReportRematchRequest } from '@vigil/proto/v1/worker_pb';
import type { ClickHouseDriver, Row } from '../analytics/driver.js';
import { findingRow, packageKey, toDateTime } from '../analytics/rows.js';
import { ControlPlaneError } from '../errors.js';
import { findingFromWire } from '../grpc/mapping.js';
import type { JobDispatcher, ScanJobMessage } from '../queue/types.js';
import { SILENT_LOGGER, type ServiceLogger } from '../services/logger.js';
import type { SqlDatabase } from '../store/postgres/sql.js';

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

interface BatchItem {
  scanId: string;
  previousScanId: string;
  previousAttempt: number;
  digest: string;
  imageIds: string[];
  os: string;
  /** sum of cityHash64 of the stored inventory's packages ('0': none): equal inventories, equal fingerprints */
  fingerprint: string;
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SEVERITY_OF_RANK = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

function attemptsWhere(orgId: string, items: readonly { scanId: string; attempt: number }[]) {
  return {
    where: `org_id = {org:String} AND scan_id IN {scanIds:Array(String)}
      AND has({attemptKeys:Array(String)}, concat(toString(attempt), ':', scan_id))`,
    params: {
      org: orgId,
      scanIds: [...new Set(items.map((a) => a.scanId))],
      attemptKeys: items.map((a) => `${a.attempt}:${a.scanId}`),
    },
  };
}

const FINDING_ROW_STRUCTURE =
  'org_id String, attempt UInt32, severity_rank UInt8, id String, aliases Array(String), package_name String, ' +
  'package_key String, fixable Bool, title String, finding String, scan_ids Array(String)';

interface GroupSummary {
  counts: { critical: number; high: number; medium: number; low: number; unknown: number; total: number };
  fixable: number;
  packages: number;
}

/** Counts of one inventory's findings as publishScans counts them: distinct by (severity, id, package). */
function summarize(findings: readonly Finding[], packages: number): GroupSummary {
  const counts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0, total: 0 };
  let fixable = 0;
  const seen = new Set<string>();
  for (const f of findings) {
    const key = `${f.severity}\u0000${changeKey(f.id, f.package.name, packageKey(f.package))}`;
    if (seen.has(key)) continue;
    seen.add(key);
    counts[f.severity.toLowerCase() as keyof typeof counts] += 1;
    counts.total += 1;
    if (typeof f.fixedVersion === 'string') fixable += 1;
  }
  return { counts, fixable, packages };
}

const changeKey = (id: string, name: string, key: string) => `${id}\u0000${name}\u0000${key}`;

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
      // each image's latest published scan, with a fingerprint of its inventory: identical inventories are sorted
      // next to each other, so a batch holds them together and its worker matches each once
      const latest = await driver.query(
        `SELECT l.org_id AS org_id, l.scan_id AS scan_id, l.attempt AS attempt, l.digest AS digest, l.os AS os,
           l.image_ids AS image_ids, toString(f.fingerprint) AS fingerprint
         FROM (
           SELECT org_id, scan_id, attempt, digest, os, arraySort(groupArray(image_id)) AS image_ids
           FROM image_latest FINAL
           GROUP BY org_id, scan_id, attempt, digest, os
         ) AS l
         LEFT JOIN (
           SELECT org_id, scan_id, attempt, sum(cityHash64(package)) AS fingerprint
           FROM (
             SELECT org_id, scan_id, attempt, package FROM packages
             WHERE (org_id, scan_id, attempt) IN (SELECT org_id, scan_id, attempt FROM image_latest FINAL)
             LIMIT 1 BY org_id, scan_id, attempt, name, package_key
           )
           GROUP BY org_id, scan_id, attempt
         ) AS f ON f.org_id = l.org_id AND f.scan_id = l.scan_id AND f.attempt = l.attempt
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
      log.info({ runId: run.id, dbVersion, trigger, images, batches: batches.length }, 'rematch started');
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
      const { where, params } = attemptsWhere(
        orgId,
        representatives.map((i) => ({ scanId: i.previousScanId, attempt: i.previousAttempt })),
      );
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
        const packages = packagesOf.get(`${first.previousAttempt}:${first.previousScanId}`);
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

    async report({ batchId, attempt, dbVersion, results, failed }) {
      if (!UUID.test(batchId))
        throw new ControlPlaneError('CP_NOT_FOUND', `rematch batch ${batchId} not found`);
      if (typeof dbVersion !== 'string' || dbVersion.length > 200)
        throw new ControlPlaneError(
          'CP_INVALID_ARGUMENT',
          'the database version must be at most 200 characters',
        );
      const { rows } = await db.query(
        `UPDATE rematch_batches SET report_attempt = $2
         WHERE id = $1 AND status = 'running' AND attempt = $2 AND report_attempt IS DISTINCT FROM $2
           AND groups IS NOT NULL
         RETURNING org_id, db_version, items, groups`,
        [batchId, attempt],
      );
      const batch = rows[0];
      if (!batch) return { ignored: true, scans: 0 };
      if (failed) {
        if (failed.retryable && attempt < maxDeliveries) {
          log.info({ batchId, attempt, code: failed.code }, 'rematch batch attempt failed retryably');
          return { ignored: false, scans: 0 };
        }
        await db.query(
          `UPDATE rematch_batches SET status = 'failed', finished_at = now(), error_code = $3, error_message = $4
           WHERE id = $1 AND attempt = $2 AND status = 'running'`,
          [batchId, attempt, failed.code.slice(0, 200) || 'WRK_INTERNAL', failed.message.slice(0, 4000)],
        );
        log.warn({ batchId, attempt, code: failed.code }, 'rematch batch failed');
        return { ignored: false, scans: 0 };
      }
      const phases: Record<string, number> = {};
      let phaseStart = performance.now();
      const phase = (name: string) => {
        const now = performance.now();
        phases[name] = Math.round(now - phaseStart);
        phaseStart = now;
      };
      const orgId = String(batch.org_id);
      const runVersion = String(batch.db_version);
      const items = batch.items as BatchItem[];
      const groups = batch.groups as Array<{ members: number[]; packages: number }>;
      if (results.length !== groups.length)
        throw new ControlPlaneError(
          'CP_INVALID_ARGUMENT',
          `rematch report: ${results.length} results for ${groups.length} inventories`,
        );
      const findingsOfItem = new Map<number, Finding[]>();
      const summaryOf = new Map<Finding[], GroupSummary>();
      const seenIndexes = new Set<number>();
      for (const result of results) {
        const group = groups[result.index];
        if (!group || seenIndexes.has(result.index))
          throw new ControlPlaneError(
            'CP_INVALID_ARGUMENT',
            `rematch report: inventory ${result.index} is not due`,
          );
        seenIndexes.add(result.index);
        const findings = result.findings.map((f, i) =>
          findingFromWire(f, `results[${result.index}].findings[${i}]`),
        );
        summaryOf.set(findings, summarize(findings, group.packages));
        for (const m of group.members) findingsOfItem.set(m, findings);
      }
      phase('decodeMs');
      const done = items
        .map((item, i) => ({ item, findings: findingsOfItem.get(i) }))
        .filter((x): x is { item: BatchItem; findings: Finding[] } => x.findings !== undefined);
      if (done.length > 0) {
        const previous = done.map(({ item }) => ({
          scanId: item.previousScanId,
          attempt: item.previousAttempt,
        }));
        const { where, params } = attemptsWhere(orgId, previous);
        // the inventories move to the rematch scans: one INSERT … SELECT in ClickHouse, nothing travels
        await driver.exec(
          `INSERT INTO packages (org_id, scan_id, attempt, name, package_key, package)
           SELECT org_id, transform(concat(toString(attempt), ':', scan_id), {from:Array(String)}, {to:Array(String)}, ''),
             {attempt:UInt32}, name, package_key, package
           FROM packages WHERE ${where}
           LIMIT 1 BY scan_id, attempt, name, package_key`,
          {
            ...params,
            from: done.map(({ item }) => `${item.previousAttempt}:${item.previousScanId}`),
            to: done.map(({ item }) => item.scanId),
            attempt,
          },
        );
        phase('copyMs');
        // each distinct inventory's finding rows are built (checked, serialised) once and sent once with the scans
        // that share them; ClickHouse fans them out (ARRAY JOIN)
        const scansOfGroup = new Map<Finding[], string[]>();
        for (const { item, findings } of done) {
          const ids = scansOfGroup.get(findings);
          if (ids) ids.push(item.scanId);
          else scansOfGroup.set(findings, [item.scanId]);
        }
        const lines: string[] = [];
        for (const [findings, scanIds] of scansOfGroup) {
          findings.forEach((f, i) => {
            const { scan_id: _scan, ...row } = findingRow(orgId, scanIds[0]!, attempt, f, i);
            lines.push(JSON.stringify({ ...row, scan_ids: scanIds }));
          });
        }
        if (lines.length > 0) {
          await driver.exec(
            `INSERT INTO findings (org_id, scan_id, attempt, severity_rank, id, aliases, package_name, package_key,
               fixable, title, finding)
             SELECT org_id, sid, attempt, severity_rank, id, aliases, package_name, package_key, fixable, title, finding
             FROM format(JSONEachRow, '${FINDING_ROW_STRUCTURE}', {rows:String})
             ARRAY JOIN scan_ids AS sid`,
            { rows: lines.join('\n') },
          );
        }
        phase('appendMs');
        const before = await driver.query(
          `SELECT scan_id, id, package_name, package_key, severity_rank,
             JSONExtractString(package_key, 2) AS installed
           FROM findings WHERE ${where}
           LIMIT 1 BY scan_id, attempt, severity_rank, id, package_name, package_key`,
          params,
        );
        const beforeOf = new Map<string, Row[]>();
        for (const r of before) {
          const list = beforeOf.get(String(r.scan_id)) ?? [];
          list.push(r);
          beforeOf.set(String(r.scan_id), list);
        }
        phase('beforeMs');
        const completedAt = new Date();
        // published as publishScans does, with the counts taken from the findings in hand (each distinct
        // inventory's once) instead of counted back from ClickHouse: the attempt first, then its images
        const completed = toDateTime('completedAt', completedAt);
        const summaryRows: Row[] = [];
        const latestRows: Row[] = [];
        for (const { item, findings } of done) {
          const { counts, fixable, packages } = summaryOf.get(findings)!;
          const row = {
            org_id: orgId,
            scan_id: item.scanId,
            attempt,
            digest: item.digest,
            completed_at: completed,
            os: item.os,
            critical: counts.critical,
            high: counts.high,
            medium: counts.medium,
            low: counts.low,
            unknown: counts.unknown,
            fixable,
            packages,
          };
          summaryRows.push(row);
          for (const imageId of item.imageIds) latestRows.push({ ...row, image_id: imageId });
        }
        await driver.insert('scan_summaries', summaryRows);
        await driver.insert('image_latest', latestRows);
        phase('publishMs');
        const changes: Array<Record<string, string>> = [];
        done.forEach(({ item, findings }) => {
          const old = beforeOf.get(item.previousScanId) ?? [];
          const oldKeys = new Set(
            old.map((r) => changeKey(String(r.id), String(r.package_name), String(r.package_key))),
          );
          const nowKeys = new Set<string>();
          for (const f of findings) {
            const pkgKey = packageKey(f.package);
            const key = changeKey(f.id, f.package.name, pkgKey);
            nowKeys.add(key);
            if (!oldKeys.has(key))
              changes.push({
                scan_id: item.scanId,
                change: 'found',
                vulnerability_id: f.id,
                package_name: f.package.name,
                package_key: pkgKey,
                installed_version: f.installedVersion,
                severity: f.severity,
              });
          }
          for (const r of old) {
            if (nowKeys.has(changeKey(String(r.id), String(r.package_name), String(r.package_key)))) continue;
            changes.push({
              scan_id: item.scanId,
              change: 'resolved',
              vulnerability_id: String(r.id),
              package_name: String(r.package_name),
              package_key: String(r.package_key),
              installed_version: String(r.installed),
              severity: SEVERITY_OF_RANK[Number(r.severity_rank)] ?? 'UNKNOWN',
            });
          }
        });
        const scans = done.map(({ item, findings }) => ({
          id: item.scanId,
          image_id: item.imageIds[0],
          digest: item.digest,
          previous_scan_id: item.previousScanId,
          summary: { ...summaryOf.get(findings)!, os: item.os ? (JSON.parse(item.os) as unknown) : null },
        }));
        phase('diffMs');
        await db.transaction(async (tx) => {
          await tx.query(
            `WITH input AS (
               SELECT * FROM jsonb_to_recordset($1::jsonb)
                 AS x(id uuid, image_id uuid, digest text, previous_scan_id uuid, summary jsonb)
             ),
             ins AS (
               INSERT INTO scans (id, org_id, image_id, digest, status, priority, forced, attempt, db_version,
                 matched_db_version, started_at, finished_at, published_at, report_attempt, kind, previous_scan_id)
               SELECT input.id, $2, input.image_id, input.digest, 'completed', 'rematch', true, $3, $4, $5,
                 now(), now(), now(), $3, 'rematch', input.previous_scan_id
               FROM input JOIN images i ON i.org_id = $2 AND i.id = input.image_id
               ON CONFLICT (id) DO NOTHING
               RETURNING id, digest, finished_at
             )
             UPDATE images i SET last_completed_scan_id = ins.id, last_completed_at = ins.finished_at,
               summary_attempt = $3,
               critical = (input.summary #>> '{counts,critical}')::integer,
               high = (input.summary #>> '{counts,high}')::integer,
               medium = (input.summary #>> '{counts,medium}')::integer,
               low = (input.summary #>> '{counts,low}')::integer,
               unknown = (input.summary #>> '{counts,unknown}')::integer,
               total = (input.summary #>> '{counts,total}')::integer,
               fixable = (input.summary ->> 'fixable')::integer,
               packages = (input.summary ->> 'packages')::integer,
               os = nullif(input.summary -> 'os', 'null'::jsonb)
             FROM ins JOIN input ON input.id = ins.id
             WHERE i.org_id = $2 AND i.digest = ins.digest
               AND (i.last_completed_at IS NULL OR i.last_completed_at <= ins.finished_at)`,
            [JSON.stringify(scans), orgId, attempt, runVersion, dbVersion || runVersion],
          );
          if (changes.length > 0) {
            await tx.query(
              `INSERT INTO rematch_changes (org_id, scan_id, change, vulnerability_id, package_name, package_key,
                 installed_version, severity, db_version)
               SELECT $2, c.scan_id, c.change, c.vulnerability_id, c.package_name, c.package_key,
                 c.installed_version, c.severity, $3
               FROM jsonb_to_recordset($1::jsonb) AS c(scan_id uuid, change text, vulnerability_id text,
                 package_name text, package_key text, installed_version text, severity text)
               JOIN scans s ON s.org_id = $2 AND s.id = c.scan_id
               ON CONFLICT DO NOTHING`,
              [JSON.stringify(changes), orgId, runVersion],
            );
          }
          await tx.query(
            `UPDATE rematch_batches SET status = 'completed', finished_at = now() WHERE id = $1 AND attempt = $2`,
            [batchId, attempt],
          );
        });
      } else {
        await db.query(
          `UPDATE rematch_batches SET status = 'completed', finished_at = now() WHERE id = $1 AND attempt = $2`,
          [batchId, attempt],
        );
      }
      phase('postgresMs');
      log.info({ batchId, attempt, scans: done.length, ...phases }, 'rematch batch completed');
      return { ignored: false, scans: done.length };
    },

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
