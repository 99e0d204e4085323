/**
 * The SQL of every analytics read, as builders returning the statement and its parameters. The store runs
 * exactly these; benches run the same {sql, params} directly on a driver to measure the store's overhead.
 * Every value is a `{name:Type}` placeholder bound by ClickHouse; the only text that varies is which fixed
 * clauses a filter adds. Every statement is scoped by `org_id`, the first key column of every table.
 */
import type { QueryParams } from './driver.js';

/** A statement with its bound values. */
export interface BoundQuery {
  sql: string;
  params: QueryParams;
}

/** A published attempt: (scan id, attempt number). */
export interface AttemptRef {
  scanId: string;
  attempt: number;
}

/** Position after the last finding of a page, in the findings sort order. */
export interface FindingKey {
  severityRank: number;
  id: string;
  packageName: string;
  packageKey: string;
}

/** A listing of image summaries; `after` is the previous page's last key (see listImageSummaries). */
export interface ImageListing {
  sort: 'severity' | 'lastScan';
  order: 'asc' | 'desc';
  /** at least one finding with severity_rank ≤ this */
  maxRank?: number;
  fixable?: boolean;
  imageIds?: readonly string[];
  after?: ReadonlyArray<string | number> | null;
  limit: number;
}

export interface FindingFilter {
  /** severity_rank ≤ this (0 CRITICAL … 4 UNKNOWN) */
  maxRank?: number;
  fixable?: boolean;
  /** substring, any case, of id, an alias, package name or title; empty = no filter */
  text?: string;
  after?: FindingKey | null;
  limit: number;
}

/** Count columns by severity rank (0 CRITICAL … 4 UNKNOWN). */
export const SEVERITY_COLUMNS = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
const COUNT_COLUMNS = `${SEVERITY_COLUMNS.join(', ')}, fixable, packages`;
const SUMMARY_COLUMNS = `image_id, scan_id, attempt, completed_at, os, ${COUNT_COLUMNS}`;
/** Rows of one finding identity: a chunk appended twice counts once. */
const FINDING_IDENTITY = 'severity_rank, id, package_name, package_key';
/**
 * The attempt holding the findings of the org's image `{image}`'s latest (scan, attempt): the attempt itself, or
 * the one whose rows a rematch scan shares (migration 2). Empty when never scanned.
 */
const LATEST_FINDINGS_OF_IMAGE =
  'SELECT findings_scan_id, findings_attempt FROM image_latest FINAL WHERE org_id = {org:String} AND image_id = {image:String}';
const TEXT_MATCH = `(positionCaseInsensitiveUTF8(id, {text:String}) > 0
    OR arrayExists(a -> positionCaseInsensitiveUTF8(a, {text:String}) > 0, aliases)
    OR positionCaseInsensitiveUTF8(package_name, {text:String}) > 0
    OR positionCaseInsensitiveUTF8(title, {text:String}) > 0)`;

/**
 * Rows of the given attempts of one org: the scan ids narrow the key range, the attempt keys
 * (`<attempt>:<scan id>`, unambiguous since an attempt has no colon) pick the exact pairs.
 */
function attemptsWhere(
  orgId: string,
  attempts: readonly AttemptRef[],
): { where: string; params: QueryParams } {
  return {
    where: `org_id = {org:String} AND scan_id IN {scanIds:Array(String)}
      AND has({attemptKeys:Array(String)}, concat(toString(attempt), ':', scan_id))`,
    params: {
      org: orgId,
      scanIds: [...new Set(attempts.map((a) => a.scanId))],
      attemptKeys: attempts.map((a) => `${a.attempt}:${a.scanId}`),
    },
  };
}

