/**
 * The adapter over real gRPC on loopback: protobuf-es services served by grpc-js and called by
 * the typed client, and hostile raw bytes sent around the client.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { ImageService } from '@vigil/proto/v1/image_pb';
import { FixState, Severity } from '@vigil/proto/v1/model_pb';
import { ScanService, ScanStatus, type WatchScanResponse } from '@vigil/proto/v1/scan_pb';
import {
  ReportRequestSchema,
  WorkerService,
  type ReportRequest,
  type ReportResponse,
} from '@vigil/proto/v1/worker_pb';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutate, prng } from '../../../test/support/fuzz.js';
import { ControlPlaneError } from '../errors.js';
import { createClient } from './adapter-client.js';
import { addService, serviceDefinition, type ServiceHandlers } from './adapter.js';
import { remoteErrorCode } from './status.js';

type ReportInit = MessageInitShape<typeof ReportRequestSchema>;

/** Server-side observations the tests assert on. */
const seen = {
  reports: [] as ReportRequest[][],
  reportErrors: [] as string[],
  watchEnded: [] as Promise<string>[],
  deadlineAborted: undefined as Promise<string> | undefined,
  /** called by the Report handler after each message it read */
  onReport: (_received: ReportRequest[]) => {},
};

function whenAborted(signal: AbortSignal): Promise<string> {
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve((signal.reason as ControlPlaneError).code), {
      once: true,
    }),
  );
}

const scanHandlers: ServiceHandlers<(typeof ScanService)['method']> = {
  createScan: (request) => {
    if (!request.image) throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'image is required');
    return {
      scan: { id: 'scan-1', imageRef: request.image, status: ScanStatus.QUEUED, priority: request.priority },
    };
  },
  getScan: async (request, ctx) => {
    if (request.id === 'slow') {
      seen.deadlineAborted = whenAborted(ctx.signal);
      await seen.deadlineAborted;
      throw ctx.signal.reason;
    }
    if (request.id === 'whoami') return { scan: { id: ctx.metadata.get('authorization')[0] as string } };
    throw new ControlPlaneError('CP_NOT_FOUND', `scan ${request.id} not found`);
  },
  cancelScan: () => ({}),
  bulkScan: () => ({}),
  getBatch: () => ({}),
  cancelBatch: () => ({}),
  getScanDiff: () => ({}),
  async *watchScan(request, ctx) {
    if (request.id === 'gone') throw new ControlPlaneError('CP_NOT_FOUND', 'scan gone not found');
    const ended = whenAborted(ctx.signal);
    seen.watchEnded.push(ended);
    yield { scan: { id: request.id, status: ScanStatus.QUEUED } };
    yield {
      scan: { id: request.id, status: ScanStatus.RUNNING },
      progress: { stage: 'analyze', done: 3n, total: 7n },
    };
    if (request.id === 'forever') {
      await ended; // a running scan: nothing more until the client goes away
      return;
    }
    yield { scan: { id: request.id, status: ScanStatus.COMPLETED, counts: { high: 1, total: 1 } } };
  },
};

const workerHandlers: ServiceHandlers<(typeof WorkerService)['method']> = {
  claimJob: () => ({ proceed: false }),
  claimRematch: () => ({ proceed: false }),
  reportRematch: () => ({ ignored: true }),
  async report(requests) {
    const received: ReportRequest[] = [];
    try {
      for await (const request of requests) {
        received.push(request);
        seen.onReport(received);
      }
    } catch (error) {
      seen.reportErrors.push((error as ControlPlaneError).code);
      throw error;
    }
    seen.reports.push(received);
    const last = received.at(-1)?.event.case;
    return { status: last === 'completed' ? ScanStatus.COMPLETED : ScanStatus.FAILED };
  },
};

let server: grpc.Server;
let channel: grpc.Client;
let address: string;

