/**
 * CLI uploads (`POST /reports`): a validated JSON report becomes the image it names (repository from the
 * artifact name or its repo tags, the manifest digest) and a completed scan of it, with the report's
 * packages and findings as the analytics rows of attempt 1. The scan is created `running` (outside dedup and
 * the dispatch outbox) and completed like a worker's scan; if recording fails, it is failed, never left running.
 */
import path from 'node:path';
import type {
  Ecosystem,
  Finding,
  FixState,
  OsRelease,
  Package,
  Severity,
  VigilReport,
} from '@vigil/engine/core';
import { parseReference } from '@vigil/engine/internal';
import { ControlPlaneError, isControlPlaneError } from '../errors.js';
import { AttemptCounter, type AttemptCounts } from '../analytics/attempt-counts.js';
import type { AnalyticsStore, AttemptContents } from '../analytics/types.js';
import { completeScan } from './completion.js';
import type { ScanEventBus } from './events.js';
import { validateReport } from './report-validate.js';
import type { ImageRecord, MetadataStores, ScanRecord } from './types.js';

/** `foundBy` of packages that arrived in an upload (the analyzer that found them is not in the report). */
export const UPLOAD_FOUND_BY = 'upload';
/** DB version recorded for an inventory-only report (`db: null`). */
export const NO_DB_VERSION = 'none';
const ROWS_PER_APPEND = 5_000;

/** What an upload records. */
export interface UploadContent {
  image: { repository: string; digest: string; tags: string[] };
  dbVersion: string;
  os: OsRelease | null;
  packages: Package[];
  findings: Finding[];
}

/** The repository and tags an artifact is recorded under. */
function imageName(report: VigilReport): { repository: string; tags: string[] } {
  const { artifact } = report;
  const references =
    artifact.kind === undefined || artifact.kind === 'registry'
      ? [artifact.name, ...(artifact.repoTags ?? [])]
      : (artifact.repoTags ?? []);
  for (const text of references) {
    try {
      const ref = parseReference(text);
      const tags = references
        .map((t) => safeParse(t))
        .filter((r) => r?.familiarRepository === ref.familiarRepository && r.tag !== undefined)
        .map((r) => r!.tag!);
      return { repository: ref.familiarRepository, tags: [...new Set(tags)] };
    } catch {
      // not a reference: try the next name, then fall back to the file name
    }
  }
  // an archive or layout without tags: `local/<file name without extensions>`
  const base = path
    .basename(artifact.name)
    .toLowerCase()
    .replace(/(\.tar|\.tgz|\.gz|\.zst|\.oci)+$/, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!base) throw new ControlPlaneError('CP_REPORT_INVALID', 'report.artifact.name names no image');
  return { repository: `local/${base}`, tags: [] };
}

function safeParse(text: string): ReturnType<typeof parseReference> | null {
  try {
    return parseReference(text);
  } catch {
    return null;
  }
}

const packageKey = (ecosystem: string, name: string, version: string, file: string | undefined): string =>
  JSON.stringify([ecosystem, name, version, file ?? '']);

