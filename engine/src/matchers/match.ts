/**
 * The matching core: inventory + AdvisoryReader → findings, fix plan and warnings.
 *
 * 1. The distro target is resolved once (os-target.ts); each package goes to the first matcher
 *    of the list whose `filter` claims it.
 * 2. Every lookup key of every claimed package is collected and looked up in ONE
 *    `reader.affected` call.
 * 3. The matcher decides each row for the package (`vulnerable`); undecidable rows are counted
 *    into warnings (an installed version that does not parse: one warning per package).
 * 4. Rows are grouped per package into vulnerabilities (group.ts): one finding each, with its
 *    aliases; errata are expanded to the CVEs they fix. What matching reads of an id (records,
 *    aliases, KEV, EPSS) is its summary (`reader.summaries`), read once per id: one call for the
 *    hit ids, one for the CVEs errata name, one for the reported ids not read yet.
 * 5. Findings are built (enrich.ts) and sorted: severity, id, package, version, path.
 * Never throws for bad data; a reader failure (ENG_DB_*) propagates.
 */
import type { Finding, MatchWarning, VulnerabilityScanResult } from '../model/finding.js';
import { OS_ECOSYSTEMS } from '../model/package.js';
import type { ScanResult } from '../model/scan.js';
import { SEVERITIES } from '../model/severity.js';
import type { AdvisoryReader, VulnSummary } from '../vulndb/types.js';
import { ParsedVersions } from './decide.js';
import { Enricher } from './enrich.js';
import { claimAndDecide, type ClaimHits } from './claims.js';
import { groupHits, isErratumId, type HitGroup } from './group.js';
import { noReleaseDataWarning, resolveOsTarget } from './os-target.js';
import { MATCHERS } from './list.js';
import { buildRemediations } from './remediation.js';
import type { Matcher, MatchEnv } from './types.js';

export interface MatchOptions {
  /** `nvd` (default): CVSS from NVD first; `vendor`: the distro's / vendor's own score and rating first */
  severityPolicy?: 'nvd' | 'vendor';
  /** clock for end-of-life checks (default: now) */
  now?: Date;
  /** the matchers to use, in claim order (default: MATCHERS) */
  matchers?: readonly Matcher[];
}

const CVE = /^CVE-\d{4}-\d+$/;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const RANK: ReadonlyMap<string, number> = new Map(SEVERITIES.map((s, i) => [s, i]));

/**
 * Findings in report order: severity, id, package name, installed version, path (a stable sort).
 * Most comparisons end at severity and id, so both become one number per finding (ids ranked by
 * one sort of the distinct ids, in the same code unit order as `<`); the numbers, with the
 * finding's position below them, sort natively, and only runs of one severity and id are then
 * sorted by package (from position order: stable).
 */
function sortFindings(findings: readonly Finding[]): Finding[] {
  const n = findings.length;
  const ids = [...new Set(findings.map((f) => f.id))].sort();
  const idRank = new Map(ids.map((id, i) => [id, i]));
  const order = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const f = findings[i]!;
    order[i] = (RANK.get(f.severity)! * ids.length + idRank.get(f.id)!) * n + i;
  }
  order.sort();
  const out = new Array<Finding>(n);
  const byPackage = (a: Finding, b: Finding) =>
    cmp(a.package.name, b.package.name) ||
    cmp(a.installedVersion, b.installedVersion) ||
    cmp(a.package.path ?? '', b.package.path ?? '');
  for (let start = 0; start < n;) {
    const key = Math.floor(order[start]! / n);
    let end = start + 1;
    while (end < n && Math.floor(order[end]! / n) === key) end++;
    for (let i = start; i < end; i++) out[i] = findings[order[i]! % n]!;
    if (end - start > 1) {
      const run = out.slice(start, end).sort(byPackage);
      for (let i = start; i < end; i++) out[i] = run[i - start]!;
    }
    start = end;
  }
  return out;
}

/**
 * Matches a scanned inventory against a vulnerability database.
 * @param scan the inventory (scanImage / scanSource / an SBOM read into a ScanResult)
 * @param reader the advisory source (SnapshotReader, MemoryAdvisoryReader)
 * @param options severity policy, clock, matcher list
 * @returns the inventory with findings, remediations, warnings and the database's version
 * @throws only what the reader throws (ENG_DB_CORRUPT…)
 */
