/**
 * The ClickHouse implementation of the AnalyticsStore contract (types.ts) over a driver (chdb or HTTP): inputs are
 * checked (rows.ts), SQL comes from queries.ts, rows are mapped back here. Besides the contract it offers batch
 * forms (`appendBatch`, `publishScans`) so a caller holding many attempts, such as a seeder or a buffering
 * ingester, writes them in few inserts: ClickHouse wants few large inserts, not many small ones. A caller that
 * appended all of an attempt's rows itself can have them counted as they are inserted (`AttemptRows.counter`) and
 * publish it with those counts (`PublishScan.counted`): publishing then runs no count query (attempt-counts.ts).
 */
import type { Finding, Package } from '@vigil/engine';
import { ControlPlaneError } from '../errors.js';
import { decodeCursor, encodeCursor, pageLimit } from '../store/postgres/cursor.js';
import type { AttemptCounter, AttemptCounts } from './attempt-counts.js';
import { diffAttempts, type ScanDiffPage, type ScanDiffQuery } from './diff.js';
import {
  attemptRefOf,
  checkContents,
  contentColumns,
  contentsOf,
  PublishedContents,
  type Contents,
} from './contents.js';
import type { ClickHouseDriver, Row } from './driver.js';
import { migrateAnalytics } from './migrate.js';
import { analyticsQueries as q, SEVERITY_COLUMNS, type AttemptRef, type FindingKey } from './queries.js';
import {
  checkAttempt,
  checkId,
  checkIds,
  findingRow,
  fromDateTime,
  invalid,
  osToColumn,
  packageRow,
  rowsDigest,
  severityCounts,
  severityRank,
  summaryFromRow,
  toDateTime,
} from './rows.js';
import type {
  AnalyticsStore,
  AttemptContents,
  AttemptRows,
  FindingPage,
  FindingQuery,
  ImageScanSummary,
  ImageSummaryPage,
  ImageSummaryQuery,
  PublishScan,
  ScanSummary,
  SeverityCounts,
  VulnerableImagesPage,
} from './types.js';

/** An append's rows, checked and mapped (ClickHouseAnalyticsStore.prepareAppend), not yet inserted. */
export interface PreparedAppend {
  packages: Row[];
  findings: Row[];
  /** the rows of each part that has a counter, to count once inserted */
  counted: Array<{ counter: AttemptCounter; packages: Row[]; findings: Row[] }>;
}

const FINDINGS_CURSOR = 'analytics-findings';
const IMAGES_CURSOR = 'analytics-vulnerable-images';
const IMAGES_LIST_CURSOR = 'analytics-images';
const DEFAULT_FINDINGS_LIMIT = 100;

export class ClickHouseAnalyticsStore implements AnalyticsStore {
  /** what this store last published per image digest (storeAttemptRows skips its lookup when the rows match) */
  private readonly published = new PublishedContents();

  constructor(readonly driver: ClickHouseDriver) {}

  async migrate(): Promise<void> {
    await migrateAnalytics(this.driver);
  }

  appendInventory(orgId: string, scanId: string, attempt: number, packages: Package[]): Promise<void> {
    return this.appendBatch(orgId, [{ scanId, attempt, packages }]);
  }

  appendFindings(orgId: string, scanId: string, attempt: number, findings: Finding[]): Promise<void> {
    return this.appendBatch(orgId, [{ scanId, attempt, findings }]);
  }

  /**
   * Appends rows of several attempts with one insert per table. Everything is checked before anything is written.
   * A part's `counter` counts its rows once both inserts succeeded.
   */
  async appendBatch(orgId: string, batch: readonly AttemptRows[]): Promise<void> {
    await this.insertPrepared([this.prepareAppend(orgId, batch)]);
  }

  /**
   * The checking and mapping half of {@link appendBatch}: throws CP_INVALID_ARGUMENT for a bad input, writes
   * nothing. With {@link insertPrepared}, a caller joining appends of several callers (publish-batching.ts) checks
   * each one's rows on its own.
   */
  prepareAppend(orgId: string, batch: readonly AttemptRows[]): PreparedAppend {
    checkId('orgId', orgId);
    const packages: Row[] = [];
    const findings: Row[] = [];
    const counted: PreparedAppend['counted'] = [];
    for (const part of batch) {
      const scanId = checkId('scanId', part.scanId);
      const attempt = checkAttempt(part.attempt);
      const from = [packages.length, findings.length] as const;
      part.packages?.forEach((p, i) => packages.push(packageRow(orgId, scanId, attempt, p, i)));
      part.findings?.forEach((f, i) => findings.push(findingRow(orgId, scanId, attempt, f, i)));
      if (part.counter)
        counted.push({
          counter: part.counter,
          packages: packages.slice(from[0]),
          findings: findings.slice(from[1]),
        });
    }
    return { packages, findings, counted };
  }

