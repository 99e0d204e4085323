/**
 * The vulnerability half of a scan command: open the database, match the inventory, apply the
 * ignore file and VEX documents, decide the exit code, and keep the fix plan in step with what
 * is still reported. Shared by `vigil image`, `fs`, `rootfs` and `sbom`.
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
  type ScanResult,
  type Severity,
  type VulnerabilityScanResult,
} from '@vigil/engine/core';
import { matchInventory, openSnapshot } from '@vigil/engine/db';
import { formatAge } from './db-output.js';

export interface VulnOptions {
  /** an existing database file (the caller checked) */
  db: string;
  severity?: Severity[];
  exitCode?: number;
  ignoreUnfixed?: boolean;
  ignorefile?: string;
  vex?: string[];
  severityPolicy?: 'nvd' | 'vendor';
  /** warn when the database is older than this (ms) */
  dbMaxAge: number;
  now?: Date;
}

export interface VulnOutcome {
  result: ScanResult | VulnerabilityScanResult;
  exitCode: number;
  /** lines for stderr (how to get a database, its age, what the policy suppressed) */
  notes: string[];
  /** matching warnings (unsupported or end-of-life OS…): reports carry them too */
  warnings: string[];
}

/**
 * Matches and applies the policy.
 * @throws ENG_DB_CORRUPT / ENG_DB_SCHEMA_UNSUPPORTED when the file is not a usable snapshot,
 *   ENG_POLICY_INVALID for a bad ignore file or VEX document
 */
export async function matchAndGate(scan: ScanResult, opts: VulnOptions): Promise<VulnOutcome> {
  const notes: string[] = [];
  const reader = openSnapshot(opts.db);
  let matched: VulnerabilityScanResult;
  try {
    const now = opts.now ?? new Date();
    const age = now.getTime() - Date.parse(reader.meta().builtAt);
    if (age > opts.dbMaxAge) {
      notes.push(
        `the vulnerability database is ${formatAge(age)} old (built ${reader.meta().builtAt}): run \`vigil db update\``,
      );
    }
    matched = matchInventory(scan, reader, { severityPolicy: opts.severityPolicy ?? 'nvd', now });
  } finally {
    reader.close();
  }
  const warnings = matched.warnings.map((w) => `${w.code}: ${w.message}`);

  let findings = matched.findings;
  const ignorefile = opts.ignorefile ?? (existsSync('.vigilignore') ? '.vigilignore' : undefined);
  if (ignorefile) {
    const entries = await readIgnoreFile(ignorefile);
    const applied = applyIgnoreFile(findings, entries, opts.now ?? new Date());
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
  const result: VulnerabilityScanResult = {
    ...matched,
    findings: shown,
    remediations: trimRemediations(matched.remediations, shown),
  };
  return { result, exitCode: gate.exitCode, notes, warnings };
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
