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
 *    aliases; errata are read in one `vulnerabilities` call and expanded to the CVEs they fix,
 *    aliases come from one `aliases` call.
 * 5. Every record of every finding's ids comes from one `vulnerabilities` call, KEV and EPSS from
 *    one call each; findings are built (enrich.ts) and sorted: severity, id, package, version, path.
 * Never throws for bad data; a reader failure (ENG_DB_*) propagates.
 */
import type { Finding, MatchWarning, VulnerabilityScanResult } from '../model/finding.js';
import { OS_ECOSYSTEMS, type Package } from '../model/package.js';
import type { ScanResult } from '../model/scan.js';
import { SEVERITIES } from '../model/severity.js';
import type { AffectedPackage } from '../model/vulnerability.js';
import type { AdvisoryReader } from '../vulndb/types.js';
import { ParsedVersions } from './decide.js';
import { Enricher } from './enrich.js';
import { groupHits, isErratumId, type Hit, type HitGroup } from './group.js';
import { noReleaseDataWarning, resolveOsTarget } from './os-target.js';
import { MATCHERS } from './list.js';
import { buildRemediations } from './remediation.js';
import type { LookupKey, Matcher, MatchEnv } from './types.js';
import type { SchemeId } from '../versions/types.js';

export interface MatchOptions {
  /** `nvd` (default): CVSS from NVD first; `vendor`: the distro's / vendor's own score and rating first */
  severityPolicy?: 'nvd' | 'vendor';
  /** clock for end-of-life checks (default: now) */
  now?: Date;
  /** the matchers to use, in claim order (default: MATCHERS) */
  matchers?: readonly Matcher[];
}

