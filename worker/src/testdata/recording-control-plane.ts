/**
 * Test peer: a real grpc-js server implementing WorkerService that records every ClaimJob and every
 * Report stream (its requests in order, its metadata, how it ended). Claims and reports are answered
 * by scriptable functions; a thrown `{ code, details, vigilCode }` becomes the call's gRPC status.
 * `down()` stops the server as a crash would (open streams cut, connections refused) and `up()` starts
 * a new one on the same port with the same records and scripts: a control-plane outage.
 */
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { ScanStatus } from '@vigil/proto/v1/scan_pb';
import {
  ClaimJobRequestSchema,
  ClaimJobResponseSchema,
  ReportRequestSchema,
  ReportResponseSchema,
  type ClaimJobRequest,
  type ReportRequest,
} from '@vigil/proto/v1/worker_pb';

export interface RecordedStream {
  requests: ReportRequest[];
  authorization: string | undefined;
  /** `end`: half-closed by the worker; `cancelled`: cut short; `failed`: answered with an error */
  ending: 'open' | 'end' | 'cancelled' | 'failed';
}

/** What a script throws to fail a call. */
export interface ScriptedFailure {
  code: grpc.status;
  details: string;
  vigilCode?: string;
}

export interface RecordingControlPlane {
  address: string;
  claims: (ClaimJobRequest & { authorization: string | undefined })[];
  streams: RecordedStream[];
  /** answers ClaimJob (default: proceed, RUNNING) */
  onClaim: (request: ClaimJobRequest) => MessageInitShape<typeof ClaimJobResponseSchema>;
  /** sees each Report request as it arrives; throwing fails the stream */
  onReport: (request: ReportRequest, stream: RecordedStream) => void;
  /** the server goes away at once: open calls are cut, new connections refused (until `up()`) */
  down(): void;
  /** a new server on the same port after `down()` (nothing when up) */
  up(): Promise<void>;
  stop(): Promise<void>;
}

const codec = <D extends DescMessage>(schema: D) => ({
  serialize: (value: MessageInitShape<D>) => Buffer.from(toBinary(schema, create(schema, value))),
  deserialize: (bytes: Buffer) => fromBinary(schema, bytes),
});

const failureStatus = (error: unknown): Partial<grpc.StatusObject> => {
  const f = error as Partial<ScriptedFailure>;
  const metadata = new grpc.Metadata();
  if (f.vigilCode) metadata.set('vigil-error-code', f.vigilCode);
  return { code: f.code ?? grpc.status.INTERNAL, details: f.details ?? String(error), metadata };
};

export async function startRecordingControlPlane(): Promise<RecordingControlPlane> {
  const claim = codec(ClaimJobRequestSchema);
  const claimResponse = codec(ClaimJobResponseSchema);
  const report = codec(ReportRequestSchema);
  const reportResponse = codec(ReportResponseSchema);
  const auth = (metadata: grpc.Metadata) => metadata.get('authorization')[0]?.toString();
  let server: grpc.Server | null = null;
  let port = 0;
  const plane: RecordingControlPlane = {
    address: '',
    claims: [],
    streams: [],
    onClaim: () => ({ proceed: true, status: ScanStatus.RUNNING, dbVersion: '' }),
    onReport: () => {},
    down: () => {
      server?.forceShutdown();
      server = null;
    },
    up: async () => {
      server ??= await listen(port);
    },
    stop: async () => plane.down(),
  };
  const definition = {
    claimJob: {
      path: '/vigil.v1.WorkerService/ClaimJob',
      requestStream: false,
      responseStream: false,
      requestSerialize: claim.serialize,
      requestDeserialize: claim.deserialize,
      responseSerialize: claimResponse.serialize,
      responseDeserialize: claimResponse.deserialize,
    },
    report: {
      path: '/vigil.v1.WorkerService/Report',
      requestStream: true,
      responseStream: false,
      requestSerialize: report.serialize,
      requestDeserialize: report.deserialize,
      responseSerialize: reportResponse.serialize,
      responseDeserialize: reportResponse.deserialize,
    },
  } as grpc.ServiceDefinition;
  const handlers = {
    claimJob: ((call, callback) => {
      plane.claims.push({ ...call.request, authorization: auth(call.metadata) });
      try {
        callback(null, plane.onClaim(call.request));
      } catch (error) {
        callback(failureStatus(error));
      }
    }) satisfies grpc.handleUnaryCall<ClaimJobRequest, MessageInitShape<typeof ClaimJobResponseSchema>>,
    report: ((call, callback) => {
      const stream: RecordedStream = { requests: [], authorization: auth(call.metadata), ending: 'open' };
      plane.streams.push(stream);
      call.on('data', (request: ReportRequest) => {
        if (stream.ending !== 'open') return;
        stream.requests.push(request);
        try {
          plane.onReport(request, stream);
        } catch (error) {
          stream.ending = 'failed';
          callback(failureStatus(error));
        }
      });
      call.on('cancelled', () => {
        if (stream.ending === 'open') stream.ending = 'cancelled';
      });
      call.on('end', () => {
        // grpc-js ends the request stream of a cancelled call too and reports the cancel a tick later
        setImmediate(() => {
          if (stream.ending !== 'open') return;
          stream.ending = 'end';
          callback(null, { status: ScanStatus.COMPLETED, ignored: false });
        });
      });
    }) satisfies grpc.handleClientStreamingCall<ReportRequest, MessageInitShape<typeof ReportResponseSchema>>,
  };
  const listen = async (at: number): Promise<grpc.Server> => {
    const next = new grpc.Server();
    next.addService(definition, handlers);
    port = await new Promise<number>((resolve, reject) =>
      next.bindAsync(`127.0.0.1:${at}`, grpc.ServerCredentials.createInsecure(), (error, p) =>
        error ? reject(error) : resolve(p),
      ),
    );
    return next;
  };
  server = await listen(0);
  plane.address = `127.0.0.1:${port}`;
  return plane;
}

/** The values of the events of one kind in a stream, in order. */
export function eventsOf<K extends NonNullable<ReportRequest['event']['case']>>(
  stream: RecordedStream,
  kind: K,
): Extract<ReportRequest['event'], { case: K }>['value'][] {
  return stream.requests
    .filter((r) => r.event.case === kind)
    .map((r) => r.event.value as Extract<ReportRequest['event'], { case: K }>['value']);
}

/** The event kinds of a stream without progress: started, inventory…, findings…, and the terminal one. */
export function terminalKinds(stream: RecordedStream): string[] {
  return eventKinds(stream).filter((k) => k !== 'progress');
}

/** The event kinds of a stream in order (`progress` collapsed to one entry per run of progress events). */
export function eventKinds(stream: RecordedStream): string[] {
  const kinds: string[] = [];
  for (const r of stream.requests) {
    const kind = r.event.case ?? 'none';
    if (kind === 'progress' && kinds.at(-1) === 'progress') continue;
    kinds.push(kind);
  }
  return kinds;
}
