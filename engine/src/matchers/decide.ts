/**
 * The decision every matcher shares: is an installed version affected by one advisory row, with
 * which status, and which version fixes it — using the scheme's ordering (versions/isAffected).
 *
 * - A `not-affected` row applies to the versions its ranges cover (no ranges: every version) and
 *   suppresses the vulnerability for the package.
 * - Otherwise the row's ranges / versions decide (OSV evaluation; no ranges and no versions means
 *   every version, the distros' unfixed and will-not-fix records).
 * - The fixed version is the lowest `fixed` event above the installed version that is itself
 *   outside every affected range of the row (a fix of one branch inside another branch's range
 *   does not fix the package). None found: the row's own `fixedVersion` when it is above the
 *   installed version, else no known fix.
 * - Status: `fixed` when a fix is known; a row marked fixed with no fix for the installed line is
 *   `unfixed`; unfixed / will-not-fix / deferred rows keep their state.
 * - An installed or advisory version that does not parse gives `unknown` (never a throw); a row
 *   with only GIT ranges (commits) cannot apply to a version and is clear.
 *
 * Speed: most rows are plain intervals (`[introduced, fixed)`, `[introduced, last_affected]`: the
 * distro trackers and most GHSA/OSV rows); they are decided here with parsed versions from a
 * scan-wide cache (ParsedVersions) — the same OSV rule, checked against isAffected by a property
 * test — and every other shape goes through isAffected.
 */
import type { AffectedPackage, AffectedRange, RangeEvent } from '../model/vulnerability.js';
import { isAffected } from '../versions/osv-range.js';
import { compareParsed, VERSION_SCHEMES, type ParsedVersion } from '../versions/registry.js';
import type { SchemeId } from '../versions/types.js';
import { CLEAR, type RowVerdict } from './types.js';

/** Parsed versions for one scan: every installed and advisory version is parsed once. */
export class ParsedVersions {
  private readonly memo = new Map<SchemeId, Map<string, ParsedVersion | null>>();
  // the last scheme's table: a scan asks one scheme many times in a row
  private lastScheme: SchemeId | undefined;
  private lastMemo: Map<string, ParsedVersion | null> | undefined;

  // the last installed version asked: a package's rows are decided one after the other
  private installedScheme: SchemeId | undefined;
  private installedRaw: string | undefined;
  private installedParsed: ParsedVersion | undefined;

  /** get() for an installed version: the same answer, remembered for the package's next rows. */
  installed(scheme: SchemeId, raw: string): ParsedVersion | undefined {
    if (raw === this.installedRaw && scheme === this.installedScheme) return this.installedParsed;
    const parsed = this.get(scheme, raw);
    this.installedScheme = scheme;
    this.installedRaw = raw;
    this.installedParsed = parsed;
    return parsed;
  }

  /** The parsed version, or undefined when `raw` is not valid in `scheme`. */
  get(scheme: SchemeId, raw: unknown): ParsedVersion | undefined {
    if (typeof raw !== 'string') return undefined;
    let byRaw = scheme === this.lastScheme ? this.lastMemo : this.memo.get(scheme);
    if (!byRaw) this.memo.set(scheme, (byRaw = new Map()));
    this.lastScheme = scheme;
    this.lastMemo = byRaw;
    let hit = byRaw.get(raw);
    if (hit === undefined) {
      try {
        // the scheme's own parse: this cache replaces the registry's bounded memo for the scan
        hit = { scheme, value: VERSION_SCHEMES[scheme].parse(raw) };
      } catch {
        hit = null;
      }
      byRaw.set(raw, hit);
    }
    return hit ?? undefined;
  }
}

const fixedEvents = (ranges: readonly AffectedRange[]): string[] =>
  ranges
    .filter((r) => r?.type !== 'GIT')
    .flatMap((r) => (Array.isArray(r?.events) ? r.events : []))
    .flatMap((e) =>
      e && typeof e === 'object' && 'fixed' in e && typeof e.fixed === 'string' ? [e.fixed] : [],
    );

