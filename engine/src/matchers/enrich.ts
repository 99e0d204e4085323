/**
 * A grouped match → a Finding: status and fixed version over the group's rows, severity by the
 * policy (cvss/pickSeverity, ARCHITECTURE §2), and the descriptive fields from every source's
 * records for the id, its aliases and errata.
 *
 * - Status / fix: for OS packages the distro's own feed decides when it has a row (an OSV copy of
 *   the tracker does not override it); otherwise every affected row counts. A fix is known when
 *   any row gives one; the finding's fixed version is the HIGHEST of the rows' fixes (the version
 *   that satisfies every source). Without a fix: unfixed before deferred before will-not-fix.
 * - Severity: pickSeverity over all records, `prefer` from the policy option, the distro's feed as
 *   vendor for OS packages, the matched row's per-package rating as `affectedSeverity`; the
 *   finding's cvss is the vector that gave the severity, else the best vector any source has.
 * - description / references / cwes / published: NVD first, then GHSA/OSV, the distro, the rest;
 *   title: GHSA/OSV first (NVD records have none). References and CWEs are the union.
 * The vulnerability-level part (severity, texts, KEV, EPSS) is computed once per vulnerability and
 * rating context and shared by the findings of every package it affects (arrays copied).
 */
import { pickSeverity, type SeverityRecord } from '../cvss/severity-policy.js';
import type { Finding } from '../model/finding.js';
import type { Package } from '../model/package.js';
import type { EpssEntry, KevEntry, VendorSeverity, Vulnerability } from '../model/vulnerability.js';
import { compareParsed, type ParsedVersion } from '../versions/registry.js';
import type { SchemeId } from '../versions/types.js';
import { ParsedVersions } from './decide.js';
import type { HitGroup } from './group.js';

const CVE = /^CVE-\d{4}-\d+$/;
const STATUS_ORDER = ['unfixed', 'deferred', 'will-not-fix'] as const;

export interface EnrichContext {
  records: ReadonlyMap<string, { source: string; vulnerability: Vulnerability }[]>;
  kev: ReadonlyMap<string, KevEntry>;
  epss: ReadonlyMap<string, EpssEntry>;
  severityPolicy: 'nvd' | 'vendor';
  versions: ParsedVersions;
}

/** The highest version of `versions` under `scheme` (unparseable ones lose), or undefined. */
export function highestVersion(
  versions: readonly string[],
  scheme: SchemeId,
  cache: ParsedVersions = new ParsedVersions(),
): string | undefined {
  let best: { raw: string; parsed?: ParsedVersion } | undefined;
  for (const raw of versions) {
    const parsed = cache.get(scheme, raw);
    if (!best || (parsed && (!best.parsed || compareParsed(parsed, best.parsed) > 0))) best = { raw, parsed };
  }
  return best?.raw;
}

/** Order of the sources for descriptions, references and CWEs: NVD, GHSA/OSV, the vendor, the rest. */
function contentRank(source: string, vendorSource: string | undefined): number {
  if (source === 'nvd') return 0;
  if (source === 'ghsa' || source === 'osv') return 1;
  return source === vendorSource ? 2 : 3;
}

/** Order for titles: GHSA/OSV, the vendor, the rest, NVD (whose records have none). */
function titleRank(source: string, vendorSource: string | undefined): number {
  if (source === 'ghsa' || source === 'osv') return 0;
  if (source === 'nvd') return 3;
  return source === vendorSource ? 1 : 2;
}

/** What a finding takes from the vulnerability's records: the same for every package it affects. */
type VulnInfo = Pick<
  Finding,
  | 'severity'
  | 'severitySource'
  | 'cvss'
  | 'kev'
  | 'kevEntry'
  | 'epss'
  | 'epssPercentile'
  | 'references'
  | 'cwes'
  | 'title'
  | 'description'
  | 'published'
>;

/** Builds findings, sharing the vulnerability-level work between packages. */
export class Enricher {
  private readonly memo = new Map<string, VulnInfo>();

  constructor(private readonly ctx: EnrichContext) {}

