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
 * The vulnerability-level part is computed once per vulnerability (its record ids) and vendor
 * context — texts, KEV, EPSS — and its severity once more per rating of the matched rows; it is
 * shared by the findings of every package it affects (its lists and CVSS object too: read-only).
 */
import { pickSeverity, type SeverityRecord } from '../cvss/severity-policy.js';
import type { Finding } from '../model/finding.js';
import type { Package } from '../model/package.js';
import type { EpssEntry, KevEntry, VendorSeverity } from '../model/vulnerability.js';
import type { VulnSummary } from '../vulndb/summary.js';
import { compareParsed, type ParsedVersion } from '../versions/registry.js';
import type { SchemeId } from '../versions/types.js';
import { ParsedVersions } from './decide.js';
import type { HitGroup } from './group.js';

const CVE = /^CVE-\d{4}-\d+$/;
const STATUS_ORDER = ['unfixed', 'deferred', 'will-not-fix'] as const;

export interface EnrichContext {
  /** the summary of every id of the groups (reported id, aliases, record ids) */
  summaries: ReadonlyMap<string, VulnSummary>;
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

/** What a finding takes from the vulnerability's records, whatever the package's rating. */
type VulnTexts = Pick<
  Finding,
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

/** The severity part, which also depends on the matched row's own rating. */
type VulnSeverity = Pick<Finding, 'severity' | 'severitySource' | 'cvss'>;

/** The shared work of one vulnerability (its record ids) in one vendor context. */
interface VulnInfo {
  /** the records, kept while the severity depends on the matched row's rating */
  records: SeverityRecord[];
  texts: VulnTexts;
  /** the severity whatever the matched row's rating: NVD-first and a CVSS vector decided */
  severity?: VulnSeverity;
  /** otherwise by the rating of the matched row (`source rating severity`, '' without one) */
  severities?: Map<string, VulnSeverity>;
}

/** Builds findings, sharing the vulnerability-level work between packages. */
export class Enricher {
  /** vendor source ('' for none: one or two per scan) → record ids (joined) → shared work */
  private readonly memo = new Map<string, Map<string, VulnInfo>>();

  constructor(private readonly ctx: EnrichContext) {}

  /** The finding of one group of one package (`vendorSource`: the distro's feed, OS packages only). */
  finding(pkg: Package, group: HitGroup, vendorSource: string | undefined): Finding {
    const vendorHits = vendorSource ? hitsOf(group.hits, vendorSource) : [];
    const deciding = vendorHits.length ? vendorHits : group.hits;
    const scheme = deciding[0]!.verdict.scheme;
    let fixedVersion: string | null;
    if (deciding.length === 1) fixedVersion = deciding[0]!.verdict.fixedVersion;
    else {
      const fixes: string[] = [];
      for (const h of deciding) if (h.verdict.fixedVersion !== null) fixes.push(h.verdict.fixedVersion);
      fixedVersion = fixes.length ? (highestVersion(fixes, scheme, this.ctx.versions) ?? null) : null;
    }
    const status = fixedVersion
      ? 'fixed'
      : (STATUS_ORDER.find((s) => deciding.some((h) => h.verdict.status === s)) ?? 'unfixed');
    const affectedSeverity: VendorSeverity | undefined = rowRating(vendorHits) ?? rowRating(group.hits);

    // the records read (recordIds) decide the aliases too, so they key the shared part
    let byIds = this.memo.get(vendorSource ?? '');
    if (!byIds) this.memo.set(vendorSource ?? '', (byIds = new Map()));
    const ids = group.recordIds.length === 1 ? group.recordIds[0]! : group.recordIds.join(' ');
    let info = byIds.get(ids);
    if (!info) byIds.set(ids, (info = this.vulnInfo(group, vendorSource)));
    let severity = info.severity;
    if (!severity) {
      const ratingKey = affectedSeverity
        ? `${affectedSeverity.source} ${affectedSeverity.rating} ${affectedSeverity.severity}`
        : '';
      info.severities ??= new Map();
      severity = info.severities.get(ratingKey);
      if (!severity)
        info.severities.set(
          ratingKey,
          (severity = this.severity(info.records, vendorSource, affectedSeverity)),
        );
    }
    const { texts } = info;

    const finding: Finding = {
      id: group.id,
      aliases: group.aliases,
      package: pkg,
      installedVersion: pkg.version,
      fixedVersion,
      status,
      severity: severity.severity,
      severitySource: severity.severitySource,
      // shared by the findings of the vulnerability, like `aliases` (nothing downstream modifies a
      // finding's lists; a copy each was a third of the allocation of matching 100k packages)
      cvss: severity.cvss,
      kev: texts.kev,
      epss: texts.epss,
      epssPercentile: texts.epssPercentile,
      references: texts.references,
      cwes: texts.cwes,
      dataSources: dataSourcesOf(group.hits),
    };
    if (affectedSeverity) finding.vendorSeverity = affectedSeverity;
    if (texts.kevEntry) finding.kevEntry = texts.kevEntry;
    if (texts.title) finding.title = texts.title;
    if (texts.description) finding.description = texts.description;
    if (texts.published) finding.published = texts.published;
    return finding;
  }

