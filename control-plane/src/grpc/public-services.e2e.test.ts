/**
 * The public gRPC services over real gRPC on loopback and the real service layer, table-driven over every RPC:
 * tenant isolation, token scopes (the REST permission table), credentials, the scanning entitlement, malformed
 * requests (INVALID_ARGUMENT with a code, never INTERNAL), the wire mapping of images and findings, and a
 * WatchScan stream that follows a scan to completion.
 */
import { toJson } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { AdminService } from '@vigil/proto/v1/admin_pb';
import {
  GetImageResponseSchema,
  ImageService,
  ListImageFindingsResponseSchema,
} from '@vigil/proto/v1/image_pb';
import { GetScanDiffResponseSchema, ScanService, ScanStatus } from '@vigil/proto/v1/scan_pb';
import { VulnerabilityService } from '@vigil/proto/v1/vulnerability_pb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeReport, messages, wirePackage } from '../services/testdata/harness.js';
import type { TokenScope } from '../services/types.js';
import { call, startApi, type ApiHarness, type Tenant } from '../http/testdata/api-harness.js';
import { ADMITTED, type Access } from '../http/testdata/route-cases.js';
import { createClient } from './adapter-client.js';
import { grpcPublicServices } from './public-services.js';
import { remoteErrorCode } from './status.js';

let h: ApiHarness;
let server: grpc.Server;
let channel: grpc.Client;
let clients: {
  scans: ReturnType<typeof createClient<(typeof ScanService)['method']>>;
  images: ReturnType<typeof createClient<(typeof ImageService)['method']>>;
  vulnerabilities: ReturnType<typeof createClient<(typeof VulnerabilityService)['method']>>;
  admin: ReturnType<typeof createClient<(typeof AdminService)['method']>>;
};

beforeAll(async () => {
  h = await startApi();
  server = new grpc.Server();
  for (const s of grpcPublicServices({ auth: h.auth, ...h.cp.services }))
    server.addService(s.definition, s.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  channel = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  clients = {
    scans: createClient(ScanService, channel),
    images: createClient(ImageService, channel),
    vulnerabilities: createClient(VulnerabilityService, channel),
    admin: createClient(AdminService, channel),
  };
});
afterAll(async () => {
  channel?.close();
  await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
  await h?.close();
});

function bearer(token: string | null): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (token !== null) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

interface RpcCase {
  rpc: string;
  access: Exclude<Access, 'public' | 'self'>;
  byId: boolean;
  scanning?: true;
  call(t: Tenant, metadata: grpc.Metadata): Promise<unknown>;
}

const RPCS: readonly RpcCase[] = [
  {
    rpc: 'ScanService/CreateScan',
    access: 'write',
    byId: true,
    scanning: true,
    call: (t, metadata) => clients.scans.createScan({ image: t.imageId, force: true }, { metadata }),
  },
  {
    rpc: 'ScanService/GetScan',
    access: 'read',
    byId: true,
    call: (t, metadata) => clients.scans.getScan({ id: t.completedScanId }, { metadata }),
  },
  {
    rpc: 'ScanService/CancelScan',
    access: 'operate',
    byId: true,
    call: async (t, metadata) =>
      clients.scans.cancelScan({ id: await h.fresh.queuedScanId(t) }, { metadata }),
  },
  {
    rpc: 'ScanService/BulkScan',
    access: 'operate',
    byId: false,
    scanning: true,
    call: (t, metadata) =>
      clients.scans.bulkScan(
        { target: { case: 'imageIds', value: { ids: [t.imageId] } }, force: true },
        { metadata },
      ),
  },
  {
    rpc: 'ScanService/GetBatch',
    access: 'read',
    byId: true,
    call: (t, metadata) => clients.scans.getBatch({ id: t.batchId }, { metadata }),
  },
  {
    rpc: 'ScanService/CancelBatch',
    access: 'operate',
    byId: true,
    call: (t, metadata) => clients.scans.cancelBatch({ id: t.batchId }, { metadata }),
  },
  {
    rpc: 'ScanService/WatchScan',
    access: 'read',
    byId: true,
    call: (t, metadata) => drain(clients.scans.watchScan({ id: t.completedScanId }, { metadata })),
  },
  {
    rpc: 'ScanService/GetScanDiff',
    access: 'read',
    byId: true,
    call: (t, metadata) => clients.scans.getScanDiff({ id: t.completedScanId, limit: 10 }, { metadata }),
  },
  {
    rpc: 'ImageService/ListImages',
    access: 'read',
    byId: false,
    call: (t, metadata) =>
      clients.images.listImages({ filter: { repository: t.repositoryId } }, { metadata }),
  },
  {
    rpc: 'ImageService/GetImage',
    access: 'read',
    byId: true,
    call: (t, metadata) => clients.images.getImage({ id: t.imageId }, { metadata }),
  },
  {
    rpc: 'ImageService/ListImageFindings',
    access: 'read',
    byId: true,
    call: (t, metadata) => clients.images.listImageFindings({ imageId: t.imageId }, { metadata }),
  },
  {
    rpc: 'ImageService/GetSummary',
    access: 'read',
    byId: false,
    call: (_t, metadata) => clients.images.getSummary({}, { metadata }),
  },
  {
    rpc: 'VulnerabilityService/ListVulnerabilityImages',
    access: 'read',
    byId: false,
    call: (t, metadata) =>
      clients.vulnerabilities.listVulnerabilityImages({ id: t.vulnerabilityId }, { metadata }),
  },
  {
    rpc: 'AdminService/GetDbVersion',
    access: 'read',
    byId: false,
    call: (_t, metadata) => clients.admin.getDbVersion({}, { metadata }),
  },
];

const outcome = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'OK',
    (error: unknown) => `${grpc.status[(error as grpc.ServiceError).code]} ${remoteErrorCode(error)}`,
  );

