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

/** Where a published attempt's rows are; '' digests: not recorded (published before migrations 3 and 4, or without them). */
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

/**
 * The contents this process last published for each (org, image digest), so that a rescan whose rows are unchanged
 * finds them without the reusableRows query (a parameterised chdb query: 8-11 ms of CPU, and chdb runs those one at a
 * time). Serving this from memory is safe because an entry only ever names published attempts, and published rows
 * are immutable and never pruned (pruning spares every published attempt and every holder a publication names). An
 * entry that is missing, or older than what another replica published since, costs at most the query, or reuse of an
 * older holder of identical rows. This rests on a published attempt keeping its holders: publishing an attempt again
 * without contents keeps those it was published with (ClickHouseAnalyticsStore.publishScans), and a retried report
 * is a new attempt. Bounded: the least recently used entries go first.
 */
export class PublishedContents {
  private readonly entries = new Map<string, Contents>();

  constructor(private readonly maxEntries = 10_000) {}

  /** What this process last published for the digest, if both its content digests are known. */
  get(orgId: string, digest: string): Contents | undefined {
    const key = `${orgId}\n${digest}`;
    const contents = this.entries.get(key);
    if (contents) {
      this.entries.delete(key);
      this.entries.set(key, contents);
    }
    return contents;
  }

  /** Records a publication (one without both content digests is not kept: nothing could match it). */
  set(orgId: string, digest: string, contents: Contents): void {
    if (!contents.packages.digest || !contents.findings.digest) return;
    const key = `${orgId}\n${digest}`;
    this.entries.delete(key);
    // a copy: callers get these holders back in the contents they return
    const kept = (kind: 'packages' | 'findings') => ({
      from: { scanId: contents[kind].from.scanId, attempt: contents[kind].from.attempt },
      digest: contents[kind].digest,
    });
    this.entries.set(key, { packages: kept('packages'), findings: kept('findings') });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