  /**
   * Inserts prepared appends (of any orgs: rows carry their org) with one insert per table, then feeds their
   * counters. When an insert fails, some rows may have been written: the callers' attempts must not be published.
   */
  async insertPrepared(prepared: readonly PreparedAppend[]): Promise<void> {
    const packages = prepared.length === 1 ? prepared[0]!.packages : prepared.flatMap((p) => p.packages);
    const findings = prepared.length === 1 ? prepared[0]!.findings : prepared.flatMap((p) => p.findings);
    await Promise.all([this.driver.insert('packages', packages), this.driver.insert('findings', findings)]);
    for (const p of prepared) {
      for (const c of p.counted) {
        c.counter.addPackageRows(c.packages);
        c.counter.addFindingRows(c.findings);
      }
    }
  }

  /**
   * Stores all the rows of an attempt of the image `digest`, each kind (inventory, findings) unless a published
   * attempt of that digest records the same content digest (queries.ts reusableRows): the attempt then shows that
   * attempt's rows. One lookup query (none when this store last published the same rows for the digest:
   * contents.ts PublishedContents), then at most one insert per table (through `insertPrepared`, which
   * publish-batching.ts joins across callers); the part's counter counts every row either way (identical rows,
   * identical counts). Everything is checked before anything is written.
   */
  async storeAttemptRows(orgId: string, digest: string, rows: AttemptRows): Promise<AttemptContents> {
    checkId('digest', digest);
    const { counter, ...part } = rows;
    const prepared = this.prepareAppend(orgId, [part]);
    const own: AttemptRef = { scanId: rows.scanId, attempt: rows.attempt };
    const digests = {
      packages: rowsDigest(prepared.packages, 'package'),
      findings: rowsDigest(prepared.findings, 'finding'),
    };
    let reuse: { packages: AttemptRef | null; findings: AttemptRef | null } = {
      packages: null,
      findings: null,
    };
    const anyRows = prepared.packages.length + prepared.findings.length > 0;
    const known = anyRows ? this.published.get(orgId, digest) : undefined;
    if (known && known.packages.digest === digests.packages && known.findings.digest === digests.findings) {
      reuse = { packages: known.packages.from, findings: known.findings.from };
    } else if (anyRows) {
      const { sql, params } = q.reusableRows(orgId, digest, digests.packages, digests.findings);
      const [row = {}] = await this.driver.query(sql, params);
      reuse = { packages: attemptRefOf(row.packages_from), findings: attemptRefOf(row.findings_from) };
    }
    const write = {
      packages: reuse.packages ? [] : prepared.packages,
      findings: reuse.findings ? [] : prepared.findings,
      counted: [],
    };
    if (write.packages.length + write.findings.length > 0) await this.insertPrepared([write]);
    counter?.addPackageRows(prepared.packages);
    counter?.addFindingRows(prepared.findings);
    const stored = (kind: 'packages' | 'findings') => ({
      from: reuse[kind] ?? own,
      digest: digests[kind],
      reused: reuse[kind] !== null,
    });
    return { packages: stored('packages'), findings: stored('findings') };
  }

  async publishScan(orgId: string, scan: PublishScan): Promise<ScanSummary> {
    const [summary] = await this.publishScans(orgId, [scan]);
    return summary!;
  }

