/**
 * Content digests (https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests):
 * computing them over bytes and verifying them while a blob streams through.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { EngineError } from '../../errors.js';

const SUPPORTED_DIGEST_RE = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** True for `sha256:<64 lower-hex>` and `sha512:<128 lower-hex>`, the algorithms Vigil verifies. */
export function isSupportedDigest(text: unknown): text is string {
  return typeof text === 'string' && SUPPORTED_DIGEST_RE.test(text);
}

function algorithmOf(digest: string): 'sha256' | 'sha512' {
  return digest.startsWith('sha512:') ? 'sha512' : 'sha256';
}

/** Digest of `bytes` with the algorithm of `like` (default sha256), as `algo:hex`. */
export function digestOf(bytes: Uint8Array, like = 'sha256:'): string {
  const algorithm = algorithmOf(like);
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/**
 * Checks `bytes` against an expected digest (and size when given).
 * @throws EngineError ENG_DIGEST_MISMATCH naming `what`.
 */
export function verifyBytes(
  bytes: Uint8Array,
  expected: string,
  size: number | undefined,
  what: string,
): void {
  if (size !== undefined && bytes.length !== size) {
    throw new EngineError(
      'ENG_DIGEST_MISMATCH',
      `${what}: got ${bytes.length} bytes, the descriptor says ${size}`,
    );
  }
  const actual = digestOf(bytes, expected);
  if (actual !== expected) {
    throw new EngineError(
      'ENG_DIGEST_MISMATCH',
      `${what}: content digest ${actual} does not match ${expected}`,
    );
  }
}

/**
 * A pass-through stream that hashes what flows through it. At the end it fails with
 * EngineError ENG_DIGEST_MISMATCH when the digest (or the declared size) differs; it fails early
 * when more bytes than the declared size arrive, so a hostile server cannot stream forever.
 */
export class VerifyingStream extends Transform {
  readonly #hash: Hash;
  #bytes = 0;

  constructor(
    private readonly expected: string,
    private readonly size: number | undefined,
    private readonly what: string,
  ) {
    super();
    this.#hash = createHash(algorithmOf(expected));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.size !== undefined && this.#bytes > this.size) {
      callback(
        new EngineError('ENG_DIGEST_MISMATCH', `${this.what}: more than the declared ${this.size} bytes`),
      );
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.size !== undefined && this.#bytes !== this.size) {
      callback(
        new EngineError(
          'ENG_DIGEST_MISMATCH',
          `${this.what}: got ${this.#bytes} bytes, the descriptor says ${this.size}`,
        ),
      );
      return;
    }
    const actual = `${algorithmOf(this.expected)}:${this.#hash.digest('hex')}`;
    if (actual !== this.expected) {
      callback(
        new EngineError(
          'ENG_DIGEST_MISMATCH',
          `${this.what}: content digest ${actual} does not match ${this.expected}`,
        ),
      );
      return;
    }
    callback();
  }
}
