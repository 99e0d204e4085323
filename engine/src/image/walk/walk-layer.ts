/**
 * Streaming walk of one layer tar: every entry is seen once, only files some analyzer wants are
 * kept (in memory, or spooled to a temp file when large), whiteouts and symlinks are recorded for
 * the merge. Nothing buffers a whole layer.
 *
 * Whiteouts follow the OCI image spec (image-spec/layer.md#whiteouts): `.wh.<name>` deletes
 * `<name>` from lower layers, `.wh..wh..opq` hides every lower-layer entry of its directory.
 */
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import type { Analyzer, FileContent } from '../../analyzers/types.js';
import { bufferContent } from '../../analyzers/types.js';
import { EngineError, isEngineError } from '../../errors.js';
import type { Unknown } from '../../model/unknown.js';
import { analyzeFile } from './analyze-file.js';
import { collect, diskContent, spool } from './content.js';
import { decompressLayer, layerError } from './decompress.js';
import { normalizeEntryPath } from './paths.js';
import {
  DEFAULT_WALK_LIMITS,
  WALK_VERSION,
  type FileAnalysis,
  type LayerAnalysis,
  type WalkLimits,
} from './types.js';

export interface WalkLayerOptions {
  diffId: string;
  analyzers: readonly Analyzer[];
  limits?: Partial<WalkLimits>;
  tmpDir?: string;
  signal?: AbortSignal;
  /** called with uncompressed bytes seen so far */
  onProgress?: (bytes: number) => void;
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

interface Kept {
  size: number;
  mode: number;
  content: FileContent;
}

/**
 * Walks a layer blob as stored (gzip, zstd or plain tar). Resolves with the layer's analysis;
 * a corrupt stream yields `complete: false` plus an unknown, keeping what was read before it.
 * Throws ENG_ABORTED on abort, ENG_DIGEST_MISMATCH when the source says the blob is not what the
 * manifest promised, and ENG_LAYER_TOO_LARGE past `maxLayerBytes`.
 */
export async function walkLayer(blob: Readable, options: WalkLayerOptions): Promise<LayerAnalysis> {
  const limits = { ...DEFAULT_WALK_LIMITS, ...options.limits };
  const tmpDir = options.tmpDir ?? tmpdir();
  const { signal, diffId } = options;
  const result: LayerAnalysis = {
    walkVersion: WALK_VERSION,
    diffId,
    files: [],
    whiteouts: [],
    opaqueDirs: [],
    symlinks: {},
    unknowns: [],
    complete: true,
    stats: { entries: 0, bytes: 0, analyzedFiles: 0 },
  };
  const unknowns: Unknown[] = result.unknowns;
  // content of wanted files in this layer, for hard links that point at them
  const kept = new Map<string, Kept>();
  const removers: (() => Promise<void>)[] = [];
  const onAbort = () =>
    blob.destroy(new EngineError('ENG_ABORTED', 'scan aborted', { cause: signal?.reason }));
  signal?.addEventListener('abort', onAbort, { once: true });

  const analyze = async (path: string, file: Kept) => {
    const wanted = options.analyzers.filter((a) => a.required(path, { size: file.size, mode: file.mode }));
    if (wanted.length === 0) return;
    result.stats.analyzedFiles++;
    const found: FileAnalysis[] = await analyzeFile(wanted, { path, ...file }, unknowns, signal);
    // a file that yields nothing still hides its lower-layer versions (an emptied package db)
    result.files.push(...(found.length > 0 ? found : [{ path, analyzer: wanted[0]!.name, result: {} }]));
  };

  try {
    if (signal?.aborted) throw new EngineError('ENG_ABORTED', 'scan aborted', { cause: signal.reason });
    const { stream } = await decompressLayer(blob);
    const extract = tar.extract();
    stream.on('error', (e) => extract.destroy(e));
    stream.pipe(extract);
    for await (const entry of extract) {
      const header = entry.header;
      result.stats.entries++;
      const size = header.size ?? 0;
      result.stats.bytes += size;
      if (result.stats.bytes > limits.maxLayerBytes) {
        throw new EngineError(
          'ENG_LAYER_TOO_LARGE',
          `layer ${diffId} expands past ${limits.maxLayerBytes} bytes (decompression bomb guard; raise the limit to scan it)`,
        );
      }
      options.onProgress?.(result.stats.bytes);
      // onProgress may have aborted the scan (image size): stop before draining this entry
      if (signal?.aborted) throw new EngineError('ENG_ABORTED', 'scan aborted', { cause: signal.reason });
      const path = normalizeEntryPath(header.name);
      if (path === undefined) {
        // the root itself (`.`, `./`, `/`; umoci writes `.`) is no escape
        if (!/^(?:\.?\/)*\.?$/.test(header.name)) {
          unknowns.push({
            path: header.name,
            message: 'entry name leaves the image root; skipped',
            layer: diffId,
            source: 'walk',
          });
        }
        entry.resume();
        continue;
      }
      const slash = path.lastIndexOf('/');
      const base = path.slice(slash + 1);
      const dir = slash < 0 ? '' : path.slice(0, slash);
      if (base.startsWith(WHITEOUT_PREFIX)) {
        if (base === OPAQUE) result.opaqueDirs.push(dir);
        else
          result.whiteouts.push(
            dir ? `${dir}/${base.slice(WHITEOUT_PREFIX.length)}` : base.slice(WHITEOUT_PREFIX.length),
          );
        entry.resume();
        continue;
      }
      const mode = header.mode ?? 0o644;
      switch (header.type) {
        case 'symlink':
          result.symlinks[path] = header.linkname ?? '';
          entry.resume();
          break;
        case 'link': {
          entry.resume();
          const target = normalizeEntryPath(header.linkname ?? '');
          const file = target === undefined ? undefined : kept.get(target);
          if (file) await analyze(path, file);
          else if (options.analyzers.some((a) => a.required(path, { size: 1, mode }))) {
            unknowns.push({
              path,
              message: `hard link to ${header.linkname} whose content was not kept`,
              layer: diffId,
              source: 'walk',
            });
          }
          break;
        }
        case 'file':
        case 'contiguous-file': {
          const info = { size, mode };
          if (!options.analyzers.some((a) => a.required(path, info))) {
            entry.resume();
            break;
          }
          if (size > limits.maxFileSize) {
            unknowns.push({
              path,
              message: `file of ${size} bytes exceeds the ${limits.maxFileSize}-byte cap; skipped`,
              layer: diffId,
              source: 'walk',
            });
            entry.resume();
            break;
          }
          let content: FileContent;
          if (size <= limits.spoolThreshold) {
            content = bufferContent(await collect(entry as unknown as Readable, size));
          } else {
            const spooled = await spool(entry as unknown as Readable, tmpDir);
            removers.push(spooled.remove);
            content = diskContent(spooled.path, size);
          }
          const file = { size, mode, content };
          kept.set(path, file);
          await analyze(path, file);
          break;
        }
        default:
          entry.resume();
      }
    }
  } catch (e) {
    if (
      isEngineError(e) &&
      (e.code === 'ENG_ABORTED' || e.code === 'ENG_DIGEST_MISMATCH' || e.code === 'ENG_LAYER_TOO_LARGE')
    )
      throw e;
    if (signal?.aborted) throw new EngineError('ENG_ABORTED', 'scan aborted', { cause: signal.reason });
    const err = isEngineError(e) ? e : layerError(e, `layer ${diffId} is corrupt`);
    result.complete = false;
    unknowns.push({
      path: `layer:${diffId}`,
      message: `${err.code}: ${err.message}`,
      layer: diffId,
      source: 'walk',
    });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!blob.destroyed) blob.destroy();
    await Promise.all(removers.map((r) => r()));
  }
  return result;
}