  /**
   * Publishes several attempts (in order of `scans`) with one count query per table (none when every attempt comes
   * with its counts: `PublishScan.counted`) and one insert per table. Same semantics as {@link publishScan}; resolves
   * with the summaries in the same order.
   */
  async publishScans(orgId: string, scans: readonly PublishScan[]): Promise<ScanSummary[]> {
    checkId('orgId', orgId);
    const checked = scans.map((s) => ({
      scanId: checkId('scanId', s.scanId),
      attempt: checkAttempt(s.attempt),
      digest: checkId('digest', s.digest),
      imageIds: checkIds('imageIds', s.imageIds),
      completedAt: toDateTime('completedAt', s.completedAt),
      os: s.os ?? null,
      counted: s.counted === undefined ? undefined : checkCounts(s.counted),
      contents: s.contents === undefined ? undefined : checkContents(s.contents),
    }));
    if (checked.length === 0) return [];
    const uncounted = checked.filter((s) => s.counted === undefined);
    // An attempt published again without its contents keeps those it was published with (publishing is idempotent):
    // its rows may be another attempt's.
    const again = uncounted.filter((s) => s.contents === undefined);
    const published = new Map<string, Contents>();
    if (again.length > 0) {
      const { sql, params } = q.publishedContents(orgId, again);
      for (const r of await this.driver.query(sql, params))
        published.set(`${r.attempt}:${r.scan_id}`, contentsOf(r));
    }
    const contentsOfScan = (s: (typeof checked)[number]): Contents | undefined =>
      s.contents ?? published.get(`${s.attempt}:${s.scanId}`);
    let findingsOf = new Map<string, Row>();
    let packagesOf = new Map<string, Row>();
    // counted from the rows each attempt shows: its own, or those of the attempts its contents name
    const holder = (s: (typeof checked)[number], kind: 'packages' | 'findings'): AttemptRef =>
      contentsOfScan(s)?.[kind].from ?? s;
    if (uncounted.length > 0) {
      const countFindings = q.attemptFindingCounts(
        orgId,
        uncounted.map((s) => holder(s, 'findings')),
      );
      const countPackages = q.attemptPackageCounts(
        orgId,
        uncounted.map((s) => holder(s, 'packages')),
      );
      const [findingCounts, packageCounts] = await Promise.all([
        this.driver.query(countFindings.sql, countFindings.params),
        this.driver.query(countPackages.sql, countPackages.params),
      ]);
      const byAttempt = (rows: Row[]) => new Map(rows.map((r) => [`${r.attempt}:${r.scan_id}`, r]));
      findingsOf = byAttempt(findingCounts);
      packagesOf = byAttempt(packageCounts);
    }

    const summaries: ScanSummary[] = [];
    const summaryRows: Row[] = [];
    const latestRows: Row[] = [];
    // what this store remembers once both inserts went through (storeAttemptRows then skips its lookup)
    const remembered: Array<[digest: string, contents: Contents]> = [];
    for (const s of checked) {
      const contents = contentsOfScan(s);
      if (contents) remembered.push([s.digest, contents]);
      const keyOf = (ref: AttemptRef) => `${ref.attempt}:${ref.scanId}`;
      const queried = findingsOf.get(keyOf(holder(s, 'findings'))) ?? {};
      const columns = s.counted
        ? { ...pickCounts(s.counted.counts), fixable: s.counted.fixable, packages: s.counted.packages }
        : {
            ...pickCounts(severityCounts(queried)),
            fixable: Number(queried.fixable ?? 0),
            packages: Number(packagesOf.get(keyOf(holder(s, 'packages')))?.packages ?? 0),
          };
      const row = {
        org_id: orgId,
        scan_id: s.scanId,
        attempt: s.attempt,
        digest: s.digest,
        completed_at: s.completedAt,
        os: osToColumn(s.os),
        ...columns,
        ...contentColumns(contents),
      };
      summaryRows.push(row);
      for (const imageId of s.imageIds) latestRows.push({ ...row, image_id: imageId });
      summaries.push({
        scanId: s.scanId,
        attempt: s.attempt,
        completedAt: fromDateTime(s.completedAt),
        os: s.os,
        counts: severityCounts(columns),
        fixable: columns.fixable,
        packages: columns.packages,
      });
    }
    // The attempt is recorded as published before any image points at it, so pruning never removes rows an image
    // shows; image_latest's version column keeps the newest completion per image whatever the order of inserts.
    await this.driver.insert('scan_summaries', summaryRows);
    await this.driver.insert('image_latest', latestRows);
    for (const [digest, contents] of remembered) this.published.set(orgId, digest, contents);
    return summaries;
  }

  async imageSummaries(orgId: string, imageIds: string[]): Promise<Map<string, ImageScanSummary>> {
    checkId('orgId', orgId);
    checkIds('imageIds', imageIds);
    if (imageIds.length === 0) return new Map();
    const { sql, params } = q.imageSummaries(orgId, imageIds);
    const rows = await this.driver.query(sql, params);
    return new Map(rows.map((r) => [String(r.image_id), summaryFromRow(r)]));
  }

