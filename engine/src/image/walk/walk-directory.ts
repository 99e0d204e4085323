/**
 * Walk of a directory (a root filesystem or a project) with the same result shape as a layer walk.
 * Symlinks are recorded, never followed, so nothing outside the directory is read.
 */
import { lstat, opendir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Analyzer } from '../../analyzers/types.js';
import { EngineError } from '../../errors.js';
import { analyzeFile } from './analyze-file.js';
import { diskContent } from './content.js';
import { DEFAULT_WALK_LIMITS, WALK_VERSION, type LayerAnalysis, type WalkLimits } from './types.js';

export interface WalkDirectoryOptions {
  analyzers: readonly Analyzer[];
  limits?: Partial<WalkLimits>;
  signal?: AbortSignal;
  /** image-relative directories not to enter (default: proc, sys, dev and every `.git`) */
  skip?: (relPath: string, name: string) => boolean;
  onProgress?: (files: number) => void;
}

const DEFAULT_SKIP = (rel: string, name: string) =>
  name === '.git' || rel === 'proc' || rel === 'sys' || rel === 'dev';

/** Walks `root` and analyzes the files analyzers want. Unreadable entries become unknowns. */
export async function walkDirectory(root: string, options: WalkDirectoryOptions): Promise<LayerAnalysis> {
  const limits = { ...DEFAULT_WALK_LIMITS, ...options.limits };
  const skip = options.skip ?? DEFAULT_SKIP;
  const result: LayerAnalysis = {
    walkVersion: WALK_VERSION,
    diffId: '',
    files: [],
    whiteouts: [],
    opaqueDirs: [],
    symlinks: {},
    unknowns: [],
    complete: true,
    stats: { entries: 0, bytes: 0, analyzedFiles: 0 },
  };
  const stack: string[] = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    if (options.signal?.aborted)
      throw new EngineError('ENG_ABORTED', 'scan aborted', { cause: options.signal.reason });
    let dir;
    try {
      dir = await opendir(join(root, rel));
    } catch (e) {
      result.unknowns.push({
        path: rel || '.',
        message: `cannot read directory: ${(e as Error).message}`,
        source: 'walk',
      });
      continue;
    }
    const subdirs: string[] = [];
    for await (const dirent of dir) {
      const path = rel ? `${rel}/${dirent.name}` : dirent.name;
      result.stats.entries++;
      if (dirent.isDirectory()) {
        if (!skip(path, dirent.name)) subdirs.push(path);
        continue;
      }
      const abs = join(root, path);
      try {
        if (dirent.isSymbolicLink()) {
          result.symlinks[path] = await readlink(abs);
          continue;
        }
        if (!dirent.isFile()) continue;
        const st = await lstat(abs);
        const info = { size: st.size, mode: st.mode & 0o7777 };
        result.stats.bytes += st.size;
        const wanted = options.analyzers.filter((a) => a.required(path, info));
        if (wanted.length === 0) continue;
        if (st.size > limits.maxFileSize) {
          result.unknowns.push({
            path,
            message: `file of ${st.size} bytes exceeds the ${limits.maxFileSize}-byte cap; skipped`,
            source: 'walk',
          });
          continue;
        }
        result.stats.analyzedFiles++;
        const found = await analyzeFile(
          wanted,
          { path, ...info, content: diskContent(abs, st.size) },
          result.unknowns,
          options.signal,
        );
        result.files.push(...found);
        options.onProgress?.(result.stats.analyzedFiles);
      } catch (e) {
        if (e instanceof EngineError && e.code === 'ENG_ABORTED') throw e;
        result.unknowns.push({ path, message: `cannot read: ${(e as Error).message}`, source: 'walk' });
      }
    }
    // depth-first in name order keeps results deterministic
    stack.push(...subdirs.sort().reverse());
  }
  return result;
}