/** namespace → package name → value: keys without building a joined string per package and row. */
class KeyMap<T> {
  readonly byNamespace = new Map<string, Map<string, T>>();
  get(k: LookupKey): T | undefined {
    return this.byNamespace.get(k.namespace)?.get(k.packageName);
  }
  set(k: LookupKey, value: T): void {
    let inner = this.byNamespace.get(k.namespace);
    if (!inner) this.byNamespace.set(k.namespace, (inner = new Map()));
    inner.set(k.packageName, value);
  }
}
const CVE = /^CVE-\d{4}-\d+$/;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Claim {
  pkg: Package;
  matcher: Matcher;
  keys: LookupKey[];
  /** rows that apply, by vulnId (created on the first one: most packages have none) */
  hits?: Map<string, Hit[]>;
  scheme?: SchemeId;
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

  // 1-2: claims and one batched lookup
  const claims: Claim[] = [];
  const allKeys = new KeyMap<true>();
  const lookups: LookupKey[] = [];
  let malformed = 0;
  for (const pkg of scan.packages) {
    if (!isUsable(pkg)) {
      malformed++;
      continue;
    }
    let matcher: Matcher | undefined;
    for (const m of matchers)
      if (m.filter(pkg, env)) {
        matcher = m;
        break;
      }
    if (!matcher) continue;
    const keys = matcher.query(pkg, env);
    for (const k of keys) {
      if (allKeys.get(k)) continue;
      allKeys.set(k, true);
      lookups.push(k);
    }
    claims.push({ pkg, matcher, keys });
  }
  if (malformed)
    warnings.push({
      code: 'VIGIL_PACKAGE_INVALID',
      message: `${malformed} inventory entries without a usable name or version were not matched`,
    });
  const rowsByKey = new KeyMap<AffectedPackage[]>();
  for (const row of reader.affected(lookups)) {
    const list = rowsByKey.get(row);
    if (list) list.push(row);
    else rowsByKey.set(row, [row]);
  }
  const noData = warnings.some((w) => w.code === 'VIGIL_OS_NO_DATA');
  if (
    target.distro &&
    scan.os &&
    osPackages.length &&
    !noData &&
    !target.distro.namespaces.some((ns) => rowsByKey.byNamespace.has(ns))
  )
    warnings.push(noReleaseDataWarning(scan.os, target.distro, osPackages.length));

  // 3: decisions
  const invalid = { advisories: 0, first: '' };
  for (const claim of claims) {
    let installedInvalid: string | undefined;
    for (let i = 0; i < claim.keys.length; i++) {
      const k = claim.keys[i]!;
      // a key a matcher listed twice is decided once
      if (
        i > 0 &&
        claim.keys.slice(0, i).some((o) => o.namespace === k.namespace && o.packageName === k.packageName)
      )
        continue;
      const rows = rowsByKey.get(k);
      if (!rows) continue;
      for (const row of rows) {
        const verdict = claim.matcher.vulnerable(claim.pkg, row, env);
        if (verdict.kind === 'unknown') {
          if (verdict.installedInvalid) installedInvalid ??= verdict.reason;
          else if (invalid.advisories++ === 0)
            invalid.first = `${row.vulnId} (${row.source ?? '?'} ${row.namespace}/${row.packageName}): ${verdict.reason}`;
          continue;
        }
        if (verdict.kind === 'clear') continue;
        if (verdict.kind === 'affected') claim.scheme ??= verdict.scheme;
        claim.hits ??= new Map();
        const list = claim.hits.get(row.vulnId);
        if (list) list.push({ row, verdict });
        else claim.hits.set(row.vulnId, [{ row, verdict }]);
      }
    }
    if (installedInvalid)
      warnings.push({
        code: 'VIGIL_VERSION_INVALID',
        message: `${claim.pkg.ecosystem} package ${claim.pkg.name} ${JSON.stringify(claim.pkg.version)}${claim.pkg.path ? ` (${claim.pkg.path})` : ''} was not matched: ${installedInvalid}`,
      });
  }
  if (invalid.advisories)
    warnings.push({
      code: 'VIGIL_ADVISORY_INVALID',
      message: `${invalid.advisories} advisory rows could not be evaluated and were skipped; first: ${invalid.first}`,
    });

  // 4: errata → CVEs, aliases, groups
  const hitIds = new Set<string>();
  for (const c of claims) if (c.hits) for (const id of c.hits.keys()) hitIds.add(id);
  const errata = [...hitIds].filter(isErratumId);
  const erratumCves = new Map<string, string[]>();
  if (errata.length)
    for (const [id, recs] of reader.vulnerabilities(errata)) {
      const cves = [
        ...new Set(
          recs.flatMap((r) => [...(r.vulnerability.related ?? []), ...(r.vulnerability.aliases ?? [])]),
        ),
      ]
        .filter((x) => CVE.test(x))
        .sort();
      if (cves.length) erratumCves.set(id, cves);
    }
  const named = [...hitIds].flatMap((id) => erratumCves.get(id) ?? [id]);
  const aliasesOf = named.length ? reader.aliases([...new Set(named)]) : new Map<string, string[]>();
  const grouped: { claim: Claim; groups: HitGroup[] }[] = [];
  const recordIds = new Set<string>();
  const cveIds = new Set<string>();
  for (const claim of claims) {
    if (!claim.hits) continue;
    const groups = groupHits(claim.hits, aliasesOf, erratumCves);
    for (const g of groups) {
      for (const id of g.recordIds) recordIds.add(id);
      if (CVE.test(g.id)) cveIds.add(g.id);
      for (const a of g.aliases) if (CVE.test(a)) cveIds.add(a);
    }
    grouped.push({ claim, groups });
  }

  // 5: enrichment in one call per table
  const ids = [...recordIds];
  const cves = [...cveIds];
  const enricher = new Enricher({
    records: ids.length ? reader.vulnerabilities(ids) : new Map(),
    kev: cves.length ? reader.kev(cves) : new Map(),
    epss: cves.length ? reader.epss(cves) : new Map(),
    severityPolicy: options.severityPolicy ?? 'nvd',
    versions,
  });
  const findings: Finding[] = [];
  for (const { claim, groups } of grouped) {
    const vendorSource = OS_ECOSYSTEMS.has(claim.pkg.ecosystem) ? env.distro?.vendorSource : undefined;
    for (const g of groups) findings.push(enricher.finding(claim.pkg, g, vendorSource));
  }
  findings.sort(
    (a, b) =>
      SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
      cmp(a.id, b.id) ||
      cmp(a.package.name, b.package.name) ||
      cmp(a.installedVersion, b.installedVersion) ||
      cmp(a.package.path ?? '', b.package.path ?? ''),
  );
  const schemes = new Map(grouped.map(({ claim }) => [claim.pkg, claim.scheme]));
  return {
    ...scan,
    db: { version: meta.version, builtAt: meta.builtAt },
    findings,
    remediations: buildRemediations(findings, (pkg) => schemes.get(pkg), versions),
    warnings,
  };
}

const isText = (v: unknown): v is string => typeof v === 'string';

/** A package the matchers can read: string name, version and ecosystem, string-or-absent source fields. */
function isUsable(pkg: Package): boolean {
  return (
    !!pkg &&
    isText(pkg.name) &&
    pkg.name !== '' &&
    isText(pkg.version) &&
    isText(pkg.ecosystem) &&
    (pkg.srcName === undefined || isText(pkg.srcName)) &&
    (pkg.srcVersion === undefined || isText(pkg.srcVersion))
  );
}
