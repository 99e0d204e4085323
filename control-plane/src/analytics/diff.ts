/**
 * Scan diff: the findings of one published attempt that its predecessor did not have (new) and those of the
 * predecessor it no longer has (resolved), read from the `findings` and `packages` rows of the two attempts. Only
 * published attempts' rows count (an attempt absent from `scan_summaries` reads as empty).
 *
 * A finding is keyed by its vulnerability and its package's identity: ecosystem, name and location (the path
 * with the package's own version taken out, so `site-packages/requests-2.31.0.dist-info/METADATA` and the
 * upgrade's `…-2.32.3.dist-info/…` are one package; version, purl and layer are left out for the same reason).
 * Two findings of one package are the same vulnerability when their id or an alias is shared (a GHSA reported
 * under its CVE once the CVE is assigned is not "new"). Each entry says why it changed: the package was added or
 * removed, its version changed, or neither (`database-changed`: the vulnerability data changed under the same
 * package, e.g. a rematch against a newer snapshot). A resolved entry names the installed version that resolved it
 * (the package's version in the newer scan: what the console shows as "Fixed In"), null with `removed` when the
 * package is gone.
 *
 * The diff is computed from the two attempts' keys (no finding JSON), sorted, and paged with a keyset cursor;
 * only the page's findings are read in full. Published attempts never change, so pages are stable. Each attempt's
 * rows are read where `scan_summaries` says they are held (itself, or the attempt a rematch scan shares them with).
 */
import type { Finding } from '@vigil/engine';
import { ControlPlaneError } from '../errors.js';
import { decodeCursor, encodeCursor, pageLimit } from '../store/postgres/cursor.js';
import type { ClickHouseDriver, QueryParams, Row } from './driver.js';
import type { AttemptRef } from './queries.js';
import { checkAttempt, checkId, severityCounts } from './rows.js';
import type { SeverityCounts } from './types.js';

/** Why a finding is new: its package is new, its package's version changed, or the vulnerability data did. */
export type NewReason = 'package-added' | 'version-changed' | 'database-changed';
/** Why a finding is resolved: its package is gone, its package's version changed, or the vulnerability data did. */
export type ResolvedReason = 'package-removed' | 'version-changed' | 'database-changed';

/** A finding of the newer scan its predecessor did not have. */
export interface NewFinding {
  /** as the newer scan stored it */
  finding: Finding;
  /** the package's version in the older scan; null when it had no such package */
  previousVersion: string | null;
  reason: NewReason;
}

/** A finding of the older scan the newer one no longer has. */
export interface ResolvedFinding {
  /** as the older scan stored it */
  finding: Finding;
  /**
   * the package's version in the newer scan (the version that resolved it; unchanged for `database-changed`);
   * null when the package is gone. Several packages of one identity (two kernels in one rpm database): their
   * versions, comma-separated.
   */
  installedVersion: string | null;
  removed: boolean;
  reason: ResolvedReason;
}

export interface ScanDiffQuery {
  /** 1..1000, default 100: new entries first, then resolved ones, each worst first */
  limit?: number;
  cursor?: string | null;
}

export interface ScanDiffPage {
  /** over the whole diff, not the page */
  counts: { new: SeverityCounts; resolved: SeverityCounts };
  new: NewFinding[];
  resolved: ResolvedFinding[];
  nextCursor: string | null;
}

const DIFF_CURSOR = 'analytics-scan-diff';
const DEFAULT_DIFF_LIMIT = 100;
/** where the published ones of the attempts hold their findings and packages (unpublished ones are absent) */
const SOURCES_SQL = `SELECT scan_id, attempt, findings_scan_id, findings_attempt, packages_scan_id, packages_attempt
      FROM scan_summaries
      WHERE org_id = {org:String} AND scan_id IN {scanIds:Array(String)}
        AND has({attemptKeys:Array(String)}, concat(toString(attempt), ':', scan_id))
      LIMIT 1 BY scan_id, attempt`;
