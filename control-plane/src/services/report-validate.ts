/**
 * Strict validation of an uploaded Vigil JSON report, schemaVersion 1 (ARCHITECTURE §5; the engine's JSON
 * Schema is engine/src/report/schemas/vigil-report-1.schema.json, whose rules this mirrors: required fields,
 * no unknown fields, enums, ranges). Beyond the schema, the summary must count the vulnerabilities it comes
 * with, so a truncated or edited upload is refused rather than recorded wrong.
 * Every problem is CP_REPORT_INVALID naming the JSON path of the first bad value.
 */
import { ECOSYSTEMS, SEVERITIES } from '@vigil/engine/core';
import type { VigilReport } from '@vigil/engine/core';
import { ControlPlaneError } from '../errors.js';

type Json = Record<string, unknown>;

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const PURL = /^pkg:[a-z][a-z0-9.+-]*\//;
const SEVERITY_SOURCE = /^(?:cvss:.+|vendor:.+|none)$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;
const STATUSES = ['fixed', 'unfixed', 'will-not-fix', 'deferred', 'not-affected'];
const ARTIFACT_KINDS = ['registry', 'docker-archive', 'oci-layout', 'rootfs', 'sbom'];
const CVSS_VERSIONS = ['2.0', '3.0', '3.1', '4.0'];
const COUNT_KEYS = ['critical', 'high', 'medium', 'low', 'unknown'] as const;

function invalid(path: string, problem: string): ControlPlaneError {
  return new ControlPlaneError('CP_REPORT_INVALID', `report${path}: ${problem}`);
}

function object(
  value: unknown,
  path: string,
  required: readonly string[],
  optional: readonly string[] = [],
): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(path, 'must be an object');
  const json = value as Json;
  const missing = required.find((k) => !Object.hasOwn(json, k));
  if (missing !== undefined) throw invalid(`${path}.${missing}`, 'is required');
  const unknown = Object.keys(json).find((k) => !required.includes(k) && !optional.includes(k));
  if (unknown !== undefined)
    throw invalid(`${path}.${unknown}`, 'is not a field of a schemaVersion 1 report');
  return json;
}

function string(
  value: unknown,
  path: string,
  rule?: { minLength?: number; pattern?: RegExp; oneOf?: readonly string[] },
): string {
  if (typeof value !== 'string') throw invalid(path, 'must be a string');
  if (rule?.minLength !== undefined && value.length < rule.minLength)
    throw invalid(path, 'must not be empty');
  if (rule?.pattern && !rule.pattern.test(value))
    throw invalid(path, `does not match ${rule.pattern.source}`);
  if (rule?.oneOf && !rule.oneOf.includes(value))
    throw invalid(path, `must be one of ${rule.oneOf.join(', ')}`);
  return value;
}

function optionalString(json: Json, key: string, path: string, rule?: Parameters<typeof string>[2]): void {
  if (Object.hasOwn(json, key)) string(json[key], `${path}.${key}`, rule);
}

function number(value: unknown, path: string, min: number, max: number, nullable = false): void {
  if (nullable && value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(path, `must be a number from ${min} to ${max}${nullable ? ' or null' : ''}`);
  }
}

function count(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(path, 'must be a non-negative integer');
  }
  return value;
}

function array(value: unknown, path: string, item: (v: unknown, path: string) => void): void {
  if (!Array.isArray(value)) throw invalid(path, 'must be an array');
  value.forEach((v, i) => item(v, `${path}[${i}]`));
}

const strings = (value: unknown, path: string): void => array(value, path, (v, p) => string(v, p));

function artifact(value: unknown, path: string): void {
  const a = object(
    value,
    path,
    ['name'],
    ['digest', 'os', 'kind', 'configDigest', 'repoTags', 'repoDigests'],
  );
  string(a.name, `${path}.name`, { minLength: 1 });
  optionalString(a, 'digest', path, { pattern: DIGEST });
  optionalString(a, 'configDigest', path, { pattern: DIGEST });
  optionalString(a, 'kind', path, { oneOf: ARTIFACT_KINDS });
  if (Object.hasOwn(a, 'os')) {
    const os = object(a.os, `${path}.os`, ['family', 'version']);
    string(os.family, `${path}.os.family`);
    string(os.version, `${path}.os.version`);
  }
  if (Object.hasOwn(a, 'repoTags')) strings(a.repoTags, `${path}.repoTags`);
  if (Object.hasOwn(a, 'repoDigests')) strings(a.repoDigests, `${path}.repoDigests`);
}

function reportPackage(value: unknown, path: string): void {
  const p = object(
    value,
    path,
    ['name', 'version', 'ecosystem', 'purl'],
    ['srcName', 'srcVersion', 'layer', 'path'],
  );
  string(p.name, `${path}.name`, { minLength: 1 });
  string(p.version, `${path}.version`);
  string(p.ecosystem, `${path}.ecosystem`, { oneOf: ECOSYSTEMS });
  if (p.purl !== '') string(p.purl, `${path}.purl`, { pattern: PURL });
  for (const key of ['srcName', 'srcVersion', 'layer', 'path']) optionalString(p, key, path);
}

const VULNERABILITY_REQUIRED = [
  'id',
  'aliases',
  'pkgName',
  'ecosystem',
  'installedVersion',
  'fixedVersion',
  'status',
  'severity',
  'cvss',
  'kev',
  'epss',
  'references',
  'severitySource',
  'epssPercentile',
  'cwes',
  'dataSources',
];
const VULNERABILITY_OPTIONAL = ['title', 'pkgPath', 'purl', 'layer', 'srcName', 'published', 'description'];

