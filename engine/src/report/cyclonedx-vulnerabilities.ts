/**
 * The `vulnerabilities` of a CycloneDX 1.6 BOM (https://cyclonedx.org/docs/1.6/json/#vulnerabilities)
 * from findings. One entry per (id, status, fixed version): the packages of one source package
 * (libcrypto3 and libssl3 from openssl) share an entry, as Trivy groups them, and an entry never
 * mixes statuses, since `analysis` applies to all of its `affects`.
 *
 * Status mapping (the BOM describes the installed packages, whose fix the scan cannot confirm):
 * - fixed: `analysis.response: [update]`, `recommendation` names the upgrade;
 * - unfixed: `response: [can_not_fix]`, detail "no fixed version is available";
 * - will-not-fix: `response: [will_not_fix]`;
 * - deferred: `state: in_triage`, `response: [can_not_fix]`, detail "the vendor deferred the fix";
 * - not-affected: `state: not_affected`, affected versions marked `unaffected`.
 * Findings keep their own facts in `vigil:` properties (status, fixedVersion, kev, epss…).
 */
import { Enums, Models } from '@cyclonedx/cyclonedx-library';
import type { Finding } from '../model/finding.js';
import type { Severity } from '../model/severity.js';
import { advisoryUrl, compareFindings, isWebUrl } from './findings.js';
import { compareText } from './packages.js';
import { packageId } from './unique-ids.js';

const V = Models.Vulnerability;
const E = Enums.Vulnerability;

const SEVERITY: Record<Severity, Enums.Vulnerability.Severity> = {
  CRITICAL: E.Severity.Critical,
  HIGH: E.Severity.High,
  MEDIUM: E.Severity.Medium,
  LOW: E.Severity.Low,
  UNKNOWN: E.Severity.Unknown,
};

const METHOD: Record<string, Enums.Vulnerability.RatingMethod> = {
  '2.0': E.RatingMethod.CVSSv2,
  '3.0': E.RatingMethod.CVSSv3,
  '3.1': E.RatingMethod.CVSSv31,
  '4.0': E.RatingMethod.CVSSv4,
};

function sourceOf(id: string, f: Finding): Models.Vulnerability.Source {
  const url = advisoryUrl(id);
  const name = id.startsWith('CVE-')
    ? 'NVD'
    : id.startsWith('GHSA-')
      ? 'GitHub'
      : (f.dataSources[0]?.source ?? 'vigil');
  return new V.Source(url ? { name, url } : { name });
}

function ratingsOf(findings: readonly Finding[]): Models.Vulnerability.Rating[] {
  const seen = new Set<string>();
  const out: Models.Vulnerability.Rating[] = [];
  const add = (key: string, r: Models.Vulnerability.Rating) => {
    if (!seen.has(key)) {
      seen.add(key);
      out.push(r);
    }
  };
  for (const f of findings) {
    if (f.cvss) {
      const c = f.cvss;
      add(
        `cvss|${c.source}|${c.vector}`,
        new V.Rating({
          source: new V.Source({ name: c.source }),
          score: c.score,
          severity: f.severitySource.startsWith('cvss:') ? SEVERITY[f.severity] : undefined,
          method: METHOD[c.version] ?? E.RatingMethod.Other,
          vector: c.vector,
        }),
      );
    }
    if (f.vendorSeverity) {
      const v = f.vendorSeverity;
      add(
        `vendor|${v.source}|${v.rating}`,
        new V.Rating({
          source: new V.Source({ name: v.source }),
          severity: SEVERITY[v.severity],
          method: E.RatingMethod.Other,
          justification: `${v.source} rates it ${v.rating}`,
        }),
      );
    }
    if (!f.cvss && !f.vendorSeverity && f.severity !== 'UNKNOWN') {
      add(
        `vigil|${f.severity}`,
        new V.Rating({ severity: SEVERITY[f.severity], method: E.RatingMethod.Other }),
      );
    }
  }
  return out;
}

function analysisOf(f: Finding): Models.Vulnerability.Analysis {
  switch (f.status) {
    case 'fixed':
      return new V.Analysis({ response: new E.AnalysisResponseRepository([E.AnalysisResponse.Update]) });
    case 'unfixed':
      return new V.Analysis({
        response: new E.AnalysisResponseRepository([E.AnalysisResponse.CanNotFix]),
        detail: 'no fixed version is available',
      });
    case 'will-not-fix':
      return new V.Analysis({
        response: new E.AnalysisResponseRepository([E.AnalysisResponse.WillNotFix]),
        detail: 'the vendor will not fix this vulnerability in this release',
      });
    case 'deferred':
      return new V.Analysis({
        state: E.AnalysisState.InTriage,
        response: new E.AnalysisResponseRepository([E.AnalysisResponse.CanNotFix]),
        detail: 'the vendor deferred the fix',
      });
    case 'not-affected':
      return new V.Analysis({
        state: E.AnalysisState.NotAffected,
        detail: 'the vendor states the package is not affected',
      });
  }
}

