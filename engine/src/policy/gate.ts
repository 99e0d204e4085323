/**
 * CI gating: the `--severity`, `--ignore-unfixed` and `--exit-code` decision, and the
 * `--sort severity|risk` orders. Pure functions over findings; ignore files and VEX are applied
 * before (ignore-file.ts, vex.ts).
 */
import { EngineError } from '../errors.js';
import type { Finding } from '../model/finding.js';
import { SEVERITIES, type Severity } from '../model/severity.js';
import type { FixState } from '../model/vulnerability.js';

export interface GateOptions {
  /** severities that count; default all five */
  severities?: readonly Severity[];
  /** drop findings without an available fix (status unfixed, will-not-fix or deferred) */
  ignoreUnfixed?: boolean;
  /** exit code when at least one finding remains; default 0 (report only, never fail) */
  exitCode?: number;
}

export interface GateResult {
  /** `options.exitCode` when `failing` is not empty, else 0 */
  exitCode: number;
  /** the findings left after every filter (not-affected excluded), in input order */
  failing: Finding[];
}

/** Fix states `--ignore-unfixed` drops: no fixed version the user can upgrade to. */
export const UNFIXED_STATES: ReadonlySet<FixState> = new Set(['unfixed', 'will-not-fix', 'deferred']);

/**
 * Parses a `--severity` value: comma-separated names, case-insensitive, spaces allowed
 * (`CRITICAL,HIGH`, `critical, high`). Returns them in SEVERITIES order without duplicates.
 *
 * @throws EngineError ENG_INVALID_ARGUMENT for an empty list or an unknown name.
 */
export function parseSeverities(text: string): Severity[] {
  const names = text
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== '');
  if (names.length === 0) {
    throw new EngineError('ENG_INVALID_ARGUMENT', `--severity needs one or more of ${SEVERITIES.join(',')}`);
  }
  for (const n of names) {
    if (!(SEVERITIES as readonly string[]).includes(n)) {
      throw new EngineError(
        'ENG_INVALID_ARGUMENT',
        `unknown severity "${n}" (expected ${SEVERITIES.join(',')})`,
      );
    }
  }
  return SEVERITIES.filter((s) => names.includes(s));
}

/**
 * The findings a report shows: those whose severity is in `severities` and, with
 * `ignoreUnfixed`, whose status is not in UNFIXED_STATES. Input order is kept.
 */
export function filterFindings(
  findings: readonly Finding[],
  options: Omit<GateOptions, 'exitCode'> = {},
): Finding[] {
  const severities = new Set<Severity>(options.severities ?? SEVERITIES);
  return findings.filter(
    (f) => severities.has(f.severity) && !(options.ignoreUnfixed && UNFIXED_STATES.has(f.status)),
  );
}

/**
 * The CI decision: exit `options.exitCode` exactly when at least one finding remains after
 * filterFindings, else 0. A finding whose status is `not-affected` (a source said this package
 * is not affected; kept in reports for visibility) never fails the gate.
 *
 * @throws EngineError ENG_INVALID_ARGUMENT for an exit code that is not an integer in 0–255.
 */
export function evaluateGate(findings: readonly Finding[], options: GateOptions = {}): GateResult {
  const code = options.exitCode ?? 0;
  if (!Number.isInteger(code) || code < 0 || code > 255) {
    throw new EngineError(
      'ENG_INVALID_ARGUMENT',
      `--exit-code must be an integer from 0 to 255, got ${String(code)}`,
    );
  }
  const failing = filterFindings(findings, options).filter((f) => f.status !== 'not-affected');
  return { exitCode: failing.length > 0 ? code : 0, failing };
}

export type SortOrder = 'severity' | 'risk';
export const SORT_ORDERS: readonly SortOrder[] = ['severity', 'risk'];

const rank = (s: Severity) => SEVERITIES.indexOf(s);
const cvssOf = (f: Finding) => f.cvss?.score ?? -1;
const epssOf = (f: Finding) => f.epss ?? -1;
const text = (a: string | undefined, b: string | undefined) => {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Deterministic tie-break: id, package name, installed version, package path. */
function tieBreak(a: Finding, b: Finding): number {
  return (
    text(a.id, b.id) ||
    text(a.package.name, b.package.name) ||
    text(a.installedVersion, b.installedVersion) ||
    text(a.package.path, b.package.path)
  );
}

const bySeverity = (a: Finding, b: Finding) => rank(a.severity) - rank(b.severity) || cvssOf(b) - cvssOf(a);

/**
 * Returns a sorted copy. `severity`: CRITICAL first, then higher CVSS score first (none last).
 * `risk`: KEV-listed first, then higher EPSS first (none last), then the severity order.
 * Ties: id, package name, installed version, path (code-unit order).
 */
export function sortFindings(findings: readonly Finding[], order: SortOrder = 'severity'): Finding[] {
  const compare =
    order === 'risk'
      ? (a: Finding, b: Finding) =>
          Number(b.kev) - Number(a.kev) || epssOf(b) - epssOf(a) || bySeverity(a, b) || tieBreak(a, b)
      : (a: Finding, b: Finding) => bySeverity(a, b) || tieBreak(a, b);
  return [...findings].sort(compare);
}
