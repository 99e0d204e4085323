/**
 * Listening and closing for the control plane's servers (server.ts): gRPC binding with a coded error, graceful
 * closes bounded in time, and the host a local user reaches a wildcard listener on.
 */
import * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { ControlPlaneError } from './errors.js';

export function bindGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) {
        reject(
          new ControlPlaneError('CP_UNAVAILABLE', `cannot listen for gRPC on ${address}: ${err.message}`),
        );
      } else resolve(bound);
    });
  });
}

/** Stops accepting, lets requests finish, then cuts what is left (SSE watchers) after `timeoutMs`. */
export async function closeHttp(app: FastifyInstance, timeoutMs: number): Promise<void> {
  const timer = setTimeout(() => app.server.closeAllConnections(), timeoutMs);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
}

/** Lets calls in flight (worker reports) finish, then cancels what is left after `timeoutMs`. */
export function closeGrpc(server: grpc.Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, timeoutMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** `0.0.0.0` / `::` listen everywhere; locally the server is reached on loopback. */
export function localHost(host: string, loopback = 'localhost'): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return loopback;
  return host.includes(':') ? `[${host}]` : host;
}