  /** The finding of one group of one package (`vendorSource`: the distro's feed, OS packages only). */
  finding(pkg: Package, group: HitGroup, vendorSource: string | undefined): Finding {
    const vendorHits = vendorSource ? group.hits.filter((h) => h.row.source === vendorSource) : [];
    const deciding = vendorHits.length ? vendorHits : group.hits;
    const scheme = deciding[0]!.verdict.scheme;
    const fixes: string[] = [];
    for (const h of deciding) if (h.verdict.fixedVersion !== null) fixes.push(h.verdict.fixedVersion);
    const fixedVersion = fixes.length ? (highestVersion(fixes, scheme, this.ctx.versions) ?? null) : null;
    const status = fixedVersion
      ? 'fixed'
      : (STATUS_ORDER.find((s) => deciding.some((h) => h.verdict.status === s)) ?? 'unfixed');
    const rowRating = (hits: HitGroup['hits']) => hits.find((h) => h.row.severity)?.row.severity;
    const affectedSeverity: VendorSeverity | undefined = rowRating(vendorHits) ?? rowRating(group.hits);

    // the records read (recordIds) decide the aliases too, so they key the shared part with the rating context
    const key = `${group.recordIds.join(' ')}\u0000${vendorSource ?? ''}\u0000${
      affectedSeverity
        ? `${affectedSeverity.source} ${affectedSeverity.rating} ${affectedSeverity.severity}`
        : ''
    }`;
    let info = this.memo.get(key);
    if (!info) this.memo.set(key, (info = this.vulnInfo(group, vendorSource, affectedSeverity)));

    const dataSources: Finding['dataSources'] = [];
    for (const h of group.hits) {
      const d = { source: h.row.source ?? '', namespace: h.row.namespace, advisoryId: h.row.vulnId };
      if (
        !dataSources.some(
          (x) => x.source === d.source && x.namespace === d.namespace && x.advisoryId === d.advisoryId,
        )
      )
        dataSources.push(d);
    }
    const finding: Finding = {
      id: group.id,
      aliases: group.aliases,
      package: pkg,
      installedVersion: pkg.version,
      fixedVersion,
      status,
      severity: info.severity,
      severitySource: info.severitySource,
      cvss: info.cvss && { ...info.cvss },
      kev: info.kev,
      epss: info.epss,
      epssPercentile: info.epssPercentile,
      references: [...info.references],
      cwes: [...info.cwes],
      dataSources: dataSources.sort(
        (a, b) => cmp(a.source, b.source) || cmp(a.namespace, b.namespace) || cmp(a.advisoryId, b.advisoryId),
      ),
    };
    if (affectedSeverity) finding.vendorSeverity = affectedSeverity;
    if (info.kevEntry) finding.kevEntry = info.kevEntry;
    if (info.title) finding.title = info.title;
    if (info.description) finding.description = info.description;
    if (info.published) finding.published = info.published;
    return finding;
  }

  private vulnInfo(
    group: HitGroup,
    vendorSource: string | undefined,
    affectedSeverity: VendorSeverity | undefined,
  ): VulnInfo {
    const { ctx } = this;
    const records: SeverityRecord[] = [];
    for (const id of group.recordIds) {
      const found = ctx.records.get(id);
      if (found) for (const r of found) records.push(r);
    }
    // records by source rank (stable): a handful per vulnerability, so buckets instead of a sort
    const byContent: Vulnerability[] = [];
    const byTitle: Vulnerability[] = [];
    for (let rank = 0; rank <= 3; rank++) {
      for (const r of records) {
        if (contentRank(r.source, vendorSource) === rank) byContent.push(r.vulnerability);
        if (titleRank(r.source, vendorSource) === rank) byTitle.push(r.vulnerability);
      }
    }
    const choice = pickSeverity(records, {
      prefer: ctx.severityPolicy,
      ...(vendorSource ? { vendorSource } : {}),
      ...(affectedSeverity ? { affectedSeverity } : {}),
    });
    let kevId: string | undefined;
    let epss: EpssEntry | undefined;
    for (const id of [group.id, ...group.aliases]) {
      if (kevId === undefined && ctx.kev.has(id)) kevId = id;
      if (epss === undefined && CVE.test(id)) epss = ctx.epss.get(id);
    }
    const references = new Set<string>();
    const cwes = new Set<string>();
    let description: string | undefined;
    for (const v of byContent) {
      if (Array.isArray(v.references))
        for (const ref of v.references) if (typeof ref === 'string' && ref) references.add(ref);
      if (Array.isArray(v.cwes)) for (const cwe of v.cwes) if (typeof cwe === 'string' && cwe) cwes.add(cwe);
      if (description === undefined && typeof v.description === 'string' && v.description)
        description = v.description;
    }
    const info: VulnInfo = {
      severity: choice.severity,
      severitySource:
        choice.severity === 'UNKNOWN' ? 'none' : `${choice.cvss ? 'cvss' : 'vendor'}:${choice.source}`,
      cvss: choice.cvss ?? (choice.severity === 'UNKNOWN' ? null : pickSeverity(records).cvss),
      kev: kevId !== undefined,
      epss: epss?.score ?? null,
      epssPercentile: epss?.percentile ?? null,
      references: [...references],
      cwes: [...cwes].sort(),
    };
    if (kevId) info.kevEntry = ctx.kev.get(kevId)!;
    const title = byTitle.find((v) => typeof v.title === 'string' && v.title)?.title;
    if (title) info.title = title;
    if (description) info.description = description;
    let published: string | undefined;
    for (const r of records) {
      const p = r.vulnerability.published;
      if (typeof p !== 'string' || !p) continue;
      if (r.source === 'nvd') {
        published = p;
        break;
      }
      if (published === undefined || p < published) published = p;
    }
    if (published) info.published = published;
    return info;
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
