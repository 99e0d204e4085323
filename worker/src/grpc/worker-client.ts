/**
 * The worker's client of WorkerService (vigil/v1/worker.proto) over grpc-js, with messages encoded
 * by protobuf-es. The Report stream is push-based (`write` / `send` / `finish`) because the job
 * produces its events imperatively while it scans; every call carries the worker token as
 * `authorization: Bearer <token>` metadata.
 *
 * The control plane has the general adapter (control-plane/src/grpc/adapter-client.ts), which the
 * worker may not import; this is the small worker-side half for the two methods it calls.
 */
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  ClaimJobRequestSchema,
  ClaimJobResponseSchema,
  ClaimRematchRequestSchema,
  ClaimRematchResponseSchema,
  ReportRematchRequestSchema,
  ReportRematchResponseSchema,
  type ClaimRematchResponse,
  type ReportRematchResponse,
  ReportResponseSchema,
  WorkerService,
  type ClaimJobResponse,
  type ReportRequest,
  type ReportResponse,
} from '@vigil/proto/v1/worker_pb';
import { encodeReportRequest } from './report-encoder.js';
import { installFastTextEncoding } from './text-encoding.js';

/** Trailer in which the control plane puts the Vigil error code of a failed call. */
export const ERROR_CODE_TRAILER = 'vigil-error-code';

export interface WorkerClientOptions {
  /** `host:port` of the control plane's gRPC server */
  address: string;
  /** the worker token, sent as `authorization: Bearer <token>` */
  token: string;
  /** default: insecure (plaintext), for loopback and private networks */
  credentials?: grpc.ChannelCredentials;
  /** deadline of ClaimJob (default 30 s) */
  claimTimeoutMs?: number;
  /** longest wait between two connection attempts while the control plane is unreachable (default 10 s) */
  maxReconnectBackoffMs?: number;
}

/** One Report stream (one job attempt). */
export interface ReportCall {
  /** Queues an event without waiting (progress); a failure surfaces at the next `send` or `finish`. */
  write(request: ReportRequest): void;
  /** Queues an event and waits until the transport takes more; rejects once the call failed. */
  send(request: ReportRequest): Promise<void>;
  /** Half-closes and resolves with the control plane's answer; rejects with the call's error. */
  finish(): Promise<ReportResponse>;
  /** Cuts the stream short (the control plane keeps nothing of this attempt). */
  cancel(): void;
}

export interface WorkerClient {
  claimJob(request: MessageInitShape<typeof ClaimJobRequestSchema>): Promise<ClaimJobResponse>;
  openReport(): ReportCall;
  /** rematch batches (jobs/rematch.ts); optional so a client without them (tests) still runs scan jobs */
  claimRematch?(request: MessageInitShape<typeof ClaimRematchRequestSchema>): Promise<ClaimRematchResponse>;
  reportRematch?(
    request: MessageInitShape<typeof ReportRematchRequestSchema>,
  ): Promise<ReportRematchResponse>;
  close(): void;
}

/** A failed call: the gRPC status and, when the server sent one, its Vigil error code. */
export interface RpcFailure {
  grpcCode: grpc.status;
  vigilCode: string | undefined;
  message: string;
}

/** Reads a grpc-js ServiceError (or anything else a call rejected with). */
export function rpcFailure(error: unknown): RpcFailure {
  const e = error as Partial<grpc.ServiceError>;
  const trailer = e.metadata instanceof grpc.Metadata ? e.metadata.get(ERROR_CODE_TRAILER)[0] : undefined;
  return {
    grpcCode: typeof e.code === 'number' ? e.code : grpc.status.UNKNOWN,
    vigilCode: typeof trailer === 'string' ? trailer : undefined,
    message:
      typeof e.details === 'string' ? e.details : error instanceof Error ? error.message : String(error),
  };
}

// strings encoded without an ArrayBuffer each (text-encoding.ts): most of an inventory chunk's cost
installFastTextEncoding();

