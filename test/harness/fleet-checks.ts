/**
 * What the fleet scenario tests request and check with (see fleet.ts): scan requests through the REST API, the
 * scans table as Postgres holds it, findings of an image through the API against the single-process reference
 * (`vigil image` of the same image with the same database), and the raw analytics rows in the control plane's
 * chdb directory (only while the control plane is stopped).
 */
import { createChdbDriver } from '../../control-plane/src/analytics/chdb-driver.js';
import type { ApiClient } from '../../control-plane/src/demo/testdata/api-client.js';
import { waitFor } from '../../control-plane/src/demo/testdata/api-client.js';
import type { SqlDatabase } from '../../control-plane/src/store/postgres/index.js';
import { runVigil } from '../support/cli.js';
import type { FleetBase, FleetImage } from './fleet-images.js';

export interface RequestedScan {
  image: FleetImage;
  scanId: string;
  imageId: string;
}

/** One row of the scans table. */
export interface ScanRow {
  id: string;
  imageId: string;
  batchId: string | null;
  status: string;
  attempt: number;
  errorCode: string | null;
}

export const FINAL_STATUSES = ['completed', 'failed', 'cancelled'];

/** `POST /api/v1/scans` of each image (8 requests at a time), in order. */
export async function requestScans(api: ApiClient, images: readonly FleetImage[]): Promise<RequestedScan[]> {
  const out: RequestedScan[] = [];
  for (let i = 0; i < images.length; i += 8) {
    const slice = images.slice(i, i + 8);
    out.push(
      ...(await Promise.all(
        slice.map(async (image) => {
          const res = await api.call('POST', '/api/v1/scans', { image: image.reference });
          if (res.status !== 201)
            throw new Error(`scan of ${image.reference}: ${res.status} ${JSON.stringify(res.body)}`);
          const body = res.body as { scan: { id: string }; image: { id: string } };
          return { image, scanId: body.scan.id, imageId: body.image.id };
        }),
      )),
    );
  }
  return out;
}

/** The scans table (all organisations), oldest first. */
export async function scanRows(db: SqlDatabase): Promise<ScanRow[]> {
  const { rows } = await db.query<ScanRow>(
    `SELECT id, image_id AS "imageId", batch_id AS "batchId", status, attempt, error_code AS "errorCode"
     FROM scans ORDER BY created_at, id`,
  );
  return rows;
}

/** Waits until every listed scan has one of `statuses` (default: any final one); returns their rows in order. */
export async function waitForScans(
  db: SqlDatabase,
  scanIds: readonly string[],
  statuses: readonly string[] = FINAL_STATUSES,
  timeoutMs = 240_000,
): Promise<ScanRow[]> {
  return waitFor(
    `${scanIds.length} scans to be ${statuses.join('/')}`,
    async () => {
      const byId = new Map((await scanRows(db)).map((r) => [r.id, r]));
      const rows = scanIds.map((id) => byId.get(id));
      return rows.every((r) => r && statuses.includes(r.status)) ? (rows as ScanRow[]) : undefined;
    },
    timeoutMs,
  );
}

/** What identifies a finding for comparisons: vulnerability, package, versions, severity and status. */
function findingKey(f: {
  id: string;
  pkgName: string;
  installedVersion: string;
  fixedVersion: string | null;
  severity: string;
  status: string;
}): string {
  return [f.id, f.pkgName, f.installedVersion, f.fixedVersion ?? '-', f.severity, f.status].join(' ');
}

/** Sorted finding keys of `vigil image <reference>` run in one process with the same database. */
export async function referenceFindings(
  image: FleetImage,
  dbPath: string,
  registryHost: string,
): Promise<string[]> {
  const res = await runVigil([
    'image',
    image.reference,
    '--insecure-registry',
    registryHost,
    '--db',
    dbPath,
    '--format',
    'json',
    '--no-cache',
    '-q',
  ]);
  if (res.code !== 0) throw new Error(`vigil image ${image.reference} failed: ${res.stderr}`);
  const report = JSON.parse(res.stdout) as { vulnerabilities: Parameters<typeof findingKey>[0][] };
  return report.vulnerabilities.map(findingKey).sort();
}

/** The reference findings of each base image (FLEET_BASES), from the first image of each base in `images`. */
export async function baseReferences(
  images: readonly FleetImage[],
  dbPath: string,
  registryHost: string,
): Promise<Record<FleetBase, string[]>> {
  const of = (base: FleetBase) =>
    referenceFindings(
      images.find((i) => i.base === base)!,
      dbPath,
      registryHost,
    );
  return { '3.10': await of('3.10'), '3.11': await of('3.11') };
}

/** Sorted finding keys of an image's latest completed scan through `GET /images/{id}/findings` (every page). */
export async function imageFindings(api: ApiClient, imageId: string): Promise<string[]> {
  type ApiFinding = Omit<Parameters<typeof findingKey>[0], 'pkgName'> & { package: { name: string } };
  const keys: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const res = await api.call('GET', `/api/v1/images/${imageId}/findings?limit=1000${query}`);
    if (res.status !== 200)
      throw new Error(`findings of ${imageId}: ${res.status} ${JSON.stringify(res.body)}`);
    const page = res.body as { items: ApiFinding[]; nextCursor: string | null };
    keys.push(...page.items.map((f) => findingKey({ ...f, pkgName: f.package.name })));
    cursor = page.nextCursor;
  } while (cursor);
  return keys.sort();
}

/** Raw rows of one (scan, attempt) in the analytics `findings` table, and how many distinct findings they hold. */
export interface AttemptFindingRows {
  rows: number;
  distinct: number;
}

/**
 * Reads the raw `findings` rows of the control plane's chdb directory (`<data dir>/clickhouse`), keyed
 * `<scan id>:<attempt>`. A published attempt whose findings another attempt holds (a rematch scan sharing its
 * group's rows) gets the holder's. The control plane must be stopped (one process holds a chdb directory at a time).
 */
export async function analyticsFindingRows(chdbDir: string): Promise<Map<string, AttemptFindingRows>> {
  const driver = await createChdbDriver(chdbDir);
  try {
    const rows = await driver.query<{ scan_id: string; attempt: number; rows: string; distinct: string }>(
      `SELECT scan_id, attempt, count() AS rows, uniqExact(severity_rank, id, package_name, package_key) AS distinct
       FROM findings GROUP BY scan_id, attempt`,
    );
    const out = new Map(
      rows.map((r) => [`${r.scan_id}:${r.attempt}`, { rows: Number(r.rows), distinct: Number(r.distinct) }]),
    );
    const shared = await driver.query<{ scan_id: string; attempt: number; held: string }>(
      `SELECT DISTINCT scan_id, attempt, concat(findings_scan_id, ':', toString(findings_attempt)) AS held
       FROM scan_summaries WHERE (findings_scan_id, findings_attempt) != (scan_id, attempt)`,
    );
    for (const r of shared) {
      const held = out.get(r.held);
      if (held) out.set(`${r.scan_id}:${r.attempt}`, held);
    }
    return out;
  } finally {
    await driver.close();
  }
}
