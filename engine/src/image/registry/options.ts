/**
 * Options of registry pulls and the undici dispatcher built from them (EnvHttpProxyAgent, so
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY apply, unless the caller passes its own dispatcher).
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { EngineError } from '../../errors.js';
import type { Platform } from '../types.js';
import type { AuthOption } from './credentials.js';
import type { Transport } from './http.js';
import { DEFAULT_RETRIES } from '../../net/retry.js';

export interface RegistryImageOptions {
  /** Platform picked from image indexes (default linux/amd64). When given explicitly, a
   *  single-platform image for another platform is refused too. */
  platform?: Platform;
  /** Hosts (`host` or `host:port`) reached over plain HTTP. No host is insecure implicitly,
   *  not even localhost. */
  insecureRegistries?: string[];
  /** Credentials for the image's registry; overrides the docker config. */
  auth?: AuthOption;
  /** docker CLI config (default `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`). */
  dockerConfigPath?: string;
  /** undici dispatcher to use (default: an EnvHttpProxyAgent owned and closed by the source). */
  dispatcher?: Dispatcher;
  /** Aborts every request of the pull, including layer streams (ENG_ABORTED). */
  signal?: AbortSignal;
  /** Headers timeout and body idle timeout per request, ms (default 30 000). */
  timeoutMs?: number;
  /** Retries of 429/5xx answers and connection failures per request (default 3). */
  retries?: number;
  /** Largest manifest read, bytes (default 4 MiB). */
  maxManifestBytes?: number;
  /** PEM file of extra CA certificates trusted for HTTPS (added to Node's bundled roots). */
  caFile?: string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

function invalid(why: string): EngineError {
  return new EngineError('ENG_INVALID_ARGUMENT', `registry options: ${why}`);
}

/** `host[:port]` entries match a URL host exactly; a bare host matches it on any port. */
export function insecureMatcher(entries: readonly string[] = []): (host: string) => boolean {
  const list = entries
    .map((e) =>
      e
        .trim()
        .replace(/^[a-z]+:\/\//i, '')
        .replace(/\/.*$/, '')
        .toLowerCase(),
    )
    .filter(Boolean);
  return (host) => {
    const h = host.toLowerCase();
    const name = h.replace(/:\d+$/, '');
    return list.some((e) => e === h || e === name);
  };
}

/**
 * Validates options and builds the transport.
 * @returns the transport and a function releasing what was created here (not a given dispatcher).
 * @throws EngineError ENG_INVALID_ARGUMENT for out-of-range numbers or an unreadable caFile.
 */
export function createTransport(options: RegistryImageOptions): {
  transport: Transport;
  release: () => Promise<void>;
} {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = options.retries ?? DEFAULT_RETRIES;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs))
    throw invalid(`timeoutMs must be a positive number, got ${timeoutMs}`);
  if (!Number.isInteger(retries) || retries < 0 || retries > 20)
    throw invalid(`retries must be an integer 0-20, got ${retries}`);
  let dispatcher = options.dispatcher;
  let owned = false;
  if (!dispatcher) {
    let ca: string[] | undefined;
    if (options.caFile) {
      try {
        ca = [...rootCertificates, readFileSync(options.caFile, 'utf8')];
      } catch (error) {
        throw invalid(`caFile ${options.caFile} cannot be read (${(error as Error).message})`);
      }
    }
    dispatcher = new EnvHttpProxyAgent({
      connect: { timeout: timeoutMs, ...(ca ? { ca } : {}) },
      ...(ca ? { requestTls: { ca } } : {}),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    owned = true;
  }
  const transport: Transport = {
    dispatcher,
    isInsecure: insecureMatcher(options.insecureRegistries),
    timeoutMs,
    retries,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  let released = false;
  const release = async (): Promise<void> => {
    if (released || !owned) return;
    released = true;
    await dispatcher.close().catch(() => undefined);
  };
  return { transport, release };
}