function vulnerability(value: unknown, path: string): void {
  const v = object(value, path, VULNERABILITY_REQUIRED, VULNERABILITY_OPTIONAL);
  string(v.id, `${path}.id`, { minLength: 1 });
  strings(v.aliases, `${path}.aliases`);
  string(v.pkgName, `${path}.pkgName`);
  string(v.ecosystem, `${path}.ecosystem`, { oneOf: ECOSYSTEMS });
  string(v.installedVersion, `${path}.installedVersion`);
  if (v.fixedVersion !== null) string(v.fixedVersion, `${path}.fixedVersion`);
  string(v.status, `${path}.status`, { oneOf: STATUSES });
  string(v.severity, `${path}.severity`, { oneOf: SEVERITIES });
  if (v.cvss !== null) {
    const c = object(v.cvss, `${path}.cvss`, ['version', 'vector', 'score', 'source']);
    string(c.version, `${path}.cvss.version`, { oneOf: CVSS_VERSIONS });
    string(c.vector, `${path}.cvss.vector`);
    number(c.score, `${path}.cvss.score`, 0, 10);
    string(c.source, `${path}.cvss.source`);
  }
  if (typeof v.kev !== 'boolean') throw invalid(`${path}.kev`, 'must be a boolean');
  number(v.epss, `${path}.epss`, 0, 1, true);
  number(v.epssPercentile, `${path}.epssPercentile`, 0, 1, true);
  strings(v.references, `${path}.references`);
  strings(v.cwes, `${path}.cwes`);
  string(v.severitySource, `${path}.severitySource`, { pattern: SEVERITY_SOURCE });
  array(v.dataSources, `${path}.dataSources`, (d, p) => {
    const ds = object(d, p, ['source', 'namespace', 'advisoryId']);
    for (const key of ['source', 'namespace', 'advisoryId']) string(ds[key], `${p}.${key}`);
  });
  optionalString(v, 'purl', path, { pattern: PURL });
  for (const key of ['title', 'pkgPath', 'layer', 'srcName', 'published', 'description'])
    optionalString(v, key, path);
}

function remediation(value: unknown, path: string): void {
  const r = object(
    value,
    path,
    ['pkgName', 'ecosystem', 'installedVersion', 'fixedVersion', 'fixes', 'bySeverity', 'ids'],
    ['pkgPath'],
  );
  string(r.pkgName, `${path}.pkgName`);
  string(r.ecosystem, `${path}.ecosystem`, { oneOf: ECOSYSTEMS });
  string(r.installedVersion, `${path}.installedVersion`);
  string(r.fixedVersion, `${path}.fixedVersion`);
  optionalString(r, 'pkgPath', path);
  count(r.fixes, `${path}.fixes`);
  const by = object(r.bySeverity, `${path}.bySeverity`, COUNT_KEYS);
  for (const key of COUNT_KEYS) count(by[key], `${path}.bySeverity.${key}`);
  strings(r.ids, `${path}.ids`);
}

const messageList = (value: unknown, path: string, keys: readonly string[]): void =>
  array(value, path, (item, p) => {
    const m = object(item, p, keys);
    for (const key of keys) string(m[key], `${p}.${key}`);
  });

/**
 * The report, checked field by field: a VigilReport of schemaVersion 1 whose summary counts its
 * vulnerabilities. Throws CP_REPORT_INVALID naming the first bad value.
 */
export function validateReport(value: unknown): VigilReport {
  const r = object(value, '', [
    'schemaVersion',
    'artifact',
    'db',
    'packages',
    'vulnerabilities',
    'unknowns',
    'summary',
    'status',
    'scannedAt',
    'remediations',
    'warnings',
  ]);
  if (r.schemaVersion !== 1) throw invalid('.schemaVersion', 'must be 1');
  artifact(r.artifact, '.artifact');
  if (r.db !== null) {
    const db = object(r.db, '.db', ['version', 'builtAt']);
    string(db.version, '.db.version', { minLength: 1 });
    string(db.builtAt, '.db.builtAt', { pattern: DATE_TIME });
  }
  array(r.packages, '.packages', reportPackage);
  array(r.vulnerabilities, '.vulnerabilities', vulnerability);
  messageList(r.unknowns, '.unknowns', ['path', 'message']);
  const summary = object(r.summary, '.summary', [...COUNT_KEYS, 'total']);
  for (const key of [...COUNT_KEYS, 'total']) count(summary[key], `.summary.${key}`);
  string(r.status, '.status', { oneOf: ['succeeded', 'partial'] });
  string(r.scannedAt, '.scannedAt', { pattern: DATE_TIME });
  array(r.remediations, '.remediations', remediation);
  messageList(r.warnings, '.warnings', ['code', 'message']);

  const report = value as VigilReport;
  const actual = {
    critical: 0,
    high: 0,
    medium: 0,
    low: 0,
    unknown: 0,
    total: report.vulnerabilities.length,
  };
  for (const v of report.vulnerabilities)
    actual[v.severity.toLowerCase() as (typeof COUNT_KEYS)[number]] += 1;
  const wrong = (Object.keys(actual) as (keyof typeof actual)[]).find((k) => actual[k] !== report.summary[k]);
  if (wrong !== undefined) {
    throw invalid(
      `.summary.${wrong}`,
      `is ${report.summary[wrong]} but the vulnerabilities count ${actual[wrong]}`,
    );
  }
  return report;
}
