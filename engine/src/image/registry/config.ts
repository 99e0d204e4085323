/**
 * Image config validation (https://github.com/opencontainers/image-spec/blob/main/config.md):
 * only what layer identity needs (`rootfs.diff_ids`) is checked; the rest is kept as it is.
 */
import { EngineError } from '../../errors.js';
import type { ImageConfig } from '../types.js';
import { isSupportedDigest } from './digest.js';

/**
 * Parses an image config blob.
 * @throws EngineError ENG_IMAGE_CONFIG_INVALID when it is not JSON or `rootfs.diff_ids` is not a
 *   list of digests.
 */
export function parseImageConfig(bytes: Uint8Array, what: string): ImageConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new EngineError('ENG_IMAGE_CONFIG_INVALID', `${what}: not valid JSON`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new EngineError('ENG_IMAGE_CONFIG_INVALID', `${what}: not a JSON object`);
  }
  const rootfs = (doc as { rootfs?: { type?: unknown; diff_ids?: unknown } }).rootfs;
  if (typeof rootfs !== 'object' || rootfs === null || !Array.isArray(rootfs.diff_ids)) {
    throw new EngineError('ENG_IMAGE_CONFIG_INVALID', `${what}: rootfs.diff_ids is missing`);
  }
  const bad = rootfs.diff_ids.find((d) => !isSupportedDigest(d));
  if (bad !== undefined) {
    throw new EngineError(
      'ENG_IMAGE_CONFIG_INVALID',
      `${what}: rootfs.diff_ids holds ${JSON.stringify(bad)}, not a digest`,
    );
  }
  return doc as ImageConfig;
}
