/**
 * rootfs source: an unpacked root filesystem (or project directory) on disk. It has no layers
 * and no config; the walker reads `rootDir` directly.
 */
import { realpath, stat } from 'node:fs/promises';
import { EngineError } from '../../errors.js';
import type { ImageSource } from '../types.js';

/**
 * Opens directory `dir` as a rootfs source (kind 'rootfs', layers [], rootDir = its absolute real path).
 * Errors: ENG_IMAGE_SOURCE_NOT_FOUND when `dir` does not exist, ENG_INVALID_ARGUMENT when it is not a directory.
 */
export async function openRootfs(dir: string): Promise<ImageSource> {
  let rootDir: string;
  try {
    rootDir = await realpath(dir);
  } catch (error) {
    throw new EngineError('ENG_IMAGE_SOURCE_NOT_FOUND', `${dir}: no such directory`, { cause: error });
  }
  if (!(await stat(rootDir)).isDirectory())
    throw new EngineError('ENG_INVALID_ARGUMENT', `${dir}: not a directory`);
  return {
    kind: 'rootfs',
    name: dir,
    repoTags: [],
    repoDigests: [],
    layers: [],
    rootDir,
    close: async () => {},
  };
}
