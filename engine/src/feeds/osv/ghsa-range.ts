/**
 * GitHub's vulnerable version range strings (`">= 1.0, < 1.2.3"`) → OSV-like range events.
 *
 * Grammar, as GitHub documents it for SecurityVulnerability.vulnerableVersionRange
 * (https://docs.github.com/en/graphql/reference/objects#securityvulnerability; the REST
 * `vulnerable_version_range` uses the same strings), plus the undocumented `>` seen in the data:
 *
 *     range      = constraint *( "," constraint )
 *     constraint = *WSP operator *WSP version *WSP
 *     operator   = ">=" / ">" / "<=" / "<" / "="
 *     version    = 1*( any character but "," and white space )
 *
 * with at most one lower bound (`>=`, `>`), at most one upper bound (`<=`, `<`), and `=` alone.
 * Conversion (one range per GitHub vulnerability entry, type ECOSYSTEM, as GitHub's own OSV export):
 *
 *     "= V"             → versions [V], no range
 *     no lower bound    → introduced "0"
 *     ">= V"            → introduced V
 *     "> V"             → introduced V — OSV has no exclusive lower bound, so V itself is
 *                         over-reported (the caller keeps the original string in `extra`)
 *     "< V"             → fixed V
 *     "<= V"            → last_affected V
 *     no upper bound    → fixed P when a first patched version P is given, else open-ended
 *     empty / null      → introduced "0" (+ fixed P when patched): every version before the fix
 *
 * fixState is `fixed` when a patched version is given or the upper bound is `<`, else `unfixed`;
 * fixedVersion is the patched version, else the `<` bound.
 */
import type { AffectedRange, FixState, RangeEvent } from '../../model/vulnerability.js';

export type GhsaRangeResult =
  | { ok: true; ranges: AffectedRange[]; versions: string[]; fixState: FixState; fixedVersion?: string }
  | { ok: false; message: string };

const CONSTRAINT = /^(>=|<=|>|<|=)\s*([^\s,]+)$/;

/** Converts a range string and the first patched version; never throws (errors come back as `ok: false`). */
export function ghsaRangeToEvents(
  range: string | null | undefined,
  firstPatched?: string | null,
): GhsaRangeResult {
  const patched =
    typeof firstPatched === 'string' && firstPatched.trim() !== '' ? firstPatched.trim() : undefined;
  if (patched !== undefined && /[\s,]/.test(patched))
    return { ok: false, message: `bad patched version ${JSON.stringify(patched)}` };
  let lower: { op: string; version: string } | undefined;
  let upper: { op: string; version: string } | undefined;
  let exact: string | undefined;

  const text = typeof range === 'string' ? range.trim() : '';
  if (text !== '') {
    for (const part of text.split(',')) {
      const m = CONSTRAINT.exec(part.trim());
      if (!m)
        return {
          ok: false,
          message: `cannot read constraint ${JSON.stringify(part.trim())} in ${JSON.stringify(text)}`,
        };
      const op = m[1]!;
      const version = m[2]!;
      if (op === '=') {
        if (exact !== undefined)
          return { ok: false, message: `two exact versions in ${JSON.stringify(text)}` };
        exact = version;
      } else if (op[0] === '>') {
        if (lower) return { ok: false, message: `two lower bounds in ${JSON.stringify(text)}` };
        lower = { op, version };
      } else {
        if (upper) return { ok: false, message: `two upper bounds in ${JSON.stringify(text)}` };
        upper = { op, version };
      }
    }
  }

  if (exact !== undefined) {
    if (lower || upper) return { ok: false, message: `"=" mixed with bounds in ${JSON.stringify(text)}` };
    return patched === undefined
      ? { ok: true, ranges: [], versions: [exact], fixState: 'unfixed' }
      : { ok: true, ranges: [], versions: [exact], fixState: 'fixed', fixedVersion: patched };
  }

  const events: RangeEvent[] = [{ introduced: lower ? lower.version : '0' }];
  let fixState: FixState = 'unfixed';
  let fixedVersion = patched;
  if (upper?.op === '<') {
    events.push({ fixed: upper.version });
    fixState = 'fixed';
    fixedVersion ??= upper.version;
  } else if (upper?.op === '<=') {
    events.push({ last_affected: upper.version });
    if (patched !== undefined) fixState = 'fixed';
  } else if (patched !== undefined) {
    events.push({ fixed: patched });
    fixState = 'fixed';
  }
  const result: GhsaRangeResult = {
    ok: true,
    ranges: [{ type: 'ECOSYSTEM', events }],
    versions: [],
    fixState,
  };
  if (fixedVersion !== undefined) result.fixedVersion = fixedVersion;
  return result;
}
