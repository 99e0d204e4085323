/**
 * The Vigil JSON report (schemaVersion 1, ARCHITECTURE §5) from a scan result, with the findings,
 * fix plan and warnings of a matching run when there was one.
 */
import type { Finding, Remediation } from '../model/finding.js';
import type { ScanResult } from '../model/scan.js';
import type { Severity } from '../model/severity.js';
import {
  asVulnerabilityResult,
  compareRemediations,
  countBySeverity,
  sortFindings,
  type FindingSort,
  type ReportInput,
} from './findings.js';
import { compareText, purlOf, resolvePackages } from './packages.js';
import {
  REPORT_SCHEMA_VERSION,
  type ReportArtifact,
  type ReportPackage,
  type ReportRemediation,
  type ReportSeverityCounts,
  type ReportSummary,
  type ReportVulnerability,
  type VigilReport,
} from './types.js';

export interface JsonReportOptions {
  /** Order of `vulnerabilities`: `severity` (default: most severe first, then id) or `risk`. */
  sort?: FindingSort;
}

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

function lowerCounts(counts: Record<Severity, number>): ReportSeverityCounts {
  return {
    critical: counts.CRITICAL,
    high: counts.HIGH,
    medium: counts.MEDIUM,
    low: counts.LOW,
    unknown: counts.UNKNOWN,
  };
}

/** Counts findings per severity; `total` is the number of findings. */
export function summarize(vulnerabilities: readonly { severity: Severity }[]): ReportSummary {
  return { ...lowerCounts(countBySeverity(vulnerabilities)), total: vulnerabilities.length };
}

/** One finding in the §5 shape, with the extensions after the contract fields. */
export function toReportVulnerability(f: Finding, scan: Pick<ScanResult, 'os'>): ReportVulnerability {
  const pkg = f.package;
  const purl = purlOf(pkg, scan.os);
  const cvss = f.cvss;
  return {
    id: f.id,
    aliases: [...f.aliases],
    pkgName: pkg.name,
    ecosystem: pkg.ecosystem,
    installedVersion: f.installedVersion,
    fixedVersion: f.fixedVersion,
    status: f.status,
    severity: f.severity,
    cvss: cvss
      ? { version: cvss.version, vector: cvss.vector, score: cvss.score, source: cvss.source }
      : null,
    kev: f.kev,
    epss: f.epss,
    ...(f.title !== undefined ? { title: f.title } : {}),
    references: [...f.references],
    ...(pkg.path ? { pkgPath: pkg.path } : {}),
    ...(purl ? { purl } : {}),
    ...(pkg.layer ? { layer: pkg.layer } : {}),
    ...(pkg.srcName ? { srcName: pkg.srcName } : {}),
    severitySource: f.severitySource,
    epssPercentile: f.epssPercentile,
    cwes: [...f.cwes],
    dataSources: f.dataSources.map((d) => ({
      source: d.source,
      namespace: d.namespace,
      advisoryId: d.advisoryId,
    })),
    ...(f.published !== undefined ? { published: f.published } : {}),
    ...(f.description !== undefined ? { description: f.description } : {}),
  };
}

function toReportRemediation(r: Remediation): ReportRemediation {
  return {
    pkgName: r.packageName,
    ecosystem: r.ecosystem,
    ...(r.path ? { pkgPath: r.path } : {}),
    installedVersion: r.installedVersion,
    fixedVersion: r.fixedVersion,
    fixes: r.fixes,
    bySeverity: lowerCounts({ ...countBySeverity([]), ...r.bySeverity }),
    ids: [...r.ids],
  };
}

/**
 * Builds the JSON report of `input`. Packages are sorted by (ecosystem, name, version, path),
 * unknowns by (path, message), vulnerabilities by `options.sort`, remediations most severe
 * first; purls are the ones the scan set, else made by toPurl with the scan's OS. An inventory
 * (ScanResult) gives `db: null` and empty vulnerabilities, remediations and warnings.
 * Pure: same input, same output. Serialise with `JSON.stringify` (renderReport does, indented).
 */
export function toJsonReport(input: ReportInput, options: JsonReportOptions = {}): VigilReport {
  const result = asVulnerabilityResult(input);
  const packages: ReportPackage[] = resolvePackages(result).map(({ pkg, purl }) => {
    const p: ReportPackage = { name: pkg.name, version: pkg.version, ecosystem: pkg.ecosystem, purl };
    if (pkg.srcName) p.srcName = pkg.srcName;
    if (pkg.srcVersion) p.srcVersion = pkg.srcVersion;
    if (pkg.layer) p.layer = pkg.layer;
    if (pkg.path) p.path = pkg.path;
    return p;
  });
  const vulnerabilities = sortFindings(result.findings, options.sort).map((f) =>
    toReportVulnerability(f, result),
  );
  const unknowns = result.unknowns
    .map((u) => ({ path: u.path, message: u.message }))
    .sort((a, b) => compareText(a.path, b.path) || compareText(a.message, b.message));
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    artifact: artifactOf(result),
    db: result.db ? { version: result.db.version, builtAt: result.db.builtAt } : null,
    packages,
    vulnerabilities,
    unknowns,
    summary: summarize(vulnerabilities),
    status: result.status,
    scannedAt: result.finishedAt,
    remediations: [...result.remediations].sort(compareRemediations).map(toReportRemediation),
    warnings: result.warnings.map((w) => ({ code: w.code, message: w.message })),
  };
}
