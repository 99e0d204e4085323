/**
 * The public gRPC services for internal tools (ScanService, ImageService, VulnerabilityService, AdminService)
 * over the same service layer as the REST gateway, with the same permission table (auth/permissions.ts): every
 * RPC names one permission, and the caller is the API token in the `authorization: Bearer vgl_…` metadata.
 * Requests are checked here like REST checks them (ids are UUIDs, page sizes 1..1000, enums known), so a
 * malformed request is INVALID_ARGUMENT with a code, never INTERNAL. Engine → wire mapping of what the services
 * return is done here, in this direction only.
 */
import type { Finding, OsRelease, Severity } from '@vigil/engine/core';
import { timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type * as grpc from '@grpc/grpc-js';
import { AdminService } from '@vigil/proto/v1/admin_pb';
import {
  ImageService,
  ImageSort,
  type ImageFilter as WireImageFilter,
  type ImageSchema,
} from '@vigil/proto/v1/image_pb';
import { FixState, Severity as WireSeverity, type FindingSchema } from '@vigil/proto/v1/model_pb';
import {
  DiffReason,
  ScanPriority as WirePriority,
  ScanService,
  ScanStatus as WireStatus,
  type ScanSchema,
} from '@vigil/proto/v1/scan_pb';
import { VulnerabilityService } from '@vigil/proto/v1/vulnerability_pb';
import { bearerToken, type Auth } from '../auth/authenticate.js';
import { authorize, type Permission } from '../auth/permissions.js';
import { actorOf, type TokenPrincipal } from '../auth/principal.js';
import { ControlPlaneError } from '../errors.js';
import { MAX_BULK_IDS, MAX_PAGE_LIMIT, UUID_PATTERN, VULNERABILITY_ID_PATTERN } from '../http/schemas.js';
import { grpcCalls } from '../metrics.js';
import type { NewReason, ResolvedReason } from '../analytics/diff.js';
import type { ImageView, ImageViewFilter, QueryService, ScanService as Scans } from '../services/api.js';
import type { BatchRecord, ScanPriority, ScanRecord, ScanStatus } from '../services/types.js';
import {
  serviceDefinition,
  serviceImplementation,
  type AddServiceOptions,
  type CallContext,
  type ServiceHandlers,
} from './adapter.js';

export interface PublicServicesDeps {
  auth: Auth;
  scans: Scans;
  queries: QueryService;
}

/** One service ready for `server.addService(definition, implementation)`. */
export interface GrpcServiceBinding {
  name: string;
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

type Methods<S extends { method: GenServiceMethods }> = keyof S['method'];

/** The permission of every public RPC (the REST routes' permissions, by the same table). */
export const RPC_PERMISSIONS = {
  ScanService: {
    createScan: 'scan.create',
    getScan: 'read',
    cancelScan: 'scan.cancel',
    bulkScan: 'scan.bulk',
    getBatch: 'read',
    cancelBatch: 'scan.cancel',
    watchScan: 'read',
    getScanDiff: 'read',
  },
  ImageService: { listImages: 'read', getImage: 'read', listImageFindings: 'read', getSummary: 'read' },
  VulnerabilityService: { listVulnerabilityImages: 'read' },
  AdminService: { getDbVersion: 'read' },
} as const satisfies {
  ScanService: Record<Methods<typeof ScanService>, Permission>;
  ImageService: Record<Methods<typeof ImageService>, Permission>;
  VulnerabilityService: Record<Methods<typeof VulnerabilityService>, Permission>;
  AdminService: Record<Methods<typeof AdminService>, Permission>;
};

const SEVERITY = {
  CRITICAL: WireSeverity.CRITICAL,
  HIGH: WireSeverity.HIGH,
  MEDIUM: WireSeverity.MEDIUM,
  LOW: WireSeverity.LOW,
  UNKNOWN: WireSeverity.UNKNOWN,
} as const satisfies Record<Severity, WireSeverity>;
const FIX_STATE = {
  fixed: FixState.FIXED,
  unfixed: FixState.UNFIXED,
  'will-not-fix': FixState.WILL_NOT_FIX,
  deferred: FixState.DEFERRED,
  'not-affected': FixState.NOT_AFFECTED,
} as const satisfies Record<Finding['status'], FixState>;
const STATUS = {
  queued: WireStatus.QUEUED,
  running: WireStatus.RUNNING,
  completed: WireStatus.COMPLETED,
  failed: WireStatus.FAILED,
  cancelled: WireStatus.CANCELLED,
} as const satisfies Record<ScanStatus, WireStatus>;
const PRIORITY = {
  manual: WirePriority.MANUAL,
  ci: WirePriority.CI,
  scheduled: WirePriority.SCHEDULED,
  rematch: WirePriority.REMATCH,
} as const satisfies Record<ScanPriority, WirePriority>;

const REASON = {
  'package-added': DiffReason.PACKAGE_ADDED,
  'package-removed': DiffReason.PACKAGE_REMOVED,
  'version-changed': DiffReason.VERSION_CHANGED,
  'database-changed': DiffReason.DATABASE_CHANGED,
} as const satisfies Record<NewReason | ResolvedReason, DiffReason>;

// ---- requests: wire → service arguments, checked ----

function invalid(message: string): ControlPlaneError {
  return new ControlPlaneError('CP_INVALID_ARGUMENT', message);
}

function uuid(value: string, field: string): string {
  if (!UUID_PATTERN.test(value)) throw invalid(`${field} must be a UUID`);
  return value;
}

function fromWire<T extends string, W extends number>(
  table: Record<T, W>,
  value: W,
  field: string,
): T | undefined {
  if (value === 0) return undefined;
  const found = (Object.keys(table) as T[]).find((k) => table[k] === value);
  if (!found) throw invalid(`${field} ${value} is not a known value`);
  return found;
}

function page(request: { cursor: string; limit: number }): { cursor?: string; limit?: number } {
  if (request.limit > MAX_PAGE_LIMIT) throw invalid(`limit must be at most ${MAX_PAGE_LIMIT}`);
  if (request.cursor.length > 2048) throw invalid('cursor was not issued by this server');
  return {
    ...(request.cursor ? { cursor: request.cursor } : {}),
    ...(request.limit ? { limit: request.limit } : {}),
  };
}

/** `repository` is the repository id (REST `repositoryId`). */
function filterFromWire(filter: WireImageFilter | undefined): ImageViewFilter {
  if (!filter) return {};
  const minSeverity = fromWire(SEVERITY, filter.minSeverity, 'filter.minSeverity');
  if (filter.text !== undefined && filter.text.length > 200) throw invalid('filter.text is longer than 200');
  return {
    ...(filter.repository !== undefined
      ? { repositoryId: uuid(filter.repository, 'filter.repository') }
      : {}),
    ...(filter.text ? { text: filter.text } : {}),
    ...(minSeverity ? { minSeverity } : {}),
    ...(filter.fixable !== undefined ? { fixable: filter.fixable } : {}),
  };
}

// ---- answers: service results → wire ----

const time = (date: Date | null | undefined): Timestamp | undefined =>
  date ? timestampFromDate(date) : undefined;

function scanToWire(scan: ScanRecord, imageRef = ''): MessageInitShape<typeof ScanSchema> {
  return {
    id: scan.id,
    imageId: scan.imageId,
    imageRef,
    imageDigest: scan.digest,
    status: STATUS[scan.status],
    priority: PRIORITY[scan.priority],
    ...(scan.batchId ? { batchId: scan.batchId } : {}),
    attempt: scan.attempt,
    dbVersion: scan.dbVersion,
    ...(scan.matchedDbVersion !== null ? { matchedDbVersion: scan.matchedDbVersion } : {}),
    createdAt: time(scan.createdAt),
    startedAt: time(scan.startedAt),
    finishedAt: time(scan.finishedAt),
    ...(scan.error ? { error: scan.error } : {}),
  };
}

function batchToWire(batch: BatchRecord) {
  return { id: batch.id, total: batch.total, ...batch.counts, createdAt: time(batch.createdAt) };
}

const osToWire = (os: OsRelease | null | undefined) => (os ? { ...os, idLike: os.idLike ?? [] } : undefined);

function imageToWire(image: ImageView): MessageInitShape<typeof ImageSchema> {
  return {
    id: image.id,
    repository: image.repository,
    tags: image.tags,
    digest: image.digest,
    os: osToWire(image.summary?.os),
    counts: image.summary?.counts,
    fixable: image.summary?.fixable ?? 0,
    ...(image.summary ? { lastScanId: image.summary.scanId } : {}),
    lastScannedAt: time(image.summary?.completedAt ?? image.lastCompletedAt),
  };
}

function findingToWire(f: Finding): MessageInitShape<typeof FindingSchema> {
  return {
    ...f,
    package: { ...f.package, licenses: f.package.licenses ?? [] },
    fixedVersion: f.fixedVersion ?? undefined,
    status: FIX_STATE[f.status],
    severity: SEVERITY[f.severity],
    cvss: f.cvss ?? undefined,
    vendorSeverity: f.vendorSeverity && {
      ...f.vendorSeverity,
      severity: SEVERITY[f.vendorSeverity.severity],
    },
    epss: f.epss ?? undefined,
    epssPercentile: f.epssPercentile ?? undefined,
  };
}

// ---- authentication, authorisation and call metrics around every handler ----

async function callerOf(
  deps: PublicServicesDeps,
  ctx: CallContext,
  permission: Permission,
): Promise<TokenPrincipal> {
  const header = ctx.metadata.get('authorization')[0];
  const token = bearerToken(typeof header === 'string' ? header : undefined);
  if (token === null)
    throw new ControlPlaneError('CP_UNAUTHENTICATED', 'send "authorization: Bearer <API token>"');
  const principal = await deps.auth.authenticateToken(token);
  authorize(principal, permission);
  return principal;
}

function codeOf(error: unknown): string {
  return (error as { code?: unknown }).code?.toString() ?? 'UNCODED';
}

type Unary<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res>;

function unary<Req, Res>(
  deps: PublicServicesDeps,
  method: string,
  permission: Permission,
  run: (request: Req, caller: TokenPrincipal, ctx: CallContext) => Promise<Res>,
): Unary<Req, Res> {
  return async (request, ctx) => {
    try {
      const result = await run(request, await callerOf(deps, ctx, permission), ctx);
      grpcCalls.inc({ method, code: 'OK' });
      return result;
    } catch (error) {
      grpcCalls.inc({ method, code: codeOf(error) });
      throw error;
    }
  };
}

function required<T>(value: T | null, what: string, id: string): T {
  if (value === null) throw new ControlPlaneError('CP_NOT_FOUND', `${what} ${id} not found`);
  return value;
}

// ---- the services ----

function scanHandlers(deps: PublicServicesDeps): ServiceHandlers<(typeof ScanService)['method']> {
  const p = RPC_PERMISSIONS.ScanService;
  const { scans } = deps;
  return {
    createScan: unary(deps, 'CreateScan', p.createScan, async (req, caller) => {
      if (!req.image || req.image.length > 512) throw invalid('image must be a reference or an image id');
      const target = UUID_PATTERN.test(req.image) ? { imageId: req.image } : { reference: req.image };
      const priority = fromWire(PRIORITY, req.priority, 'priority') ?? 'ci';
      const result = await scans.requestScan(
        caller.org.id,
        { target, priority, force: req.force },
        actorOf(caller),
      );
      return { scan: scanToWire(result.scan, req.image), existing: !result.created };
    }),
    getScan: unary(deps, 'GetScan', p.getScan, async (req, caller) => ({
      scan: scanToWire(required(await scans.getScan(caller.org.id, uuid(req.id, 'id')), 'scan', req.id)),
    })),
    cancelScan: unary(deps, 'CancelScan', p.cancelScan, async (req, caller) => ({
      scan: scanToWire(await scans.cancelScan(caller.org.id, uuid(req.id, 'id'), actorOf(caller))),
    })),
    bulkScan: unary(deps, 'BulkScan', p.bulkScan, async (req, caller) => {
      const priority = fromWire(PRIORITY, req.priority, 'priority') ?? 'scheduled';
      let target: { imageIds: string[] } | { filter: ImageViewFilter };
      if (req.target.case === 'imageIds') {
        const ids = req.target.value.ids;
        if (ids.length === 0 || ids.length > MAX_BULK_IDS)
          throw invalid(`imageIds must list 1 to ${MAX_BULK_IDS} ids`);
        target = { imageIds: ids.map((id, i) => uuid(id, `imageIds[${i}]`)) };
      } else if (req.target.case === 'filter') {
        target = { filter: filterFromWire(req.target.value) };
      } else {
        throw invalid('one of imageIds, filter is required');
      }
      const batch = await scans.bulkScan(
        caller.org.id,
        { ...target, priority, force: req.force },
        actorOf(caller),
      );
      return { batch: batchToWire(batch) };
    }),
    getBatch: unary(deps, 'GetBatch', p.getBatch, async (req, caller) => ({
      batch: batchToWire(required(await scans.getBatch(caller.org.id, uuid(req.id, 'id')), 'batch', req.id)),
    })),
    cancelBatch: unary(deps, 'CancelBatch', p.cancelBatch, async (req, caller) => ({
      batch: batchToWire(await scans.cancelBatch(caller.org.id, uuid(req.id, 'id'), actorOf(caller))),
    })),
    async *watchScan(req, ctx) {
      try {
        const caller = await callerOf(deps, ctx, p.watchScan);
        const orgId = caller.org.id;
        let last = required(await scans.getScan(orgId, uuid(req.id, 'id')), 'scan', req.id);
        for await (const event of scans.watchScan(orgId, last.id, ctx.signal)) {
          if (event.type === 'status') {
            last = event.scan;
            yield { scan: scanToWire(last) };
          } else {
            const progress = { stage: event.stage, done: BigInt(event.done), total: BigInt(event.total) };
            yield { scan: scanToWire(last), progress };
          }
        }
        grpcCalls.inc({ method: 'WatchScan', code: 'OK' });
      } catch (error) {
        grpcCalls.inc({ method: 'WatchScan', code: codeOf(error) });
        throw error;
      }
    },
    getScanDiff: unary(deps, 'GetScanDiff', p.getScanDiff, async (req, caller) => {
      const diff = await deps.queries.scanDiff(caller.org.id, uuid(req.id, 'id'), page(req));
      return {
        scan: scanToWire(diff.scan),
        ...(diff.previous ? { previous: scanToWire(diff.previous) } : {}),
        newCounts: diff.counts.new,
        resolvedCounts: diff.counts.resolved,
        newFindings: diff.new.map((e) => ({
          finding: findingToWire(e.finding),
          ...(e.previousVersion !== null ? { previousVersion: e.previousVersion } : {}),
          reason: REASON[e.reason],
        })),
        resolvedFindings: diff.resolved.map((e) => ({
          finding: findingToWire(e.finding),
          ...(e.installedVersion !== null ? { installedVersion: e.installedVersion } : {}),
          removed: e.removed,
          reason: REASON[e.reason],
        })),
        nextCursor: diff.nextCursor ?? '',
      };
    }),
  };
}

function imageHandlers(deps: PublicServicesDeps): ServiceHandlers<(typeof ImageService)['method']> {
  const p = RPC_PERMISSIONS.ImageService;
  const { queries } = deps;
  const SORT = { severity: ImageSort.SEVERITY, lastScan: ImageSort.LAST_SCAN, name: ImageSort.NAME } as const;
  return {
    listImages: unary(deps, 'ListImages', p.listImages, async (req, caller) => {
      const sort = fromWire(SORT, req.sort, 'sort') ?? 'severity';
      // `ascending` false keeps the sort's natural order (worst first, newest first, A → Z).
      const result = await queries.listImages(caller.org.id, {
        ...filterFromWire(req.filter),
        sort,
        ...(req.ascending ? { order: 'asc' as const } : {}),
        ...page(req),
      });
      return { images: result.items.map(imageToWire), nextCursor: result.nextCursor ?? '' };
    }),
    getImage: unary(deps, 'GetImage', p.getImage, async (req, caller) => ({
      image: imageToWire(
        required(await queries.getImage(caller.org.id, uuid(req.id, 'id')), 'image', req.id),
      ),
    })),
    listImageFindings: unary(deps, 'ListImageFindings', p.listImageFindings, async (req, caller) => {
      const minSeverity = fromWire(SEVERITY, req.minSeverity, 'minSeverity');
      const result = await queries.imageFindings(caller.org.id, uuid(req.imageId, 'imageId'), {
        ...(minSeverity ? { minSeverity } : {}),
        ...(req.fixable !== undefined ? { fixable: req.fixable } : {}),
        ...page(req),
      });
      return {
        findings: result.findings.map(findingToWire),
        nextCursor: result.nextCursor ?? '',
        scanId: result.scanId ?? '',
      };
    }),
    getSummary: unary(deps, 'GetSummary', p.getSummary, async (req, caller) => {
      const summary = await queries.summary(caller.org.id, filterFromWire(req.filter));
      return { images: summary.images, counts: summary.counts, fixable: summary.fixable };
    }),
  };
}

function vulnerabilityHandlers(
  deps: PublicServicesDeps,
): ServiceHandlers<(typeof VulnerabilityService)['method']> {
  return {
    listVulnerabilityImages: unary(
      deps,
      'ListVulnerabilityImages',
      RPC_PERMISSIONS.VulnerabilityService.listVulnerabilityImages,
      async (req, caller) => {
        if (!VULNERABILITY_ID_PATTERN.test(req.id)) throw invalid('id must be a vulnerability id or alias');
        const result = await deps.queries.vulnerableImages(caller.org.id, req.id, page(req));
        return {
          images: result.items.map((i) => ({
            image: imageToWire(i.image),
            findings: i.findings.map(findingToWire),
          })),
          nextCursor: result.nextCursor ?? '',
        };
      },
    ),
  };
}

function adminHandlers(deps: PublicServicesDeps): ServiceHandlers<(typeof AdminService)['method']> {
  return {
    getDbVersion: unary(deps, 'GetDbVersion', RPC_PERMISSIONS.AdminService.getDbVersion, async () => {
      const info = await deps.queries.dbInfo();
      return {
        version: info.version,
        builtAt: time(info.builtAt),
        sources: info.sources.map((s) => ({ name: s.name, updatedAt: time(s.updatedAt) })),
      };
    }),
  };
}

function bind<T extends GenServiceMethods>(
  service: Parameters<typeof serviceDefinition<T>>[0],
  handlers: ServiceHandlers<T>,
  options: AddServiceOptions,
): GrpcServiceBinding {
  return {
    name: service.typeName,
    definition: serviceDefinition(service),
    implementation: serviceImplementation(service, handlers, options),
  };
}

/**
 * The four public services over `deps`, for the composition root to add to its grpc-js server:
 * `for (const s of grpcPublicServices(deps, { onInternalError })) server.addService(s.definition, s.implementation)`.
 */
export function grpcPublicServices(
  deps: PublicServicesDeps,
  options: AddServiceOptions = {},
): GrpcServiceBinding[] {
  return [
    bind(ScanService, scanHandlers(deps), options),
    bind(ImageService, imageHandlers(deps), options),
    bind(VulnerabilityService, vulnerabilityHandlers(deps), options),
    bind(AdminService, adminHandlers(deps), options),
  ];
}