beforeAll(async () => {
  server = new grpc.Server();
  addService(server, ScanService, scanHandlers);
  addService(server, WorkerService, workerHandlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  address = `127.0.0.1:${port}`;
  channel = new grpc.Client(address, grpc.credentials.createInsecure());
});

afterAll(() => {
  channel?.close();
  server?.forceShutdown();
});

/** The status code name and Vigil code of a failed call. */
function failure(error: unknown): [string, string | undefined] {
  return [grpc.status[(error as grpc.ServiceError).code]!, remoteErrorCode(error)];
}

async function failureOf(promise: Promise<unknown>): Promise<[string, string | undefined]> {
  return promise.then(
    () => ['OK', undefined],
    (error: unknown) => failure(error),
  );
}

describe('serviceDefinition', () => {
  it('maps each method to its path, streaming flags and original name', () => {
    const describe = (def: grpc.ServiceDefinition) =>
      Object.entries(def).map(([key, m]) => [key, m.path, m.requestStream, m.responseStream, m.originalName]);
    expect([
      ...describe(serviceDefinition(WorkerService)),
      ...describe(serviceDefinition(ImageService)),
    ]).toEqual([
      ['claimJob', '/vigil.v1.WorkerService/ClaimJob', false, false, 'ClaimJob'],
      ['report', '/vigil.v1.WorkerService/Report', true, false, 'Report'],
      ['claimRematch', '/vigil.v1.WorkerService/ClaimRematch', false, false, 'ClaimRematch'],
      ['reportRematch', '/vigil.v1.WorkerService/ReportRematch', false, false, 'ReportRematch'],
      ['listImages', '/vigil.v1.ImageService/ListImages', false, false, 'ListImages'],
      ['getImage', '/vigil.v1.ImageService/GetImage', false, false, 'GetImage'],
      ['listImageFindings', '/vigil.v1.ImageService/ListImageFindings', false, false, 'ListImageFindings'],
      ['getSummary', '/vigil.v1.ImageService/GetSummary', false, false, 'GetSummary'],
    ]);
  });

  it('refuses a service with a missing handler', () => {
    const { getBatch: _, ...partial } = scanHandlers;
    expect(() => addService(new grpc.Server(), ScanService, partial as typeof scanHandlers)).toThrow(
      'grpc adapter: no handler for getBatch',
    );
  });
});

describe('unary calls', () => {
  it('round-trip a request and response through the typed client', async () => {
    const scans = createClient(ScanService, channel);
    const { scan } = await scans.createScan({ image: 'alpine:3.19', priority: 3 });
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer t0k3n');
    const who = await scans.getScan({ id: 'whoami' }, { metadata });
    expect([scan?.id, scan?.imageRef, scan?.status, scan?.priority, who.scan?.id]).toEqual([
      'scan-1',
      'alpine:3.19',
      ScanStatus.QUEUED,
      3,
      'Bearer t0k3n',
    ]);
  });

  it('turn a coded error into its status, message and trailer', async () => {
    const scans = createClient(ScanService, channel);
    const error = await scans.getScan({ id: 'nope' }).catch((e: grpc.ServiceError) => e);
    expect([...failure(error), (error as grpc.ServiceError).details]).toEqual([
      'NOT_FOUND',
      'CP_NOT_FOUND',
      'scan nope not found',
    ]);
    expect(await failureOf(scans.createScan({ image: '' }))).toEqual([
      'INVALID_ARGUMENT',
      'CP_INVALID_ARGUMENT',
    ]);
  });

  it('abort the handler signal when the deadline passes', async () => {
    const scans = createClient(ScanService, channel);
    const outcome = await failureOf(scans.getScan({ id: 'slow' }, { deadline: Date.now() + 100 }));
    expect([outcome, await seen.deadlineAborted]).toEqual([['DEADLINE_EXCEEDED', undefined], 'CP_CANCELLED']);
  });
});

describe('server-streaming WatchScan', () => {
  it('streams every state in order, then ends', async () => {
    const received: WatchScanResponse[] = [];
    for await (const update of createClient(ScanService, channel).watchScan({ id: 's1' }))
      received.push(update);
    expect(
      received.map((r) => [r.scan?.status, r.progress?.stage, r.progress?.done, r.scan?.counts?.high]),
    ).toEqual([
      [ScanStatus.QUEUED, undefined, undefined, undefined],
      [ScanStatus.RUNNING, 'analyze', 3n, undefined],
      [ScanStatus.COMPLETED, undefined, undefined, 1],
    ]);
  });

  it('fails the stream with the thrown code', async () => {
    const stream = createClient(ScanService, channel).watchScan({ id: 'gone' });
    expect(await failureOf((async () => { for await (const _ of stream); })())).toEqual(['NOT_FOUND', 'CP_NOT_FOUND']); // prettier-ignore
  });

  it('cancels the server side when the client aborts', async () => {
    const controller = new AbortController();
    const statuses: ScanStatus[] = [];
    const outcome = await failureOf(
      (async () => {
        for await (const update of createClient(ScanService, channel).watchScan(
          { id: 'forever' },
          { signal: controller.signal },
        )) {
          statuses.push(update.scan!.status);
          if (update.scan?.status === ScanStatus.RUNNING) controller.abort();
        }
      })(),
    );
    expect([statuses, outcome, await seen.watchEnded.at(-1)]).toEqual([
      [ScanStatus.QUEUED, ScanStatus.RUNNING],
      ['CANCELLED', undefined],
      'CP_CANCELLED',
    ]);
  });

  it('cancels the server side when the consumer stops reading', async () => {
    for await (const update of createClient(ScanService, channel).watchScan({ id: 'forever' })) {
      if (update.scan?.status === ScanStatus.QUEUED) break;
    }
    expect(await seen.watchEnded.at(-1)).toBe('CP_CANCELLED');
  });
});

/** One worker report: started, progress, two inventory chunks, a findings chunk, completed. */
function reportOf(scanId: string): ReportInit[] {
  const musl = {
    name: 'musl',
    version: '1.1.22-r3',
    ecosystem: 'apk',
    purl: 'pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.2',
    srcName: 'musl',
    licenses: ['MIT'],
    layer: 'sha256:03901b4a2ea88eeaad62dbe59b072b28b6efa00491962b8741081c5df50c65e0',
    path: 'lib/apk/db/installed',
    foundBy: 'os/apk',
    metadata: { origin: 'musl', size: 614400, vendorPatched: false, commit: null },
  };
  const events: ReportInit['event'][] = [
    { case: 'started', value: { workerId: 'worker-a', dbVersion: 'sha256:db1' } },
    { case: 'progress', value: { stage: 'analyze', done: 1n, total: 2n } },
    {
      case: 'inventory',
      value: {
        seq: 0,
        artifact: { name: 'alpine:3.10', kind: 1, digest: 'sha256:aaa' },
        os: { family: 'alpine', version: '3.10.2', prettyName: 'Alpine Linux v3.10' },
        packages: [musl],
      },
    },
    {
      case: 'inventory',
      value: { seq: 1, unknowns: [{ path: 'usr/lib/node_modules/x/package.json', message: 'not JSON' }] },
    },
    {
      case: 'findings',
      value: {
        seq: 0,
        findings: [
          {
            id: 'CVE-2019-14697',
            package: musl,
            installedVersion: '1.1.22-r3',
            fixedVersion: '1.1.22-r4',
            status: FixState.FIXED,
            severity: Severity.CRITICAL,
            severitySource: 'cvss:nvd@nist.gov',
            cvss: {
              version: '3.1',
              vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
              score: 9.8,
              source: 'nvd',
            },
            epss: 0.01,
            dataSources: [{ source: 'alpine', namespace: 'alpine:3.10', advisoryId: 'CVE-2019-14697' }],
          },
        ],
      },
    },
    { case: 'completed', value: { packages: 1, findings: 1, inventoryChunks: 2, findingsChunks: 1 } },
  ];
  return events.map((event) => ({ scanId, attempt: 1, event }));
}

describe('client-streaming WorkerService.Report', () => {
  it('delivers mixed chunks in order and intact, and answers once the stream ends', async () => {
    const sent = reportOf('scan-r1');
    async function* produce() {
      for (const request of sent) yield request;
    }
    const response: ReportResponse = await createClient(WorkerService, channel).report(produce());
    const received = seen.reports.at(-1)!;
    expect(response.status).toBe(ScanStatus.COMPLETED);
    expect(received.map((r) => r.event.case)).toEqual([
      'started',
      'progress',
      'inventory',
      'inventory',
      'findings',
      'completed',
    ]);
    // everything sent arrives as sent: strings, enums, optional fields, the Struct metadata
    expect(received).toEqual(sent.map((init) => create(ReportRequestSchema, init)));
  });

  it('cancels the server side when the worker aborts mid-stream', async () => {
    const controller = new AbortController();
    const [started, progress] = reportOf('scan-r2');
    const serverHasTwo = new Promise<void>((resolve) => {
      seen.onReport = (received) => received.length === 2 && resolve();
    });
    const handlerFailed = new Promise<void>((resolve) => {
      const push = seen.reportErrors.push.bind(seen.reportErrors);
      seen.reportErrors.push = (...codes) => (resolve(), push(...codes));
    });
    async function* produce() {
      yield started!;
      yield progress!;
      await serverHasTwo;
      controller.abort(); // e.g. the scan was cancelled: stop before the inventory
    }
    const outcome = await failureOf(
      createClient(WorkerService, channel).report(produce(), { signal: controller.signal }),
    );
    await handlerFailed;
    // the handler's read loop threw the cancellation instead of ending as if the report were whole
    expect([outcome, seen.reportErrors.at(-1)]).toEqual([['CANCELLED', undefined], 'CP_CANCELLED']);
  });

  it('rejects with the source error when the request source throws', async () => {
    async function* produce(): AsyncGenerator<ReportInit> {
      yield reportOf('scan-r3')[0]!;
      throw new Error('engine blew up');
    }
    await expect(createClient(WorkerService, channel).report(produce())).rejects.toThrow('engine blew up');
  });
});

describe('malformed bytes', () => {
  const identity = (b: Buffer) => b;
  // field 1 (image, length-delimited) announces 5 bytes but the message ends after 2
  const truncated = Buffer.from([0x0a, 0x05, 0x61, 0x62]);

  function rawUnary(path: string, bytes: Buffer): Promise<[string, string | undefined]> {
    return new Promise((resolve) => {
      channel.makeUnaryRequest(path, identity, identity, bytes, new grpc.Metadata(), {}, (error) =>
        resolve(error ? failure(error) : ['OK', undefined]),
      );
    });
  }

  function rawStream(path: string, messages: Buffer[]): Promise<[string, string | undefined]> {
    return new Promise((resolve) => {
      const call = channel.makeClientStreamRequest(
        path,
        identity,
        identity,
        new grpc.Metadata(),
        {},
        (error) => resolve(error ? failure(error) : ['OK', undefined]),
      );
      for (const message of messages) call.write(message);
      call.end();
    });
  }

  it('answer INVALID_ARGUMENT on unary, server-streaming and client-streaming calls', async () => {
    const good = Buffer.from(
      toBinary(ReportRequestSchema, create(ReportRequestSchema, reportOf('scan-m')[0]!)),
    );
    const watch = await failureOf(
      (async () => {
        const call = channel.makeServerStreamRequest(
          '/vigil.v1.ScanService/WatchScan',
          identity,
          identity,
          truncated,
        );
        for await (const _ of call);
      })(),
    );
    expect([
      await rawUnary('/vigil.v1.ScanService/CreateScan', truncated),
      await rawUnary('/vigil.v1.ScanService/CreateScan', Buffer.from([0xff, 0xff, 0xff])),
      watch,
      await rawStream('/vigil.v1.WorkerService/Report', [good, truncated, good]),
      // the server is still up and serving
      await rawUnary('/vigil.v1.ScanService/CreateScan', Buffer.from([0x0a, 0x01, 0x61])),
    ]).toEqual([
      ['INVALID_ARGUMENT', 'CP_INVALID_ARGUMENT'],
      ['INVALID_ARGUMENT', 'CP_INVALID_ARGUMENT'],
      ['INVALID_ARGUMENT', 'CP_INVALID_ARGUMENT'],
      ['INVALID_ARGUMENT', 'CP_INVALID_ARGUMENT'],
      ['OK', undefined],
    ]);
  });

  it('never answer anything but OK or INVALID_ARGUMENT to mutated reports (fuzz)', async () => {
    const seeds = reportOf('scan-fuzz').map((init) =>
      Buffer.from(toBinary(ReportRequestSchema, create(ReportRequestSchema, init))),
    );
    const rand = prng(5);
    const outcomes = new Map<string, number>();
    // 600 calls of 1 to 3 mutated messages, 20 calls in flight at a time
    for (let round = 0; round < 30; round++) {
      const calls = Array.from({ length: 20 }, () =>
        rawStream(
          '/vigil.v1.WorkerService/Report',
          Array.from({ length: 1 + Math.floor(rand() * 3) }, () =>
            mutate(seeds[Math.floor(rand() * seeds.length)]!, rand, seeds),
          ),
        ),
      );
      for (const [status, code] of await Promise.all(calls)) {
        const key = `${status} ${code ?? ''}`.trim();
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
    }
    // truncation and junk insertion break some encodings, bit flips inside strings keep others valid
    expect([...outcomes.keys()].sort()).toEqual(['INVALID_ARGUMENT CP_INVALID_ARGUMENT', 'OK']);
  });
});
