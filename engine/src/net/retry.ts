/**
 * Retry policy for registry requests: which answers and failures are worth another try, and how
 * long to wait (exponential backoff with jitter, or the server's Retry-After, RFC 9110 §10.2.3).
 */

/** Statuses retried: rate limiting and transient server trouble. */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);
/** Connection-level failures retried (system and undici error codes). */
const RETRY_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

export const DEFAULT_RETRIES = 3;
export const BACKOFF_BASE_MS = 200;
export const BACKOFF_MAX_MS = 10_000;
/** A Retry-After beyond this is capped: a scan should not sleep for an hour on a registry's say-so. */
export const RETRY_AFTER_MAX_MS = 60_000;

/** The error code of a transport error, looking through `cause` and AggregateError members. */
export function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const rec = e as { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof rec.code === 'string') return rec.code;
    e = Array.isArray(rec.errors) && rec.errors.length > 0 ? rec.errors[0] : rec.cause;
  }
  return undefined;
}

/** True for connection failures worth retrying (refused, reset, temporary DNS failure). */
export function isRetryableError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && RETRY_ERROR_CODES.has(code);
}

/**
 * Parses a Retry-After value: delay-seconds or an HTTP date.
 * @returns milliseconds to wait (0 for dates in the past), or undefined when absent or unparseable.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Delay before retry number `attempt` (0-based). Retry-After wins when given (capped at
 * RETRY_AFTER_MAX_MS); otherwise base·2^attempt (capped at BACKOFF_MAX_MS) with "equal jitter":
 * half fixed, half random, so concurrent clients spread out.
 */
export function retryDelayMs(
  attempt: number,
  retryAfter: string | undefined,
  random: () => number = Math.random,
  now = Date.now(),
): number {
  const serverSays = parseRetryAfter(retryAfter, now);
  if (serverSays !== undefined) return Math.min(serverSays, RETRY_AFTER_MAX_MS);
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
