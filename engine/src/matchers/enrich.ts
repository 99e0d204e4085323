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
 */
import { pickSeverity, type SeverityRecord } from '../cvss/severity-policy.js';
import type { Finding } from '../model/finding.js';
import type { Package } from '../model/package.js';
import type { EpssEntry, KevEntry, VendorSeverity, Vulnerability } from '../model/vulnerability.js';
import { compareParsed, parseVersion } from '../versions/registry.js';
import type { SchemeId } from '../versions/types.js';
import type { HitGroup } from './group.js';

const CVE = /^CVE-\d{4}-\d+$/;
const STATUS_ORDER = ['unfixed', 'deferred', 'will-not-fix'] as const;

export interface EnrichContext {
  records: ReadonlyMap<string, { source: string; vulnerability: Vulnerability }[]>;
  kev: ReadonlyMap<string, KevEntry>;
  epss: ReadonlyMap<string, EpssEntry>;
  severityPolicy: 'nvd' | 'vendor';
  /** the distro's feed, for OS packages */
  vendorSource?: string;
}

/** The highest version of `versions` under `scheme` (unparseable ones lose), or undefined. */
export function highestVersion(versions: readonly string[], scheme: SchemeId): string | undefined {
  let best: { raw: string; parsed?: ReturnType<typeof parseVersion> } | undefined;
  for (const raw of versions) {
    let parsed;
    try {
      parsed = parseVersion(scheme, raw);
    } catch {
      parsed = undefined;
    }
    if (!best || (parsed && (!best.parsed || compareParsed(parsed, best.parsed) > 0))) best = { raw, parsed };
  }
  return best?.raw;
}

function sourceRank(source: string, vendorSource?: string, titles = false): number {
  if (source === 'nvd') return titles ? 3 : 0;
  if (source === 'ghsa' || source === 'osv') return titles ? 0 : 1;
  return source === vendorSource ? 2 : 2.5;
}

/** Builds the finding of one group of one package. */
export function buildFinding(pkg: Package, group: HitGroup, ctx: EnrichContext): Finding {
  const vendorHits = ctx.vendorSource ? group.hits.filter((h) => h.row.source === ctx.vendorSource) : [];
  const deciding = vendorHits.length ? vendorHits : group.hits;
  const scheme = deciding[0]!.verdict.scheme;
  const fixes = deciding.flatMap((h) => (h.verdict.fixedVersion === null ? [] : [h.verdict.fixedVersion]));
  const fixedVersion = fixes.length ? (highestVersion(fixes, scheme) ?? null) : null;
  const status = fixedVersion
    ? 'fixed'
    : (STATUS_ORDER.find((s) => deciding.some((h) => h.verdict.status === s)) ?? 'unfixed');

  const records: SeverityRecord[] = group.recordIds.flatMap((id) => ctx.records.get(id) ?? []);
  const ordered = (titles: boolean) =>
    records
      .map((r, i) => ({ r, i }))
      .sort(
        (a, b) =>
          sourceRank(a.r.source, ctx.vendorSource, titles) -
            sourceRank(b.r.source, ctx.vendorSource, titles) || a.i - b.i,
      )
      .map((x) => x.r.vulnerability);
  const byContent = ordered(false);
  const byTitle = ordered(true);

  const rowRating = (hits: HitGroup['hits']) => hits.find((h) => h.row.severity)?.row.severity;
  const affectedSeverity: VendorSeverity | undefined = rowRating(vendorHits) ?? rowRating(group.hits);
  const choice = pickSeverity(records, {
    prefer: ctx.severityPolicy,
    ...(ctx.vendorSource ? { vendorSource: ctx.vendorSource } : {}),
    ...(affectedSeverity ? { affectedSeverity } : {}),
  });
  const cvss = choice.cvss ?? pickSeverity(records).cvss;

  const ids = [group.id, ...group.aliases];
  const kevId = ids.find((id) => ctx.kev.has(id));
  const epssId = ids.find((id) => CVE.test(id) && ctx.epss.has(id));
  const epss = epssId ? ctx.epss.get(epssId) : undefined;

  const finding: Finding = {
    id: group.id,
    aliases: group.aliases,
    package: pkg,
    installedVersion: pkg.version,
    fixedVersion,
    status,
    severity: choice.severity,
    severitySource:
      choice.severity === 'UNKNOWN' ? 'none' : `${choice.cvss ? 'cvss' : 'vendor'}:${choice.source}`,
    cvss,
    kev: kevId !== undefined,
    epss: epss?.score ?? null,
    epssPercentile: epss?.percentile ?? null,
    references: unique(byContent.flatMap((v) => v.references ?? [])),
    cwes: unique(byContent.flatMap((v) => v.cwes ?? [])).sort(),
    dataSources: uniqueBy(
      group.hits.map((h) => ({
        source: h.row.source ?? '',
        namespace: h.row.namespace,
        advisoryId: h.row.vulnId,
      })),
      (d) => `${d.source}\u0000${d.namespace}\u0000${d.advisoryId}`,
    ).sort(
      (a, b) => cmp(a.source, b.source) || cmp(a.namespace, b.namespace) || cmp(a.advisoryId, b.advisoryId),
    ),
  };
  if (affectedSeverity) finding.vendorSeverity = affectedSeverity;
  if (kevId) finding.kevEntry = ctx.kev.get(kevId)!;
  const title = byTitle.find((v) => v.title)?.title;
  if (title) finding.title = title;
  const description = byContent.find((v) => v.description)?.description;
  if (description) finding.description = description;
  const published =
    records.find((r) => r.source === 'nvd' && r.vulnerability.published)?.vulnerability.published ??
    records
      .map((r) => r.vulnerability.published)
      .filter((p): p is string => typeof p === 'string' && p !== '')
      .sort()[0];
  if (published) finding.published = published;
  return finding;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function unique(items: readonly string[]): string[] {
  return [...new Set(items.filter((x) => typeof x === 'string' && x !== ''))];
}

function uniqueBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}
