/**
 * One HTTP exchange with a registry (or its token service, or blob storage) over undici:
 * scheme policy (plain HTTP only for insecure hosts), manual redirects that drop Authorization
 * when they leave the credential's origin, retries with backoff and Retry-After, per-request
 * headers/body timeouts, abort, and bounded body reads.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { EngineError, isEngineError } from '../../errors.js';
import { statusError, transportError, type RequestSubject } from './http-errors.js';
import { isRetryableError, retryDelayMs, RETRY_STATUSES } from '../../net/retry.js';

export const USER_AGENT = 'vigil-engine/0.1';
const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const ERROR_BODY_MAX = 64 * 1024;

/** Connection settings shared by every request of one image pull. */
export interface Transport {
  readonly dispatcher: Dispatcher;
  /** True when plain HTTP is allowed for `host` (host[:port] of a URL). */
  readonly isInsecure: (host: string) => boolean;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly signal?: AbortSignal;
}

export interface SendRequest {
  method: 'GET' | 'HEAD' | 'POST';
  url: URL;
  headers?: Record<string, string>;
  /** Authorization header value, sent only while the request URL's origin is `authOrigin`. */
  authorization?: string;
  authOrigin?: string;
  body?: string;
  subject: RequestSubject;
  signal?: AbortSignal;
}

export interface SendResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** Final URL after redirects. */
  url: URL;
  /** The combined abort signal of the request (for mapping body read errors). */
  signal: AbortSignal | undefined;
}

/** First value of a response header. */
export function header(res: Pick<SendResult, 'headers'>, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function combine(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  return a && b ? AbortSignal.any([a, b]) : (a ?? b);
}

async function follow(t: Transport, req: SendRequest, signal: AbortSignal | undefined): Promise<SendResult> {
  let url = req.url;
  let method = req.method;
  let body = req.body;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new EngineError('ENG_REGISTRY_PROTOCOL', `${req.subject}: unsupported URL scheme in ${url.href}`);
    }
    if (url.protocol === 'http:' && !t.isInsecure(url.host)) {
      throw new EngineError(
        'ENG_REGISTRY_INSECURE_REFUSED',
        `${req.subject}: refusing plain HTTP to ${url.host} (${url.origin}); list the host in insecureRegistries to allow it`,
      );
    }
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...req.headers };
    if (req.authorization !== undefined && url.origin === req.authOrigin)
      headers.authorization = req.authorization;
    const res = await request(url, {
      dispatcher: t.dispatcher,
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(signal ? { signal } : {}),
      headersTimeout: t.timeoutMs,
      bodyTimeout: t.timeoutMs,
    });
    const location = header(res, 'location');
    if (REDIRECT_STATUSES.has(res.statusCode) && location) {
      await res.body.dump().catch(() => undefined);
      url = new URL(location, url);
      if (res.statusCode === 303) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }
    return { status: res.statusCode, headers: res.headers, body: res.body, url, signal };
  }
  throw new EngineError('ENG_REGISTRY_PROTOCOL', `${req.subject}: more than ${MAX_REDIRECTS} redirects`);
}

async function pause(ms: number, signal: AbortSignal | undefined, subject: RequestSubject): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    throw transportError(error, subject, signal);
  }
}

/**
 * Sends a request, following redirects and retrying 429/5xx answers and connection failures up
 * to `t.retries` times. Any final status is returned (the caller decides); 429/5xx after the last
 * retry come back as they are.
 *
 * @throws EngineError ENG_ABORTED, ENG_REGISTRY_TIMEOUT, ENG_REGISTRY_UNREACHABLE,
 *   ENG_REGISTRY_INSECURE_REFUSED, ENG_REGISTRY_PROTOCOL.
 */
export async function send(t: Transport, req: SendRequest): Promise<SendResult> {
  const signal = combine(t.signal, req.signal);
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw transportError(signal.reason, req.subject, signal);
    let res: SendResult;
    try {
      res = await follow(t, req, signal);
    } catch (error) {
      if (!isEngineError(error) && !signal?.aborted && attempt < t.retries && isRetryableError(error)) {
        await pause(retryDelayMs(attempt, undefined), signal, req.subject);
        continue;
      }
      throw transportError(error, req.subject, signal);
    }
    if (RETRY_STATUSES.has(res.status) && attempt < t.retries) {
      await res.body.dump().catch(() => undefined);
      await pause(retryDelayMs(attempt, header(res, 'retry-after')), signal, req.subject);
      continue;
    }
    return res;
  }
}

/**
 * Reads a whole body, at most `cap` bytes: a larger Content-Length or stream stops the read at
 * once (the connection is dropped) and throws `tooLarge()`.
 */
export async function readBody(
  res: SendResult,
  cap: number,
  subject: RequestSubject,
  tooLarge: () => EngineError,
): Promise<Buffer> {
  const declared = Number(header(res, 'content-length'));
  if (Number.isFinite(declared) && declared > cap) {
    res.body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > cap) {
        res.body.destroy();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  } catch (error) {
    throw transportError(error, subject, res.signal);
  }
  return Buffer.concat(chunks, total);
}

/** The coded error for a non-success answer, with the registry's error message when it sent one. */
export async function failure(res: SendResult, subject: RequestSubject): Promise<EngineError> {
  let body: Buffer | undefined;
  try {
    body = await readBody(
      res,
      ERROR_BODY_MAX,
      subject,
      () => new EngineError('ENG_REGISTRY_PROTOCOL', 'error body too large'),
    );
  } catch {
    body = undefined;
  }
  return statusError(res.status, subject, body);
}