/** The lowest version above `installed` that leaves every range of `row`, or null. */
export function fixFor(
  installed: string,
  row: AffectedPackage,
  scheme: SchemeId,
  versions: ParsedVersions = new ParsedVersions(),
): string | null {
  const v = versions.get(scheme, installed);
  if (!v) return null;
  const candidates = fixedEvents(Array.isArray(row.ranges) ? row.ranges : [])
    .map((raw) => ({ raw, parsed: versions.get(scheme, raw) }))
    .filter((c): c is { raw: string; parsed: ParsedVersion } => !!c.parsed && compareParsed(c.parsed, v) > 0)
    .sort((a, b) => compareParsed(a.parsed, b.parsed));
  for (const c of candidates) {
    if (isAffected(c.raw, row, scheme).affected === false) return c.raw;
  }
  if (typeof row.fixedVersion === 'string' && candidates.length === 0) {
    const f = versions.get(scheme, row.fixedVersion);
    if (f && compareParsed(f, v) > 0) return row.fixedVersion;
  }
  return null;
}

const unfixedStatus = (row: AffectedPackage) =>
  row.fixState === 'will-not-fix' || row.fixState === 'deferred' ? row.fixState : 'unfixed';

type OpenStatus = ReturnType<typeof unfixedStatus>;
const OPEN: Record<OpenStatus, Partial<Record<SchemeId, RowVerdict>>> = {
  unfixed: {},
  'will-not-fix': {},
  deferred: {},
};

/** The verdict "affected, no fix" of a status and scheme, shared (trackers list thousands of open records). */
const openVerdict = (status: OpenStatus, scheme: SchemeId): RowVerdict =>
  (OPEN[status][scheme] ??= Object.freeze({ kind: 'affected', status, fixedVersion: null, scheme }));

interface Interval {
  /** null: from the beginning (introduced "0") */
  lo: ParsedVersion | null;
  /** null: open-ended */
  hi: ParsedVersion | null;
  hiRaw?: string;
  /** `fixed` excludes hi, `last_affected` includes it */
  kind: 'fixed' | 'last_affected' | 'open';
}

/**
 * The row's ranges as plain intervals, or undefined when they are not that simple: every non-GIT
 * range is `introduced` [+ `fixed` | `last_affected`] pairs whose versions parse and strictly
 * increase (a pair's bound above its start, the next start above the previous bound), at least one
 * such range, no listed versions. For these, OSV's event walk is the union of the intervals.
 */
function intervalsOf(
  row: AffectedPackage,
  scheme: SchemeId,
  versions: ParsedVersions,
): Interval[] | undefined {
  if (Array.isArray(row.versions) && row.versions.length > 0) return undefined;
  const ranges = row.ranges;
  if (!Array.isArray(ranges)) return undefined;
  const out: Interval[] = [];
  for (const range of ranges) {
    if (range?.type === 'GIT') continue;
    if ((range?.type !== 'ECOSYSTEM' && range?.type !== 'SEMVER') || !Array.isArray(range.events))
      return undefined;
    const events = range.events as RangeEvent[];
    let prev: ParsedVersion | null = null;
    for (let i = 0; i < events.length; i += 2) {
      const start = events[i];
      if (
        !start ||
        typeof start !== 'object' ||
        !('introduced' in start) ||
        typeof start.introduced !== 'string'
      )
        return undefined;
      const lo = start.introduced === '0' ? null : versions.get(scheme, start.introduced);
      if (lo === undefined || (i > 0 && (lo === null || compareParsed(lo, prev!) <= 0))) return undefined;
      const end = events[i + 1];
      if (end === undefined) {
        out.push({ lo, hi: null, kind: 'open' });
        break;
      }
      if (!end || typeof end !== 'object') return undefined;
      const kind = 'fixed' in end ? 'fixed' : 'last_affected' in end ? 'last_affected' : undefined;
      const raw =
        kind === 'fixed'
          ? (end as { fixed: unknown }).fixed
          : (end as { last_affected?: unknown }).last_affected;
      if (!kind || typeof raw !== 'string') return undefined;
      const hi = versions.get(scheme, raw);
      if (!hi || (lo && compareParsed(lo, hi) >= 0)) return undefined;
      out.push({ lo, hi, hiRaw: raw, kind });
      prev = hi;
    }
  }
  return out.length ? out : undefined;
}

const inside = (v: ParsedVersion, iv: Interval) =>
  (iv.lo === null || compareParsed(v, iv.lo) >= 0) &&
  (iv.hi === null || (iv.kind === 'fixed' ? compareParsed(v, iv.hi) < 0 : compareParsed(v, iv.hi) <= 0));

