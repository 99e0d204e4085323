/**
 * The one place grpc-js meets protobuf-es (STYLE §2.9). protobuf-es v2 emits message schemas and
 * `GenService` descriptors but no grpc-js stubs; this module turns a descriptor into
 *
 * - a grpc-js `ServiceDefinition`: path `/${service.typeName}/${method.name}`, messages encoded
 *   with `toBinary` and decoded with `fromBinary`, streaming flags from the method kind;
 * - server handlers written as plain async functions (`addService`): a request that does not
 *   decode, or a thrown error, becomes a gRPC status through the table in status.ts — never an
 *   uncaught exception and never the INTERNAL grpc-js would send for a decode failure;
 * - a typed, promise-based client (`createClient`, in client.ts).
 *
 * Handlers receive a `CallContext` whose signal aborts when the client cancels or the deadline
 * passes; long handlers (watch streams, report readers) must honour it.
 */
import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type DescMethod,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import type * as grpc from '@grpc/grpc-js';
import { ControlPlaneError } from '../errors.js';
import { isUnexpectedError, toCallStatus, type CallStatus } from './status.js';

/** What a handler knows about its call besides the request. */
export interface CallContext {
  /** aborts (reason: a CP_CANCELLED ControlPlaneError) when the client cancels or the deadline passes */
  readonly signal: AbortSignal;
  /** request metadata (authorization and the like) */
  readonly metadata: grpc.Metadata;
  readonly peer: string;
  readonly method: DescMethod;
}

type MethodShape = GenServiceMethods[string];
type In<M extends MethodShape> = MessageShape<M['input']>;
type OutInit<M extends MethodShape> = MessageInitShape<M['output']>;

/**
 * The handler of one method, by kind. Handlers return message initialisers (plain objects are
 * fine) and throw coded errors; requests have already been decoded.
 */
export type MethodHandler<M extends MethodShape> = M['methodKind'] extends 'unary'
  ? (request: In<M>, ctx: CallContext) => Promise<OutInit<M>> | OutInit<M>
  : M['methodKind'] extends 'server_streaming'
    ? (request: In<M>, ctx: CallContext) => AsyncIterable<OutInit<M>>
    : M['methodKind'] extends 'client_streaming'
      ? (requests: AsyncIterable<In<M>>, ctx: CallContext) => Promise<OutInit<M>>
      : never;

/** One handler per method of a service, keyed like `service.method` (camelCase local names). */
export type ServiceHandlers<T extends GenServiceMethods> = { [K in keyof T]: MethodHandler<T[K]> };

/** Options of addService. */
export interface AddServiceOptions {
  /** called with every error that is not a coded one (a bug): log it; the caller only sees INTERNAL */
  onInternalError?: (error: unknown, method: DescMethod) => void;
}

/** A request whose bytes did not decode; stands in for the message so grpc-js does not answer INTERNAL. */
class MalformedRequest {
  constructor(readonly reason: string) {}
}

/** Encodes a message or message initialiser of `schema`. Throws on values of the wrong shape. */
export function serializer<D extends DescMessage>(schema: D): (value: MessageInitShape<D>) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, create(schema, value));
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/** Decodes bytes of `schema`; throws on bytes that are not a valid encoding. */
export function deserializer<D extends DescMessage>(schema: D): (bytes: Buffer) => MessageShape<D> {
  return (bytes) => fromBinary(schema, bytes);
}

function lenientDeserializer(schema: DescMessage): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      return fromBinary(schema, bytes);
    } catch (error) {
      return new MalformedRequest(error instanceof Error ? error.message : String(error));
    }
  };
}

function assertSupported(method: DescMethod): void {
  if (method.methodKind === 'bidi_streaming') {
    // No Vigil service streams both ways; add it here with tests when one does.
    throw new Error(
      `grpc adapter: bidi streaming is not supported (${method.parent.typeName}/${method.name})`,
    );
  }
}

/**
 * The grpc-js service definition of a protobuf-es service, keyed by method local name. Request
 * decoding never throws: undecodable bytes arrive as a placeholder that the handlers installed by
 * `addService` answer with INVALID_ARGUMENT (CP_INVALID_ARGUMENT) — use it only through them.
 * Throws for bidi-streaming methods, which nothing uses yet.
 */
export function serviceDefinition<T extends GenServiceMethods>(
  service: GenService<T>,
): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    assertSupported(method);
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === 'client_streaming',
      responseStream: method.methodKind === 'server_streaming',
      requestSerialize: serializer(method.input) as (value: unknown) => Buffer,
      requestDeserialize: lenientDeserializer(method.input),
      responseSerialize: serializer(method.output) as (value: unknown) => Buffer,
      responseDeserialize: deserializer(method.output),
      originalName: method.name,
    };
  }
  return definition;
}

