/** Size-capped, optionally digest-verified reading of the small JSON documents of an image archive. */
import { EngineError, type EngineErrorCode } from '../../errors.js';
import type { BlobStore } from './blob-store.js';
import { verifyBytes } from './digest.js';

/** Manifests, indexes and manifest.json above this size are refused (registries use the same cap). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Image configs carry history and labels; the largest real ones are a few MiB. */
export const MAX_CONFIG_BYTES = 32 * 1024 * 1024;

export interface ReadJsonOptions {
  /** Human name for messages, e.g. "manifest.json" or "config blob". */
  what: string;
  maxBytes: number;
  /** Code when the file exceeds maxBytes. */
  tooLarge: EngineErrorCode;
  /** Code when the content is not JSON. */
  invalid: EngineErrorCode;
  /** When set, the bytes must hash to it (ENG_DIGEST_MISMATCH otherwise). */
  digest?: string;
}

/**
 * Reads and parses `name` from the store.
 * Errors: ENG_IMAGE_BLOB_MISSING (naming the digest when known), options.tooLarge,
 * ENG_DIGEST_MISMATCH, options.invalid.
 */
export async function readJson(
  store: BlobStore,
  name: string,
  options: ReadJsonOptions,
): Promise<{ value: unknown; bytes: Buffer }> {
  const { what } = options;
  const size = await store.size(name);
  if (size === undefined) {
    const id = options.digest ? `${options.digest} (${name})` : name;
    throw new EngineError('ENG_IMAGE_BLOB_MISSING', `${store.label}: ${what} ${id} is missing`);
  }
  if (size > options.maxBytes) {
    throw new EngineError(
      options.tooLarge,
      `${store.label}: ${what} ${name} is ${size} bytes, over the ${options.maxBytes}-byte limit`,
    );
  }
  const bytes = await store.read(name);
  if (options.digest) verifyBytes(bytes, options.digest, `${store.label}: ${what}`);
  try {
    return { value: JSON.parse(bytes.toString('utf8')) as unknown, bytes };
  } catch (error) {
    throw new EngineError(options.invalid, `${store.label}: ${what} ${name} is not valid JSON`, {
      cause: error,
    });
  }
}

/** True for a plain JSON object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
