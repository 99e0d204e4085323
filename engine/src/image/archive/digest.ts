/**
 * Content digests (`<algorithm>:<hex>`, OCI image-spec descriptor.md#digests) and streams that
 * verify a blob against its digest while it is read.
 */
import { createHash } from 'node:crypto';
import { pipeline, Transform, type Readable } from 'node:stream';
import { EngineError } from '../../errors.js';

export interface ParsedDigest {
  algorithm: 'sha256' | 'sha512';
  hex: string;
}

const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** True for a sha256 or sha512 digest in canonical lower-case form. */
export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

/** Splits a digest. Throws ENG_DIGEST_INVALID for anything but canonical sha256/sha512 digests. */
export function parseDigest(value: unknown, what = 'digest'): ParsedDigest {
  if (!isDigest(value)) {
    throw new EngineError(
      'ENG_DIGEST_INVALID',
      `${what} ${JSON.stringify(value)} is not a sha256/sha512 digest`,
    );
  }
  const [algorithm, hex] = value.split(':') as ['sha256' | 'sha512', string];
  return { algorithm, hex };
}

/** Path of a blob inside an OCI image layout (`blobs/<alg>/<hex>`). */
export function blobPath(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `blobs/${algorithm}/${hex}`;
}

/** Digest of in-memory bytes. */
export function digestOf(bytes: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Throws ENG_DIGEST_MISMATCH unless `bytes` hash to `digest` (a valid digest). */
export function verifyBytes(bytes: Uint8Array, digest: string, what: string): void {
  const actual = digestOf(bytes, parseDigest(digest).algorithm);
  if (actual !== digest) {
    throw new EngineError('ENG_DIGEST_MISMATCH', `${what}: content has digest ${actual}, expected ${digest}`);
  }
}

/**
 * Pipes `source` through a hash check: the returned stream yields the same bytes and fails with
 * ENG_DIGEST_MISMATCH at its end when the content does not hash to `digest`. Source errors
 * propagate to the returned stream; destroying it destroys the source.
 */
export function verifyingStream(source: Readable, digest: string, what: string): Readable {
  const { algorithm } = parseDigest(digest);
  const hash = createHash(algorithm);
  const check = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      const actual = `${algorithm}:${hash.digest('hex')}`;
      done(
        actual === digest
          ? null
          : new EngineError(
              'ENG_DIGEST_MISMATCH',
              `${what}: content has digest ${actual}, expected ${digest}`,
            ),
      );
    },
  });
  pipeline(source, check, () => {
    // errors surface on `check`; nothing else to do
  });
  return check;
}

/** Destroys `stream` with ENG_ABORTED when `signal` fires; returns the stream. */
export function abortable<T extends Readable>(stream: T, signal: AbortSignal | undefined): T {
  if (!signal) return stream;
  const onAbort = () =>
    stream.destroy(new EngineError('ENG_ABORTED', 'operation aborted', { cause: signal.reason }));
  if (signal.aborted) {
    queueMicrotask(onAbort);
    return stream;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  stream.once('close', () => signal.removeEventListener('abort', onAbort));
  return stream;
}
