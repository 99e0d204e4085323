/**
 * Typed, promise-based grpc-js clients for protobuf-es services: the client half of adapter.ts.
 * Calls take message initialisers and resolve to decoded messages; a failed call rejects (or
 * throws from the stream) with grpc-js's ServiceError, whose Vigil code `remoteErrorCode` reads.
 */
import type { MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import {
  Metadata,
  type Client,
  type ClientReadableStream,
  type Deadline,
  type StatusObject,
} from '@grpc/grpc-js';
import { deserializer, serializer } from './adapter.js';

/** Per-call options. */
export interface ClientCallOptions {
  /** cancels the call (the server's ctx.signal aborts; the call fails with CANCELLED) */
  signal?: AbortSignal;
  /** a Date, or milliseconds since the epoch */
  deadline?: Deadline;
  metadata?: Metadata;
}

type MethodShape = GenServiceMethods[string];
type InInit<M extends MethodShape> = MessageInitShape<M['input']>;
type Out<M extends MethodShape> = MessageShape<M['output']>;

/** The client function of one method, by kind. */
export type ClientMethod<M extends MethodShape> = M['methodKind'] extends 'unary'
  ? (request: InInit<M>, options?: ClientCallOptions) => Promise<Out<M>>
  : M['methodKind'] extends 'server_streaming'
    ? (request: InInit<M>, options?: ClientCallOptions) => AsyncIterable<Out<M>>
    : M['methodKind'] extends 'client_streaming'
      ? (
          requests: AsyncIterable<InInit<M>> | Iterable<InInit<M>>,
          options?: ClientCallOptions,
        ) => Promise<Out<M>>
      : never;

/** A typed client: one function per method, keyed like `service.method`. */
export type ServiceClient<T extends GenServiceMethods> = { readonly [K in keyof T]: ClientMethod<T[K]> };

/** Cancels `call` when `signal` aborts; returns the function that stops listening. */
function bindSignal(signal: AbortSignal | undefined, call: { cancel(): void }): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    call.cancel();
    return () => {};
  }
  const onAbort = () => call.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

async function* readStream<T>(call: ClientReadableStream<T>, unbind: () => void): AsyncGenerator<T> {
  // grpc-js ends the stream, then emits 'error' (non-OK) and always 'status': remember both
  let failure: Error | undefined;
  call.on('error', (error: Error) => (failure ??= error));
  const status = new Promise<StatusObject>((resolve) => call.once('status', resolve));
  let finished = false;
  try {
    for await (const message of call) yield message as T;
    await status;
    finished = true;
  } catch (error) {
    await status;
    throw failure ?? error;
  } finally {
    unbind();
    if (!finished) call.cancel(); // the consumer stopped early: stop the server too
  }
  if (failure) throw failure;
}

/**
 * A typed client of `service` over an existing grpc-js channel (`new grpc.Client(address,
 * credentials)`; one channel can serve several services; the caller closes it). Throws for
 * bidi-streaming methods, which nothing uses yet.
 */
export function createClient<T extends GenServiceMethods>(
  service: GenService<T>,
  channel: Client,
): ServiceClient<T> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    const path = `/${service.typeName}/${method.name}`;
    const serialize = serializer(method.input) as (value: unknown) => Buffer;
    const deserialize = deserializer(method.output);
    const callOptions = (o: ClientCallOptions) => (o.deadline === undefined ? {} : { deadline: o.deadline });
    switch (method.methodKind) {
      case 'unary':
        client[method.localName] = (request: unknown, o: ClientCallOptions = {}) =>
          new Promise((resolve, reject) => {
            let unbind = () => {};
            const call = channel.makeUnaryRequest(
              path,
              serialize,
              deserialize,
              request,
              o.metadata ?? new Metadata(),
              callOptions(o),
              (error, response) => {
                unbind();
                if (error) reject(error);
                else resolve(response);
              },
            );
            unbind = bindSignal(o.signal, call);
          });
        break;
      case 'server_streaming':
        client[method.localName] = (request: unknown, o: ClientCallOptions = {}) => {
          const call = channel.makeServerStreamRequest(
            path,
            serialize,
            deserialize,
            request,
            o.metadata ?? new Metadata(),
            callOptions(o),
          );
          return readStream(call, bindSignal(o.signal, call));
        };
        break;
      case 'client_streaming':
        client[method.localName] = (
          requests: AsyncIterable<unknown> | Iterable<unknown>,
          o: ClientCallOptions = {},
        ) =>
          new Promise((resolve, reject) => {
            let settled = false;
            let unbind = () => {};
            const call = channel.makeClientStreamRequest(
              path,
              serialize,
              deserialize,
              o.metadata ?? new Metadata(),
              callOptions(o),
              (error, response) => {
                settled = true;
                unbind();
                if (error) reject(error);
                else resolve(response);
              },
            );
            unbind = bindSignal(o.signal, call);
            const settledOrDrained = () =>
              new Promise<void>((resolve) => {
                const events = ['drain', 'status', 'close'] as const;
                const done = () => {
                  for (const event of events) call.off(event, done);
                  resolve();
                };
                for (const event of events) call.on(event, done);
              });
            (async () => {
              for await (const request of requests) {
                if (settled) return; // the server answered early (an error): stop producing
                if (!call.write(request)) await settledOrDrained();
              }
              call.end();
            })().catch((error: unknown) => {
              // the request source failed: abandon the call and report the source's error
              call.cancel();
              settled = true;
              unbind();
              reject(error);
            });
          });
        break;
      default:
        throw new Error(`grpc adapter: bidi streaming is not supported (${service.typeName}/${method.name})`);
    }
  }
  return client as ServiceClient<T>;
}
