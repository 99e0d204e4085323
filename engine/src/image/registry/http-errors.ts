/**
 * Maps HTTP answers and transport failures of registry requests to coded EngineErrors whose
 * message names the registry, the repository and what was asked, plus the registry's own words
 * (`errors[].message` of https://distribution.github.io/distribution/spec/api/#errors).
 */
import { EngineError, isEngineError, type EngineErrorCode } from '../../errors.js';
import { errorCode } from '../../net/retry.js';

/** What a request is for, e.g. `manifest "3.19" of docker.io/library/alpine`. */
export type RequestSubject = string;

const STATUS_CODES: Record<number, [EngineErrorCode, string]> = {
  401: ['ENG_REGISTRY_UNAUTHORIZED', 'unauthorized (missing or wrong credentials)'],
  403: ['ENG_REGISTRY_FORBIDDEN', 'forbidden (the credentials do not allow pulling this repository)'],
  404: ['ENG_REGISTRY_NOT_FOUND', 'not found'],
  429: ['ENG_REGISTRY_RATE_LIMITED', 'rate limited (too many requests; retries exhausted)'],
};

/** `CODE: message` pairs from a registry error body, or undefined when the body has none. */
export function registryErrorText(body: Uint8Array | undefined): string | undefined {
  if (!body || body.length === 0) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
  const errors = (doc as { errors?: unknown } | null)?.errors;
  const texts: string[] = [];
  if (Array.isArray(errors)) {
    for (const e of errors.slice(0, 5)) {
      const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
      const parts = [typeof code === 'string' ? code : '', typeof message === 'string' ? message : ''].filter(
        Boolean,
      );
      if (parts.length) texts.push(parts.join(': '));
    }
  }
  // token servers answer {"details": "..."} (Docker Hub) or {"error": "..."} (OAuth2)
  for (const key of ['details', 'error_description', 'error']) {
    const v = (doc as Record<string, unknown> | null)?.[key];
    if (texts.length === 0 && typeof v === 'string') texts.push(v);
  }
  return texts.length ? texts.join('; ').slice(0, 500) : undefined;
}

/** The coded error for a non-success HTTP status. */
export function statusError(status: number, subject: RequestSubject, body?: Uint8Array): EngineError {
  const [code, label] =
    STATUS_CODES[status] ??
    (status >= 500
      ? ['ENG_REGISTRY_SERVER_ERROR', 'server error']
      : ['ENG_REGISTRY_PROTOCOL', 'unexpected answer']);
  const says = registryErrorText(body);
  return new EngineError(
    code,
    `${subject}: HTTP ${status} ${label}${says ? ` - registry says: ${says}` : ''}`,
  );
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);
const CERT_CODE =
  /^(?:CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)/;
const HANDSHAKE_CODE = /^(?:ERR_SSL_|ERR_TLS_)/;

/**
 * The coded error for a failed request: ENG_ABORTED (signal), ENG_REGISTRY_TIMEOUT (headers, body
 * or connect timeout), ENG_REGISTRY_UNREACHABLE (refused, DNS, reset, TLS trust or handshake);
 * EngineErrors pass through unchanged.
 */
export function transportError(error: unknown, subject: RequestSubject, signal?: AbortSignal): EngineError {
  if (isEngineError(error)) return error;
  const code = errorCode(error);
  const name = (error as { name?: unknown } | null)?.name;
  if (signal?.aborted || name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') {
    return new EngineError('ENG_ABORTED', `${subject}: aborted`, { cause: signal?.reason ?? error });
  }
  const detail = ((error as Error | null)?.message || String(error))
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
  if (code && TIMEOUT_CODES.has(code)) {
    return new EngineError('ENG_REGISTRY_TIMEOUT', `${subject}: timed out (${detail})`, { cause: error });
  }
  if (code && CERT_CODE.test(code)) {
    return new EngineError(
      'ENG_REGISTRY_UNREACHABLE',
      `${subject}: TLS certificate not trusted (${code}: ${detail}); pass caFile for a private CA`,
      {
        cause: error,
      },
    );
  }
  if (code && HANDSHAKE_CODE.test(code)) {
    return new EngineError(
      'ENG_REGISTRY_UNREACHABLE',
      `${subject}: TLS handshake failed (${code}); a registry serving plain HTTP must be listed in insecureRegistries`,
      { cause: error },
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new EngineError('ENG_REGISTRY_UNREACHABLE', `${subject}: host name not found (${code})`, {
      cause: error,
    });
  }
  if (code?.startsWith('HPE_') || code === 'UND_ERR_INFO' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return new EngineError(
      'ENG_REGISTRY_PROTOCOL',
      `${subject}: malformed HTTP answer (${code}: ${detail})`,
      { cause: error },
    );
  }
  return new EngineError('ENG_REGISTRY_UNREACHABLE', `${subject}: ${code ? `${code}: ` : ''}${detail}`, {
    cause: error,
  });
}
