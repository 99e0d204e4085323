/**
 * Is a version inside an advisory's affected ranges? OSV evaluation
 * (https://ossf.github.io/osv-schema/#evaluation): a version is affected when it is listed in
 * `versions`, or when any ECOSYSTEM/SEMVER range includes it. A range's events are sorted by
 * version (`introduced: "0"` first, and at equal versions `introduced` before the others); walking
 * them, `introduced <= v` turns affected on, `fixed <= v` and `last_affected < v` turn it off.
 * `limit` events cap the range: with any limit other than `*`, only versions below some limit
 * count. GIT ranges name commits and cannot be evaluated against a package version.
 *
 * This never throws on bad data: an unparseable installed version, or a range whose event
 * versions do not parse, gives `affected: 'unknown'` with a reason, so the matcher can record
 * the package and go on.
 */
import type { AffectedRange, RangeEvent } from '../model/vulnerability.js';
import { compareParsed, parseVersion, type ParsedVersion } from './registry.js';
import type { SchemeId } from './types.js';

/** The verdict of a range check. `reason` says why when `affected` is 'unknown' (and how it matched otherwise). */
export interface AffectedVerdict {
  affected: boolean | 'unknown';
  reason?: string;
}

/** The part of an advisory isAffected reads (an AffectedPackage fits). */
export interface AffectedSpec {
  ranges?: readonly AffectedRange[];
  versions?: readonly string[];
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

type Kind = 'introduced' | 'fixed' | 'last_affected' | 'limit';
const TIE_ORDER: Readonly<Record<Kind, number>> = { introduced: 0, last_affected: 1, fixed: 2, limit: 3 };

interface Event {
  kind: Kind;
  raw: string;
  /** undefined for introduced "0" (before everything) and limit "*" (after everything) */
  v?: ParsedVersion;
}

function eventOf(e: RangeEvent): { kind: Kind; raw: string } | undefined {
  if ('introduced' in e && typeof e.introduced === 'string') return { kind: 'introduced', raw: e.introduced };
  if ('fixed' in e && typeof e.fixed === 'string') return { kind: 'fixed', raw: e.fixed };
  if ('last_affected' in e && typeof e.last_affected === 'string')
    return { kind: 'last_affected', raw: e.last_affected };
  if ('limit' in e && typeof e.limit === 'string') return { kind: 'limit', raw: e.limit };
  return undefined;
}

function eventCmp(a: Event, b: Event): number {
  if (a.v === undefined || b.v === undefined) {
    const rank = (e: Event): number => (e.v !== undefined ? 0 : e.kind === 'introduced' ? -1 : 1);
    const r = rank(a) - rank(b);
    if (r !== 0) return r;
  } else {
    const r = compareParsed(a.v, b.v);
    if (r !== 0) return r;
  }
  return TIE_ORDER[a.kind] - TIE_ORDER[b.kind];
}

/** Evaluates one ECOSYSTEM/SEMVER range; 'unknown' when one of its event versions does not parse. */
function inRange(v: ParsedVersion, range: AffectedRange, scheme: SchemeId): AffectedVerdict {
  const events: Event[] = [];
  for (const raw of range.events ?? []) {
    const e = raw && typeof raw === 'object' ? eventOf(raw) : undefined;
    if (!e) return { affected: 'unknown', reason: `malformed range event ${JSON.stringify(raw)}` };
    if ((e.kind === 'introduced' && e.raw === '0') || (e.kind === 'limit' && e.raw === '*')) {
      events.push(e);
      continue;
    }
    try {
      events.push({ ...e, v: parseVersion(scheme, e.raw) });
    } catch (error) {
      return { affected: 'unknown', reason: `${e.kind} ${errorMessage(error)}` };
    }
  }
  const limits = events.filter((e) => e.kind === 'limit');
  if (limits.length > 0 && !limits.some((l) => l.v === undefined || compareParsed(v, l.v) < 0)) {
    return { affected: false };
  }
  let affected = false;
  for (const e of events.filter((x) => x.kind !== 'limit').sort(eventCmp)) {
    if (e.kind === 'introduced') {
      if (e.v === undefined || compareParsed(v, e.v) >= 0) affected = true;
    } else if (e.kind === 'fixed') {
      if (e.v !== undefined && compareParsed(v, e.v) >= 0) affected = false;
    } else if (e.v !== undefined && compareParsed(v, e.v) > 0) {
      affected = false;
    }
  }
  return { affected };
}

/**
 * Is `version` affected according to `spec` (OSV `ranges` and `versions`), ordered by `scheme`?
 * Never throws for bad data. An empty spec (no ranges, no versions) means every version is
 * affected (the model's convention for "all versions", e.g. a distro's unfixed record).
 * Throws only ENG_INVALID_ARGUMENT for an unknown scheme id.
 */
export function isAffected(version: string, spec: AffectedSpec, scheme: SchemeId): AffectedVerdict {
  const ranges = spec.ranges ?? [];
  const versions = spec.versions ?? [];
  if (ranges.length === 0 && versions.length === 0) return { affected: true, reason: 'all versions' };
  if (versions.includes(version)) return { affected: true, reason: 'listed version' };
  let v: ParsedVersion;
  try {
    v = parseVersion(scheme, version);
  } catch (error) {
    if (error instanceof Error && (error as { code?: string }).code === 'ENG_INVALID_ARGUMENT') throw error;
    return { affected: 'unknown', reason: `installed version: ${errorMessage(error)}` };
  }
  for (const listed of versions) {
    try {
      if (compareParsed(v, parseVersion(scheme, listed)) === 0)
        return { affected: true, reason: 'listed version' };
    } catch {
      // a listed version that does not parse cannot equal a version that does
    }
  }
  let unknown: string | undefined;
  let evaluable = versions.length > 0;
  for (const range of ranges) {
    if (range.type === 'GIT') continue;
    evaluable = true;
    const verdict = inRange(v, range, scheme);
    if (verdict.affected === true) return { affected: true, reason: 'range' };
    if (verdict.affected === 'unknown') unknown ??= verdict.reason;
  }
  if (unknown !== undefined) return { affected: 'unknown', reason: unknown };
  if (!evaluable) return { affected: 'unknown', reason: 'only GIT ranges, which name commits' };
  return { affected: false };
}
