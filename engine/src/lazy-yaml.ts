/**
 * The `yaml` package, loaded on first use: evaluating it costs ≈ 45 ms, and most scans never
 * parse YAML (only pnpm/yarn-berry lock files and ignore files are YAML).
 */
import type * as Yaml from 'yaml';
import { lazyRequire } from './lazy-require.js';

export const yaml: () => typeof Yaml = lazyRequire<typeof Yaml>('yaml');
