import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { isEngineError } from '../../errors.js';
import { digestOf, VerifyingStream } from './digest.js';
import {
  BACKOFF_MAX_MS,
  isRetryableError,
  parseRetryAfter,
  RETRY_AFTER_MAX_MS,
  retryDelayMs,
} from '../../net/retry.js';

describe('retry policy', () => {
  const now = Date.parse('2024-05-01T10:00:00Z');

  it('parses Retry-After seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 May 2024 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 01 May 2024 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('uses Retry-After when given, capped', () => {
    expect(retryDelayMs(0, '2', () => 0.5, now)).toBe(2000);
    expect(retryDelayMs(0, '86400', () => 0.5, now)).toBe(RETRY_AFTER_MAX_MS);
  });

  it('backs off exponentially with jitter between half and all of the ceiling', () => {
    // ceiling 200·2^attempt: 200, 400, 800 …; equal jitter gives [ceiling/2, ceiling]
    expect([0, 1, 2].map((a) => retryDelayMs(a, undefined, () => 0, now))).toEqual([100, 200, 400]);
    expect([0, 1, 2].map((a) => retryDelayMs(a, undefined, () => 1, now))).toEqual([200, 400, 800]);
    expect(retryDelayMs(30, undefined, () => 1, now)).toBe(BACKOFF_MAX_MS);
  });

  it('retries connection failures, not DNS misses or TLS failures', () => {
    const err = (code: string) => Object.assign(new Error(code), { code });
    expect(isRetryableError(err('ECONNREFUSED'))).toBe(true);
    expect(isRetryableError(new AggregateError([err('ECONNREFUSED'), err('ECONNREFUSED')]))).toBe(true);
    expect(isRetryableError(new Error('x', { cause: err('ECONNRESET') }))).toBe(true);
    expect(isRetryableError(err('ENOTFOUND'))).toBe(false);
    expect(isRetryableError(err('DEPTH_ZERO_SELF_SIGNED_CERT'))).toBe(false);
  });
});

describe('VerifyingStream', () => {
  const data = Buffer.from('layer bytes');
  const digest = digestOf(data);

  async function drain(chunks: Buffer[], expected: string, size: number | undefined): Promise<string> {
    const out: Buffer[] = [];
    try {
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          out.push(chunk);
          callback();
        },
      });
      await pipeline(Readable.from(chunks), new VerifyingStream(expected, size, 'blob x'), sink);
      return `ok ${Buffer.concat(out).toString()}`;
    } catch (error) {
      return isEngineError(error) ? `${error.code}: ${error.message}` : String(error);
    }
  }

  it('passes matching content through', async () => {
    expect(await drain([data.subarray(0, 3), data.subarray(3)], digest, data.length)).toBe('ok layer bytes');
    // `printf 'layer bytes' | sha256sum`
    expect(digest).toBe('sha256:3997bfa39738f279d788e49d0cc743d02a512c8855f798b3ee1c0daf589a6b9a');
  });

  it('fails at the end on a digest or size mismatch, early on excess bytes', async () => {
    const other = digestOf(Buffer.from('other'));
    expect(await drain([data], other, undefined)).toBe(
      `ENG_DIGEST_MISMATCH: blob x: content digest ${digest} does not match ${other}`,
    );
    expect(await drain([data], digest, data.length + 1)).toBe(
      `ENG_DIGEST_MISMATCH: blob x: got 11 bytes, the descriptor says 12`,
    );
    expect(await drain([data, data], digest, data.length)).toBe(
      'ENG_DIGEST_MISMATCH: blob x: more than the declared 11 bytes',
    );
  });

  it('verifies sha512 digests too', async () => {
    expect(await drain([data], digestOf(data, 'sha512:'), undefined)).toBe('ok layer bytes');
  });
});
