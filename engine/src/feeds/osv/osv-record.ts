/**
 * One OSV record → one FeedRecord (pure).
 *
 * Format: https://ossf.github.io/osv-schema/ (JSON schema:
 * https://github.com/ossf/osv-schema/blob/main/validation/schema.json). Mapping decisions:
 * - `summary` → title, `details` → description; `aliases` plus `upstream` → aliases (OSV 1.7
 *   `upstream` names the records a distro record derives from — UBUNTU-CVE-x → CVE-x, CGA → CVE/GHSA —
 *   the link the matcher needs to fold a distro finding into its CVE); `related` → related.
 * - `withdrawn` set → `{type:'withdrawn'}` (the snapshot removes the id for this source).
 * - `severity[]` (and per-package `affected[].severity[]`) CVSS_V2/V3/V4 → cvss with source `ghsa`
 *   for GHSA ids, else the database named by the id prefix (databaseOf); `Ubuntu` priorities and
 *   `database_specific.severity` (GHSA, Bitnami) → vendorSeverities; AlmaLinux / Rocky advisories
 *   carry the Red Hat impact as a `Moderate: …` summary prefix → vendorSeverities.
 * - `database_specific.cwe_ids` → cwes; `references[].url` → references.
 * - `affected[]` → one AffectedPackage per entry whose ecosystem maps (ecosystems.ts) and whose
 *   namespace the calling feed owns; ranges (ECOSYSTEM/SEMVER/GIT) and their events kept as-is,
 *   `versions[]` kept; fixState `fixed` when any `fixed` event exists, else `unfixed` (a
 *   `last_affected` bound stays in the range); fixedVersion = the first `fixed` event of the
 *   non-GIT ranges (a GIT range's commit only when there is no other).
 * - Entries of other ecosystems, of another feed's namespaces, or without a package (GIT-only) are
 *   skipped and counted (stats), not malformed. A record with no affected entries (unreviewed GHSA)
 *   is still a vulnerability, with no rows.
 * - Shape errors (wrong types for fields read, unknown range type, bad events) → `malformed`.
 */
import type { FeedRecord } from '../types.js';
import type {
  AffectedPackage,
  AffectedRange,
  CvssEntry,
  FixState,
  RangeEvent,
  VendorSeverity,
  Vulnerability,
} from '../../model/vulnerability.js';
import { familyOfNamespace, mapOsvEcosystem, packageName, type OsvFamily } from './ecosystems.js';
import { addCvss, cvssFromVector, unique, vendorSeverity } from './severity.js';
import { fail, isObject, optArray, optObject, optString, optStrings, type Json } from './shape.js';

/** Counters a parse fills in (the FeedRecord stream has no place for skipped rows). */
export interface OsvParseStats {
  /** records read (JSON objects, zip entries) */
  records: number;
  vulnerabilities: number;
  withdrawn: number;
  malformed: number;
  /** affected entries that became no row: unsupported ecosystem, another feed's namespace, no package */
  skippedAffected: number;
  /** the same by ecosystem base name (`Wolfi`, `Bitnami`, `Ubuntu`…; `(no package)` for GIT-only) */
  skippedByEcosystem: Record<string, number>;
}

export function newOsvParseStats(): OsvParseStats {
  return {
    records: 0,
    vulnerabilities: 0,
    withdrawn: 0,
    malformed: 0,
    skippedAffected: 0,
    skippedByEcosystem: {},
  };
}

export interface OsvRecordOptions {
  /** keep only rows of this feed's namespaces (ecosystems.ts familyOfNamespace); default: all */
  family?: OsvFamily;
  stats?: OsvParseStats;
}

/** Database names by id prefix, used as the `source` of CVSS vectors and vendor ratings. */
const DATABASES: Readonly<Record<string, string>> = {
  GHSA: 'ghsa',
  PYSEC: 'pypa',
  GO: 'go',
  RUSTSEC: 'rustsec',
  UBUNTU: 'ubuntu',
  USN: 'ubuntu',
  LSN: 'ubuntu',
  ALSA: 'almalinux',
  ALBA: 'almalinux',
  ALEA: 'almalinux',
  RLSA: 'rocky',
  RLBA: 'rocky',
  RLEA: 'rocky',
  RXSA: 'rocky',
  CGA: 'chainguard',
  BIT: 'bitnami',
  MAL: 'ossf-malicious-packages',
  JLSEC: 'julia',
  DSA: 'debian',
  DLA: 'debian',
  DTSA: 'debian',
  DEBIAN: 'debian',
  RHSA: 'redhat',
  RHBA: 'redhat',
  RHEA: 'redhat',
  CVE: 'osv',
};

