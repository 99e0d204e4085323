/**
 * Test support (not built): the service layer over real parts — a scratch Postgres database, the chdb analytics
 * store in a temporary directory, the in-process work queue (or a given dispatcher) and the WorkerService on
 * real gRPC over loopback — plus a scripted worker that claims jobs and streams reports like worker/ does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MessageInitShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { FixState, Severity } from '@vigil/proto/v1/model_pb';
import { ReportRequestSchema, WorkerService } from '@vigil/proto/v1/worker_pb';
import { createAnalyticsStore } from '../../analytics/index.js';
import type { AnalyticsStore } from '../../analytics/types.js';
import { createClient, type ServiceClient } from '../../grpc/adapter-client.js';
import { addService } from '../../grpc/adapter.js';
import { createInProcessQueue, type InProcessQueue } from '../../queue/in-process.js';
import type { JobDispatcher } from '../../queue/types.js';
import { pgStores } from '../../store/postgres/index.js';
import type { SqlDatabase } from '../../store/postgres/sql.js';
import { createMigratedDatabase, type ScratchDatabase } from '../../store/postgres/testdata/scratch-database.js';
import { createServices, type CreateServicesOptions, type Services } from '../index.js';
import { digestReference, registryResolver, type ImageResolver } from '../resolver.js';
import type { MetadataStores } from '../types.js';

export const WORKER_TOKEN = 'test-worker-token-0123456789';
export const DB_VERSION = 'db-v1';

/** Real stores shared by the service instances of one test file. */
export interface Backends {
  scratch: ScratchDatabase;
  db: SqlDatabase;
  stores: MetadataStores;
  analytics: AnalyticsStore;
  dispose(): Promise<void>;
}

export async function openBackends(): Promise<Backends> {
  const { scratch, db } = await createMigratedDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'vigil-services-'));
  const analytics = await createAnalyticsStore({ path: join(dir, 'chdb') });
  await analytics.migrate();
  return {
    scratch,
    db,
    stores: pgStores(db),
    analytics,
    async dispose() {
      await analytics.close();
      await scratch.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves `repo@digest` like the registry resolver and `local:<name>` from a table (the all-in-one shape). */
/** `queue` with its `publish` replaced (a test's view of what is published when); every other method delegates. */
export function withPublish(queue: JobDispatcher, publish: JobDispatcher['publish']): JobDispatcher {
  return {
    setup: () => queue.setup(),
    cancel: (m) => queue.cancel(m),
    onDeadJob: (l) => queue.onDeadJob(l),
    pending: () => queue.pending(),
    close: () => queue.close(),
    publish,
  };
}

export function tableResolver(table: Record<string, { repository: string; digest: string; tags: string[] }>): ImageResolver {
  return {
    async resolve(reference) {
      const hit = table[reference];
      if (hit) return hit;
      return registryResolver({ retries: 0, timeoutMs: 2_000 }).resolve(reference);
    },
    jobReference: digestReference,
  };
}

/** A service layer over the backends, with its WorkerService served on loopback. */
export interface ServiceInstance {
  services: Services;
  queue: InProcessQueue | null;
  dispatcher: JobDispatcher;
  worker: ServiceClient<(typeof WorkerService)['method']>;
  metadata: grpc.Metadata;
  close(): Promise<void>;
}

export async function startServices(
  backends: Backends,
  options: Partial<CreateServicesOptions> & { queue?: InProcessQueue } = {},
): Promise<ServiceInstance> {
  const queue = options.dispatcher ? null : (options.queue ?? createInProcessQueue({ maxDeliver: 3 }));
  const dispatcher = options.dispatcher ?? queue!;
  const services = createServices({
    stores: backends.stores,
    analytics: backends.analytics,
    dispatcher,
    dbVersion: () => DB_VERSION,
    resolver: tableResolver({}),
    workerToken: WORKER_TOKEN,
    maxDeliveries: 3,
    watchPollMs: 100,
    ...options,
  });
  const server = new grpc.Server();
  addService(server, WorkerService, services.workerService);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const channel = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${WORKER_TOKEN}`);
  return {
    services,
    queue,
    dispatcher,
    worker: createClient(WorkerService, channel),
    metadata,
    async close() {
      await services.dispatchLoop.stop();
      channel.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      if (queue && !options.queue) await queue.close();
    },
  };
}

export type ReportInit = MessageInitShape<typeof ReportRequestSchema>;
type Event = ReportInit['event'];

/** A package on the wire. */
export const wirePackage = (name: string, version = '1.0.0') => ({ name, version, ecosystem: 'deb', foundBy: 'os/dpkg', purl: `pkg:deb/debian/${name}@${version}` });

const SEVERITY = { CRITICAL: Severity.CRITICAL, HIGH: Severity.HIGH, MEDIUM: Severity.MEDIUM, LOW: Severity.LOW, UNKNOWN: Severity.UNKNOWN };

/** A finding on the wire (fixable when `fixed` is given). */
export function wireFinding(id: string, severity: keyof typeof SEVERITY, pkg = wirePackage('openssl'), fixed?: string) {
  return {
    id,
    package: pkg,
    installedVersion: pkg.version,
    ...(fixed ? { fixedVersion: fixed } : {}),
    status: fixed ? FixState.FIXED : FixState.UNFIXED,
    severity: SEVERITY[severity],
    severitySource: 'cvss:nvd@nist.gov',
    dataSources: [{ source: 'debian', namespace: 'debian:12', advisoryId: id }],
  };
}

/** The events of a whole, consistent report: started, one inventory chunk, findings in chunks of two, completed. */
export function completeReport(
  packages: ReturnType<typeof wirePackage>[],
  findings: ReturnType<typeof wireFinding>[],
): Event[] {
  const chunks: ReturnType<typeof wireFinding>[][] = [];
  for (let i = 0; i < findings.length; i += 2) chunks.push(findings.slice(i, i + 2));
  const counts = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0, total: findings.length };
  const names = ['', 'critical', 'high', 'medium', 'low', 'unknown'] as const;
  for (const f of findings) counts[names[f.severity] as Exclude<(typeof names)[number], ''>] += 1;
  return [
    { case: 'started', value: { workerId: 'w1', dbVersion: DB_VERSION } },
    { case: 'progress', value: { stage: 'analyze', done: 1n, total: 2n } },
    { case: 'inventory', value: { seq: 0, os: { family: 'debian', version: '12' }, packages } },
    ...chunks.map((c, seq): Event => ({ case: 'findings', value: { seq, findings: c } })),
    {
      case: 'completed',
      value: {
        packages: packages.length,
        findings: findings.length,
        inventoryChunks: 1,
        findingsChunks: chunks.length,
        counts,
      },
    },
  ];
}

/** The messages of a report stream of one attempt. */
export const messages = (scanId: string, attempt: number, events: Event[]): ReportInit[] =>
  events.map((event) => ({ scanId, attempt, event }));