const json = (value: unknown) =>
  JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

describe('tenant isolation', () => {
  it("tenant b's admin token cannot read, change or count tenant a's things through any RPC", async () => {
    const foreign = [
      h.a.org.id,
      h.a.imageId,
      h.a.repositoryId,
      h.a.completedScanId,
      h.a.queuedScanId,
      h.a.batchId,
      h.a.vulnerabilityId,
    ];
    const outcomes: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const c of RPCS) {
      const result = await c.call(h.a, bearer(h.b.tokens.admin)).then(
        (r) => ({ ok: true, leaks: foreign.filter((id) => json(r).includes(id)) }),
        (e: unknown) => ({
          ok: false,
          code: remoteErrorCode(e),
          status: grpc.status[(e as grpc.ServiceError).code],
        }),
      );
      outcomes[c.rpc] = result;
      expected[c.rpc] = c.byId
        ? { ok: false, code: 'CP_NOT_FOUND', status: 'NOT_FOUND' }
        : { ok: true, leaks: [] };
    }
    const summary = await clients.images.getSummary({}, { metadata: bearer(h.b.tokens.read) });
    const { rows } = await h.backends.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM images WHERE org_id = $1',
      [h.b.org.id],
    );
    expect({
      outcomes,
      images: summary.images,
      aQueued: (await h.cp.services.scans.getScan(h.a.org.id, h.a.queuedScanId))?.status,
      aBatchCancelled: (await h.cp.services.scans.getBatch(h.a.org.id, h.a.batchId))?.cancelledAt,
    }).toEqual({ outcomes: expected, images: rows[0]!.n, aQueued: 'queued', aBatchCancelled: null });
  });
});

describe('credentials', () => {
  it('admits exactly the token scopes each RPC allows (the REST permission table)', async () => {
    const outcomes: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const c of RPCS) {
      for (const scope of ['admin', 'ci', 'read'] as TokenScope[]) {
        const key = `${c.rpc} as ${scope}`;
        outcomes[key] = await outcome(c.call(h.a, bearer(h.a.tokens[scope])));
        expected[key] = ADMITTED[c.access].includes(`scope:${scope}`)
          ? 'OK'
          : 'PERMISSION_DENIED CP_FORBIDDEN';
      }
    }
    expect(outcomes).toEqual(expected);
  });

  it('answers UNAUTHENTICATED without a token, with a malformed or unknown one', async () => {
    const metadata = [bearer(null), bearer('hunter2'), bearer(`vgl_${'A'.repeat(43)}`)];
    const basic = new grpc.Metadata();
    basic.set('authorization', 'Basic dXNlcjpwYXNz');
    metadata.push(basic);
    const outcomes = new Set<string>();
    for (const c of RPCS) for (const m of metadata) outcomes.add(await outcome(c.call(h.a, m)));
    expect(outcomes).toEqual(new Set(['UNAUTHENTICATED CP_UNAUTHENTICATED']));
  });

  it('refuses scan-creating RPCs with CP_ENTITLEMENT_DISABLED while scanning is off', async () => {
    await h.backends.stores.orgs.setEntitlements(h.a.org.id, { scanningEnabled: false });
    const outcomes: Record<string, string> = {};
    try {
      for (const c of RPCS) outcomes[c.rpc] = await outcome(c.call(h.a, bearer(h.a.tokens.admin)));
    } finally {
      await h.backends.stores.orgs.setEntitlements(h.a.org.id, { scanningEnabled: true });
    }
    expect(outcomes).toEqual(
      Object.fromEntries(
        RPCS.map((c) => [c.rpc, c.scanning ? 'PERMISSION_DENIED CP_ENTITLEMENT_DISABLED' : 'OK']),
      ),
    );
  });
});

