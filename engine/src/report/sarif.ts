/**
 * SARIF 2.1.0 (`--format sarif`, https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html)
 * in the subset GitHub code scanning reads
 * (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning):
 * - one rule per vulnerability id (short/full description, help text and markdown, helpUri,
 *   `properties.security-severity` = the CVSS base score as a string, tags);
 * - one result per (package, vulnerability) with `level` from the severity, one location: the
 *   package's file (language packages) or the image repository (OS packages), plus a logical
 *   location naming the package;
 * - `partialFingerprints` from (rule, ecosystem, package, location) so re-uploads dedupe.
 * Validated in tests against the official schema (schemas/sarif-schema-2.1.0.json).
 */
import { createHash } from 'node:crypto';
import type { Finding } from '../model/finding.js';
import { OS_ECOSYSTEMS } from '../model/package.js';
import type { ScannedArtifact } from '../model/scan.js';
import type { Severity } from '../model/severity.js';
import {
  advisoryUrl,
  asVulnerabilityResult,
  displayTitle,
  severityRank,
  sortFindings,
  type FindingSort,
  type ReportInput,
} from './findings.js';
import { REPORT_TOOL, purlOf } from './packages.js';
import { sarifHelp, sarifMessage } from './sarif-text.js';
import { oneLine } from './text.js';

export interface SarifOptions {
  /** Result order. Default `severity`. */
  sort?: FindingSort;
}

type Level = 'error' | 'warning' | 'note';
const LEVEL: Record<Severity, Level> = {
  CRITICAL: 'error',
  HIGH: 'error',
  MEDIUM: 'warning',
  LOW: 'note',
  UNKNOWN: 'note',
};

// GitHub maps security-severity > 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low;
// findings rated without a CVSS score get a score inside their band (Trivy's values).
const BAND_SCORE: Partial<Record<Severity, number>> = { CRITICAL: 9.5, HIGH: 8.0, MEDIUM: 5.5, LOW: 2.0 };

/** The security-severity of a finding: its CVSS score, else its severity band; undefined for UNKNOWN. */
export function securitySeverity(f: Pick<Finding, 'cvss' | 'severity'>): number | undefined {
  return f.cvss ? f.cvss.score : BAND_SCORE[f.severity];
}

