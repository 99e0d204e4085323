/**
 * CommonJS packages loaded on first use instead of at start-up: a `vigil` run that never parses
 * YAML, reads an rpm sqlite database or inflates a zstd layer does not pay for evaluating those
 * packages (or for loading their native addons). A synchronous require keeps callers synchronous.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A getter that requires `specifier` on its first call and returns the same module after. */
export function lazyRequire<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