export const analyticsQueries = {
  /** Severity and fixable counts of attempts (deduplicated by finding identity); attempts without findings are absent. */
  attemptFindingCounts(orgId: string, attempts: readonly AttemptRef[]): BoundQuery {
    const { where, params } = attemptsWhere(orgId, attempts);
    return {
      sql: `SELECT scan_id, attempt,
        countIf(severity_rank = 0) AS critical, countIf(severity_rank = 1) AS high,
        countIf(severity_rank = 2) AS medium, countIf(severity_rank = 3) AS low,
        countIf(severity_rank = 4) AS unknown, countIf(fixable) AS fixable
      FROM (
        SELECT scan_id, attempt, severity_rank, fixable FROM findings WHERE ${where}
        LIMIT 1 BY scan_id, attempt, ${FINDING_IDENTITY}
      )
      GROUP BY scan_id, attempt`,
      params,
    };
  },

  /** Distinct packages of attempts; attempts without packages are absent. */
  attemptPackageCounts(orgId: string, attempts: readonly AttemptRef[]): BoundQuery {
    const { where, params } = attemptsWhere(orgId, attempts);
    return {
      sql: `SELECT scan_id, attempt, uniqExact(name, package_key) AS packages
      FROM packages WHERE ${where}
      GROUP BY scan_id, attempt`,
      params,
    };
  },

  /** Latest summaries of the given images. */
  imageSummaries(orgId: string, imageIds: readonly string[]): BoundQuery {
    return {
      sql: `SELECT ${SUMMARY_COLUMNS} FROM image_latest FINAL
      WHERE org_id = {org:String} AND image_id IN {imageIds:Array(String)}`,
      params: { org: orgId, imageIds: [...imageIds] },
    };
  },

  /**
   * A page of the org's image summaries sorted by `sort` in `order` (ties by image id in the same direction),
   * after the cursor key when given: for `severity` the five counts then the image id, for `lastScan` the
   * completion time (as ClickHouse prints it) then the image id.
   */
  listImageSummaries(orgId: string, list: ImageListing): BoundQuery {
    const keyColumns =
      list.sort === 'severity' ? [...SEVERITY_COLUMNS, 'image_id'] : ['completed_at', 'image_id'];
    const clauses: string[] = [];
    const params: Record<string, unknown> = { org: orgId, limit: list.limit };
    if (list.imageIds) {
      clauses.push('image_id IN {imageIds:Array(String)}');
      params.imageIds = [...list.imageIds];
    }
    if (list.maxRank !== undefined)
      clauses.push(`(${SEVERITY_COLUMNS.slice(0, list.maxRank + 1).join(' + ')}) > 0`);
    if (list.fixable !== undefined) clauses.push(list.fixable ? 'fixable > 0' : 'fixable = 0');
    if (list.after) {
      const types =
        list.sort === 'severity'
          ? [...SEVERITY_COLUMNS.map(() => 'UInt32'), 'String']
          : ["DateTime64(3, 'UTC')", 'String'];
      clauses.push(
        `(${keyColumns.join(', ')}) ${list.order === 'desc' ? '<' : '>'} (${types.map((t, i) => `{after${i}:${t}}`).join(', ')})`,
      );
      list.after.forEach((v, i) => (params[`after${i}`] = v));
    }
    const direction = list.order === 'desc' ? ' DESC' : '';
    return {
      sql: `SELECT ${SUMMARY_COLUMNS} FROM image_latest FINAL
      WHERE org_id = {org:String}${clauses.map((c) => `\n        AND ${c}`).join('')}
      ORDER BY ${keyColumns.map((c) => c + direction).join(', ')}
      LIMIT {limit:UInt32}`,
      params,
    };
  },

  /** Totals over the latest summary of every image of the org, or of the given images. */
  summary(orgId: string, imageIds?: readonly string[]): BoundQuery {
    return {
      sql: `SELECT count() AS images, sum(critical) AS critical, sum(high) AS high, sum(medium) AS medium,
        sum(low) AS low, sum(unknown) AS unknown, sum(fixable) AS fixable
      FROM image_latest FINAL
      WHERE org_id = {org:String}${imageIds ? ' AND image_id IN {imageIds:Array(String)}' : ''}`,
      params: imageIds ? { org: orgId, imageIds: [...imageIds] } : { org: orgId },
    };
  },

  /**
   * One page of the image's latest findings in key order (severity worst first, id, package name, package key),
   * one row per finding identity, after the cursor key when given.
   */
  imageFindings(orgId: string, imageId: string, filter: FindingFilter): BoundQuery {
    const clauses: string[] = [];
    const params: Record<string, unknown> = { org: orgId, image: imageId, limit: filter.limit };
    if (filter.maxRank !== undefined) {
      clauses.push('severity_rank <= {maxRank:UInt8}');
      params.maxRank = filter.maxRank;
    }
    if (filter.fixable !== undefined) {
      clauses.push('fixable = {fixable:Bool}');
      params.fixable = filter.fixable;
    }
    if (filter.text) {
      clauses.push(TEXT_MATCH);
      params.text = filter.text;
    }
    if (filter.after) {
      clauses.push(
        `(${FINDING_IDENTITY}) > ({afterRank:UInt8}, {afterId:String}, {afterPackage:String}, {afterKey:String})`,
      );
      Object.assign(params, {
        afterRank: filter.after.severityRank,
        afterId: filter.after.id,
        afterPackage: filter.after.packageName,
        afterKey: filter.after.packageKey,
      });
    }
    return {
      sql: `SELECT ${FINDING_IDENTITY}, finding FROM findings
      WHERE org_id = {org:String} AND (scan_id, attempt) IN (${LATEST_FINDINGS_OF_IMAGE})${clauses.map((c) => `\n        AND ${c}`).join('')}
      ORDER BY ${FINDING_IDENTITY}
      LIMIT 1 BY ${FINDING_IDENTITY}
      LIMIT {limit:UInt32}`,
      params,
    };
  },

  /**
   * "Which images have CVE-X", step 1: up to `limit` images (ordered by id, after `afterImageId`) whose latest
   * attempt has a finding with this id or alias (any case), with the attempt holding its findings
   * (`findings_scan_id`, `findings_attempt`). `finding_ids` turns the id into attempts holding finding rows (a
   * point read on its key); `image_latest` keeps the images whose latest findings are among them.
   */
  vulnerableImagePage(
    orgId: string,
    vulnerabilityId: string,
    page: { afterImageId?: string | null; limit: number },
  ): BoundQuery {
    const params: Record<string, unknown> = { org: orgId, vulnerability: vulnerabilityId, limit: page.limit };
    if (page.afterImageId) params.afterImage = page.afterImageId;
    return {
      sql: `SELECT image_id, findings_scan_id AS scan_id, findings_attempt AS attempt FROM image_latest FINAL
      WHERE org_id = {org:String}
        AND (findings_scan_id, findings_attempt) IN (
          SELECT scan_id, attempt FROM finding_ids
          WHERE org_id = {org:String} AND vulnerability_id = upperUTF8({vulnerability:String}))${
            page.afterImageId ? '\n        AND image_id > {afterImage:String}' : ''
          }
      ORDER BY image_id
      LIMIT {limit:UInt32}`,
      params,
    };
  },

  /**
   * Step 2: the findings with this id or alias (any case) of the page's attempts, one row per finding identity,
   * in key order per attempt. (Two statements rather than one join: at 5M findings the join ran several times
   * slower than the two reads together.)
   */
  attemptFindingsOf(orgId: string, attempts: readonly AttemptRef[], vulnerabilityId: string): BoundQuery {
    const { where, params } = attemptsWhere(orgId, attempts);
    return {
      sql: `SELECT scan_id, attempt, finding FROM findings
      WHERE ${where}
        AND (upperUTF8(id) = upperUTF8({vulnerability:String})
          OR has(arrayMap(a -> upperUTF8(a), aliases), upperUTF8({vulnerability:String})))
      ORDER BY scan_id, attempt, ${FINDING_IDENTITY}
      LIMIT 1 BY scan_id, attempt, ${FINDING_IDENTITY}`,
      params: { ...params, vulnerability: vulnerabilityId },
    };
  },

  /**
   * Attempts (any org) with rows all older than `olderThan` that were never published, and that no published
   * attempt names as the holder of its findings or inventory.
   */
  unpublishedAttempts(olderThan: string): BoundQuery {
    return {
      sql: `SELECT org_id, scan_id, attempt FROM (
        SELECT org_id, scan_id, attempt, max(inserted_at) AS last FROM findings GROUP BY org_id, scan_id, attempt
        UNION ALL
        SELECT org_id, scan_id, attempt, max(inserted_at) AS last FROM packages GROUP BY org_id, scan_id, attempt
      )
      GROUP BY org_id, scan_id, attempt
      HAVING max(last) < {olderThan:DateTime64(3, 'UTC')}
        AND (org_id, scan_id, attempt) NOT IN (
          SELECT org_id, scan_id, attempt FROM scan_summaries
          UNION ALL SELECT org_id, findings_scan_id, findings_attempt FROM scan_summaries
          UNION ALL SELECT org_id, packages_scan_id, packages_attempt FROM scan_summaries)`,
      params: { olderThan },
    };
  },

  /**
   * Where rows with these content digests already are (storeAttemptRows): of the attempts the org's images of digest
   * `{digest}` show as published in `image_latest` (each image's latest, and older versions its parts have not merged
   * away yet), those recording the same inventory digest, the newest one's inventory holder as `<attempt>:<scan id>`
   * (`packages_from`, '' when none), and likewise for findings. A publication names the attempts holding its rows,
   * never one that points elsewhere, so reusing them needs no second hop; image_latest rows are written after the
   * attempt's summary, so every attempt found here is published.
   *
   * image_latest holds one row per image of the org, however long their history. Filtering `scan_summaries` by
   * digest (not in its key) read every summary the org ever published instead: 9 ms of chdb CPU at 2,000 summaries,
   * 67 ms at 500,000, on every completion (bench/reuse-lookup.mjs, docs/performance.md). An older attempt with the
   * same rows that is no longer an image's latest is not found once parts merge; its rows are then written again,
   * which costs space, never correctness.
   */
  reusableRows(orgId: string, digest: string, packagesDigest: string, findingsDigest: string): BoundQuery {
    const newest = (kind: 'packages' | 'findings') =>
      `if(countIf(${kind}_digest = {${kind}Digest:String}) = 0, '',
        argMaxIf(concat(toString(${kind}_attempt), ':', ${kind}_scan_id), (completed_at, scan_id, attempt),
          ${kind}_digest = {${kind}Digest:String})) AS ${kind}_from`;
    return {
      sql: `SELECT ${newest('packages')}, ${newest('findings')}
      FROM image_latest
      WHERE org_id = {org:String} AND digest = {digest:String}
        AND (packages_digest = {packagesDigest:String} OR findings_digest = {findingsDigest:String})`,
      params: { org: orgId, digest, packagesDigest, findingsDigest },
    };
  },

  /** Where the rows of already published attempts are, and their content digests (one row per published attempt). */
  publishedContents(orgId: string, attempts: readonly AttemptRef[]): BoundQuery {
    const { where, params } = attemptsWhere(orgId, attempts);
    return {
      sql: `SELECT scan_id, attempt, packages_scan_id, packages_attempt, packages_digest,
        findings_scan_id, findings_attempt, findings_digest
      FROM scan_summaries WHERE ${where}
      LIMIT 1 BY scan_id, attempt`,
      params,
    };
  },

  /** Deletes the rows of the given attempts of one org from one of the per-attempt tables. */
  deleteAttempts(
    table: 'findings' | 'finding_ids' | 'packages',
    orgId: string,
    attempts: readonly AttemptRef[],
  ): BoundQuery {
    const { where, params } = attemptsWhere(orgId, attempts);
    return { sql: `DELETE FROM ${table} WHERE ${where}`, params };
  },
} as const;
