/**
 * Mapping between the engine's model and the analytics tables' rows (migrations.ts), with the input checks every
 * store method runs first: ids are non-empty strings of at most {@link MAX_ID_LENGTH} characters (any content:
 * values are bound, never spliced), attempts positive 32-bit integers, dates within DateTime64's range.
 */
import { createHash } from 'node:crypto';
import { SEVERITIES, type Finding, type OsRelease, type Package, type Severity } from '@vigil/engine';
import { ControlPlaneError } from '../errors.js';
import type { Row } from './driver.js';
import type { ImageScanSummary, SeverityCounts } from './types.js';

export const MAX_ID_LENGTH = 512;
const MAX_ATTEMPT = 0xffff_ffff;
/** DateTime64(3) covers 1900-01-01 … 2299-12-31. */
const MIN_TIME = Date.UTC(1900, 0, 1);
const MAX_TIME = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

/** 0 CRITICAL … 4 UNKNOWN: the order findings sort in (worst first). */
export function severityRank(severity: Severity): number {
  const rank = SEVERITIES.indexOf(severity);
  if (rank < 0) throw invalid(`severity ${JSON.stringify(severity)} is not one of ${SEVERITIES.join(', ')}`);
  return rank;
}

/** A UTF-16 surrogate without its pair: not Unicode text, and not storable as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE, 'g');

export function checkId(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
    throw invalid(`${what} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  // Rejected rather than repaired: two ids differing only there would become one.
  if (LONE_SURROGATE.test(value)) throw invalid(`${what} is not well-formed Unicode (a lone surrogate)`);
  return value;
}

/**
 * Text for the filter columns: lone surrogates become U+FFFD (ClickHouse rejects them in JSON input). The
 * finding's own JSON keeps the original, escaped.
 */
function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATES, '\uFFFD');
}

export function checkIds(what: string, values: unknown): string[] {
  if (!Array.isArray(values)) throw invalid(`${what} must be an array of ids`);
  return values.map((v, i) => checkId(`${what}[${i}]`, v));
}

export function checkAttempt(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_ATTEMPT) {
    throw invalid(`attempt must be an integer from 1 to ${MAX_ATTEMPT}`);
  }
  return value;
}

/** A Date as ClickHouse's DateTime64(3, 'UTC') text: `2024-05-01 12:00:00.000`. */
export function toDateTime(what: string, value: unknown): string {
  if (
    !(value instanceof Date) ||
    Number.isNaN(value.getTime()) ||
    value.getTime() < MIN_TIME ||
    value.getTime() > MAX_TIME
  ) {
    throw invalid(`${what} must be a valid date between 1900 and 2299`);
  }
  return value.toISOString().replace('T', ' ').replace('Z', '');
}

/** The inverse of {@link toDateTime}. */
export function fromDateTime(text: string): Date {
  return new Date(`${text.replace(' ', 'T')}Z`);
}

/** What tells two packages of one name apart: JSON of [ecosystem, version, path, purl, layer]. */
export function packageKey(pkg: Package): string {
  return JSON.stringify([pkg.ecosystem, pkg.version, pkg.path ?? '', pkg.purl ?? '', pkg.layer ?? '']);
}

export function packageRow(orgId: string, scanId: string, attempt: number, pkg: Package, index: number): Row {
  checkPackage(`packages[${index}]`, pkg);
  return {
    org_id: orgId,
    scan_id: scanId,
    attempt,
    name: wellFormed(pkg.name),
    package_key: wellFormed(packageKey(pkg)),
    package: JSON.stringify(pkg),
  };
}

export function findingRow(
  orgId: string,
  scanId: string,
  attempt: number,
  finding: Finding,
  index: number,
): Row {
  const what = `findings[${index}]`;
  if (typeof finding !== 'object' || finding === null) throw invalid(`${what} must be a finding object`);
  checkId(`${what}.id`, finding.id);
  if (!Array.isArray(finding.aliases) || !finding.aliases.every((a) => typeof a === 'string')) {
    throw invalid(`${what}.aliases must be an array of strings`);
  }
  checkPackage(`${what}.package`, finding.package);
  return {
    org_id: orgId,
    scan_id: scanId,
    attempt,
    severity_rank: severityRank(finding.severity),
    id: finding.id,
    aliases: finding.aliases.map(wellFormed),
    package_name: wellFormed(finding.package.name),
    package_key: wellFormed(packageKey(finding.package)),
    fixable: typeof finding.fixedVersion === 'string',
    title: typeof finding.title === 'string' ? wellFormed(finding.title) : '',
    finding: JSON.stringify(finding),
  };
}

/**
 * Names the derivation of rows from their JSON column (packageRow, findingRow) inside every rows digest: change it
 * when a derived column's meaning changes, so that no new attempt reuses rows derived the old way.
 */
const ROWS_DIGEST_VERSION = 'vigil-analytics-rows-1';

/**
 * Content digest of one kind of an attempt's rows: SHA-256 over the rows' JSON column (`package` or `finding`, from
 * which every other column is derived), sorted so the order the rows arrived in does not count, each line ended by
 * a newline (JSON text has none of its own). Equal digests: identical rows, repeats included.
 */
export function rowsDigest(rows: readonly Row[], column: 'package' | 'finding'): string {
  const hash = createHash('sha256').update(`${ROWS_DIGEST_VERSION}\n${column}\n`);
  for (const text of rows.map((r) => String(r[column])).sort()) hash.update(text).update('\n');
  return hash.digest('hex');
}

function checkPackage(what: string, pkg: Package): void {
  if (
    typeof pkg !== 'object' ||
    pkg === null ||
    typeof pkg.name !== 'string' ||
    typeof pkg.version !== 'string'
  ) {
    throw invalid(`${what} must be a package with a name and a version`);
  }
}

/** Severity counts from count columns (ClickHouse prints 64-bit sums as strings). */
export function severityCounts(row: Row): SeverityCounts {
  const counts = {
    critical: Number(row.critical ?? 0),
    high: Number(row.high ?? 0),
    medium: Number(row.medium ?? 0),
    low: Number(row.low ?? 0),
    unknown: Number(row.unknown ?? 0),
  };
  return { ...counts, total: counts.critical + counts.high + counts.medium + counts.low + counts.unknown };
}

export function osToColumn(os: OsRelease | null): string {
  return os === null ? '' : JSON.stringify(os);
}

/** An `image_latest` row as the contract's summary. */
export function summaryFromRow(row: Row): ImageScanSummary {
  return {
    imageId: String(row.image_id),
    scanId: String(row.scan_id),
    attempt: Number(row.attempt),
    completedAt: fromDateTime(String(row.completed_at)),
    os: row.os === '' || row.os === undefined ? null : (JSON.parse(String(row.os)) as OsRelease),
    counts: severityCounts(row),
    fixable: Number(row.fixable),
    packages: Number(row.packages),
  };
}

export function invalid(message: string): ControlPlaneError {
  return new ControlPlaneError('CP_INVALID_ARGUMENT', message);
}