/** findings held by the attempts, one row per stored finding identity */
const KEYS_SQL = `SELECT scan_id, attempt, severity_rank, id, aliases, package_name, package_key FROM findings
      WHERE org_id = {org:String} AND scan_id IN {scanIds:Array(String)}
        AND has({attemptKeys:Array(String)}, concat(toString(attempt), ':', scan_id))
      LIMIT 1 BY scan_id, attempt, severity_rank, id, package_name, package_key`;
const PACKAGES_SQL = `SELECT DISTINCT scan_id, attempt, name, package_key FROM packages
      WHERE org_id = {org:String} AND scan_id IN {scanIds:Array(String)}
        AND has({attemptKeys:Array(String)}, concat(toString(attempt), ':', scan_id))`;
const FINDINGS_SQL = `SELECT scan_id, attempt, id, package_name, package_key, finding FROM findings
      WHERE org_id = {org:String} AND scan_id IN {scanIds:Array(String)}
        AND has({attemptKeys:Array(String)}, concat(toString(attempt), ':', scan_id))
        AND id IN {ids:Array(String)}
      LIMIT 1 BY scan_id, attempt, id, package_name, package_key`;

/** One side's finding keys: the stored row key, the vulnerability's names, the package identity and version. */
interface KeyRow {
  rank: number;
  id: string;
  names: string[];
  packageName: string;
  packageKey: string;
  ecosystem: string;
  location: string;
  identity: string;
  version: string;
}

interface Side {
  findings: KeyRow[];
  /** package identity → its versions (inventory and findings) */
  versions: Map<string, Set<string>>;
  /** package identity → names (ids and aliases, upper case) of its vulnerabilities */
  names: Map<string, Set<string>>;
}

interface Entry {
  section: 0 | 1;
  row: KeyRow;
  sortKey: string[];
}

/**
 * The diff of `current` against `previous` (null: the image's first scan, everything is new) of one org,
 * one page at a time. CP_INVALID_ARGUMENT for bad ids or limit, CP_CURSOR_INVALID for a cursor of another diff.
 */
