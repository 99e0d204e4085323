/**
 * Scans an opened image source: every layer is walked (or taken from the layer cache), the
 * layers are merged, the OS picked, purls made. Layers are walked concurrently (bounded), each
 * streaming, so memory stays flat in image size.
 */
import type { Analyzer } from '../analyzers/types.js';
import { pickOsRelease } from '../analyzers/os/release/index.js';
import type { LayerCache } from '../cache/types.js';
import { layerCacheKey } from '../cache/types.js';
import { EngineError, isEngineError } from '../errors.js';
import type { ImageSource, LayerDescriptor } from '../image/types.js';
import { DEFAULT_WALK_LIMITS, type LayerAnalysis, type WalkLimits } from '../image/walk/types.js';
import { walkDirectory } from '../image/walk/walk-directory.js';
import { walkLayer } from '../image/walk/walk-layer.js';
import type { ScanResult } from '../model/scan.js';
import { toPurl } from '../purl/index.js';
import type { ScanEventListener } from './events.js';
import { mergeLayers } from './merge.js';

export interface ScanLimits extends WalkLimits {
  /** total uncompressed bytes of all layers (default 64 GiB) */
  maxImageBytes: number;
}

export interface ScanSourceOptions {
  analyzers: readonly Analyzer[];
  cache?: LayerCache;
  limits?: Partial<ScanLimits>;
  /** layers walked at once (default 2) */
  layerConcurrency?: number;
  tmpDir?: string;
  signal?: AbortSignal;
  onEvent?: ScanEventListener;
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects on the first failure. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Scans a source. Throws coded EngineErrors for fatal problems; per-file problems are unknowns. */
export async function scanSource(source: ImageSource, options: ScanSourceOptions): Promise<ScanResult> {
  const startedAt = new Date().toISOString();
  const limits: ScanLimits = { ...DEFAULT_WALK_LIMITS, maxImageBytes: 64 * 1024 ** 3, ...options.limits };
  const { analyzers, cache, onEvent } = options;
  let layers: LayerAnalysis[];

  if (source.kind === 'rootfs') {
    if (!source.rootDir) throw new EngineError('ENG_INVALID_ARGUMENT', 'rootfs source without a directory');
    layers = [
      await walkDirectory(source.rootDir, {
        analyzers,
        limits,
        signal: options.signal,
        onProgress: (files) => onEvent?.({ type: 'walk-progress', files }),
      }),
    ];
  } else {
    // one controller for the whole image: the image-size guard and the caller's abort both stop every layer
    const controller = new AbortController();
    const stop = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', stop, { once: true });
    const seen = new Map<string, number>();
    let imageBytes = 0;
    const walkOne = async (layer: LayerDescriptor, index: number): Promise<LayerAnalysis> => {
      const total = source.layers.length;
      onEvent?.({ type: 'layer-start', index, total, diffId: layer.diffId, size: layer.size });
      const key = cache ? layerCacheKey(layer.diffId, analyzers, limits) : '';
      const hit = cache ? await cache.get(key, controller.signal) : undefined;
      if (hit && hit.complete && hit.diffId === layer.diffId) {
        onEvent?.({
          type: 'layer-done',
          index,
          diffId: layer.diffId,
          cached: true,
          files: hit.files.length,
          complete: true,
        });
        return hit;
      }
      const blob = await layer.open(controller.signal);
      const result = await walkLayer(blob, {
        diffId: layer.diffId,
        analyzers,
        limits,
        tmpDir: options.tmpDir,
        signal: controller.signal,
        onProgress: (bytes) => {
          imageBytes += bytes - (seen.get(layer.diffId + index) ?? 0);
          seen.set(layer.diffId + index, bytes);
          if (imageBytes > limits.maxImageBytes) {
            controller.abort(
              new EngineError(
                'ENG_IMAGE_TOO_LARGE',
                `image expands past ${limits.maxImageBytes} bytes (raise the limit to scan it)`,
              ),
            );
          }
          onEvent?.({ type: 'layer-progress', diffId: layer.diffId, bytes });
        },
      });
      if (cache && result.complete) await cache.put(key, result, controller.signal).catch(() => undefined);
      onEvent?.({
        type: 'layer-done',
        index,
        diffId: layer.diffId,
        cached: false,
        files: result.files.length,
        complete: result.complete,
      });
      return result;
    };
    try {
      layers = await mapLimit(source.layers, Math.max(1, options.layerConcurrency ?? 2), walkOne);
      // a walk whose blob was already read to its end can finish despite the abort (small bombs)
      if (controller.signal.aborted) throw controller.signal.reason;
    } catch (e) {
      const reason: unknown = controller.signal.reason;
      if (isEngineError(reason) && reason.code === 'ENG_IMAGE_TOO_LARGE') throw reason;
      if (options.signal?.aborted)
        throw new EngineError('ENG_ABORTED', 'scan aborted', { cause: options.signal.reason });
      controller.abort(e);
      throw e;
    } finally {
      options.signal?.removeEventListener('abort', stop);
    }
  }

  const merged = mergeLayers(layers);
  const os = pickOsRelease(merged.osCandidates);
  for (const p of merged.packages) p.purl = toPurl(p, os);
  const result: ScanResult = {
    artifact: {
      name: source.name,
      kind: source.kind,
      ...(source.digest ? { digest: source.digest } : {}),
      ...(source.repoTags.length ? { repoTags: source.repoTags } : {}),
      ...(source.repoDigests.length ? { repoDigests: source.repoDigests } : {}),
      ...(source.configDigest ? { configDigest: source.configDigest } : {}),
      ...(source.layers.length
        ? {
            layers: source.layers.map((l) => ({
              diffId: l.diffId,
              ...(l.digest ? { digest: l.digest } : {}),
              ...(l.size !== undefined ? { size: l.size } : {}),
            })),
          }
        : {}),
    },
    ...(os ? { os } : {}),
    packages: merged.packages,
    unknowns: merged.unknowns,
    status: layers.every((l) => l.complete) && merged.unknowns.length === 0 ? 'succeeded' : 'partial',
    startedAt,
    finishedAt: new Date().toISOString(),
  };
  onEvent?.({ type: 'scan-done', packages: result.packages.length, unknowns: result.unknowns.length });
  return result;
}
