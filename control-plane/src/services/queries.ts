/**
 * The read side (QueryService): dashboard totals, image lists sorted and filtered by severity, image detail,
 * findings and "which images have CVE-X". Counts, sorts and filters read the latest-scan summary columns
 * Postgres records with each completion (one indexed query, no analytics round trip); findings come from the
 * analytics store. Every method is org-scoped.
 */
import { ControlPlaneError } from '../errors.js';
import type { AnalyticsStore } from '../analytics/types.js';
import type { QueryService } from './api.js';
import { scanDiff } from './diff.js';
import type { ImageStore, ScanStore } from './types.js';

/** What `dbInfo` reports: the snapshot the control plane schedules against (the engine's SnapshotMeta shape). */
export interface SnapshotInfo {
  version: string;
  /** ISO 8601 */
  builtAt: string;
  sources: Array<{
    name: string;
    updatedAt?: string;
    counts: { vulnerabilities: number; kev: number; epss: number };
  }>;
}

export interface QueryServiceDeps {
  images: ImageStore;
  analytics: AnalyticsStore;
  /** scans and their history, for scan diffs */
  scans: Pick<ScanStore, 'getScan' | 'previousCompletedScan'>;
  /** the current snapshot's metadata; null when the control plane has none yet */
  snapshot: () => SnapshotInfo | null | Promise<SnapshotInfo | null>;
  /** the DB version scans are scheduled against (reported when there is no snapshot metadata) */
  dbVersion: () => string;
}

const date = (iso: string | undefined): Date | null => {
  if (iso === undefined) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
};

/** The QueryService over the image store and the analytics store. */
export function createQueryService(deps: QueryServiceDeps): QueryService {
  const { images, analytics } = deps;

  async function requireImage(orgId: string, imageId: string) {
    const image = await images.getImage(orgId, imageId);
    if (!image) throw new ControlPlaneError('CP_NOT_FOUND', `image ${imageId} not found`);
    return image;
  }

  return {
    summary: (orgId, filter = {}) => images.summarize(orgId, filter),

    listImages: (orgId, query = {}) => images.listImages(orgId, query),

    getImage: (orgId, imageId) => images.getImage(orgId, imageId),

    async imageFindings(orgId, imageId, query = {}) {
      const image = await requireImage(orgId, imageId);
      if (!image.summary) return { scanId: null, findings: [], nextCursor: null };
      const page = await analytics.imageFindings(orgId, imageId, query);
      return { scanId: image.summary.scanId, findings: page.findings, nextCursor: page.nextCursor };
    },

    async vulnerableImages(orgId, vulnerabilityId, options = {}) {
      if (
        typeof vulnerabilityId !== 'string' ||
        vulnerabilityId.length === 0 ||
        vulnerabilityId.length > 200
      ) {
        throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'vulnerability id must be 1 to 200 characters');
      }
      const page = await analytics.vulnerableImages(orgId, vulnerabilityId, options);
      const records = await images.getImages(
        orgId,
        page.images.map((i) => i.imageId),
      );
      const byId = new Map(records.map((r) => [r.id, r]));
      return {
        // an image deleted since its scan was published is left out
        items: page.images.flatMap(({ imageId, findings }) => {
          const image = byId.get(imageId);
          return image ? [{ image, findings }] : [];
        }),
        nextCursor: page.nextCursor,
      };
    },

    scanDiff: (orgId, scanId, query) => scanDiff({ scans: deps.scans, analytics }, orgId, scanId, query),

    async dbInfo() {
      const meta = await deps.snapshot();
      if (!meta) return { version: deps.dbVersion(), builtAt: null, sources: [] };
      return {
        version: meta.version,
        builtAt: date(meta.builtAt),
        sources: meta.sources.map((s) => ({
          name: s.name,
          updatedAt: date(s.updatedAt),
          records: s.counts.vulnerabilities + s.counts.kev + s.counts.epss,
        })),
      };
    },
  };
}
