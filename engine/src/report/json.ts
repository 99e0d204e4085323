/**
 * The Vigil JSON report (schemaVersion 1, ARCHITECTURE §5) from a scan result, optionally with
 * the findings of a matching run.
 */
import type { ScanResult } from '../model/scan.js';
import { compareText, resolvePackages } from './packages.js';
import {
  REPORT_SCHEMA_VERSION,
  SEVERITIES,
  type ReportArtifact,
  type ReportDb,
  type ReportPackage,
  type ReportSummary,
  type ReportVulnerability,
  type VigilReport,
} from './types.js';

export interface JsonReportOptions {
  /** The database snapshot used for matching; omitted or null for inventory-only scans. */
  db?: ReportDb | null;
  /** Findings; empty for inventory-only scans. */
  vulnerabilities?: readonly ReportVulnerability[];
}

const SEVERITY_RANK = new Map(SEVERITIES.map((s, i) => [s, i]));

function artifactOf(scan: ScanResult): ReportArtifact {
  const a = scan.artifact;
  const out: ReportArtifact = { name: a.name };
  if (a.digest) out.digest = a.digest;
  if (scan.os) out.os = { family: scan.os.family, version: scan.os.version };
  out.kind = a.kind;
  if (a.configDigest) out.configDigest = a.configDigest;
  if (a.repoTags?.length) out.repoTags = [...a.repoTags];
  if (a.repoDigests?.length) out.repoDigests = [...a.repoDigests];
  return out;
}

/** Counts findings per severity; `total` is the number of findings. */
export function summarize(vulnerabilities: readonly ReportVulnerability[]): ReportSummary {
  const s: ReportSummary = {
    critical: 0,
    high: 0,
    medium: 0,
    low: 0,
    unknown: 0,
    total: vulnerabilities.length,
  };
  for (const v of vulnerabilities) {
    const key = v.severity.toLowerCase() as Exclude<keyof ReportSummary, 'total'>;
    s[key] += 1;
  }
  return s;
}

/** Findings order: most severe first, then id, package, installed version. */
function compareVulnerabilities(a: ReportVulnerability, b: ReportVulnerability): number {
  return (
    (SEVERITY_RANK.get(a.severity) ?? 99) - (SEVERITY_RANK.get(b.severity) ?? 99) ||
    compareText(a.id, b.id) ||
    compareText(a.ecosystem, b.ecosystem) ||
    compareText(a.pkgName, b.pkgName) ||
    compareText(a.installedVersion, b.installedVersion)
  );
}

/**
 * Builds the JSON report of `scan`. Packages are sorted by (ecosystem, name, version, path),
 * unknowns by (path, message), findings by severity then id; the purl of a package is the
 * one the scan set, else made by toPurl with the scan's OS. Pure: same input, same output.
 * Serialise with `JSON.stringify` (renderInventory does, indented).
 */
export function toJsonReport(scan: ScanResult, options: JsonReportOptions = {}): VigilReport {
  const packages: ReportPackage[] = resolvePackages(scan).map(({ pkg, purl }) => {
    const p: ReportPackage = { name: pkg.name, version: pkg.version, ecosystem: pkg.ecosystem, purl };
    if (pkg.srcName) p.srcName = pkg.srcName;
    if (pkg.srcVersion) p.srcVersion = pkg.srcVersion;
    if (pkg.layer) p.layer = pkg.layer;
    if (pkg.path) p.path = pkg.path;
    return p;
  });
  const vulnerabilities = [...(options.vulnerabilities ?? [])].sort(compareVulnerabilities);
  const unknowns = scan.unknowns
    .map((u) => ({ path: u.path, message: u.message }))
    .sort((a, b) => compareText(a.path, b.path) || compareText(a.message, b.message));
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    artifact: artifactOf(scan),
    db: options.db ?? null,
    packages,
    vulnerabilities,
    unknowns,
    summary: summarize(vulnerabilities),
    status: scan.status,
    scannedAt: scan.finishedAt,
  };
}
