/**
 * Validation of an image config (OCI image-spec config.md; Docker's image JSON has the same
 * rootfs/history shape). Only what layer identity depends on is checked; the rest is kept as is.
 */
import { EngineError } from '../../errors.js';
import type { ImageConfig } from '../types.js';
import { isDigest } from './digest.js';
import { isObject } from './read-json.js';

/**
 * Checks that `value` is an image config whose rootfs.diff_ids are digests and, when
 * `layerCount` is given, that there is one diff_id per layer.
 * Errors: ENG_IMAGE_CONFIG_INVALID naming `where`.
 */
export function validateImageConfig(value: unknown, where: string, layerCount?: number): ImageConfig {
  const invalid = (why: string) => new EngineError('ENG_IMAGE_CONFIG_INVALID', `${where}: ${why}`);
  if (!isObject(value)) throw invalid('image config is not a JSON object');
  const rootfs = value.rootfs;
  if (!isObject(rootfs)) throw invalid('image config has no rootfs object');
  const diffIds = rootfs.diff_ids ?? [];
  if (!Array.isArray(diffIds) || !diffIds.every(isDigest))
    throw invalid('rootfs.diff_ids must be a list of sha256/sha512 digests');
  if (layerCount !== undefined && diffIds.length !== layerCount) {
    throw invalid(`image config lists ${diffIds.length} diff_ids for ${layerCount} layers`);
  }
  if (value.history !== undefined && value.history !== null && !Array.isArray(value.history))
    throw invalid('history is not a list');
  const config: Record<string, unknown> = {
    ...value,
    rootfs: { type: typeof rootfs.type === 'string' ? rootfs.type : 'layers', diff_ids: diffIds },
  };
  if (config.history === null) delete config.history;
  return config as unknown as ImageConfig;
}
