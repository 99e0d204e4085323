/**
 * WorkerService.ReportRematch for the rematch service (service.ts): a batch's results become completed rematch
 * scans. Nothing is copied per scan (analytics migration 2): each distinct inventory's findings are appended once,
 * under the first scan of the inventory's group, and every scan of the group is published pointing at those rows
 * for its findings and at the inventory it re-evaluated for its packages (one insert per table). The new findings
 * are diffed against the previous scans' (one query), then in one Postgres transaction the scans are inserted (ON
 * CONFLICT DO NOTHING), the images' latest-scan summaries moved, the changes recorded and the batch completed. A
 * stale or repeated report is ignored; a failure is left to the next delivery while retryable, else recorded on
 * the batch.
 */
import { performance } from 'node:perf_hooks';
import type { Finding } from '@vigil/engine';
import type { ReportRematchRequest } from '@vigil/proto/v1/worker_pb';
import type { ClickHouseDriver, Row } from '../analytics/driver.js';
import { findingRow, packageKey, toDateTime } from '../analytics/rows.js';
import { ControlPlaneError } from '../errors.js';
import { findingFromWire } from '../grpc/mapping.js';
import type { ServiceLogger } from '../services/logger.js';
import type { SqlDatabase } from '../store/postgres/sql.js';
import { attemptsWhere, previousFindingsOf, previousPackagesOf, UUID, type BatchItem } from './batch.js';

const SEVERITY_OF_RANK = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

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

/** What a report needs of the service. */
export interface ReportDeps {
  db: SqlDatabase;
  driver: ClickHouseDriver;
  log: ServiceLogger;
  /** deliveries of a batch's job: a retryable failure before the last one is left to the next */
  maxDeliveries: number;
}

/** Records one report of a rematch batch; `ignored` when it is stale or repeated. */
export async function reportRematchBatch(
  { db, driver, log, maxDeliveries }: ReportDeps,
  {
    batchId,
    attempt,
    dbVersion,
    results,
    failed,
  }: Pick<ReportRematchRequest, 'batchId' | 'attempt' | 'dbVersion' | 'results' | 'failed'>,
): Promise<{ ignored: boolean; scans: number }> {
  if (!UUID.test(batchId)) throw new ControlPlaneError('CP_NOT_FOUND', `rematch batch ${batchId} not found`);
  if (typeof dbVersion !== 'string' || dbVersion.length > 200)
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'the database version must be at most 200 characters');
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
  /** item index → the first item of its inventory's group: the scan whose attempt holds the group's rows */
  const holderOfItem = new Map<number, number>();
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
    for (const m of group.members) {
      findingsOfItem.set(m, findings);
      holderOfItem.set(m, group.members[0]!);
    }
  }
  phase('decodeMs');
  const done = items
    .map((item, i) => ({ item, findings: findingsOfItem.get(i), holder: items[holderOfItem.get(i)!] }))
    .filter(
      (x): x is { item: BatchItem; findings: Finding[]; holder: BatchItem } => x.findings !== undefined,
    );
  if (done.length > 0) {
    const { where, params } = attemptsWhere(
      orgId,
      done.map(({ item }) => previousFindingsOf(item)),
    );
    // each distinct inventory's finding rows are built (checked, serialised) and stored once, under the attempt of
    // the group's first scan; the group's other scans point at them when published
    const rows: Row[] = [];
    for (const { item, findings, holder } of done) {
      if (item !== holder) continue;
      findings.forEach((f, i) => rows.push(findingRow(orgId, item.scanId, attempt, f, i)));
    }
    await driver.insert('findings', rows);
    phase('appendMs');
    const before = await driver.query(
      `SELECT scan_id, attempt, id, package_name, package_key, severity_rank,
         JSONExtractString(package_key, 2) AS installed
       FROM findings WHERE ${where}
       LIMIT 1 BY scan_id, attempt, severity_rank, id, package_name, package_key`,
      params,
    );
    const beforeOf = new Map<string, Row[]>();
    for (const r of before) {
      const key = `${r.attempt}:${r.scan_id}`;
      const list = beforeOf.get(key);
      if (list) list.push(r);
      else beforeOf.set(key, [r]);
    }
    phase('beforeMs');
    const completedAt = new Date();
    // published as publishScans does, with the counts taken from the findings in hand (each distinct
    // inventory's once) instead of counted back from ClickHouse: the attempt first, then its images
    const completed = toDateTime('completedAt', completedAt);
    const summaryRows: Row[] = [];
    const latestRows: Row[] = [];
    for (const { item, findings, holder } of done) {
      const { counts, fixable, packages } = summaryOf.get(findings)!;
      // the group's inventories are identical (same fingerprint): all point at the one its first scan re-evaluated
      const heldPackages = previousPackagesOf(holder);
      const row = {
        org_id: orgId,
        scan_id: item.scanId,
        attempt,
        findings_scan_id: holder.scanId,
        findings_attempt: attempt,
        packages_scan_id: heldPackages.scanId,
        packages_attempt: heldPackages.attempt,
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
      const held = previousFindingsOf(item);
      const old = beforeOf.get(`${held.attempt}:${held.scanId}`) ?? [];
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
}