function decoded<T>(request: unknown): T {
  if (request instanceof MalformedRequest) {
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', `request does not decode: ${request.reason}`);
  }
  return request as T;
}

/** What every grpc-js server call has: request metadata, the peer, a `cancelled` event. */
interface ServerCallLike {
  readonly metadata: grpc.Metadata;
  getPeer(): string;
  once(event: 'cancelled', listener: () => void): unknown;
}

function contextOf(call: ServerCallLike, method: DescMethod): CallContext {
  const controller = new AbortController();
  call.once('cancelled', () =>
    controller.abort(new ControlPlaneError('CP_CANCELLED', 'call cancelled by the client or its deadline')),
  );
  return { signal: controller.signal, metadata: call.metadata, peer: call.getPeer(), method };
}

async function* readRequests(call: grpc.ServerReadableStream<unknown, unknown>, signal: AbortSignal) {
  try {
    for await (const request of call) yield decoded<never>(request);
  } catch (error) {
    // a cancelled call destroys the stream: report the cancellation, not the premature close
    throw signal.aborted ? signal.reason : error;
  }
  // A cancelled call can end the request stream like a half-close does, with the cancellation
  // reported a tick later (grpc-js defers onCancel to process.nextTick and flushes the stream
  // first). Let it arrive before telling the handler the stream is complete, so a handler never
  // takes a cut-off stream for a whole one.
  await new Promise((resolve) => setImmediate(resolve));
  if (signal.aborted) throw signal.reason;
}

function waitForDrain(
  stream: grpc.ServerWritableStream<unknown, unknown>,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    signal.addEventListener('abort', done);
  });
}

/**
 * The grpc-js implementation of a service from promise-based handlers. Every failure, including a
 * request that does not decode, ends the call with a mapped status (status.ts); a cancelled call
 * aborts `ctx.signal` and sends nothing more.
 */
export function serviceImplementation<T extends GenServiceMethods>(
  service: GenService<T>,
  handlers: ServiceHandlers<T>,
  options: AddServiceOptions = {},
): grpc.UntypedServiceImplementation {
  const fail = (error: unknown, method: DescMethod): CallStatus => {
    if (isUnexpectedError(error)) options.onInternalError?.(error, method);
    return toCallStatus(error);
  };
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    assertSupported(method);
    const handler = (handlers as Record<string, (...args: never[]) => unknown>)[method.localName];
    if (typeof handler !== 'function') throw new Error(`grpc adapter: no handler for ${method.localName}`);
    if (method.methodKind === 'unary') {
      implementation[method.localName] = ((call, callback) => {
        const ctx = contextOf(call, method);
        const run = handler as unknown as (request: unknown, ctx: CallContext) => unknown;
        Promise.resolve()
          .then(() => run(decoded(call.request), ctx))
          .then(
            (response) => callback(null, response),
            (error: unknown) => callback(fail(error, method)),
          );
      }) satisfies grpc.handleUnaryCall<unknown, unknown>;
    } else if (method.methodKind === 'client_streaming') {
      implementation[method.localName] = ((call, callback) => {
        const ctx = contextOf(call, method);
        const run = handler as unknown as (requests: AsyncIterable<unknown>, ctx: CallContext) => unknown;
        Promise.resolve()
          .then(() => run(readRequests(call, ctx.signal), ctx))
          .then(
            (response) => callback(null, response),
            (error: unknown) => callback(fail(error, method)),
          );
      }) satisfies grpc.handleClientStreamingCall<unknown, unknown>;
    } else {
      implementation[method.localName] = (async (call) => {
        const ctx = contextOf(call, method);
        const run = handler as unknown as (request: unknown, ctx: CallContext) => AsyncIterable<unknown>;
        try {
          for await (const response of run(decoded(call.request), ctx)) {
            if (ctx.signal.aborted) break;
            if (!call.write(response)) await waitForDrain(call, ctx.signal);
          }
          if (!ctx.signal.aborted) call.end();
        } catch (error) {
          if (!ctx.signal.aborted) call.emit('error', fail(error, method));
        }
      }) satisfies grpc.handleServerStreamingCall<unknown, unknown>;
    }
  }
  return implementation;
}

/**
 * Registers a protobuf-es service on a grpc-js server with promise-based handlers (see
 * serviceImplementation). Throws when a handler is missing or a method streams both ways.
 */
export function addService<T extends GenServiceMethods>(
  server: grpc.Server,
  service: GenService<T>,
  handlers: ServiceHandlers<T>,
  options?: AddServiceOptions,
): void {
  server.addService(serviceDefinition(service), serviceImplementation(service, handlers, options));
}