/**
 * Rows whose ranges are plain intervals (intervalsOf), decided with parsed versions: affected when
 * inside any interval; the fix is the lowest `fixed` bound above the installed version that is
 * inside none. Anything else (not-affected rows, listed versions, other shapes, an installed
 * version that does not parse, a stated fixedVersion the general path would fall back to) →
 * undefined: the general path decides.
 */
function fastPath(
  installed: string,
  row: AffectedPackage,
  scheme: SchemeId,
  versions: ParsedVersions,
): RowVerdict | undefined {
  if (row.fixState === 'not-affected') return undefined;
  // a tracker's open / will-not-fix / deferred record: every version, no fix
  if (
    Array.isArray(row.ranges) &&
    row.ranges.length === 0 &&
    !(Array.isArray(row.versions) && row.versions.length > 0) &&
    row.fixedVersion === undefined
  )
    return openVerdict(unfixedStatus(row), scheme);
  const v = versions.installed(scheme, installed);
  if (!v) return undefined;
  // the commonest row of all (every tracker fix, most advisories): [0, fixed)
  const only = Array.isArray(row.ranges) && row.ranges.length === 1 ? row.ranges[0] : undefined;
  if (
    only &&
    (only.type === 'ECOSYSTEM' || only.type === 'SEMVER') &&
    Array.isArray(only.events) &&
    only.events.length === 2 &&
    !(Array.isArray(row.versions) && row.versions.length > 0)
  ) {
    const a = only.events[0] as Partial<Record<string, unknown>> | null;
    const b = only.events[1] as Partial<Record<string, unknown>> | null;
    if (a?.introduced === '0' && typeof b?.fixed === 'string') {
      const hi = versions.get(scheme, b.fixed);
      if (hi) {
        return compareParsed(v, hi) < 0
          ? { kind: 'affected', status: 'fixed', fixedVersion: b.fixed, scheme }
          : CLEAR;
      }
    }
  }
  const intervals = intervalsOf(row, scheme, versions);
  if (!intervals) return undefined;
  if (!intervals.some((iv) => inside(v, iv))) return CLEAR;
  let fix: Interval | undefined;
  for (const iv of intervals) {
    if (iv.kind !== 'fixed' || compareParsed(iv.hi!, v) <= 0) continue;
    if (fix && compareParsed(iv.hi!, fix.hi!) >= 0) continue;
    if (!intervals.some((other) => inside(iv.hi!, other))) fix = iv;
  }
  // candidates were all inside other intervals: the general path's answer may differ in ties
  if (!fix && intervals.some((iv) => iv.kind === 'fixed' && compareParsed(iv.hi!, v) > 0)) return undefined;
  if (fix) return { kind: 'affected', status: 'fixed', fixedVersion: fix.hiRaw!, scheme };
  if (typeof row.fixedVersion === 'string') return undefined;
  return openVerdict(unfixedStatus(row), scheme);
}

/** decideRow without the interval fast path (exported for the equivalence test). */
export function decideRowGeneral(
  installed: string,
  row: AffectedPackage,
  scheme: SchemeId,
  versions: ParsedVersions = new ParsedVersions(),
): RowVerdict {
  const verdict = isAffected(installed, row, scheme);
  // GIT ranges name commits, not releases: such a row says nothing about a package version
  if (verdict.affected === 'unknown' && verdict.reason?.startsWith('only GIT ranges')) return CLEAR;
  if (verdict.affected === 'unknown') {
    const reason = verdict.reason ?? 'undecidable';
    return { kind: 'unknown', reason, installedInvalid: reason.startsWith('installed version') };
  }
  if (row.fixState === 'not-affected') return verdict.affected ? { kind: 'not-affected' } : CLEAR;
  if (!verdict.affected) return CLEAR;
  const fixedVersion = fixFor(installed, row, scheme, versions);
  if (fixedVersion !== null) return { kind: 'affected', status: 'fixed', fixedVersion, scheme };
  return openVerdict(unfixedStatus(row), scheme);
}

/**
 * Decides one advisory row for an installed version.
 * @param installed the version to compare (a distro's source version for OS packages)
 * @param row the advisory row
 * @param scheme the ordering of the package's ecosystem / distro
 * @param versions the scan's parsed-version cache (a fresh one when omitted)
 */
export function decideRow(
  installed: string,
  row: AffectedPackage,
  scheme: SchemeId,
  versions: ParsedVersions = new ParsedVersions(),
): RowVerdict {
  return fastPath(installed, row, scheme, versions) ?? decideRowGeneral(installed, row, scheme, versions);
}
