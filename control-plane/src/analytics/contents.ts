/**
 * Where a published attempt's rows are (content addressing, analytics migrations 2 to 4): the attempts holding its
 * inventory and findings, and their content digests (rows.ts rowsDigest). The checks, row mappings and parsing the
 * store's storeAttemptRows and publishScans share.
 */
import type { Row } from './driver.js';
import type { AttemptRef } from './queries.js';
import { checkAttempt, checkId, invalid } from './rows.js';
import type { AttemptContents } from './types.js';

/** Where a publication's rows are (`PublishScan.contents`), checked: holders are attempts, digests hex SHA-256. */
export function checkContents(c: AttemptContents): AttemptContents {
  for (const kind of ['packages', 'findings'] as const) {
    const stored = c?.[kind];
    if (!stored || typeof stored.digest !== 'string' || !/^[0-9a-f]{64}$/.test(stored.digest)) {
      throw invalid(`contents.${kind} must name its holder and its content digest`);
    }
    checkId(`contents.${kind}.from.scanId`, stored.from?.scanId);
    checkAttempt(stored.from.attempt);
  }
  return c;
}

/** Where a published attempt's rows are; '' digests: not recorded (published before migration 3, or without them). */
export interface Contents {
  packages: { from: AttemptRef; digest: string };
  findings: { from: AttemptRef; digest: string };
}

/** A publishedContents row as Contents. */
export function contentsOf(r: Row): Contents {
  const stored = (kind: 'packages' | 'findings') => ({
    from: { scanId: String(r[`${kind}_scan_id`]), attempt: Number(r[`${kind}_attempt`]) },
    digest: String(r[`${kind}_digest`] ?? ''),
  });
  return { packages: stored('packages'), findings: stored('findings') };
}

/**
 * The columns naming the holders of a publication's rows, with its content digests (the same in `scan_summaries` and
 * `image_latest`); none for an attempt showing its own rows without digests (the columns' defaults).
 */
export function contentColumns(c: Contents | undefined): Row {
  if (!c) return {};
  return {
    packages_scan_id: c.packages.from.scanId,
    packages_attempt: c.packages.from.attempt,
    findings_scan_id: c.findings.from.scanId,
    findings_attempt: c.findings.from.attempt,
    packages_digest: c.packages.digest,
    findings_digest: c.findings.digest,
  };
}

/** `<attempt>:<scan id>` (reusableRows) as an attempt; null for ''. */
export function attemptRefOf(value: unknown): AttemptRef | null {
  const text = typeof value === 'string' ? value : '';
  const colon = text.indexOf(':');
  if (colon < 1) return null;
  return { scanId: text.slice(colon + 1), attempt: Number(text.slice(0, colon)) };
}
