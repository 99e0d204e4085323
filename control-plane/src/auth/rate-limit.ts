/**
 * Login throttling: failed password logins are counted per account (email) and per client address in a fixed
 * window; once either is over its limit, further attempts are refused (CP_RATE_LIMITED with a retry time)
 * before any password work is done. A successful login clears its account's count.
 *
 * In memory, per process: a fleet of N control planes allows N times the limit, which still turns online
 * guessing from millions of tries into dozens. Memory is bounded: the oldest keys go first.
 */
import { ControlPlaneError } from '../errors.js';

export interface LoginLimiterOptions {
  /** failures allowed per account per window (default 5) */
  perAccount?: number;
  /** failures allowed per client address per window (default 30) */
  perAddress?: number;
  /** window length (default 15 minutes) */
  windowMs?: number;
  /** keys remembered at most (default 100,000) */
  maxKeys?: number;
  now?: () => number;
}

export interface LoginKeys {
  account: string;
  address: string;
}

export interface LoginLimiter {
  /** Throws CP_RATE_LIMITED (with `retryAfterSeconds`) when either key is over its limit. */
  check(keys: LoginKeys): void;
  failed(keys: LoginKeys): void;
  succeeded(keys: LoginKeys): void;
}

/** The CP_RATE_LIMITED error of a refused attempt; `retryAfterSeconds` becomes the Retry-After header. */
export class RateLimitedError extends ControlPlaneError {
  constructor(readonly retryAfterSeconds: number) {
    super('CP_RATE_LIMITED', `too many failed logins; retry in ${retryAfterSeconds} s`);
  }
}

interface Window {
  start: number;
  failures: number;
}

/** An in-memory login limiter. */
export function createLoginLimiter(options: LoginLimiterOptions = {}): LoginLimiter {
  const windowMs = options.windowMs ?? 15 * 60_000;
  const maxKeys = options.maxKeys ?? 100_000;
  const now = options.now ?? Date.now;
  const limits = { account: options.perAccount ?? 5, address: options.perAddress ?? 30 };
  // Map iteration order is insertion order: re-inserting on write keeps the oldest first for eviction.
  const windows = new Map<string, Window>();
  const keysOf = (keys: LoginKeys) =>
    [
      [`a:${keys.account.trim().toLowerCase()}`, limits.account],
      [`i:${keys.address}`, limits.address],
    ] as const;

  const live = (key: string, t: number): Window | undefined => {
    const w = windows.get(key);
    if (w && t - w.start >= windowMs) {
      windows.delete(key);
      return undefined;
    }
    return w;
  };

  return {
    check(keys) {
      const t = now();
      for (const [key, limit] of keysOf(keys)) {
        const w = live(key, t);
        if (w && w.failures >= limit) {
          throw new RateLimitedError(Math.max(1, Math.ceil((w.start + windowMs - t) / 1000)));
        }
      }
    },
    failed(keys) {
      const t = now();
      for (const [key] of keysOf(keys)) {
        const w = live(key, t) ?? { start: t, failures: 0 };
        w.failures += 1;
        windows.delete(key);
        windows.set(key, w);
      }
      while (windows.size > maxKeys) windows.delete(windows.keys().next().value!);
    },
    succeeded(keys) {
      windows.delete(keysOf(keys)[0][0]);
    },
  };
}