export async function diffAttempts(
  driver: ClickHouseDriver,
  orgId: string,
  current: AttemptRef,
  previous: AttemptRef | null,
  query: ScanDiffQuery = {},
): Promise<ScanDiffPage> {
  checkId('orgId', orgId);
  const cur = { scanId: checkId('scanId', current.scanId), attempt: checkAttempt(current.attempt) };
  const prev = previous && {
    scanId: checkId('scanId', previous.scanId),
    attempt: checkAttempt(previous.attempt),
  };
  const limit = pageLimit(query.limit ?? DEFAULT_DIFF_LIMIT);
  const tag = `${DIFF_CURSOR}:${cur.attempt}:${cur.scanId}:${prev ? `${prev.attempt}:${prev.scanId}` : ''}`;
  const after = query.cursor ? decodeDiffCursor(query.cursor, tag) : null;

  const attempts = prev ? [cur, prev] : [cur];
  const sourceRows = await driver.query(SOURCES_SQL, attemptParams(orgId, attempts));
  // an unpublished attempt has no source: it reads as empty
  const sourceOf = (a: AttemptRef) => {
    const r = sourceRows.find((s) => attemptKey(refOf(s)) === attemptKey(a));
    return r
      ? {
          findings: { scanId: String(r.findings_scan_id), attempt: Number(r.findings_attempt) },
          packages: { scanId: String(r.packages_scan_id), attempt: Number(r.packages_attempt) },
        }
      : null;
  };
  const curSource = sourceOf(cur);
  const prevSource = prev ? sourceOf(prev) : null;
  const sources = [curSource, prevSource].filter((s) => s !== null);
  const [keyRows, packageRows] = await Promise.all([
    sources.length > 0
      ? driver.query(
          KEYS_SQL,
          attemptParams(
            orgId,
            sources.map((s) => s.findings),
          ),
        )
      : Promise.resolve([]),
    sources.length > 0
      ? driver.query(
          PACKAGES_SQL,
          attemptParams(
            orgId,
            sources.map((s) => s.packages),
          ),
        )
      : Promise.resolve([]),
  ]);
  /** one side per held attempt (two published attempts may share rows) */
  const findingSides = new Map(sources.map((s) => [attemptKey(s.findings), emptySide()]));
  const packageVersions = new Map(
    sources.map((s) => [attemptKey(s.packages), new Map<string, Set<string>>()]),
  );
  for (const r of packageRows) {
    const versions = packageVersions.get(attemptKey(refOf(r)));
    const p = parsePackageKey(String(r.name), String(r.package_key));
    if (versions && p) addVersionTo(versions, p.identity, p.version);
  }
  for (const r of keyRows) {
    const side = findingSides.get(attemptKey(refOf(r)));
    const row = keyRowOf(r);
    if (!side || !row) continue;
    side.findings.push(row);
    const names = side.names.get(row.identity) ?? new Set<string>();
    row.names.forEach((n) => names.add(n));
    side.names.set(row.identity, names);
  }
  /** the side of a published attempt: its held findings, with its inventory's and findings' package versions */
  const sideOf = (source: ReturnType<typeof sourceOf>): Side => {
    if (!source) return emptySide();
    const held = findingSides.get(attemptKey(source.findings))!;
    const versions = new Map<string, Set<string>>();
    for (const [identity, vs] of packageVersions.get(attemptKey(source.packages)) ?? [])
      vs.forEach((v) => addVersionTo(versions, identity, v));
    for (const row of held.findings) addVersionTo(versions, row.identity, row.version);
    return { findings: held.findings, names: held.names, versions };
  };
  const now = sideOf(curSource);
  const before = sideOf(prevSource);

  const entries = [...changed(now, before, 0), ...changed(before, now, 1)].sort((a, b) =>
    compareKeys(a.sortKey, b.sortKey),
  );
  const counts = { new: tally(entries, 0), resolved: tally(entries, 1) };
  const start = after ? entries.findIndex((e) => compareKeys(e.sortKey, after) > 0) : 0;
  const page = start < 0 ? [] : entries.slice(start, start + limit);
  const more = start >= 0 && start + limit < entries.length;

  const curHeld = curSource?.findings ?? cur;
  const prevHeld = prevSource?.findings ?? null;
  const findings = await readFindings(driver, orgId, page, curHeld, prevHeld);
  const result: ScanDiffPage = { counts, new: [], resolved: [], nextCursor: null };
  for (const e of page) {
    const attempt = e.section === 0 ? curHeld : prevHeld!;
    const finding = findings.get(findingKey(attempt, e.row));
    if (!finding) continue; // its row was pruned between the two reads: only unpublished rows are, so never
    if (e.section === 0) {
      const versions = before.versions.get(e.row.identity);
      result.new.push({
        finding,
        previousVersion: versions ? joinVersions(versions) : null,
        reason: !versions
          ? 'package-added'
          : versions.has(e.row.version)
            ? 'database-changed'
            : 'version-changed',
      });
    } else {
      const versions = now.versions.get(e.row.identity);
      result.resolved.push({
        finding,
        installedVersion: versions ? joinVersions(versions) : null,
        removed: !versions,
        reason: !versions
          ? 'package-removed'
          : versions.has(e.row.version)
            ? 'database-changed'
            : 'version-changed',
      });
    }
  }
  if (more) result.nextCursor = encodeCursor(tag, page.at(-1)!.sortKey);
  return result;
}

/** Findings of `side` none of whose names the same package has in `other`, as entries of `section`. */
function changed(side: Side, other: Side, section: 0 | 1): Entry[] {
  const seen = new Set<string>();
  const entries: Entry[] = [];
  for (const row of side.findings) {
    const otherNames = other.names.get(row.identity);
    if (otherNames && row.names.some((n) => otherNames.has(n))) continue;
    // one entry per vulnerability and package identity (two kernels with one CVE are one change)
    const key = JSON.stringify([row.identity, row.id.toUpperCase()]);
    if (seen.has(key)) continue;
    seen.add(key);
    entries.push({
      section,
      row,
      sortKey: [String(section), String(row.rank), row.id, row.packageName, row.ecosystem, row.location],
    });
  }
  return entries;
}