/** The database that publishes an id, from its prefix (`GHSA-…` → `ghsa`, `PYSEC-…` → `pypa`). */
export function databaseOf(id: string): string {
  const prefix = id.split('-', 1)[0] ?? '';
  return DATABASES[prefix] ?? prefix.toLowerCase();
}

const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;
const RANGE_TYPES = new Set(['ECOSYSTEM', 'SEMVER', 'GIT']);

/**
 * Maps one parsed OSV JSON document onto a FeedRecord: `vulnerability`, `withdrawn`, or
 * `malformed` (with the id as ref when there is one). Never throws.
 */
export function parseOsvRecord(doc: unknown, options: OsvRecordOptions = {}): FeedRecord {
  const stats = options.stats;
  if (stats) stats.records++;
  const ref = isObject(doc) && typeof doc.id === 'string' ? doc.id : undefined;
  try {
    const record = toRecord(doc, options);
    if (stats) {
      if (record.type === 'withdrawn') stats.withdrawn++;
      else stats.vulnerabilities++;
    }
    return record;
  } catch (e) {
    if (stats) stats.malformed++;
    const message = `OSV record${ref ? ` ${ref}` : ''}: ${(e as Error).message}`;
    return ref ? { type: 'malformed', message, ref } : { type: 'malformed', message };
  }
}

function toRecord(doc: unknown, options: OsvRecordOptions): FeedRecord {
  if (!isObject(doc)) fail('not a JSON object');
  const id = optString(doc, 'id');
  if (!id) fail('no id');
  if (optString(doc, 'withdrawn')) return { type: 'withdrawn', id };

  const source = databaseOf(id);
  const summary = optString(doc, 'summary');
  const cvss: CvssEntry[] = [];
  const vendor: VendorSeverity[] = [];
  for (const item of optArray(doc, 'severity')) readSeverity(item, source, cvss, vendor);
  const dbSpecific = optObject(doc, 'database_specific');
  const dbSeverity = dbSpecific?.severity;
  if (typeof dbSeverity === 'string' && dbSeverity) vendor.push(vendorSeverity(source, dbSeverity));
  const impact =
    summary && (source === 'almalinux' || source === 'rocky')
      ? /^(Low|Moderate|Important|Critical):/.exec(summary)
      : null;
  if (impact) vendor.push(vendorSeverity(source, impact[1]!));

  const vulnerability: Vulnerability = {
    id,
    aliases: unique([...optStrings(doc, 'aliases'), ...optStrings(doc, 'upstream')]).filter((a) => a !== id),
    cvss,
    vendorSeverities: vendor,
    cwes: cweIds(dbSpecific),
    references: references(doc),
  };
  const related = unique(optStrings(doc, 'related')).filter((r) => r !== id);
  if (related.length) vulnerability.related = related;
  if (summary) vulnerability.title = summary;
  const details = optString(doc, 'details');
  if (details) vulnerability.description = details;
  const published = optString(doc, 'published');
  if (published) vulnerability.published = published;
  const modified = optString(doc, 'modified');
  if (modified) vulnerability.modified = modified;

  const ubuntuPriority = vendor.find((v) => v.source === 'ubuntu');
  const affected: AffectedPackage[] = [];
  optArray(doc, 'affected').forEach((entry, i) => {
    const row = readAffected(entry, `affected[${i}].`, id, options, cvss, source);
    if (!row) return;
    if (ubuntuPriority && row.namespace.startsWith('ubuntu:')) row.severity = { ...ubuntuPriority };
    affected.push(row);
  });
  return { type: 'vulnerability', vulnerability, affected };
}

function readSeverity(item: unknown, source: string, cvss: CvssEntry[], vendor: VendorSeverity[]): void {
  if (!isObject(item) || typeof item.type !== 'string' || typeof item.score !== 'string')
    fail('severity entry without type and score');
  if (item.type === 'Ubuntu') vendor.push(vendorSeverity('ubuntu', item.score));
  else if (item.type === 'CVSS_V2' || item.type === 'CVSS_V3' || item.type === 'CVSS_V4')
    addCvss(cvss, cvssFromVector(item.type, item.score, source));
  // other types: not something Vigil scores; ignored
}