function cweNumbers(cwes: readonly string[]): number[] {
  const out = new Set<number>();
  for (const c of cwes) {
    const m = /^CWE-(\d{1,9})$/.exec(c.trim());
    if (m) out.add(Number(m[1]));
  }
  return [...out].sort((a, b) => a - b);
}

// ISO 8601 date or date-time as feeds write it; NVD leaves the zone out (its times are UTC)
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** The time of an ISO 8601 string, undefined when it is not one (or not within years 1-9999). */
function validDate(s: string | undefined): Date | undefined {
  const m = s ? ISO_TIME.exec(s.trim()) : null;
  if (!m) return undefined;
  const d = new Date(m[1] ? s!.trim() : `${s!.trim()}${s!.includes(':') ? 'Z' : ''}`);
  const year = d.getUTCFullYear();
  return Number.isNaN(d.getTime()) || year < 1 || year > 9999 ? undefined : d;
}

function prop(name: string, value: string | number | boolean | null | undefined): Models.Property[] {
  return value === undefined || value === null || value === ''
    ? []
    : [new Models.Property(name, String(value))];
}

/**
 * Builds the vulnerability entries of `findings`, most severe first (then id). `refOf` gives the
 * bom-ref of a finding's package component (keyed by packageId); a finding whose package is not
 * a component keeps its entry without that `affects` item. bom-refs are
 * `vigil:vulnerability:<id>`, with `#2`, `#3`… for further entries of the same id.
 */
export function cycloneDxVulnerabilities(
  findings: readonly Finding[],
  refOf: ReadonlyMap<string, Models.BomRef>,
): Models.Vulnerability.Vulnerability[] {
  const groups = new Map<string, Finding[]>();
  for (const f of [...findings].sort(compareFindings('severity'))) {
    const key = JSON.stringify([f.id, f.status, f.fixedVersion]);
    const g = groups.get(key);
    if (g) g.push(f);
    else groups.set(key, [f]);
  }
  const perId = new Map<string, number>();
  const out: Models.Vulnerability.Vulnerability[] = [];
  for (const group of groups.values()) {
    const f = group[0]!;
    const n = (perId.get(f.id) ?? 0) + 1;
    perId.set(f.id, n);
    const v = new V.Vulnerability({
      bomRef: `vigil:vulnerability:${f.id}${n > 1 ? `#${n}` : ''}`,
      id: f.id,
      source: sourceOf(f.id, f),
      description: f.title ?? f.description,
      analysis: analysisOf(f),
    });
    if (f.title && f.description) v.detail = f.description;
    const published = validDate(f.published);
    if (published) v.published = published;
    for (const r of ratingsOf(group)) v.ratings.add(r);
    for (const c of cweNumbers(group.flatMap((g) => g.cwes))) v.cwes.add(c);
    for (const alias of [...new Set(group.flatMap((g) => g.aliases))].sort(compareText)) {
      v.references.add(new V.Reference(alias, sourceOf(alias, f)));
    }
    for (const url of [...new Set(group.flatMap((g) => g.references))]) {
      if (isWebUrl(url)) v.advisories.add(new V.Advisory(url));
    }
    if (f.status === 'fixed' && f.fixedVersion) {
      const names = [...new Set(group.map((g) => g.package.name))].sort(compareText).join(', ');
      v.recommendation = `Upgrade ${names} to ${f.fixedVersion}`;
    }
    for (const g of group) {
      const ref = refOf.get(packageId(g.package));
      if (!ref) continue;
      const status = g.status === 'not-affected' ? E.AffectStatus.Unaffected : E.AffectStatus.Affected;
      v.affects.add(
        new V.Affect(ref, {
          versions: new V.AffectedVersionRepository([
            new V.AffectedSingleVersion(g.installedVersion, { status }),
          ]),
        }),
      );
    }
    for (const p of [
      ...prop('vigil:status', f.status),
      ...prop('vigil:fixedVersion', f.fixedVersion),
      ...prop('vigil:severity', f.severity),
      ...prop('vigil:severitySource', f.severitySource),
      ...prop('vigil:kev', f.kev),
      ...prop('vigil:kev:dateAdded', f.kevEntry?.dateAdded),
      ...prop('vigil:epss', f.epss),
      ...prop('vigil:epssPercentile', f.epssPercentile),
      ...[
        ...new Set(
          group.flatMap((g) => g.dataSources.map((d) => `${d.source} ${d.namespace} ${d.advisoryId}`)),
        ),
      ].flatMap((d) => prop('vigil:dataSource', d)),
    ]) {
      v.properties.add(p);
    }
    out.push(v);
  }
  return out;
}
