/**
 * The CI policy of every report: the ignore file and VEX documents, then `--severity`, `--ignore-unfixed` and
 * `--exit-code`. One implementation for findings matched here (vulns.ts) and findings a fleet matched
 * (`vigil remote-scan`), so both gate the same way. Loads only the engine's core (no database side).
 */
import { existsSync } from 'node:fs';
import {
  applyIgnoreFile,
  applyVex,
  evaluateGate,
  filterFindings,
  readIgnoreFile,
  readVexFile,
  type Finding,
  type Remediation,
  type Severity,
  type VulnerabilityScanResult,
} from '@vigil/engine/core';

export interface PolicyOptions {
  severity?: Severity[];
  exitCode?: number;
  ignoreUnfixed?: boolean;
  /** default ./.vigilignore when present */
  ignorefile?: string;
  vex?: string[];
  now?: Date;
}

export interface PolicyOutcome {
  /** what the report shows: the findings left by every filter */
  result: VulnerabilityScanResult;
  /** the findings left by the ignore file and VEX only (what an upload to the fleet carries) */
  kept: VulnerabilityScanResult;
  /** the gate's exit code: `exitCode` when a shown finding remains, else 0 */
  exitCode: number;
  /** lines for stderr (what the ignore file or VEX suppressed, expired entries) */
  notes: string[];
}

/**
 * Applies the policy to a matched result.
 * @throws ENG_POLICY_INVALID for a bad ignore file or VEX document, ENG_INVALID_ARGUMENT for a bad exit code
 */
export async function applyPolicy(
  matched: VulnerabilityScanResult,
  opts: PolicyOptions,
): Promise<PolicyOutcome> {
  const notes: string[] = [];
  const now = opts.now ?? new Date();
  let findings = matched.findings;
  const ignorefile = opts.ignorefile ?? (existsSync('.vigilignore') ? '.vigilignore' : undefined);
  if (ignorefile) {
    const entries = await readIgnoreFile(ignorefile);
    const applied = applyIgnoreFile(findings, entries, now);
    findings = applied.kept;
    if (applied.ignored.length) notes.push(`${applied.ignored.length} finding(s) ignored by ${ignorefile}`);
    for (const e of applied.expired)
      notes.push(`${ignorefile}: entry ${e.id} expired on ${e.expires ?? '?'} and no longer applies`);
  }
  if (opts.vex?.length) {
    const docs = await Promise.all(opts.vex.map((f) => readVexFile(f)));
    const applied = applyVex(findings, docs);
    findings = applied.kept;
    if (applied.suppressed.length) notes.push(`${applied.suppressed.length} finding(s) suppressed by VEX`);
  }
  const gate = evaluateGate(findings, {
    ...(opts.severity ? { severities: opts.severity } : {}),
    ignoreUnfixed: opts.ignoreUnfixed ?? false,
    exitCode: opts.exitCode ?? 0,
  });
  const shown = filterFindings(findings, {
    ...(opts.severity ? { severities: opts.severity } : {}),
    ignoreUnfixed: opts.ignoreUnfixed ?? false,
  });
  return {
    result: { ...matched, findings: shown, remediations: trimRemediations(matched.remediations, shown) },
    kept: { ...matched, findings, remediations: trimRemediations(matched.remediations, findings) },
    exitCode: gate.exitCode,
    notes,
  };
}

/** Keeps each upgrade's counts to the findings still shown; drops upgrades that fix none of them. */
export function trimRemediations(
  remediations: readonly Remediation[],
  shown: readonly Finding[],
): Remediation[] {
  const out: Remediation[] = [];
  for (const r of remediations) {
    const ids = new Set(r.ids);
    const left = shown.filter(
      (f) =>
        ids.has(f.id) &&
        f.package.name === r.packageName &&
        f.package.ecosystem === r.ecosystem &&
        f.installedVersion === r.installedVersion &&
        (r.path === undefined || f.package.path === r.path),
    );
    if (left.length === 0) continue;
    const bySeverity = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 };
    for (const f of left) bySeverity[f.severity]++;
    out.push({ ...r, fixes: left.length, bySeverity, ids: left.map((f) => f.id) });
  }
  return out;
}
