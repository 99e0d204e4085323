/**
 * "Clear above": for one package's packed row, a version above which none of its entries can
 * apply, so a matcher whose installed versions are all above it needs neither the entries' JSON
 * nor a decision per entry (most installed packages are newer than every advisory about them).
 *
 * Given with the scheme it was computed in (the namespace's, versions/index.ts schemeFor), and
 * only when EVERY entry is one whose OSV evaluation (versions/osv-range.ts) is "not affected" for
 * every version above all of its own versions:
 * - no `limit` events, every event an object with exactly one of introduced / fixed /
 *   last_affected holding a string, every version but `introduced: "0"` valid in the scheme;
 * - each ECOSYSTEM / SEMVER range has events, and its last event in evaluation order (by version,
 *   at equal versions introduced, then last_affected, then fixed) is not an `introduced`: the
 *   walk ends outside the range; GIT ranges name commits and never apply;
 * - listed `versions` are valid (above them the version is none of them);
 * - an entry without ranges and listed versions (every version: distro open records) has none.
 * The version is the highest of all those versions. Derived data: not in the content hash,
 * rebuilt with the packed rows, checked by verifySnapshot.
 */
import { compareParsed, VERSION_SCHEMES, type ParsedVersion } from '../versions/registry.js';
import { schemeFor } from '../versions/index.js';
import type { SchemeId } from '../versions/types.js';

export interface ClearAbove {
  scheme: SchemeId;
  version: string;
}

const KINDS = ['introduced', 'fixed', 'last_affected'] as const;
type Kind = (typeof KINDS)[number];
const TIE_ORDER: Readonly<Record<Kind, number>> = { introduced: 0, last_affected: 1, fixed: 2 };

/** The entry's event as evaluation reads it, or undefined when it is anything else. */
function eventOf(e: unknown): { kind: Kind; raw: string } | undefined {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return undefined;
  const keys = Object.keys(e);
  const kind = keys[0] as Kind;
  const raw = (e as Record<string, unknown>)[kind];
  return keys.length === 1 && KINDS.includes(kind) && typeof raw === 'string' ? { kind, raw } : undefined;
}

/**
 * The clear-above version of a package's entries (the objects of its packed row), or undefined
 * when some entry can apply to versions above all of its own.
 */
export function clearAbove(namespace: string, entries: readonly unknown[]): ClearAbove | undefined {
  const scheme = schemeFor(namespace);
  if (!scheme || entries.length === 0) return undefined;
  const parse = VERSION_SCHEMES[scheme].parse as (raw: string) => unknown;
  const parsed = (raw: string): ParsedVersion | undefined => {
    try {
      return { scheme, value: parse(raw) };
    } catch {
      return undefined;
    }
  };
  let top: { raw: string; v: ParsedVersion } | undefined;
  const consider = (raw: string, v: ParsedVersion) => {
    if (!top || compareParsed(v, top.v) > 0) top = { raw, v };
  };
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { ranges, versions } = entry as { ranges?: unknown; versions?: unknown };
    if (!Array.isArray(ranges) || (versions !== undefined && !Array.isArray(versions))) return undefined;
    const listed = (versions ?? []) as unknown[];
    if (ranges.length === 0 && listed.length === 0) return undefined;
    for (const raw of listed) {
      const v = typeof raw === 'string' ? parsed(raw) : undefined;
      if (!v) return undefined;
      consider(raw as string, v);
    }
    for (const range of ranges as { type?: unknown; events?: unknown }[]) {
      if (range?.type === 'GIT') continue;
      if (range?.type !== 'ECOSYSTEM' && range?.type !== 'SEMVER') return undefined;
      if (!Array.isArray(range.events) || range.events.length === 0) return undefined;
      let last: { kind: Kind; v: ParsedVersion | undefined } | undefined;
      for (const raw of range.events) {
        const e = eventOf(raw);
        if (!e) return undefined;
        const v = e.kind === 'introduced' && e.raw === '0' ? undefined : parsed(e.raw);
        if (v) consider(e.raw, v);
        else if (!(e.kind === 'introduced' && e.raw === '0')) return undefined;
        const later =
          !last ||
          (v !== undefined &&
            (last.v === undefined ||
              compareParsed(v, last.v) > 0 ||
              (compareParsed(v, last.v) === 0 && TIE_ORDER[e.kind] > TIE_ORDER[last.kind])));
        if (later) last = { kind: e.kind, v };
      }
      if (last?.kind === 'introduced') return undefined;
    }
  }
  return top && { scheme, version: top.raw };
}
