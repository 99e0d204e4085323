/**
 * Streaming walk of one layer tar: every entry is seen once, only files some analyzer wants are
 * read (in memory, or spooled to a temp file when large), whiteouts and symlinks are recorded for
 * the merge. Nothing buffers a whole layer.
 *
 * Whiteouts follow the OCI image spec (image-spec/layer.md#whiteouts): `.wh.<name>` deletes
 * `<name>` from lower layers, `.wh..wh..opq` hides every lower-layer entry of its directory.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import type { Analyzer } from '../../analyzers/types.js';
import { bufferContent } from '../../analyzers/types.js';
import { EngineError, isEngineError } from '../../errors.js';
import type { Unknown } from '../../model/unknown.js';
import { analyzeFile } from './analyze-file.js';
import { diskContent } from './content.js';
import { decompressLayer, layerError } from './decompress.js';
import { normalizeEntryPath } from './paths.js';
import { readTar, type BodyAction, type TarEntry } from './tar-reader.js';
import { DEFAULT_WALK_LIMITS, WALK_VERSION, type LayerAnalysis, type WalkLimits } from './types.js';

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
/** the root itself (`.`, `./`, `/`; umoci writes `.`) is no escape */
const ROOT_NAME = /^(?:\.?\/)*\.?$/;

/**
 * Walks a layer blob as stored (gzip, zstd or plain tar). Resolves with the layer's analysis;
 * a corrupt stream yields `complete: false` plus an unknown, keeping what was read before it.
 * Throws ENG_ABORTED on abort, ENG_DIGEST_MISMATCH when the source says the blob is not what the
 * manifest promised, and ENG_LAYER_TOO_LARGE past `maxLayerBytes`.
 */
export async function walkLayer(blob: Readable, options: WalkLayerOptions): Promise<LayerAnalysis> {
  const limits = { ...DEFAULT_WALK_LIMITS, ...options.limits };
  const tmpDir = options.tmpDir ?? tmpdir();
  const { signal, diffId, analyzers } = options;
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
  const unknown = (path: string, message: string) =>
    unknowns.push({ path, message, layer: diffId, source: 'walk' });
  // wanted files of this layer: size, mode and the analyzers that read them (hard links reuse their results)
  const analyzed = new Map<string, { size: number; mode: number; by: Set<string> }>();
  const aborted = () => new EngineError('ENG_ABORTED', 'scan aborted', { cause: signal?.reason });
  const onAbort = () => blob.destroy(aborted());
  signal?.addEventListener('abort', onAbort, { once: true });

  const wantedBy = (path: string, size: number, mode: number) =>
    analyzers.filter((a) => a.required(path, { size, mode }));

  /** A hard link has no body: it shows the content of a file earlier in the same layer. */
  const hardLink = (path: string, entry: TarEntry) => {
    const target = normalizeEntryPath(entry.linkname);
    const info = target === undefined ? undefined : analyzed.get(target);
    const wanted = wantedBy(path, info?.size ?? 1, entry.mode);
    if (wanted.length === 0) return;
    const missing = wanted.filter((a) => !info?.by.has(a.name));
    if (missing.length > 0) unknown(path, `hard link to ${entry.linkname} whose content was not kept`);
    const names = new Set(wanted.map((a) => a.name));
    const copies = result.files
      .filter((f) => f.path === target && names.has(f.analyzer))
      .map((f) => ({ ...f, path }));
    result.files.push(...copies);
  };

  const entry = (e: TarEntry): BodyAction => {
    result.stats.entries++;
    result.stats.bytes += e.size;
    if (result.stats.bytes > limits.maxLayerBytes) {
      throw new EngineError(
        'ENG_LAYER_TOO_LARGE',
        `layer ${diffId} expands past ${limits.maxLayerBytes} bytes (decompression bomb guard; raise the limit to scan it)`,
      );
    }
    options.onProgress?.(result.stats.bytes);
    // onProgress may have aborted the scan (image size): stop before reading this entry
    if (signal?.aborted) throw aborted();
    const path = normalizeEntryPath(e.name);
    if (path === undefined) {
      if (!ROOT_NAME.test(e.name)) unknown(e.name, 'entry name leaves the image root; skipped');
      return 'skip';
    }
    const slash = path.lastIndexOf('/');
    const base = path.slice(slash + 1);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const dir = slash < 0 ? '' : path.slice(0, slash);
      if (base === OPAQUE) result.opaqueDirs.push(dir);
      else {
        const name = base.slice(WHITEOUT_PREFIX.length);
        result.whiteouts.push(dir ? `${dir}/${name}` : name);
      }
      return 'skip';
    }
    if (e.type === 'symlink') result.symlinks[path] = e.linkname;
    else if (e.type === 'link') hardLink(path, e);
    if (e.type !== 'file' || !analyzers.some((a) => a.required(path, { size: e.size, mode: e.mode })))
      return 'skip';
    if (e.size > limits.maxFileSize) {
      unknown(path, `file of ${e.size} bytes exceeds the ${limits.maxFileSize}-byte cap; skipped`);
      return 'skip';
    }
    return e.size <= limits.spoolThreshold ? 'memory' : 'spool';
  };

  const body = async (e: TarEntry, b: { buffer: Buffer } | { file: string }) => {
    const path = normalizeEntryPath(e.name)!;
    const content = 'buffer' in b ? bufferContent(b.buffer) : diskContent(b.file, e.size);
    try {
      const wanted = wantedBy(path, e.size, e.mode);
      if (wanted.length === 0) return;
      result.stats.analyzedFiles++;
      analyzed.set(path, { size: e.size, mode: e.mode, by: new Set(wanted.map((a) => a.name)) });
      const found = await analyzeFile(
        wanted,
        { path, size: e.size, mode: e.mode, content },
        unknowns,
        signal,
      );
      // a file that yields nothing still hides its lower-layer versions (an emptied package db)
      result.files.push(...(found.length > 0 ? found : [{ path, analyzer: wanted[0]!.name, result: {} }]));
    } finally {
      if ('file' in b) await rm(b.file, { force: true });
    }
  };

  try {
    if (signal?.aborted) throw aborted();
    const { stream } = await decompressLayer(blob);
    await readTar(stream as AsyncIterable<Buffer>, { entry, body }, { tmpDir });
  } catch (e) {
    if (
      isEngineError(e) &&
      (e.code === 'ENG_ABORTED' || e.code === 'ENG_DIGEST_MISMATCH' || e.code === 'ENG_LAYER_TOO_LARGE')
    )
      throw e;
    if (signal?.aborted) throw aborted();
    const err = isEngineError(e) ? e : layerError(e, `layer ${diffId} is corrupt`);
    result.complete = false;
    unknown(`layer:${diffId}`, `${err.code}: ${err.message}`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!blob.destroyed) blob.destroy();
  }
  return result;
}