describe('malformed requests', () => {
  it('answers INVALID_ARGUMENT with a code, never INTERNAL', async () => {
    const metadata = bearer(h.a.tokens.admin);
    const o = { metadata };
    const cases: Record<string, () => Promise<unknown>> = {
      'CreateScan empty image': () => clients.scans.createScan({ image: '' }, o),
      'CreateScan huge image': () => clients.scans.createScan({ image: 'x'.repeat(600) }, o),
      'CreateScan unknown priority': () => clients.scans.createScan({ image: h.a.imageId, priority: 99 }, o),
      'GetScan bad id': () => clients.scans.getScan({ id: "' OR 1=1 --" }, o),
      'GetScan empty id': () => clients.scans.getScan({ id: '' }, o),
      'CancelScan bad id': () => clients.scans.cancelScan({ id: 'nope' }, o),
      'BulkScan no target': () => clients.scans.bulkScan({}, o),
      'BulkScan no ids': () =>
        clients.scans.bulkScan({ target: { case: 'imageIds', value: { ids: [] } } }, o),
      'BulkScan bad id': () =>
        clients.scans.bulkScan({ target: { case: 'imageIds', value: { ids: ['nope'] } } }, o),
      'BulkScan too many ids': () =>
        clients.scans.bulkScan(
          { target: { case: 'imageIds', value: { ids: Array(10_001).fill(h.a.imageId) } } },
          o,
        ),
      'BulkScan bad filter severity': () =>
        clients.scans.bulkScan({ target: { case: 'filter', value: { minSeverity: 17 } } }, o),
      'GetBatch bad id': () => clients.scans.getBatch({ id: '1' }, o),
      'CancelBatch bad id': () => clients.scans.cancelBatch({ id: '1' }, o),
      'WatchScan bad id': () => drain(clients.scans.watchScan({ id: 'nope' }, o)),
      'GetScanDiff bad id': () => clients.scans.getScanDiff({ id: "' OR 1=1 --" }, o),
      'GetScanDiff huge limit': () => clients.scans.getScanDiff({ id: h.a.completedScanId, limit: 5000 }, o),
      'GetScanDiff garbage cursor': () =>
        clients.scans.getScanDiff({ id: h.a.completedScanId, cursor: 'garbage' }, o),
      'ListImages huge limit': () => clients.images.listImages({ limit: 5000 }, o),
      'ListImages garbage cursor': () => clients.images.listImages({ cursor: 'garbage' }, o),
      'ListImages unknown sort': () => clients.images.listImages({ sort: 42 }, o),
      'ListImages bad repository': () =>
        clients.images.listImages({ filter: { repository: 'registry.test/x' } }, o),
      'ListImages long text': () => clients.images.listImages({ filter: { text: 'x'.repeat(300) } }, o),
      'GetImage bad id': () => clients.images.getImage({ id: '../etc' }, o),
      'ListImageFindings bad id': () => clients.images.listImageFindings({ imageId: 'nope' }, o),
      'ListImageFindings bad severity': () =>
        clients.images.listImageFindings({ imageId: h.a.imageId, minSeverity: 9 }, o),
      'ListImageFindings garbage cursor': () =>
        clients.images.listImageFindings({ imageId: h.a.imageId, cursor: 'garbage' }, o),
      'GetSummary bad filter': () => clients.images.getSummary({ filter: { repository: 'nope' } }, o),
      'ListVulnerabilityImages bad id': () =>
        clients.vulnerabilities.listVulnerabilityImages({ id: 'a/b c' }, o),
      'ListVulnerabilityImages empty id': () =>
        clients.vulnerabilities.listVulnerabilityImages({ id: '' }, o),
      'ListVulnerabilityImages huge limit': () =>
        clients.vulnerabilities.listVulnerabilityImages({ id: h.a.vulnerabilityId, limit: 1_000_000 }, o),
    };
    const outcomes: Record<string, string> = {};
    for (const [name, run] of Object.entries(cases)) outcomes[name] = (await outcome(run())).split(' ')[0]!;
    const codes = new Set<string>();
    for (const run of Object.values(cases)) codes.add((await outcome(run())).split(' ')[1]!);
    expect({ outcomes, codes }).toEqual({
      outcomes: Object.fromEntries(Object.keys(cases).map((name) => [name, 'INVALID_ARGUMENT'])),
      codes: new Set(['CP_INVALID_ARGUMENT', 'CP_CURSOR_INVALID']),
    });
  });
});

