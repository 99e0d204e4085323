/**
 * The engine's front door: scan a registry reference, a local image (docker-archive, OCI
 * layout) or a directory, and get its inventory.
 */
import { selectAnalyzers, type ScanMode } from '../analyzers/index.js';
import type { Analyzer } from '../analyzers/types.js';
import { EngineError } from '../errors.js';
import { openLocalImage } from '../image/archive/index.js';
import type { RegistryImageOptions } from '../image/registry/index.js';
import { openRootfs } from '../image/rootfs/index.js';
import type { ImageSource, Platform } from '../image/types.js';
import type { ScanResult } from '../model/scan.js';
import { scanSource, type ScanSourceOptions } from './scan-source.js';

export type RegistryOptions = RegistryImageOptions;

/**
 * What to scan:
 * - `{ ref }`: an image in a registry (`alpine:3.19`, `ghcr.io/o/r@sha256:…`);
 * - `{ input }`: a docker-archive (.tar/.tar.gz) or an OCI layout (directory or tar), detected by content;
 *   `ref` picks an image inside an archive holding several;
 * - `{ dir, mode }`: a root filesystem (`rootfs`: what is installed) or a project (`fs`: also lock files).
 */
export type ScanTarget =
  { ref: string } | { input: string; ref?: string } | { dir: string; mode: 'rootfs' | 'fs' };

export interface ScanImageOptions extends Omit<ScanSourceOptions, 'analyzers'> {
  /** analyzers to run; default: those of the target's mode adjusted by `analyzerSelectors` */
  analyzers?: readonly Analyzer[];
  analyzerSelectors?: readonly string[];
  platform?: Platform;
  registry?: Omit<RegistryOptions, 'platform' | 'signal'>;
}

/** Opens the source a target names. The caller closes it. */
export async function openTarget(
  target: ScanTarget,
  options: Pick<ScanImageOptions, 'platform' | 'registry' | 'signal' | 'tmpDir'> = {},
): Promise<ImageSource> {
  if ('dir' in target) return openRootfs(target.dir);
  if ('input' in target) {
    return openLocalImage(target.input, {
      platform: options.platform,
      ref: target.ref,
      signal: options.signal,
      tmpDir: options.tmpDir,
    });
  }
  if ('ref' in target) {
    // loaded on demand: the HTTP stack is not needed for local images
    const { openRegistryImage } = await import('../image/registry/index.js');
    return openRegistryImage(target.ref, {
      ...options.registry,
      platform: options.platform,
      signal: options.signal,
    });
  }
  throw new EngineError('ENG_INVALID_ARGUMENT', 'scan target needs ref, input or dir');
}

/** Scans a target and returns its inventory. Fatal problems throw coded EngineErrors. */
export async function scanImage(target: ScanTarget, options: ScanImageOptions = {}): Promise<ScanResult> {
  const mode: ScanMode = 'dir' in target ? target.mode : 'image';
  const analyzers = options.analyzers ?? selectAnalyzers(mode, options.analyzerSelectors);
  const name = 'dir' in target ? target.dir : 'input' in target ? target.input : target.ref;
  options.onEvent?.({ type: 'source-open', name });
  const source = await openTarget(target, options);
  try {
    return await scanSource(source, { ...options, analyzers });
  } finally {
    await source.close();
  }
}