  private severity(
    records: readonly SeverityRecord[],
    vendorSource: string | undefined,
    affectedSeverity: VendorSeverity | undefined,
  ): VulnSeverity {
    const choice = pickSeverity(records, {
      prefer: this.ctx.severityPolicy,
      ...(vendorSource ? { vendorSource } : {}),
      ...(affectedSeverity ? { affectedSeverity } : {}),
    });
    return {
      severity: choice.severity,
      severitySource:
        choice.severity === 'UNKNOWN' ? 'none' : `${choice.cvss ? 'cvss' : 'vendor'}:${choice.source}`,
      cvss: choice.cvss ?? (choice.severity === 'UNKNOWN' ? null : pickSeverity(records).cvss),
    };
  }

  private vulnInfo(group: HitGroup, vendorSource: string | undefined): VulnInfo {
    const { ctx } = this;
    const records: SeverityRecord[] = [];
    const summaries = group.recordIds.map((id) => ctx.summaries.get(id));
    for (const summary of summaries) {
      // a summary leaves empty lists out; pickSeverity and the code below read absent lists as empty
      if (summary) for (const r of summary.records()) records.push(r as SeverityRecord);
    }
    // texts from the records by source rank (stable): a handful per vulnerability, so one pass per rank
    const references: string[] = [];
    const cwes: string[] = [];
    let description: string | undefined;
    let title: string | undefined;
    for (let rank = 0; rank <= 3; rank++) {
      for (const r of records) {
        const v = r.vulnerability;
        if (contentRank(r.source, vendorSource) === rank) {
          addTexts(references, v.references);
          addTexts(cwes, v.cwes);
          if (description === undefined && typeof v.description === 'string' && v.description)
            description = v.description;
        }
        if (title === undefined && titleRank(r.source, vendorSource) === rank)
          if (typeof v.title === 'string' && v.title) title = v.title;
      }
    }
    let kev: KevEntry | undefined;
    let epss: EpssEntry | undefined;
    for (let i = -1; i < group.aliases.length; i++) {
      const id = i < 0 ? group.id : group.aliases[i]!;
      if (!CVE.test(id)) continue;
      const k = group.recordIds.indexOf(id);
      const summary = k >= 0 ? summaries[k] : ctx.summaries.get(id);
      kev ??= summary?.kev;
      epss ??= summary?.epss;
    }
    const texts: VulnTexts = {
      kev: kev !== undefined,
      epss: epss?.score ?? null,
      epssPercentile: epss?.percentile ?? null,
      // copies of their exact length: every finding of the vulnerability keeps them, and a list
      // grown by push holds 16 slots or more
      references: references.slice(),
      cwes: cwes.length > 1 ? cwes.sort().slice() : cwes.slice(),
    };
    if (kev) texts.kevEntry = kev;
    if (title) texts.title = title;
    if (description) texts.description = description;
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
    if (published) texts.published = published;
    // NVD-first, a CVSS vector decides before any rating (pickSeverity): then the matched row's
    // rating cannot change the severity, one answer serves every package, and the records can go
    if (ctx.severityPolicy === 'nvd') {
      const choice = this.severity(records, vendorSource, undefined);
      if (choice.severitySource.startsWith('cvss:')) return { records: [], texts, severity: choice };
    }
    return { records, texts };
  }
}

/**
 * Appends the non-empty strings of `values` (when an array) that `list` lacks, in order. A
 * vulnerability has a handful of references and CWEs: a scan of the list beats building a Set,
 * which takes over for the rare long lists.
 */
function addTexts(list: string[], values: unknown): void {
  if (!Array.isArray(values)) return;
  const seen = list.length + values.length > 32 ? new Set(list) : undefined;
  for (const x of values) {
    if (typeof x !== 'string' || !x || (seen ? seen.has(x) : list.includes(x))) continue;
    list.push(x);
    seen?.add(x);
  }
}

/** The per-package rating of the first hit that has one. */
const rowRating = (hits: HitGroup['hits']): VendorSeverity | undefined =>
  hits.find((h) => h.row.severity)?.row.severity;

/** The hits from `source` (the array itself when all are). */
function hitsOf(hits: HitGroup['hits'], source: string): HitGroup['hits'] {
  let n = 0;
  for (const h of hits) if (h.row.source === source) n++;
  return n === hits.length ? hits : n === 0 ? [] : hits.filter((h) => h.row.source === source);
}

/** The distinct (source, namespace, advisory id) of the hits, sorted. */
function dataSourcesOf(hits: HitGroup['hits']): Finding['dataSources'] {
  // one hit (most findings): a list of its exact length (one grown by push holds 16 slots)
  if (hits.length === 1) {
    const h = hits[0]!;
    return [{ source: h.row.source ?? '', namespace: h.row.namespace, advisoryId: h.row.vulnId }];
  }
  const out: Finding['dataSources'] = [];
  for (const h of hits) {
    const d = { source: h.row.source ?? '', namespace: h.row.namespace, advisoryId: h.row.vulnId };
    if (
      !out.some((x) => x.source === d.source && x.namespace === d.namespace && x.advisoryId === d.advisoryId)
    )
      out.push(d);
  }
  return out.length > 1
    ? out.sort(
        (a, b) => cmp(a.source, b.source) || cmp(a.namespace, b.namespace) || cmp(a.advisoryId, b.advisoryId),
      )
    : out;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