  async listImageSummaries(orgId: string, query: ImageSummaryQuery = {}): Promise<ImageSummaryPage> {
    checkId('orgId', orgId);
    const sort = query.sort ?? 'severity';
    const order = query.order ?? 'desc';
    if (sort !== 'severity' && sort !== 'lastScan') throw invalid('sort must be severity or lastScan');
    if (order !== 'asc' && order !== 'desc') throw invalid('order must be asc or desc');
    if (query.fixable !== undefined && typeof query.fixable !== 'boolean')
      throw invalid('fixable must be a boolean');
    if (query.imageIds !== undefined) checkIds('imageIds', query.imageIds);
    const limit = pageLimit(query.limit);
    const tag = `${IMAGES_LIST_CURSOR}:${sort}:${order}`;
    const keyOf = (r: Row): string[] =>
      sort === 'severity'
        ? [...SEVERITY_COLUMNS.map((c) => String(r[c])), String(r.image_id)]
        : [String(r.completed_at), String(r.image_id)];
    const { sql, params } = q.listImageSummaries(orgId, {
      sort,
      order,
      maxRank: query.minSeverity === undefined ? undefined : severityRank(query.minSeverity),
      fixable: query.fixable,
      imageIds: query.imageIds,
      after: query.cursor ? decodeListCursor(query.cursor, tag, sort) : null,
      limit: limit + 1,
    });
    const rows = await this.driver.query(sql, params);
    const page = rows.slice(0, limit);
    return {
      summaries: page.map(summaryFromRow),
      nextCursor: rows.length > limit ? encodeCursor(tag, keyOf(page.at(-1)!)) : null,
    };
  }

  async summary(
    orgId: string,
    options: { imageIds?: string[] } = {},
  ): Promise<{ images: number; counts: SeverityCounts; fixable: number }> {
    checkId('orgId', orgId);
    if (options.imageIds !== undefined) {
      checkIds('imageIds', options.imageIds);
      if (options.imageIds.length === 0) return { images: 0, counts: severityCounts({}), fixable: 0 };
    }
    const { sql, params } = q.summary(orgId, options.imageIds);
    const [row = {}] = await this.driver.query(sql, params);
    return {
      images: Number(row.images ?? 0),
      counts: severityCounts(row),
      fixable: Number(row.fixable ?? 0),
    };
  }

