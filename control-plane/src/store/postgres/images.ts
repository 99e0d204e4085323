/**
 * Repositories and images: upsert by (repository, digest), lookup, and the keyset-paginated listing with
 * server-side sort (name, last completed scan, severity) and filters (repository, text, minimum severity,
 * fixable) over the latest-scan summary columns (0002). Every query is org-scoped.
 * Digest and tag grammar: https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests and
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests (tags).
 */
import { SEVERITIES, type OsRelease, type Severity } from '@vigil/engine/core';
import { ControlPlaneError } from '../../errors.js';
import type {
  ImageFilter,
  ImageListQuery,
  ImageRecord,
  ImageSort,
  ImageStore,
  ImageTotals,
  Page,
} from '../../services/types.js';
import { orgRowById } from './coalesce.js';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.js';
import type { SqlDatabase } from './sql.js';

type Row = Record<string, unknown>;

const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
// Registry host (with port) and lower-case path components, as `docker` accepts them; kept permissive on hosts.
const REPOSITORY = /^[a-zA-Z0-9.-]+(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export const IMAGE_COLUMNS =
  'i.id, i.org_id, i.repository_id, i.name, i.digest, i.tags, i.created_at, i.updated_at, ' +
  // the newest scan of the digest, any status (one probe of scans_digest_newest)
  '(SELECT s.id FROM scans s WHERE s.org_id = i.org_id AND s.digest = i.digest ORDER BY s.created_at DESC, s.id DESC LIMIT 1) AS last_scan_id, ' +
  'i.last_completed_scan_id, i.last_completed_at, i.summary_attempt, ' +
  'i.critical, i.high, i.medium, i.low, i.unknown, i.total, i.fixable, i.packages, i.os';

/** Sort keys: SQL expressions (each paired with its cast for the cursor value), unique together within an org. */
const SORTS: Record<ImageSort, { exprs: string[]; casts: string[] }> = {
  name: { exprs: ['i.name', 'i.digest'], casts: ['text', 'text'] },
  lastScan: {
    exprs: [`coalesce(i.last_completed_at, '-infinity'::timestamptz)`, 'i.id'],
    casts: ['timestamptz', 'uuid'],
  },
  // never-scanned images (NULL counts) sort below scanned ones without findings
  severity: {
    exprs: [...['critical', 'high', 'medium', 'low', 'unknown'].map((c) => `coalesce(i.${c}, -1)`), 'i.id'],
    casts: ['integer', 'integer', 'integer', 'integer', 'integer', 'uuid'],
  },
};

/** The Postgres implementation of {@link ImageStore}. */
export function pgImageStore(db: SqlDatabase): ImageStore {
  // point reads of one event-loop turn, per organisation, in one statement (coalesce.ts)
  const imageRow = orgRowById(db, `SELECT ${IMAGE_COLUMNS} FROM images i`, 'i');
  return {
    async upsertImage(orgId, { repository, digest, tags = [] }) {
      if (!REPOSITORY.test(repository) || repository.length > 255) {
        throw new ControlPlaneError(
          'CP_INVALID_ARGUMENT',
          `repository ${JSON.stringify(repository)} is not a valid name`,
        );
      }
      if (!DIGEST.test(digest))
        throw new ControlPlaneError(
          'CP_INVALID_ARGUMENT',
          `digest ${JSON.stringify(digest)} is not algorithm:encoded`,
        );
      const bad = tags.find((t) => !TAG.test(t));
      if (bad !== undefined)
        throw new ControlPlaneError('CP_INVALID_ARGUMENT', `tag ${JSON.stringify(bad)} is not a valid tag`);
      const tagSet = [...new Set(tags)].sort();
      return db.transaction(async (tx) => {
        const { rows: repo } = await tx.query<{ id: string }>(
          `INSERT INTO repositories (org_id, name) VALUES ($1, $2)
           ON CONFLICT (org_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
          [orgId, repository],
        );
        const repositoryId = repo[0]!.id;
        // A tag names one digest: take these tags off the repository's other images.
        await tx.query(
          `UPDATE images SET tags = array(SELECT t FROM unnest(tags) t WHERE t <> ALL ($3::text[]) ORDER BY t), updated_at = now()
           WHERE org_id = $1 AND repository_id = $2 AND digest <> $4 AND tags && $3::text[]`,
          [orgId, repositoryId, tagSet, digest],
        );
        const { rows } = await tx.query(
          `INSERT INTO images AS i (org_id, repository_id, name, digest, tags) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (org_id, repository_id, digest) DO UPDATE
             SET tags = array(SELECT DISTINCT t FROM unnest(i.tags || EXCLUDED.tags) t ORDER BY t), updated_at = now()
           RETURNING ${IMAGE_COLUMNS}, (xmax = 0) AS created`,
          [orgId, repositoryId, repository, digest, tagSet],
        );
        return { image: toImage(rows[0]!), created: rows[0]!.created as boolean };
      });
    },

    async getImage(orgId, imageId) {
      const row = await imageRow(orgId, imageId);
      return row ? toImage(row) : null;
    },

    listImages: (orgId, query = {}) => listImages(db, orgId, query),

    async getImages(orgId, imageIds) {
      if (imageIds.length === 0) return [];
      const { rows } = await db.query(
        `SELECT ${IMAGE_COLUMNS} FROM images i WHERE i.org_id = $1 AND i.id = ANY ($2::uuid[])`,
        [orgId, [...new Set(imageIds)]],
      );
      const byId = new Map(rows.map((r) => [r.id as string, toImage(r)]));
      return imageIds.flatMap((id) => byId.get(id) ?? []);
    },

    async imageIdsByDigest(orgId, digest) {
      const { rows } = await db.query<{ id: string }>(
        'SELECT id FROM images WHERE org_id = $1 AND digest = $2 ORDER BY id',
        [orgId, digest],
      );
      return rows.map((r) => r.id);
    },

    async summarize(orgId, filter = {}) {
      const values: unknown[] = [orgId];
      const where = ['i.org_id = $1', ...imageFilterSql(filter, values)];
      const { rows } = await db.query<
        Record<keyof ImageTotals['counts'] | 'images' | 'scanned' | 'fixable', string>
      >(
        `SELECT count(*) AS images, count(i.critical) AS scanned,
           coalesce(sum(i.critical), 0) AS critical, coalesce(sum(i.high), 0) AS high,
           coalesce(sum(i.medium), 0) AS medium, coalesce(sum(i.low), 0) AS low,
           coalesce(sum(i.unknown), 0) AS unknown, coalesce(sum(i.total), 0) AS total,
           coalesce(sum(i.fixable), 0) AS fixable
         FROM images i WHERE ${where.join(' AND ')}`,
        values,
      );
      const r = rows[0]!;
      return {
        images: Number(r.images),
        scannedImages: Number(r.scanned),
        counts: {
          critical: Number(r.critical),
          high: Number(r.high),
          medium: Number(r.medium),
          low: Number(r.low),
          unknown: Number(r.unknown),
          total: Number(r.total),
        },
        fixable: Number(r.fixable),
      };
    },
  };
}

async function listImages(db: SqlDatabase, orgId: string, query: ImageListQuery): Promise<Page<ImageRecord>> {
  const sortName = query.sort ?? 'name';
  const sort = Object.hasOwn(SORTS, sortName) ? SORTS[sortName] : undefined;
  if (!sort)
    throw new ControlPlaneError(
      'CP_INVALID_ARGUMENT',
      `sort must be one of ${Object.keys(SORTS).join(', ')}`,
    );
  const order = query.order ?? (sortName === 'name' ? 'asc' : 'desc');
  if (order !== 'asc' && order !== 'desc')
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'order must be asc or desc');
  const limit = pageLimit(query.limit);
  const tag = `${sortName}:${order}`;

  const values: unknown[] = [orgId];
  const where = ['i.org_id = $1', ...imageFilterSql(query, values)];
  if (query.cursor) {
    const key = decodeCursor(query.cursor, tag, sort.exprs.length);
    const params = key.map((v, n) => `$${values.push(v)}::${sort.casts[n]}`);
    where.push(`(${sort.exprs.join(', ')}) ${order === 'asc' ? '>' : '<'} (${params.join(', ')})`);
  }
  values.push(limit + 1);
  const { rows } = await db.query(
    `SELECT ${IMAGE_COLUMNS}, ${sort.exprs.map((e, n) => `(${e})::text AS sort_${n}`).join(', ')}
     FROM images i WHERE ${where.join(' AND ')}
     ORDER BY ${sort.exprs.map((e) => `${e} ${order}`).join(', ')}
     LIMIT $${values.length}`,
    values,
  );
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor =
    rows.length > limit && last
      ? encodeCursor(
          tag,
          sort.exprs.map((_, n) => last[`sort_${n}`] as string),
        )
      : null;
  return { items: items.map(toImage), nextCursor };
}

/**
 * SQL conditions (on alias `i`) for an image filter, appending their values to `values`.
 * Shared by the listing and bulk rescans so "all images matching this filter" means the same in both.
 */
export function imageFilterSql(filter: ImageFilter, values: unknown[]): string[] {
  const where: string[] = [];
  if (filter.minSeverity !== undefined) {
    where.push(`i.worst <= $${values.push(severityRank(filter.minSeverity))}`);
  }
  if (filter.fixable !== undefined) {
    if (typeof filter.fixable !== 'boolean')
      throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'fixable must be true or false');
    where.push(filter.fixable ? 'i.fixable > 0' : 'i.fixable = 0');
  }
  if (filter.repositoryId !== undefined) where.push(`i.repository_id = $${values.push(filter.repositoryId)}`);
  if (filter.text !== undefined && filter.text !== '') {
    const p = `$${values.push(`%${filter.text.replace(/[\\%_]/g, '\\$&')}%`)}`;
    where.push(
      `(i.name ILIKE ${p} OR i.digest ILIKE ${p} OR EXISTS (SELECT 1 FROM unnest(i.tags) t WHERE t ILIKE ${p}))`,
    );
  }
  return where;
}

/** 1 for CRITICAL … 5 for UNKNOWN (the `worst` column's scale); CP_INVALID_ARGUMENT for anything else. */
function severityRank(severity: Severity): number {
  const rank = SEVERITIES.indexOf(severity);
  if (rank < 0) {
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', `minSeverity must be one of ${SEVERITIES.join(', ')}`);
  }
  return rank + 1;
}

/** Maps an `images i` row selected with {@link IMAGE_COLUMNS}. */
export function toImage(r: Row): ImageRecord {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    repositoryId: r.repository_id as string,
    repository: r.name as string,
    digest: r.digest as string,
    tags: r.tags as string[],
    createdAt: r.created_at as Date,
    updatedAt: r.updated_at as Date,
    lastScanId: (r.last_scan_id as string | null) ?? null,
    lastCompletedScanId: (r.last_completed_scan_id as string | null) ?? null,
    lastCompletedAt: (r.last_completed_at as Date | null) ?? null,
    summary: toSummary(r),
  };
}

function toSummary(r: Row): ImageRecord['summary'] {
  if (r.critical === null || r.last_completed_scan_id === null || r.last_completed_at === null) return null;
  const n = (column: string): number => r[column] as number;
  return {
    imageId: r.id as string,
    scanId: r.last_completed_scan_id as string,
    attempt: n('summary_attempt'),
    completedAt: r.last_completed_at as Date,
    os: (r.os as OsRelease | null) ?? null,
    counts: {
      critical: n('critical'),
      high: n('high'),
      medium: n('medium'),
      low: n('low'),
      unknown: n('unknown'),
      total: n('total'),
    },
    fixable: n('fixable'),
    packages: n('packages'),
  };
}