export function matchInventory(
  scan: ScanResult,
  reader: AdvisoryReader,
  options: MatchOptions = {},
): VulnerabilityScanResult {
  const matchers = options.matchers ?? MATCHERS;
  const meta = reader.meta();
  const osPackages = scan.packages.filter((p) => OS_ECOSYSTEMS.has(p.ecosystem));
  const target = resolveOsTarget(
    scan.os,
    osPackages.length,
    meta.sources.map((s) => s.name),
    options.now ?? new Date(),
  );
  const versions = new ParsedVersions();
  const env: MatchEnv = {
    ...(scan.os ? { os: scan.os } : {}),
    ...(target.distro ? { distro: target.distro } : {}),
    versions,
  };
  const warnings: MatchWarning[] = [...target.warnings];

  // 1-3: claims, one batched lookup, decisions (claims.ts)
  const decided = claimAndDecide(scan.packages, matchers, env, reader);
  if (decided.malformed)
    warnings.push({
      code: 'VIGIL_PACKAGE_INVALID',
      message: `${decided.malformed} inventory entries without a usable name or version were not matched`,
    });
  const noData = warnings.some((w) => w.code === 'VIGIL_OS_NO_DATA');
  if (
    target.distro &&
    scan.os &&
    osPackages.length &&
    !noData &&
    !target.distro.namespaces.some((ns) => decided.namespacesWithRows.has(ns))
  )
    warnings.push(noReleaseDataWarning(scan.os, target.distro, osPackages.length));
  warnings.push(...decided.warnings);
  const claims = decided.claims;

  // 4: errata → CVEs, aliases, groups; every id's summary (records, aliases, KEV, EPSS) is read
  // once, in one call per round: hit ids, then the CVEs errata name, then the reported ids not
  // read yet (an alias became the reported id)
  const hitIds = new Set<string>();
  for (let c = 0; c < claims.length; c++) claims[c]!.hits.forEach((_, id) => hitIds.add(id));
  const summaries = hitIds.size ? reader.summaries([...hitIds]) : new Map<string, VulnSummary>();
  const load = (ids: Iterable<string>) => {
    const missing = [...ids].filter((id) => !summaries.has(id));
    if (missing.length) for (const [id, s] of reader.summaries(missing)) summaries.set(id, s);
  };
  const erratumCves = new Map<string, string[]>();
  for (const id of hitIds) {
    if (!isErratumId(id)) continue;
    const recs = summaries.get(id)?.records() ?? [];
    const cves = [
      ...new Set(
        recs.flatMap((r) => [...(r.vulnerability.related ?? []), ...(r.vulnerability.aliases ?? [])]),
      ),
    ]
      .filter((x) => CVE.test(x))
      .sort();
    if (cves.length) erratumCves.set(id, cves);
  }
  if (erratumCves.size) load([...erratumCves.values()].flat());
  const aliasesOf = { get: (id: string) => summaries.get(id)?.aliases };
  const grouped: { claim: ClaimHits; groups: HitGroup[] }[] = [];
  const missing = new Set<string>();
  const need = (id: string) => {
    if (!summaries.has(id)) missing.add(id);
  };
  for (let c = 0; c < claims.length; c++) {
    const claim = claims[c]!;
    const groups = groupHits(claim.hits, aliasesOf, erratumCves);
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      g.recordIds.forEach(need);
      if (CVE.test(g.id)) need(g.id);
      for (let a = 0; a < g.aliases.length; a++) if (CVE.test(g.aliases[a]!)) need(g.aliases[a]!);
    }
    grouped.push({ claim, groups });
  }

  // 5: findings
  load(missing);
  const enricher = new Enricher({
    summaries,
    severityPolicy: options.severityPolicy ?? 'nvd',
    versions,
  });
  const findings: Finding[] = [];
  for (let c = 0; c < grouped.length; c++) {
    const { claim, groups } = grouped[c]!;
    const vendorSource = OS_ECOSYSTEMS.has(claim.pkg.ecosystem) ? env.distro?.vendorSource : undefined;
    for (let i = 0; i < groups.length; i++)
      findings.push(enricher.finding(claim.pkg, groups[i]!, vendorSource));
  }
  const sorted = sortFindings(findings);
  const schemes = new Map(grouped.map(({ claim }) => [claim.pkg, claim.scheme]));
  return {
    ...scan,
    db: { version: meta.version, builtAt: meta.builtAt },
    findings: sorted,
    remediations: buildRemediations(sorted, (pkg) => schemes.get(pkg), versions),
    warnings,
  };
}