  async imageFindings(orgId: string, imageId: string, query: FindingQuery = {}): Promise<FindingPage> {
    checkId('orgId', orgId);
    checkId('imageId', imageId);
    const limit = pageLimit(query.limit ?? DEFAULT_FINDINGS_LIMIT);
    if (query.fixable !== undefined && typeof query.fixable !== 'boolean')
      throw invalid('fixable must be a boolean');
    if (query.text !== undefined && (typeof query.text !== 'string' || query.text.length > 1000)) {
      throw invalid('text must be a string of at most 1000 characters');
    }
    const after = query.cursor ? decodeFindingCursor(query.cursor) : null;
    const { sql, params } = q.imageFindings(orgId, imageId, {
      maxRank: query.minSeverity === undefined ? undefined : severityRank(query.minSeverity),
      fixable: query.fixable,
      text: query.text,
      after,
      limit: limit + 1,
    });
    const rows = await this.driver.query(sql, params);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      findings: page.map((r) => JSON.parse(String(r.finding)) as Finding),
      nextCursor:
        rows.length > limit && last
          ? encodeCursor(FINDINGS_CURSOR, [
              String(last.severity_rank),
              String(last.id),
              String(last.package_name),
              String(last.package_key),
            ])
          : null,
    };
  }

  async vulnerableImages(
    orgId: string,
    vulnerabilityId: string,
    options: { limit?: number; cursor?: string | null } = {},
  ): Promise<VulnerableImagesPage> {
    checkId('orgId', orgId);
    checkId('vulnerabilityId', vulnerabilityId);
    const limit = pageLimit(options.limit);
    let afterImageId: string | null = null;
    if (options.cursor) {
      const [vuln, imageId] = decodeCursor(options.cursor, IMAGES_CURSOR, 2) as [string, string];
      if (vuln !== vulnerabilityId.toUpperCase()) throw cursorForAnotherListing();
      afterImageId = imageId;
    }
    const pageQuery = q.vulnerableImagePage(orgId, vulnerabilityId, { afterImageId, limit: limit + 1 });
    const page = await this.driver.query(pageQuery.sql, pageQuery.params);
    const images: VulnerableImagesPage['images'] = page.map((r) => ({
      imageId: String(r.image_id),
      findings: [],
    }));
    if (page.length > 0) {
      const attempts = page.map((r) => ({ scanId: String(r.scan_id), attempt: Number(r.attempt) }));
      const findingsQuery = q.attemptFindingsOf(orgId, attempts, vulnerabilityId);
      const byAttempt = new Map<string, Finding[]>();
      for (const row of await this.driver.query(findingsQuery.sql, findingsQuery.params)) {
        const key = `${row.attempt}:${row.scan_id}`;
        const finding = JSON.parse(String(row.finding)) as Finding;
        const list = byAttempt.get(key);
        if (list) list.push(finding);
        else byAttempt.set(key, [finding]);
      }
      // Several images can share an attempt (one digest): each gets its own copy of the findings list.
      page.forEach((r, i) => images[i]!.findings.push(...(byAttempt.get(`${r.attempt}:${r.scan_id}`) ?? [])));
    }
    const more = images.length > limit;
    if (more) images.length = limit;
    return {
      images,
      nextCursor: more
        ? encodeCursor(IMAGES_CURSOR, [vulnerabilityId.toUpperCase(), images.at(-1)!.imageId])
        : null,
    };
  }

  scanDiff(
    orgId: string,
    current: AttemptRef,
    previous: AttemptRef | null,
    query?: ScanDiffQuery,
  ): Promise<ScanDiffPage> {
    return diffAttempts(this.driver, orgId, current, previous, query);
  }

  async pruneUnpublished(olderThan: Date): Promise<number> {
    const { sql, params } = q.unpublishedAttempts(toDateTime('olderThan', olderThan));
    const byOrg = new Map<string, AttemptRef[]>();
    for (const r of await this.driver.query(sql, params)) {
      const orgId = String(r.org_id);
      byOrg.set(orgId, [
        ...(byOrg.get(orgId) ?? []),
        { scanId: String(r.scan_id), attempt: Number(r.attempt) },
      ]);
    }
    for (const [orgId, attempts] of byOrg) {
      for (const table of ['finding_ids', 'findings', 'packages'] as const) {
        const del = q.deleteAttempts(table, orgId, attempts);
        await this.driver.exec(del.sql, del.params);
      }
    }
    return [...byOrg.values()].reduce((n, a) => n + a.length, 0);
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}

/** Counts handed in with a publication: non-negative integers, the total the sum of the severities. */
function checkCounts(c: AttemptCounts): AttemptCounts {
  const isCount = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  const severities = SEVERITY_COLUMNS.map((column) => c?.counts?.[column]);
  const ok =
    [...severities, c?.counts?.total, c?.fixable, c?.packages].every(isCount) &&
    c.counts.total === severities.reduce((sum: number, n) => sum + n!, 0);
  if (!ok) throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'counted: not the counts of an attempt');
  return c;
}

function pickCounts(c: SeverityCounts): Row {
  return Object.fromEntries(SEVERITY_COLUMNS.map((column) => [column, c[column]]));
}

function decodeFindingCursor(cursor: string): FindingKey {
  const [rank, id, packageName, packageKey] = decodeCursor(cursor, FINDINGS_CURSOR, 4) as [
    string,
    string,
    string,
    string,
  ];
  const severityRank = Number(rank);
  if (!/^[0-4]$/.test(rank)) throw cursorForAnotherListing();
  return { severityRank, id, packageName, packageKey };
}

const COUNT = /^\d{1,10}$/;
const DATETIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/;

function decodeListCursor(
  cursor: string,
  tag: string,
  sort: 'severity' | 'lastScan',
): Array<string | number> {
  const key = decodeCursor(cursor, tag, sort === 'severity' ? 6 : 2);
  if (sort === 'lastScan') {
    if (!DATETIME.test(key[0]!)) throw cursorForAnotherListing();
    return key;
  }
  const counts = key.slice(0, 5);
  if (!counts.every((c) => COUNT.test(c) && Number(c) <= 0xffff_ffff)) throw cursorForAnotherListing();
  return [...counts.map(Number), key[5]!];
}

function cursorForAnotherListing(): ControlPlaneError {
  return new ControlPlaneError('CP_CURSOR_INVALID', 'cursor was not issued for this listing');
}
