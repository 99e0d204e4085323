/** The error-code → gRPC status table, and every code sent over real gRPC on loopback. */
import { createServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ENGINE_ERROR_CODES, EngineError, type EngineErrorCode } from '@vigil/engine/core';
import { AdminService } from '@vigil/proto/v1/admin_pb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_PLANE_ERROR_CODES, ControlPlaneError, type ControlPlaneErrorCode } from '../errors.js';
import { createClient } from './adapter-client.js';
import { addService } from './adapter.js';
import { GRPC_STATUS_BY_CODE, remoteErrorCode } from './status.js';

const isControlPlaneCode = (code: string): code is ControlPlaneErrorCode =>
  (CONTROL_PLANE_ERROR_CODES as readonly string[]).includes(code);

/** What the handler throws, chosen by the `x-throw` request header. */
function thrown(name: string): unknown {
  if (name === 'type-error') return new TypeError("Cannot read properties of undefined (reading 'id')");
  if (name === 'abort') return new DOMException('This operation was aborted', 'AbortError');
  if (name === 'foreign') {
    // an EngineError from another copy of the engine: recognised by its brand, not its class
    return Object.assign(new Error('registry down'), {
      [Symbol.for('vigil.engine.error')]: true,
      code: 'ENG_REGISTRY_UNREACHABLE',
    });
  }
  if (isControlPlaneCode(name)) return new ControlPlaneError(name, `message of ${name}`);
  return new EngineError(name as EngineErrorCode, `message of ${name}`);
}

const internalErrors: unknown[] = [];
let server: grpc.Server;
let channel: grpc.Client;

