/**
 * Login throttling on an injected clock: per-account and per-address limits, the retry time, the window
 * ending, success clearing the account, and the memory bound.
 */
import { describe, expect, it } from 'vitest';
import { createLoginLimiter, type LoginKeys, type LoginLimiter } from './rate-limit.js';

function clocked(options: Parameters<typeof createLoginLimiter>[0] = {}) {
  const clock = { now: 1_000_000 };
  return { clock, limiter: createLoginLimiter({ windowMs: 60_000, ...options, now: () => clock.now }) };
}

const verdict = (limiter: LoginLimiter, keys: LoginKeys): string => {
  try {
    limiter.check(keys);
    return 'allowed';
  } catch (error) {
    const e = error as { code: string; retryAfterSeconds: number };
    return `${e.code} ${e.retryAfterSeconds}s`;
  }
};

describe('login limiter', () => {
  it('refuses an account after its failures until the window ends, whatever the address or case', () => {
    const { clock, limiter } = clocked({ perAccount: 2 });
    const alice = { account: 'alice@x.test', address: '10.0.0.1' };
    const steps: string[] = [verdict(limiter, alice)];
    limiter.failed(alice);
    steps.push(verdict(limiter, alice));
    limiter.failed({ account: 'ALICE@x.test ', address: '10.0.0.2' });
    steps.push(verdict(limiter, { account: 'alice@x.test', address: '10.0.0.3' }));
    clock.now += 45_000;
    steps.push(verdict(limiter, alice));
    steps.push(verdict(limiter, { account: 'bob@x.test', address: '10.0.0.1' }));
    clock.now += 15_000;
    steps.push(verdict(limiter, alice));
    expect(steps).toEqual([
      'allowed',
      'allowed',
      'CP_RATE_LIMITED 60s',
      'CP_RATE_LIMITED 15s',
      'allowed',
      'allowed',
    ]);
  });

  it('refuses an address that fails across many accounts, and a success clears only its account', () => {
    const { limiter } = clocked({ perAccount: 2, perAddress: 3 });
    const at = (account: string) => ({ account, address: '192.0.2.7' });
    limiter.failed(at('a@x.test'));
    limiter.failed(at('a@x.test'));
    limiter.succeeded(at('a@x.test'));
    const afterSuccess = verdict(limiter, at('a@x.test'));
    limiter.failed(at('b@x.test'));
    expect({
      afterSuccess,
      address: verdict(limiter, at('c@x.test')),
      elsewhere: verdict(limiter, { account: 'c@x.test', address: '192.0.2.8' }),
    }).toEqual({ afterSuccess: 'allowed', address: 'CP_RATE_LIMITED 60s', elsewhere: 'allowed' });
  });

  it('forgets the oldest keys beyond its bound', () => {
    const { limiter } = clocked({ perAccount: 1, maxKeys: 4 });
    const keys = (i: number) => ({ account: `u${i}@x.test`, address: `198.51.100.${i}` });
    limiter.failed(keys(1));
    limiter.failed(keys(2));
    limiter.failed(keys(3));
    expect([1, 2, 3].map((i) => verdict(limiter, keys(i)))).toEqual([
      'allowed',
      'CP_RATE_LIMITED 60s',
      'CP_RATE_LIMITED 60s',
    ]);
  });
});