/** Maps a validated report to the image, packages and findings to record. CP_REPORT_INVALID without a digest. */
export function uploadContent(report: VigilReport): UploadContent {
  const digest = report.artifact.digest ?? report.artifact.configDigest;
  if (!digest) throw new ControlPlaneError('CP_REPORT_INVALID', 'report.artifact names no image digest');
  const packages: Package[] = report.packages.map((p) => ({
    name: p.name,
    version: p.version,
    ecosystem: p.ecosystem,
    ...(p.purl ? { purl: p.purl } : {}),
    ...(p.srcName !== undefined ? { srcName: p.srcName } : {}),
    ...(p.srcVersion !== undefined ? { srcVersion: p.srcVersion } : {}),
    ...(p.layer !== undefined ? { layer: p.layer } : {}),
    ...(p.path !== undefined ? { path: p.path } : {}),
    foundBy: UPLOAD_FOUND_BY,
  }));
  const byKey = new Map(packages.map((p) => [packageKey(p.ecosystem, p.name, p.version, p.path), p]));
  const findings: Finding[] = report.vulnerabilities.map((v) => {
    const pkg: Package = byKey.get(packageKey(v.ecosystem, v.pkgName, v.installedVersion, v.pkgPath)) ?? {
      name: v.pkgName,
      version: v.installedVersion,
      ecosystem: v.ecosystem as Ecosystem,
      ...(v.purl !== undefined ? { purl: v.purl } : {}),
      ...(v.srcName !== undefined ? { srcName: v.srcName } : {}),
      ...(v.layer !== undefined ? { layer: v.layer } : {}),
      ...(v.pkgPath !== undefined ? { path: v.pkgPath } : {}),
      foundBy: UPLOAD_FOUND_BY,
    };
    return {
      id: v.id,
      aliases: [...v.aliases],
      package: pkg,
      installedVersion: v.installedVersion,
      fixedVersion: v.fixedVersion,
      status: v.status as FixState,
      severity: v.severity as Severity,
      severitySource: v.severitySource,
      cvss: v.cvss
        ? {
            version: v.cvss.version as NonNullable<Finding['cvss']>['version'],
            vector: v.cvss.vector,
            score: v.cvss.score,
            source: v.cvss.source,
          }
        : null,
      kev: v.kev,
      epss: v.epss,
      epssPercentile: v.epssPercentile,
      ...(v.title !== undefined ? { title: v.title } : {}),
      ...(v.description !== undefined ? { description: v.description } : {}),
      references: [...v.references],
      cwes: [...v.cwes],
      ...(v.published !== undefined ? { published: v.published } : {}),
      dataSources: v.dataSources.map((d) => ({ ...d })),
    };
  });
  const os = report.artifact.os
    ? { family: report.artifact.os.family, version: report.artifact.os.version }
    : null;
  return {
    image: { ...imageName(report), digest },
    dbVersion: report.db?.version ?? NO_DB_VERSION,
    os,
    packages,
    findings,
  };
}

export interface UploadDeps {
  stores: MetadataStores;
  analytics: AnalyticsStore;
  events: ScanEventBus;
}

async function appendInChunks<T>(rows: readonly T[], append: (chunk: T[]) => Promise<void>): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_APPEND) {
    await append(rows.slice(start, start + ROWS_PER_APPEND));
  }
}

/**
 * Records an uploaded report as a completed scan (the caller checked the entitlement). CP_REPORT_INVALID for a
 * malformed report; the stores' errors otherwise (the scan is then failed with the error's code).
 */
export async function ingestUpload(
  deps: UploadDeps,
  orgId: string,
  value: unknown,
): Promise<{ scan: ScanRecord; image: ImageRecord }> {
  const content = uploadContent(validateReport(value));
  const { stores, analytics } = deps;
  const { image } = await stores.images.upsertImage(orgId, content.image);
  const { scan } = await stores.scans.createScan(orgId, {
    imageId: image.id,
    dbVersion: content.dbVersion,
    priority: 'ci',
    upload: true,
  });
  try {
    let held: { counts: AttemptCounts; contents: AttemptContents } | null = null;
    if (analytics.storeAttemptRows && content.packages.length + content.findings.length <= ROWS_PER_APPEND) {
      // stored content-addressed: the same report uploaded again for this image digest writes no rows
      const counter = new AttemptCounter();
      const contents = await analytics.storeAttemptRows(orgId, scan.digest, {
        scanId: scan.id,
        attempt: scan.attempt,
        packages: content.packages,
        findings: content.findings,
        counter,
      });
      held = { counts: counter.counts(), contents };
    } else {
      await appendInChunks(content.packages, (chunk) =>
        analytics.appendInventory(orgId, scan.id, scan.attempt, chunk),
      );
      await appendInChunks(content.findings, (chunk) =>
        analytics.appendFindings(orgId, scan.id, scan.attempt, chunk),
      );
    }
    const completed = await completeScan(
      { analytics, images: stores.images, scans: stores.scans },
      scan,
      scan.attempt,
      content.os,
      held?.counts,
      held?.contents,
    );
    deps.events.emit(orgId, { type: 'status', scan: completed });
    return { scan: completed, image: (await stores.images.getImage(orgId, image.id)) ?? image };
  } catch (error) {
    await stores.scans
      .transitionScan(orgId, scan.id, {
        to: 'failed',
        attempt: scan.attempt,
        error: {
          code: isControlPlaneError(error) ? error.code : 'CP_INTERNAL',
          message: error instanceof Error ? error.message : String(error),
        },
      })
      .catch(() => {});
    throw error;
  }
}