const encode =
  <D extends DescMessage>(schema: D) =>
  (value: MessageInitShape<D>): Buffer => {
    const bytes = toBinary(schema, create(schema, value));
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
const decode =
  <D extends DescMessage>(schema: D) =>
  (bytes: Buffer) =>
    fromBinary(schema, bytes);

const path = (name: string) => `/${WorkerService.typeName}/${name}`;

/** A client on its own channel; `close()` closes the channel. */
export function createWorkerClient(options: WorkerClientOptions): WorkerClient {
  const maxReconnectBackoffMs = options.maxReconnectBackoffMs ?? 10_000;
  const channel = new grpc.Client(options.address, options.credentials ?? grpc.credentials.createInsecure(), {
    // a dead control plane must fail a stream, not leave it waiting forever
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 0,
    // a control plane back after an outage is found within this, not after grpc-js's default of up to 120 s
    'grpc.initial_reconnect_backoff_ms': Math.min(1_000, maxReconnectBackoffMs),
    'grpc.max_reconnect_backoff_ms': maxReconnectBackoffMs,
    // a rematch claim carries a batch of stored inventories (the control plane sends at most 16 MiB)
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
  });
  const metadata = () => {
    const m = new grpc.Metadata();
    m.set('authorization', `Bearer ${options.token}`);
    return m;
  };
  const claimTimeoutMs = options.claimTimeoutMs ?? 30_000;
  // rematch calls carry a whole batch: a longer deadline than a claim
  const unary = <I extends DescMessage, O extends DescMessage>(
    input: I,
    output: O,
    name: string,
    request: MessageInitShape<I>,
  ) =>
    new Promise<ReturnType<typeof fromBinary<O>>>((resolve, reject) => {
      channel.makeUnaryRequest(
        path(name),
        encode(input),
        decode(output),
        request,
        metadata(),
        { deadline: Date.now() + Math.max(claimTimeoutMs, 120_000) },
        (error, response) => (error || !response ? reject(error) : resolve(response)),
      );
    });

  return {
    claimJob: (request) =>
      new Promise((resolve, reject) => {
        channel.makeUnaryRequest(
          path('ClaimJob'),
          encode(ClaimJobRequestSchema),
          decode(ClaimJobResponseSchema),
          request,
          metadata(),
          { deadline: Date.now() + claimTimeoutMs },
          (error, response) => (error || !response ? reject(error) : resolve(response)),
        );
      }),
    openReport: () => openReportCall(channel, metadata()),
    claimRematch: (request) =>
      unary(ClaimRematchRequestSchema, ClaimRematchResponseSchema, 'ClaimRematch', request),
    reportRematch: (request) =>
      unary(ReportRematchRequestSchema, ReportRematchResponseSchema, 'ReportRematch', request),
    close: () => channel.close(),
  };
}

function openReportCall(channel: grpc.Client, metadata: grpc.Metadata): ReportCall {
  let failure: unknown;
  let settled = false;
  let resolveResponse!: (response: ReportResponse) => void;
  let rejectResponse!: (error: unknown) => void;
  const response = new Promise<ReportResponse>((resolve, reject) => {
    resolveResponse = resolve;
    rejectResponse = reject;
  });
  response.catch(() => undefined); // observed through send/finish
  const call = channel.makeClientStreamRequest(
    path('Report'),
    // inventory and findings chunks by hand (report-encoder.ts), every other event by protobuf-es
    encodeReportRequest,
    decode(ReportResponseSchema),
    metadata,
    {},
    (error, answer) => {
      settled = true;
      if (error || !answer) {
        failure = error ?? new Error('Report ended without an answer');
        rejectResponse(failure);
      } else resolveResponse(answer);
    },
  );
  // a write after a failed call would throw inside grpc-js: surface the call's own error instead
  call.on('error', (error: unknown) => (failure ??= error));
  const drained = () =>
    new Promise<void>((resolve) => {
      const events = ['drain', 'status', 'close'] as const;
      const done = () => {
        for (const event of events) call.off(event, done);
        resolve();
      };
      for (const event of events) call.on(event, done);
    });
  const throwIfFailed = () => {
    if (failure) throw failure;
    if (settled) throw new Error('Report answered before the stream ended');
  };
  return {
    write(request) {
      if (!failure && !settled) call.write(request);
    },
    async send(request) {
      throwIfFailed();
      if (!call.write(request)) await drained();
      throwIfFailed();
    },
    finish() {
      if (!failure && !settled) call.end();
      return response;
    },
    cancel() {
      if (!settled) call.cancel();
    },
  };
}
