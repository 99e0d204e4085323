/**
 * GitHub Security Advisory range strings (`vulnerable_version_range` in the GHSA REST/GraphQL
 * API, https://docs.github.com/en/rest/security-advisories/global-advisories): comma-separated
 * constraints that must all hold, each an operator (`=`, `!=`, `<`, `<=`, `>`, `>=`; none means
 * `=`) and a version: `>= 1.0, < 1.2.3`, `= 1.0.0`, `< 2.0`. Versions are ordered by the
 * ecosystem's scheme. Like isAffected this never throws on bad data: an unparseable range or
 * version gives `affected: 'unknown'` with a reason.
 */
import { compareParsed, parseVersion, type ParsedVersion } from './registry.js';
import type { AffectedVerdict } from './osv-range.js';
import type { SchemeId } from './types.js';

const CONSTRAINT_RE = /^(<=|>=|!=|==|<|>|=)?\s*(\S+)$/;

function holds(op: string, c: number): boolean {
  switch (op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '!=':
      return c !== 0;
    default:
      return c === 0;
  }
}

/**
 * Does `version` satisfy the GitHub-style `range` under `scheme`? Returns `{affected: true}`
 * when every constraint holds, `{affected: false}` when one does not, and `{affected: 'unknown',
 * reason}` when the range or a version in it cannot be read. Throws only ENG_INVALID_ARGUMENT for
 * an unknown scheme id.
 */
export function satisfiesRange(version: string, range: string, scheme: SchemeId): AffectedVerdict {
  const parts = typeof range === 'string' ? range.split(',').map((p) => p.trim()) : [];
  if (parts.length === 0 || parts.some((p) => p === '')) {
    return { affected: 'unknown', reason: `empty constraint in range ${JSON.stringify(range)}` };
  }
  let v: ParsedVersion;
  try {
    v = parseVersion(scheme, version);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENG_INVALID_ARGUMENT') throw error;
    return { affected: 'unknown', reason: `installed version: ${(error as Error).message}` };
  }
  let result = true;
  for (const part of parts) {
    const m = CONSTRAINT_RE.exec(part);
    if (!m) return { affected: 'unknown', reason: `cannot read constraint ${JSON.stringify(part)}` };
    let bound: ParsedVersion;
    try {
      bound = parseVersion(scheme, m[2]!);
    } catch (error) {
      return { affected: 'unknown', reason: `range ${JSON.stringify(range)}: ${(error as Error).message}` };
    }
    // keep reading the other constraints so a bad one is reported even after a failing one
    if (!holds(m[1] ?? '=', compareParsed(v, bound))) result = false;
  }
  return { affected: result };
}
