/**
 * The `yaml` package, loaded on first use: evaluating it costs ≈ 45 ms, and most scans never
 * parse YAML (only pnpm/yarn-berry lock files and ignore files are YAML). A synchronous require
 * keeps the parsers synchronous.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let loaded: typeof Yaml | undefined;

export function yaml(): typeof Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return loaded;
}