function cweIds(dbSpecific: Json | undefined): string[] {
  const ids = dbSpecific?.cwe_ids;
  return Array.isArray(ids) ? unique(ids.filter((c): c is string => typeof c === 'string' && c !== '')) : [];
}

function references(doc: Json): string[] {
  const urls: string[] = [];
  for (const ref of optArray(doc, 'references')) {
    if (isObject(ref) && typeof ref.url === 'string' && ref.url) urls.push(ref.url);
  }
  return unique(urls);
}

function skip(stats: OsvParseStats | undefined, ecosystem: string): undefined {
  if (stats) {
    stats.skippedAffected++;
    stats.skippedByEcosystem[ecosystem] = (stats.skippedByEcosystem[ecosystem] ?? 0) + 1;
  }
  return undefined;
}

function readAffected(
  entry: unknown,
  where: string,
  vulnId: string,
  options: OsvRecordOptions,
  cvss: CvssEntry[],
  source: string,
): AffectedPackage | undefined {
  if (!isObject(entry)) fail(`${where.slice(0, -1)} is not an object`);
  const pkg = optObject(entry, 'package', where);
  if (!pkg) return skip(options.stats, '(no package)');
  const ecosystem = optString(pkg, 'ecosystem', `${where}package.`);
  const name = optString(pkg, 'name', `${where}package.`);
  if (!ecosystem || !name) fail(`${where}package needs ecosystem and name`);
  const mapped = mapOsvEcosystem(ecosystem, optString(pkg, 'purl', `${where}package.`));
  const base = ecosystem.split(':', 1)[0]!;
  if (!mapped) return skip(options.stats, base);
  if (options.family && familyOfNamespace(mapped.namespace) !== options.family)
    return skip(options.stats, base);

  const ranges = optArray(entry, 'ranges', where).map((r, j) => readRange(r, `${where}ranges[${j}].`));
  const versions = optStrings(entry, 'versions', where);
  for (const item of optArray(entry, 'severity', where)) readSeverity(item, source, cvss, []);

  const fixed = firstFixed(ranges);
  const fixState: FixState = fixed.any ? 'fixed' : 'unfixed';
  const row: AffectedPackage = {
    vulnId,
    namespace: mapped.namespace,
    packageName: packageName(mapped.namespace, name),
    fixState,
    ranges,
  };
  if (versions.length) row.versions = [...versions];
  if (fixed.version !== undefined) row.fixedVersion = fixed.version;
  if (mapped.extra) row.extra = mapped.extra;
  return row;
}

function readRange(range: unknown, where: string): AffectedRange {
  if (!isObject(range)) fail(`${where.slice(0, -1)} is not an object`);
  const type = range.type;
  if (typeof type !== 'string' || !RANGE_TYPES.has(type))
    fail(`${where}type ${JSON.stringify(type)} is not ECOSYSTEM, SEMVER or GIT`);
  const events = optArray(range, 'events', where).map((e, k): RangeEvent => {
    if (!isObject(e)) fail(`${where}events[${k}] is not an object`);
    const keys = EVENT_KEYS.filter((key) => e[key] !== undefined);
    const key = keys[0];
    if (keys.length !== 1 || key === undefined || typeof e[key] !== 'string')
      fail(`${where}events[${k}] needs exactly one of introduced, fixed, last_affected, limit (a string)`);
    return { [key]: e[key] } as RangeEvent;
  });
  if (events.length === 0) fail(`${where}events is empty`);
  return { type: type as AffectedRange['type'], events };
}

function firstFixed(ranges: AffectedRange[]): { any: boolean; version?: string } {
  const fixedOf = (r: AffectedRange) => r.events.find((e): e is { fixed: string } => 'fixed' in e)?.fixed;
  let gitFix: string | undefined;
  for (const r of ranges) {
    const f = fixedOf(r);
    if (f === undefined) continue;
    if (r.type !== 'GIT') return { any: true, version: f };
    gitFix ??= f;
  }
  return gitFix === undefined ? { any: false } : { any: true, version: gitFix };
}
