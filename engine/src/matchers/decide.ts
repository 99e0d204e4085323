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
 */
import type { AffectedPackage, AffectedRange } from '../model/vulnerability.js';
import { isAffected } from '../versions/osv-range.js';
import { compareParsed, parseVersion, type ParsedVersion } from '../versions/registry.js';
import type { SchemeId } from '../versions/types.js';
import type { RowVerdict } from './types.js';

function tryParse(scheme: SchemeId, raw: string): ParsedVersion | undefined {
  try {
    return parseVersion(scheme, raw);
  } catch {
    return undefined;
  }
}

const fixedEvents = (ranges: readonly AffectedRange[]): string[] =>
  ranges
    .filter((r) => r.type !== 'GIT')
    .flatMap((r) => (Array.isArray(r.events) ? r.events : []))
    .flatMap((e) =>
      e && typeof e === 'object' && 'fixed' in e && typeof e.fixed === 'string' ? [e.fixed] : [],
    );

/** The lowest version above `installed` that leaves every range of `row`, or null. */
export function fixFor(installed: string, row: AffectedPackage, scheme: SchemeId): string | null {
  const v = tryParse(scheme, installed);
  if (!v) return null;
  const candidates = fixedEvents(row.ranges ?? [])
    .map((raw) => ({ raw, parsed: tryParse(scheme, raw) }))
    .filter((c): c is { raw: string; parsed: ParsedVersion } => !!c.parsed && compareParsed(c.parsed, v) > 0)
    .sort((a, b) => compareParsed(a.parsed, b.parsed));
  for (const c of candidates) {
    if (isAffected(c.raw, row, scheme).affected === false) return c.raw;
  }
  if (typeof row.fixedVersion === 'string' && candidates.length === 0) {
    const f = tryParse(scheme, row.fixedVersion);
    if (f && compareParsed(f, v) > 0) return row.fixedVersion;
  }
  return null;
}

/**
 * Decides one advisory row for an installed version.
 * @param installed the version to compare (a distro's source version for OS packages)
 * @param row the advisory row
 * @param scheme the ordering of the package's ecosystem / distro
 */
export function decideRow(installed: string, row: AffectedPackage, scheme: SchemeId): RowVerdict {
  const verdict = isAffected(installed, row, scheme);
  // GIT ranges name commits, not releases: such a row says nothing about a package version
  if (verdict.affected === 'unknown' && verdict.reason?.startsWith('only GIT ranges'))
    return { kind: 'clear' };
  if (verdict.affected === 'unknown') {
    const reason = verdict.reason ?? 'undecidable';
    return { kind: 'unknown', reason, installedInvalid: reason.startsWith('installed version') };
  }
  if (row.fixState === 'not-affected') return verdict.affected ? { kind: 'not-affected' } : { kind: 'clear' };
  if (!verdict.affected) return { kind: 'clear' };
  const fixedVersion = fixFor(installed, row, scheme);
  if (fixedVersion !== null) return { kind: 'affected', status: 'fixed', fixedVersion, scheme };
  const status = row.fixState === 'will-not-fix' || row.fixState === 'deferred' ? row.fixState : 'unfixed';
  return { kind: 'affected', status, fixedVersion: null, scheme };
}
