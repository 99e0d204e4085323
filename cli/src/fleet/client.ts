/**
 * A small client of a Vigil control plane's REST API (`<server>/api/v1`, docs/api.md) for the CLI: bearer token,
 * JSON in and out, every failure a FleetError with a code. The token is sent only as the `Authorization` header
 * and never appears in a message.
 */
import { EngineError } from '@vigil/engine/core';
import { FleetError, type FleetErrorCode } from './errors.js';

export interface FleetTarget {
  /** the control plane's base URL (`https://vigil.example.com`), as given */
  server: string;
  token: string;
  signal?: AbortSignal;
}

/** A JSON answer of the API. */
export interface ApiAnswer<T> {
  status: number;
  body: T;
}

/** Default time one request may take (not counting a long poll's wait). */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Checks `--server` and `--token`. @throws ENG_INVALID_ARGUMENT (exit 2) for a server that is not an http(s)
 * URL or a missing token
 */
export function fleetTarget(server: string, token: string | undefined, signal?: AbortSignal): FleetTarget {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new EngineError(
      'ENG_INVALID_ARGUMENT',
      `--server ${JSON.stringify(server)} is not a URL (https://host[:port])`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new EngineError(
      'ENG_INVALID_ARGUMENT',
      `--server must be an http or https URL, not ${url.protocol}`,
    );
  if (!token)
    throw new EngineError(
      'ENG_INVALID_ARGUMENT',
      '--server needs an API token: --token T or VIGIL_TOKEN (a token with the `ci` scope to upload or scan)',
    );
  // the base without a trailing slash, credentials or query
  const base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  return { server: base, token, ...(signal ? { signal } : {}) };
}

/** `<server>/api/v1<path>` */
export const apiUrl = (target: FleetTarget, path: string): string => `${target.server}/api/v1${path}`;

/**
 * A request to the API; answers of any status are returned (the caller decides), network failures throw.
 * @throws CLI_SERVER_UNREACHABLE when the server cannot be reached or does not answer in time
 */
export async function send(
  target: FleetTarget,
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Response> {
  const timeout = AbortSignal.timeout(init.timeoutMs ?? REQUEST_TIMEOUT_MS);
  const signal = target.signal ? AbortSignal.any([target.signal, timeout]) : timeout;
  try {
    return await fetch(apiUrl(target, path), {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        accept: 'application/json',
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: init.body } : {}),
      signal,
    });
  } catch (e) {
    if (target.signal?.aborted) throw new EngineError('ENG_ABORTED', 'interrupted', { cause: e });
    const why = timeout.aborted ? 'no answer in time' : describeNetworkError(e);
    throw new FleetError('CLI_SERVER_UNREACHABLE', `cannot reach the Vigil server ${target.server}: ${why}`, {
      cause: e,
    });
  }
}

/**
 * A JSON call; a 2xx answer's body, else a FleetError naming the server's `{code, message}`.
 * @throws CLI_SERVER_UNAUTHENTICATED (401), CLI_SERVER_FORBIDDEN (403), CLI_SERVER_ERROR (429, 5xx, not JSON),
 *   CLI_SERVER_REFUSED (any other 4xx), CLI_SERVER_UNREACHABLE
 */
export async function callJson<T>(
  target: FleetTarget,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs?: number,
): Promise<ApiAnswer<T>> {
  const res = await send(target, method, path, {
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    throw new FleetError('CLI_SERVER_UNREACHABLE', `${method} ${path}: the answer broke off`, { cause: e });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (res.status >= 200 && res.status < 300) {
    if (parsed === undefined)
      throw new FleetError(
        'CLI_SERVER_ERROR',
        `${method} ${path}: ${target.server} answered ${res.status} with something that is not JSON (is --server a Vigil control plane?)`,
      );
    return { status: res.status, body: parsed as T };
  }
  throw answerError(target, method, path, res.status, parsed);
}

/** The FleetError for an error answer (`{code, message}` body when the server sent one). */
export function answerError(
  target: FleetTarget,
  method: string,
  path: string,
  status: number,
  body: unknown,
): FleetError {
  const server = body as { code?: unknown; message?: unknown } | undefined;
  const said =
    typeof server?.code === 'string'
      ? `${server.code}: ${typeof server.message === 'string' ? server.message : ''}`
      : `HTTP ${status}`;
  const code: FleetErrorCode =
    status === 401
      ? 'CLI_SERVER_UNAUTHENTICATED'
      : status === 403
        ? 'CLI_SERVER_FORBIDDEN'
        : status === 429 || status >= 500
          ? 'CLI_SERVER_ERROR'
          : 'CLI_SERVER_REFUSED';
  const hint =
    code === 'CLI_SERVER_UNAUTHENTICATED'
      ? ' (the token is unknown, revoked or expired: check --token / VIGIL_TOKEN)'
      : code === 'CLI_SERVER_FORBIDDEN'
        ? ' (uploads and remote scans need a token with the `ci` scope)'
        : '';
  const error = new FleetError(
    code,
    `${method} ${target.server}/api/v1${path} answered ${status}: ${said}${hint}`,
  );
  return Object.assign(error, { status, serverCode: typeof server?.code === 'string' ? server.code : null });
}

function describeNetworkError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code} ${cause.message ?? ''}`.trim();
  return cause?.message ?? (e as Error).message;
}