describe('answers', () => {
  it('maps an image and its findings onto the wire', async () => {
    const metadata = bearer(h.a.tokens.read);
    const image = toJson(
      GetImageResponseSchema,
      await clients.images.getImage({ id: h.a.imageId }, { metadata }),
    );
    const findings = toJson(
      ListImageFindingsResponseSchema,
      await clients.images.listImageFindings({ imageId: h.a.imageId }, { metadata }),
    );
    expect({ image, findings }).toMatchObject({
      image: {
        image: {
          id: h.a.imageId,
          repository: 'registry.test/tenant-a/app',
          os: { family: 'debian', version: '12' },
          counts: { critical: 1, high: 1, total: 2 },
          fixable: 1,
          lastScanId: h.a.completedScanId,
        },
      },
      findings: {
        scanId: h.a.completedScanId,
        findings: [
          {
            id: h.a.vulnerabilityId,
            package: { name: 'openssl', version: '3.0.1', ecosystem: 'deb' },
            fixedVersion: '3.0.2',
            status: 'FIX_STATE_FIXED',
            severity: 'SEVERITY_CRITICAL',
          },
          { id: 'CVE-2024-0002', status: 'FIX_STATE_UNFIXED', severity: 'SEVERITY_HIGH' },
        ],
      },
    });
  });

  it('maps a scan diff onto the wire, and refuses the diff of a scan not completed', async () => {
    const metadata = bearer(h.a.tokens.read);
    const diff = toJson(
      GetScanDiffResponseSchema,
      await clients.scans.getScanDiff({ id: h.a.completedScanId }, { metadata }),
    );
    const queued = await outcome(clients.scans.getScanDiff({ id: h.a.queuedScanId }, { metadata }));
    expect({ diff, queued }).toMatchObject({
      diff: {
        scan: { id: h.a.completedScanId, status: 'SCAN_STATUS_COMPLETED' },
        newCounts: { critical: 1, high: 1, total: 2 },
        resolvedCounts: {},
        newFindings: [
          {
            finding: { id: h.a.vulnerabilityId, package: { name: 'openssl', version: '3.0.1' } },
            reason: 'DIFF_REASON_PACKAGE_ADDED',
          },
          { finding: { id: 'CVE-2024-0002' }, reason: 'DIFF_REASON_PACKAGE_ADDED' },
        ],
      },
      queued: 'FAILED_PRECONDITION CP_SCAN_NOT_COMPLETED',
    });
    expect([diff.previous, diff.resolvedFindings, diff.nextCursor]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('shows the snapshot the worker matched against next to the scheduled one (GetScan and GET /scans/{id})', async () => {
    const [queuedId, scanId] = [await h.fresh.queuedScanId(h.a), await h.fresh.queuedScanId(h.a)];
    await h.cp.worker.claimJob({ scanId, attempt: 1, workerId: 'w1' }, { metadata: h.cp.metadata });
    const [, ...rest] = completeReport([wirePackage('zlib')], []);
    // the worker already follows a newer snapshot than the one the scan was scheduled against
    const started = { case: 'started' as const, value: { workerId: 'w1', dbVersion: 'db-v2' } };
    await h.cp.worker.report(messages(scanId, 1, [started, ...rest]), { metadata: h.cp.metadata });
    const versions = async (id: string) => {
      const rest = await call(
        h.app,
        { bearer: h.a.tokens.read },
        { method: 'GET', url: `/api/v1/scans/${id}` },
      );
      const { scan } = await clients.scans.getScan({ id }, { metadata: bearer(h.a.tokens.read) });
      const body = rest.json() as { dbVersion: string; matchedDbVersion: string | null };
      return {
        rest: [body.dbVersion, body.matchedDbVersion],
        grpc: [scan!.dbVersion, scan!.matchedDbVersion ?? 'unset'],
      };
    };
    expect({ queued: await versions(queuedId), completed: await versions(scanId) }).toEqual({
      queued: { rest: ['db-v1', null], grpc: ['db-v1', 'unset'] },
      completed: { rest: ['db-v1', 'db-v2'], grpc: ['db-v1', 'db-v2'] },
    });
  });

  it('WatchScan follows a scan from queued to completed', async () => {
    const scanId = await h.fresh.queuedScanId(h.a);
    const seen: string[] = [];
    const stream = clients.scans.watchScan({ id: scanId }, { metadata: bearer(h.a.tokens.read) });
    for await (const event of stream) {
      seen.push(`${ScanStatus[event.scan!.status]}${event.progress ? ` ${event.progress.stage}` : ''}`);
      if (seen.length === 1) {
        await h.cp.worker.claimJob({ scanId, attempt: 1, workerId: 'w1' }, { metadata: h.cp.metadata });
        await h.cp.worker.report(messages(scanId, 1, completeReport([wirePackage('zlib')], [])), {
          metadata: h.cp.metadata,
        });
      }
    }
    expect(seen).toEqual(['QUEUED', 'RUNNING', 'RUNNING analyze', 'COMPLETED']);
  });
});
