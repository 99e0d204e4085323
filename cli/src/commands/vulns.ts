/**
 * The vulnerability half of a scan command: open the database, match the inventory, then apply the CI policy
 * (policy.ts: ignore file, VEX documents, exit code, the fix plan kept in step with what is still reported).
 * Shared by `vigil image`, `fs`, `rootfs` and `sbom`.
 */
import type { ScanResult, Severity, VulnerabilityScanResult } from '@vigil/engine/core';
import { matchInventory, openSnapshot } from '@vigil/engine/db';
import { formatAge } from './db-output.js';
import { applyPolicy } from './policy.js';

export { trimRemediations } from './policy.js';

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
  /** what `vigil db update` is in the stale-database note (the fleet's database is refreshed by the fleet) */
  refreshHint?: string;
  now?: Date;
}

export interface VulnOutcome {
  result: ScanResult | VulnerabilityScanResult;
  /** the matched result before `--severity` / `--ignore-unfixed` (ignore file and VEX applied): what is uploaded */
  kept?: VulnerabilityScanResult;
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
  const now = opts.now ?? new Date();
  try {
    const age = now.getTime() - Date.parse(reader.meta().builtAt);
    if (age > opts.dbMaxAge) {
      notes.push(
        `the vulnerability database is ${formatAge(age)} old (built ${reader.meta().builtAt}): ${opts.refreshHint ?? 'run `vigil db update`'}`,
      );
    }
    matched = matchInventory(scan, reader, { severityPolicy: opts.severityPolicy ?? 'nvd', now });
  } finally {
    reader.close();
  }
  const warnings = matched.warnings.map((w) => `${w.code}: ${w.message}`);
  const policy = await applyPolicy(matched, {
    ...(opts.severity ? { severity: opts.severity } : {}),
    ...(opts.exitCode !== undefined ? { exitCode: opts.exitCode } : {}),
    ...(opts.ignoreUnfixed ? { ignoreUnfixed: true } : {}),
    ...(opts.ignorefile ? { ignorefile: opts.ignorefile } : {}),
    ...(opts.vex ? { vex: opts.vex } : {}),
    now,
  });
  return {
    result: policy.result,
    kept: policy.kept,
    exitCode: policy.exitCode,
    notes: [...notes, ...policy.notes],
    warnings,
  };
}