/** The full findings of the page's entries (new ones from `cur`, resolved ones from `prev`). */
async function readFindings(
  driver: ClickHouseDriver,
  orgId: string,
  page: readonly Entry[],
  cur: AttemptRef,
  prev: AttemptRef | null,
): Promise<Map<string, Finding>> {
  const out = new Map<string, Finding>();
  if (page.length === 0) return out;
  const attempts = page.some((e) => e.section === 1) && prev ? [cur, prev] : [cur];
  const ids = [...new Set(page.map((e) => e.row.id))];
  const rows = await driver.query(FINDINGS_SQL, { ...attemptParams(orgId, attempts), ids });
  for (const r of rows) {
    const key = JSON.stringify([
      attemptKey(refOf(r)),
      String(r.id),
      String(r.package_name),
      String(r.package_key),
    ]);
    out.set(key, JSON.parse(String(r.finding)) as Finding);
  }
  return out;
}

function findingKey(a: AttemptRef, row: KeyRow): string {
  return JSON.stringify([attemptKey(a), row.id, row.packageName, row.packageKey]);
}

function attemptParams(orgId: string, attempts: readonly AttemptRef[]): QueryParams {
  return {
    org: orgId,
    scanIds: [...new Set(attempts.map((a) => a.scanId))],
    attemptKeys: attempts.map(attemptKey),
  };
}

const attemptKey = (a: AttemptRef): string => `${a.attempt}:${a.scanId}`;
const refOf = (r: Row): AttemptRef => ({ scanId: String(r.scan_id), attempt: Number(r.attempt) });
const emptySide = (): Side => ({ findings: [], versions: new Map(), names: new Map() });

function addVersionTo(map: Map<string, Set<string>>, identity: string, version: string): void {
  const versions = map.get(identity);
  if (versions) versions.add(version);
  else map.set(identity, new Set([version]));
}

const joinVersions = (versions: Set<string>): string => [...versions].sort().join(', ');

/**
 * A package's identity across scans from its stored key (JSON of [ecosystem, version, path, purl, layer]):
 * ecosystem, name and the path with its version replaced by `*`. Null for a key that is not such JSON.
 */
function parsePackageKey(
  name: string,
  packageKey: string,
): { identity: string; ecosystem: string; location: string; version: string } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(packageKey);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed)) return null;
  const [ecosystem, version, path] = parsed.map((v) => (typeof v === 'string' ? v : ''));
  const location = version && path ? path.split(version).join('*') : (path ?? '');
  return {
    identity: JSON.stringify([ecosystem, name, location]),
    ecosystem: ecosystem ?? '',
    location,
    version: version ?? '',
  };
}

function keyRowOf(r: Row): KeyRow | null {
  const packageName = String(r.package_name);
  const packageKey = String(r.package_key);
  const p = parsePackageKey(packageName, packageKey);
  if (!p) return null;
  const id = String(r.id);
  const aliases = Array.isArray(r.aliases) ? r.aliases.map(String) : [];
  return {
    rank: Number(r.severity_rank),
    id,
    names: [id, ...aliases].map((n) => n.toUpperCase()),
    packageName,
    packageKey,
    ...p,
  };
}

function tally(entries: readonly Entry[], section: 0 | 1): SeverityCounts {
  const columns = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
  const row: Row = {};
  for (const e of entries) {
    if (e.section !== section) continue;
    const column = columns[e.row.rank] ?? 'unknown';
    row[column] = Number(row[column] ?? 0) + 1;
  }
  return severityCounts(row);
}

/** Sort keys compare by section and rank as numbers, then the texts by code unit. */
function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (i < 2) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return 0;
}

function decodeDiffCursor(cursor: string, tag: string): string[] {
  const key = decodeCursor(cursor, tag, 6);
  if (!/^[01]$/.test(key[0]!) || !/^[0-4]$/.test(key[1]!)) {
    throw new ControlPlaneError('CP_CURSOR_INVALID', 'cursor was not issued for this diff');
  }
  return key;
}