beforeAll(async () => {
  server = new grpc.Server();
  addService(
    server,
    AdminService,
    {
      getDbVersion: (_request, ctx) => {
        throw thrown(String(ctx.metadata.get('x-throw')[0]));
      },
    },
    { onInternalError: (error) => internalErrors.push(error) },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  channel = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(() => {
  channel?.close();
  server?.forceShutdown();
});

async function call(name: string): Promise<[string, string | undefined, string]> {
  const metadata = new grpc.Metadata();
  metadata.set('x-throw', name);
  const error = (await createClient(AdminService, channel)
    .getDbVersion({}, { metadata })
    .then(() => expect.unreachable('the handler throws'))
    .catch((e: unknown) => e)) as grpc.ServiceError;
  return [grpc.status[error.code]!, remoteErrorCode(error), error.details];
}

describe('GRPC_STATUS_BY_CODE', () => {
  it('has one row per control-plane and engine code, and no other', () => {
    expect(Object.keys(GRPC_STATUS_BY_CODE).sort()).toEqual(
      [...CONTROL_PLANE_ERROR_CODES, ...ENGINE_ERROR_CODES].sort(),
    );
  });

  it('maps codes by gRPC status meaning', () => {
    const byStatus: Record<string, string[]> = {};
    for (const [code, status] of Object.entries(GRPC_STATUS_BY_CODE))
      (byStatus[grpc.status[status]!] ??= []).push(code);
    // reviewed against https://grpc.io/docs/guides/status-codes/: the caller's bad input is
    // INVALID_ARGUMENT; only the caller's own credentials are UNAUTHENTICATED (a registry refusing
    // the worker is PERMISSION_DENIED); limits and 429s are RESOURCE_EXHAUSTED; upstreams that are
    // down or misbehaving are UNAVAILABLE (retry later); the service's own broken state is INTERNAL
    expect(byStatus).toEqual({
      INVALID_ARGUMENT: [
        'CP_INVALID_ARGUMENT',
        'CP_CURSOR_INVALID',
        'CP_REPORT_INVALID',
        'CP_UNSUPPORTED_MEDIA_TYPE',
        'ENG_INVALID_ARGUMENT',
        'ENG_IMAGE_REF_INVALID',
        'ENG_IMAGE_FORMAT_UNKNOWN',
        'ENG_IMAGE_MANIFEST_INVALID',
        'ENG_IMAGE_MANIFEST_UNSUPPORTED',
        'ENG_IMAGE_MANIFEST_TOO_LARGE',
        'ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED',
        'ENG_IMAGE_CONFIG_INVALID',
        'ENG_IMAGE_BLOB_MISSING',
        'ENG_DIGEST_INVALID',
        'ENG_DIGEST_MISMATCH',
        'ENG_IMAGE_ARCHIVE_CORRUPT',
        'ENG_LAYER_CORRUPT',
        'ENG_LAYER_COMPRESSION_UNSUPPORTED',
        'ENG_FORMAT_UNSUPPORTED',
        'ENG_FEED_UNKNOWN',
        'ENG_DB_EMPTY_INPUT',
        'ENG_CVSS_INVALID',
        'ENG_VERSION_INVALID',
        'ENG_POLICY_INVALID',
        'ENG_SBOM_INVALID',
      ],
      NOT_FOUND: [
        'CP_NOT_FOUND',
        'ENG_IMAGE_SOURCE_NOT_FOUND',
        'ENG_IMAGE_PLATFORM_NOT_FOUND',
        'ENG_REGISTRY_NOT_FOUND',
      ],
      ALREADY_EXISTS: ['CP_CONFLICT'],
      UNAUTHENTICATED: ['CP_UNAUTHENTICATED'],
      PERMISSION_DENIED: [
        'CP_FORBIDDEN',
        'CP_ENTITLEMENT_DISABLED',
        'CP_CSRF',
        'ENG_REGISTRY_UNAUTHORIZED',
        'ENG_REGISTRY_FORBIDDEN',
        'ENG_CREDENTIALS_HELPER_FAILED',
      ],
      FAILED_PRECONDITION: [
        'CP_LAST_ADMIN',
        'CP_SCAN_TRANSITION_INVALID',
        'CP_SCAN_NOT_COMPLETED',
        'CP_IMAGE_UNRESOLVABLE',
        'ENG_REGISTRY_INSECURE_REFUSED',
        'ENG_DB_SCHEMA_UNSUPPORTED',
      ],
      ABORTED: ['CP_SCAN_ATTEMPT_STALE'],
      RESOURCE_EXHAUSTED: [
        'CP_PAYLOAD_TOO_LARGE',
        'CP_RATE_LIMITED',
        'ENG_REGISTRY_RATE_LIMITED',
        'ENG_LAYER_TOO_LARGE',
        'ENG_IMAGE_TOO_LARGE',
        'ENG_FEED_RATE_LIMITED',
      ],
      UNAVAILABLE: [
        'CP_QUEUE_UNAVAILABLE',
        'CP_ANALYTICS_UNAVAILABLE',
        'CP_DB_UNAVAILABLE',
        'CP_UNAVAILABLE',
        'ENG_REGISTRY_SERVER_ERROR',
        'ENG_REGISTRY_UNREACHABLE',
        'ENG_REGISTRY_TIMEOUT',
        'ENG_REGISTRY_PROTOCOL',
        'ENG_FEED_HTTP',
        'ENG_FEED_TIMEOUT',
        'ENG_FEED_UNREACHABLE',
        'ENG_FEED_FORMAT',
        'ENG_FEED_TOO_LARGE',
        'ENG_DB_NOT_FOUND',
        'ENG_DB_LOCKED',
      ],
      CANCELLED: ['CP_CANCELLED', 'ENG_ABORTED'],
      DATA_LOSS: ['CP_SCAN_REPORT_TRUNCATED'],
      INTERNAL: [
        'CP_SCAN_WORKER_LOST',
        'CP_ANALYTICS_ERROR',
        'CP_DB_ERROR',
        'CP_DB_MIGRATION_INVALID',
        'CP_DB_MIGRATION_MODIFIED',
        'CP_DB_MIGRATION_FAILED',
        'CP_INTERNAL',
        'ENG_CACHE_IO',
        'ENG_DB_CORRUPT',
        'ENG_DB_BUILD_FAILED',
      ],
    });
  });
});

describe('errors over gRPC', () => {
  it('arrive as the table status with the code trailer and the message, for every code', async () => {
    const codes = Object.keys(GRPC_STATUS_BY_CODE) as (keyof typeof GRPC_STATUS_BY_CODE)[];
    const received = await Promise.all(codes.map((code) => call(code)));
    expect(received).toEqual(
      codes.map((code) => [grpc.status[GRPC_STATUS_BY_CODE[code]], code, `message of ${code}`]),
    );
    expect(internalErrors).toEqual([]);
  });

  it('hide uncoded errors behind INTERNAL and hand them to onInternalError', async () => {
    expect([await call('type-error'), await call('abort'), await call('foreign')]).toEqual([
      ['INTERNAL', 'CP_INTERNAL', 'internal error'],
      ['CANCELLED', 'CP_CANCELLED', 'call cancelled'],
      ['UNAVAILABLE', 'ENG_REGISTRY_UNREACHABLE', 'registry down'],
    ]);
    expect(internalErrors.map((e) => String(e))).toEqual([
      "TypeError: Cannot read properties of undefined (reading 'id')",
    ]);
  });

  it('carry no Vigil code when no Vigil server answered', async () => {
    // a port nothing listens on: grpc-js fails the call itself with UNAVAILABLE
    const probe = createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)),
    );
    await new Promise((resolve) => probe.close(resolve));
    const closed = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const error = (await createClient(AdminService, closed)
        .getDbVersion({})
        .catch((e: unknown) => e)) as grpc.ServiceError;
      expect([grpc.status[error.code], remoteErrorCode(error)]).toEqual(['UNAVAILABLE', undefined]);
    } finally {
      closed.close();
    }
  });
});
