/**
 * What every report format shares about findings: the inventory-or-matched input, the finding
 * orders (`--sort severity|risk`), per-severity counts and their wording, advisory links.
 */
import type { Finding, Remediation, VulnerabilityScanResult } from '../model/finding.js';
import type { Package } from '../model/package.js';
import type { ScanResult } from '../model/scan.js';
import { SEVERITIES, type Severity } from '../model/severity.js';
import { compareText } from './packages.js';

/** Input of the report renderers: an inventory, or an inventory with the findings of a matching run. */
export type ReportInput = ScanResult | VulnerabilityScanResult;

/** Finding orders: `severity` (most severe first, then id) or `risk` (KEV, then EPSS, then severity). */
export const FINDING_SORTS = ['severity', 'risk'] as const;
export type FindingSort = (typeof FINDING_SORTS)[number];

/** The result with the matching fields filled in (an inventory-only scan has no db and no findings). */
export function asVulnerabilityResult(input: ReportInput): VulnerabilityScanResult {
  if ('findings' in input) return input;
  return { ...input, db: null, findings: [], remediations: [], warnings: [] };
}

/** True when a vulnerability database was consulted (or findings exist): reports show findings, not packages. */
export function isMatched(input: ReportInput): input is VulnerabilityScanResult {
  return 'findings' in input && (input.db !== null || input.findings.length > 0);
}

const RANK = new Map<string, number>(SEVERITIES.map((s, i) => [s, i]));

/** Position of a severity in SEVERITIES (0 = CRITICAL); unknown strings sort last. */
export function severityRank(severity: string): number {
  return RANK.get(severity) ?? SEVERITIES.length;
}

function comparePackageOf(a: Package, b: Package): number {
  return (
    compareText(a.ecosystem, b.ecosystem) ||
    compareText(a.name, b.name) ||
    compareText(a.version, b.version) ||
    compareText(a.path, b.path) ||
    compareText(a.layer, b.layer)
  );
}

function bySeverity(a: Finding, b: Finding): number {
  return (
    severityRank(a.severity) - severityRank(b.severity) ||
    compareText(a.id, b.id) ||
    comparePackageOf(a.package, b.package) ||
    compareText(a.installedVersion, b.installedVersion)
  );
}

function byRisk(a: Finding, b: Finding): number {
  return Number(b.kev) - Number(a.kev) || (b.epss ?? -1) - (a.epss ?? -1) || bySeverity(a, b);
}

/** Comparator for findings in the given order; total (ties broken by id, package, version, path). */
export function compareFindings(sort: FindingSort = 'severity'): (a: Finding, b: Finding) => number {
  return sort === 'risk' ? byRisk : bySeverity;
}

/** A sorted copy of `findings`. */
export function sortFindings(findings: readonly Finding[], sort: FindingSort = 'severity'): Finding[] {
  return [...findings].sort(compareFindings(sort));
}

/** Findings per severity, every severity present (zero when none). */
export function countBySeverity(findings: readonly { severity: Severity }[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) if (f.severity in counts) counts[f.severity] += 1;
  return counts;
}

/** `Total: 12 (CRITICAL: 1, HIGH: 3, MEDIUM: 5, LOW: 2, UNKNOWN: 1)`, as Trivy prints it (most severe first). */
export function totalsLine(counts: Record<Severity, number>): string {
  const total = SEVERITIES.reduce((n, s) => n + counts[s], 0);
  return `Total: ${total} (${SEVERITIES.map((s) => `${s}: ${counts[s]}`).join(', ')})`;
}

/** `2 critical, 1 high`: the non-zero counts, most severe first; `none` when all are zero. */
export function countsPhrase(counts: Record<Severity, number>): string {
  const parts = SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s.toLowerCase()}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/**
 * The one-line title shown for a finding: its title, else the first sentence of its description
 * (NVD records have no title), else ''. Plain text, not yet made terminal- or markup-safe.
 */
export function displayTitle(f: Pick<Finding, 'title' | 'description'>): string {
  const title = f.title?.trim();
  if (title) return title;
  const text = (f.description ?? '').trim();
  const end = text.search(/\.(?:\s|$)|\n/);
  return end < 0 ? text : text.slice(0, text[end] === '.' ? end + 1 : end).trim();
}

/** An EPSS probability as a percentage: `12.3%`, or two decimals under 0.1% (`0.04%`). */
export function epssPercent(epss: number): string {
  const pct = epss * 100;
  return `${pct < 0.1 ? pct.toFixed(2) : pct.toFixed(1)}%`;
}

/** Fix plan order (the matcher's): most critical fixes first (by severity counts), then more fixes, then name, version, path. */
export function compareRemediations(a: Remediation, b: Remediation): number {
  for (const s of SEVERITIES) {
    const d = (b.bySeverity[s] ?? 0) - (a.bySeverity[s] ?? 0);
    if (d !== 0) return d;
  }
  return (
    b.fixes - a.fixes ||
    compareText(a.packageName, b.packageName) ||
    compareText(a.installedVersion, b.installedVersion) ||
    compareText(a.path, b.path) ||
    compareText(a.ecosystem, b.ecosystem)
  );
}

/**
 * The fix plan line of one remediation: `upgrade openssl 1.1.1c-r0 → 1.1.1d-r0 fixes 4 (2
 * critical, 1 high)`, with ` in <path>` after the versions for language packages. Plain text:
 * callers escape it for their format.
 */
export function remediationLine(r: Remediation): string {
  const where = r.path ? ` in ${r.path}` : '';
  return `upgrade ${r.packageName} ${r.installedVersion} → ${r.fixedVersion}${where} fixes ${r.fixes} (${countsPhrase(r.bySeverity)})`;
}

const ID_LINKS: [RegExp, (id: string) => string][] = [
  [/^CVE-\d{4}-\d{4,}$/, (id) => `https://nvd.nist.gov/vuln/detail/${id}`],
  [/^GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}$/, (id) => `https://github.com/advisories/${id}`],
  [/^(?:GO|PYSEC|RUSTSEC|OSV|MAL|GSD|UVI)-[A-Za-z0-9._-]+$/, (id) => `https://osv.dev/vulnerability/${id}`],
];

/**
 * The public page of an advisory id (NVD for CVEs, GitHub for GHSA, osv.dev for OSV-native ids),
 * else the first http(s) reference of the finding, else undefined. Ids are matched against their
 * syntax before they go into a URL, so a hostile id never builds a link.
 */
export function advisoryUrl(id: string, references: readonly string[] = []): string | undefined {
  for (const [re, make] of ID_LINKS) if (re.test(id)) return make(id);
  return references.find(isWebUrl);
}

// RFC 3986 characters only (percent signs must start an escape), so the URL is valid as a JSON
// Schema `uri`, inside a Markdown link and as a CycloneDX `iri-reference`
const URI_CHAR = String.raw`(?:[A-Za-z0-9\-._~:/?@!$&'*+,;=]|%[0-9A-Fa-f]{2})`;
const WEB_URL = new RegExp(String.raw`^https?://${URI_CHAR}+(?:#${URI_CHAR}*)?$`);

/** True for a plain http(s) URL made only of URI characters (no spaces, `"`, `<>()[]`; one `#` at most). */
export function isWebUrl(url: string): boolean {
  return WEB_URL.test(url);
}
