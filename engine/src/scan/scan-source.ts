/**
 * Scans an opened image source: every layer is walked (or taken from the layer cache), the
 * layers are merged, the OS picked, purls made. Layers are walked concurrently (bounded), each
 * streaming, so memory stays flat in image size. A cache that keeps layer stacks answers a
 * known stack with its merged inventory at once (cache/types.ts).
 */
import type { Analyzer } from '../analyzers/types.js';
import { pickOsRelease } from '../analyzers/os/release/index.js';
import type { LayerCache, StackInventory } from '../cache/types.js';
import { layerCacheKey, stackCacheKey } from '../cache/types.js';
import { EngineError, isEngineError } from '../errors.js';
import type { ImageSource, LayerDescriptor } from '../image/types.js';
import { DEFAULT_WALK_LIMITS, type LayerAnalysis, type WalkLimits } from '../image/walk/types.js';
import { walkDirectory } from '../image/walk/walk-directory.js';
import { walkLayer } from '../image/walk/walk-layer.js';
import type { OsRelease } from '../model/os.js';
import type { Package } from '../model/package.js';
import type { ScanResult } from '../model/scan.js';
import type { Unknown } from '../model/unknown.js';
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
  let stackKey: string | undefined;

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
    const diffIds = source.layers.map((l) => l.diffId);
    stackKey = cache?.getStack && diffIds.length ? stackCacheKey(diffIds, analyzers, limits) : undefined;
    const stack = stackKey
      ? await cache!.getStack!(stackKey, options.signal).catch(() => undefined)
      : undefined;
    if (stack && isStackOf(stack, diffIds)) {
      diffIds.forEach((diffId, index) => {
        onEvent?.({
          type: 'layer-start',
          index,
          total: diffIds.length,
          diffId,
          size: source.layers[index]!.size,
        });
        const files = stack.layerFiles[index]!;
        onEvent?.({ type: 'layer-done', index, diffId, cached: true, files, complete: true });
      });
      return scanResult(source, startedAt, stack.os, stack.packages, stack.unknowns, true, onEvent);
    }
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
  const complete = layers.every((l) => l.complete);
  if (stackKey && complete && cache?.putStack) {
    const stack: StackInventory = {
      diffIds: layers.map((l) => l.diffId),
      ...(os ? { os } : {}),
      packages: merged.packages,
      unknowns: merged.unknowns,
      layerFiles: layers.map((l) => l.files.length),
    };
    await cache.putStack(stackKey, stack, options.signal).catch(() => undefined);
  }
  return scanResult(source, startedAt, os, merged.packages, merged.unknowns, complete, onEvent);
}

/**
 * A cached stack inventory usable for a source with these layers: its own diffIDs are these (a
 * damaged or colliding entry names others) and its lists have the shapes a result needs, since a
 * cache may hand back any JSON it stored.
 */
function isStackOf(stack: StackInventory, diffIds: readonly string[]): boolean {
  const { diffIds: own, layerFiles, packages, unknowns } = stack as Partial<StackInventory>;
  return (
    Array.isArray(own) &&
    own.length === diffIds.length &&
    own.every((d, i) => d === diffIds[i]) &&
    Array.isArray(layerFiles) &&
    layerFiles.length === diffIds.length &&
    layerFiles.every((n) => typeof n === 'number') &&
    Array.isArray(packages) &&
    packages.every(
      (p) =>
        typeof p === 'object' && p !== null && typeof p.name === 'string' && typeof p.version === 'string',
    ) &&
    Array.isArray(unknowns)
  );
}

/** The result of a scan of `source` that found these OS, packages and unknowns. */
function scanResult(
  source: ImageSource,
  startedAt: string,
  os: OsRelease | undefined,
  packages: Package[],
  unknowns: Unknown[],
  complete: boolean,
  onEvent: ScanEventListener | undefined,
): ScanResult {
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
    packages,
    unknowns,
    status: complete && unknowns.length === 0 ? 'succeeded' : 'partial',
    startedAt,
    finishedAt: new Date().toISOString(),
  };
  onEvent?.({ type: 'scan-done', packages: result.packages.length, unknowns: result.unknowns.length });
  return result;
}