// RFC 3986: keep unreserved, sub-delims, ':' '@' '/'; percent-encode the rest (UTF-8). A ':' in
// the first segment would read as a scheme, so it is encoded there.
function uriPath(path: string): string {
  const bytes = (c: string) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  const encoded = Array.from(path.replace(/^\/+/, ''))
    .map((c) => (/^[A-Za-z0-9\-._~!$&'()*+,;=:@/]$/.test(c) ? c : bytes(c)))
    .join('');
  const slash = encoded.indexOf('/');
  const first = slash < 0 ? encoded : encoded.slice(0, slash);
  return first.replaceAll(':', '%3A') + (slash < 0 ? '' : encoded.slice(slash));
}

/** The image repository without tag or digest (`ghcr.io/o/r:1@sha256:…` → `ghcr.io/o/r`), else the name. */
function repositoryOf(name: string): string {
  const noDigest = name.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > lastSlash ? noDigest.slice(0, colon) : noDigest;
}

/** Where OS packages are located: the image repository (registry refs, else the first repo tag), else the scanned path. */
function imageName(artifact: ScannedArtifact): string {
  if (artifact.kind === 'registry') return repositoryOf(artifact.name);
  const tag = artifact.repoTags?.[0];
  return tag ? repositoryOf(tag) : artifact.name;
}

interface Rule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  defaultConfiguration: { level: Level };
  helpUri?: string;
  help: { text: string; markdown: string };
  properties: { tags: string[]; precision: string; 'security-severity'?: string };
}

function ruleOf(findings: readonly Finding[]): Rule {
  // the most severe finding of this id speaks for the rule
  const top = [...findings].sort((a, b) => severityRank(a.severity) - severityRank(b.severity))[0]!;
  const scores = findings.map(securitySeverity).filter((s): s is number => s !== undefined);
  const url = advisoryUrl(top.id, top.references);
  const title = oneLine(displayTitle(top)) || top.id;
  const rule: Rule = {
    id: top.id,
    name: OS_ECOSYSTEMS.has(top.package.ecosystem)
      ? 'OsPackageVulnerability'
      : 'LanguagePackageVulnerability',
    shortDescription: { text: title },
    fullDescription: { text: top.description?.trim() || title },
    defaultConfiguration: { level: LEVEL[top.severity] ?? 'note' },
    help: sarifHelp(top, url),
    properties: { tags: ['vulnerability', 'security', top.severity], precision: 'very-high' },
  };
  if (url) rule.helpUri = url;
  if (scores.length > 0) rule.properties['security-severity'] = Math.max(...scores).toFixed(1);
  return rule;
}

/**
 * Renders `input` as a SARIF 2.1.0 log (2-space indented JSON, no trailing newline). An
 * inventory-only scan gives a run with no rules and no results. Deterministic.
 */
export function toSarif(input: ReportInput, options: SarifOptions = {}): string {
  const result = asVulnerabilityResult(input);
  const findings = sortFindings(result.findings, options.sort);
  const byId = new Map<string, Finding[]>();
  for (const f of findings) {
    const same = byId.get(f.id);
    if (same) same.push(f);
    else byId.set(f.id, [f]);
  }
  const ids = [...byId.keys()].sort();
  const rules = ids.map((id) => ruleOf(byId.get(id)!));
  const ruleIndex = new Map(ids.map((id, i) => [id, i]));
  const imageUri = uriPath(imageName(result.artifact)) || 'artifact';

  const results = findings.map((f) => {
    const pkg = f.package;
    const os = OS_ECOSYSTEMS.has(pkg.ecosystem);
    const uri = os || !pkg.path ? imageUri : uriPath(pkg.path);
    const purl = purlOf(pkg, result.os);
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([f.id, pkg.ecosystem, pkg.name, os ? imageUri : (pkg.path ?? '')]))
      .digest('hex');
    const r: Record<string, unknown> = {
      ruleId: f.id,
      ruleIndex: ruleIndex.get(f.id),
      level: LEVEL[f.severity] ?? 'note',
      message: { text: sarifMessage(f) },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri, uriBaseId: 'ROOTPATH' },
            region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
          },
          logicalLocations: [
            {
              name: pkg.name,
              fullyQualifiedName: purl || `${pkg.ecosystem}/${pkg.name}@${pkg.version}`,
              kind: 'package',
            },
          ],
          message: { text: `${uri}: ${pkg.name}@${f.installedVersion}` },
        },
      ],
      // GitHub keys alerts on primaryLocationLineHash; there is no source line here, so the
      // package identity stands in for it (stable across versions of the same package)
      partialFingerprints: { primaryLocationLineHash: fingerprint, 'vigil/v1': fingerprint },
      properties: {
        status: f.status,
        installedVersion: f.installedVersion,
        fixedVersion: f.fixedVersion,
        ...(purl ? { purl } : {}),
        kev: f.kev,
        epss: f.epss,
      },
    };
    if (f.status === 'not-affected') {
      r.suppressions = [
        { kind: 'external', justification: 'the vendor states this package is not affected' },
      ];
    }
    return r;
  });

  const properties: Record<string, unknown> = {
    artifactName: result.artifact.name,
    artifactKind: result.artifact.kind,
  };
  if (result.artifact.digest) properties.digest = result.artifact.digest;
  if (result.artifact.repoTags?.length) properties.repoTags = result.artifact.repoTags;
  if (result.artifact.repoDigests?.length) properties.repoDigests = result.artifact.repoDigests;
  if (result.os) properties.os = { family: result.os.family, version: result.os.version };
  if (result.db) properties.db = { version: result.db.version, builtAt: result.db.builtAt };
  if (result.warnings.length)
    properties.warnings = result.warnings.map((w) => ({ code: w.code, message: w.message }));

  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: REPORT_TOOL.name,
            fullName: 'Vigil vulnerability scanner',
            version: REPORT_TOOL.version,
            semanticVersion: REPORT_TOOL.version,
            rules,
          },
        },
        results,
        columnKind: 'utf16CodeUnits',
        originalUriBaseIds: { ROOTPATH: { uri: 'file:///' } },
        properties,
      },
    ],
  };
  return JSON.stringify(log, null, 2);
}
