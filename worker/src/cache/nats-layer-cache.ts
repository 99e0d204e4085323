/**
 * The fleet's layer cache (ARCHITECTURE §2): the engine's LayerCache over three tiers — a byte-bounded memory
 * LRU, the worker's local directory cache, and a NATS JetStream object store shared by every worker — so a base
 * layer one worker analysed is a hit for all the others. Keys are the engine's content addresses (layer diffID,
 * walker and analyzer versions, limits), so entries never change once written. Layer stacks' merged inventories
 * (getStack/putStack: an image whose whole stack another worker scanned is answered by one entry, without
 * merging its layers again) are kept the same way, under their own counters.
 *
 * It never fails a scan: a damaged or undecodable entry is a miss that the scan's put rewrites, and while NATS is
 * unreachable (disconnected, timing out, bucket missing) the local tiers answer alone, with one warning when that
 * starts and a note when the bucket is back. Counters of every outcome are kept for tests, logs and benches.
 */
import { FsLayerCache, type LayerCache } from '@vigil/engine/core';
import type { LayerAnalysis } from '@vigil/engine/internal';
import type { NatsConnection, Status } from '@nats-io/transport-node';
import { WorkerError } from '../errors.js';
import {
  decodeEntry,
  decodeStack,
  encodeEntry,
  encodeStack,
  type DecodedEntry,
  type EncodedEntry,
  type EntryKind,
  type StackInventory,
} from './codec.js';
import { LayerBucket } from './layer-bucket.js';
import { ByteLru } from './memory-lru.js';

export interface NatsLayerCacheOptions {
  /** the worker's NATS connection (the queue's; the cache does not own or close it) */
  connection: NatsConnection;
  /** object store bucket shared by the fleet's workers (default `VIGIL_LAYERS`) */
  bucket?: string;
  /** the local directory tier (an FsLayerCache there); none: memory and bucket only */
  localDir?: string;
  /** memory tier bound, bytes of compressed entries (default 64 MiB) */
  memoryBytes?: number;
  /** largest compressed entry stored in the bucket (default 64 MiB); larger ones stay local */
  maxEntryBytes?: number;
  /** bucket entries expire this long after they were written (default 30 days; 0 = never) */
  ttlMs?: number;
  /** bound of the bucket's storage (default -1: none); a full bucket refuses new entries */
  maxBucketBytes?: number;
  /** per NATS request (default 5 s) */
  timeoutMs?: number;
  /** after a failed bucket operation the bucket is left alone this long, then opened again (default 5 s) */
  retryMs?: number;
  /** pino's call shape; default silent */
  logger?: CacheLogger;
}

/** What the cache logs: one warning when the bucket becomes unusable or an entry is damaged, a note when it is back. */
export interface CacheLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

/** Counters since the cache was made. `hits` = memory + local + remote hits of layers; stacks have their own. */
export interface LayerCacheStats {
  hits: number;
  memoryHits: number;
  localHits: number;
  /** answered from the bucket: another worker (or this one before a restart) analysed the layer */
  remoteHits: number;
  /** no usable entry anywhere: the layer gets analysed */
  misses: number;
  /** entries present in the bucket but unreadable (missing chunks, bad digest, undecodable): misses, rewritten by the next put */
  corrupt: number;
  remoteWrites: number;
  /** puts the bucket already had (another worker stored the same layer first) */
  remoteAlreadyStored: number;
  /** bucket operations that failed, or were skipped while NATS was down: the local tiers answered alone */
  remoteFailures: number;
  /** puts larger than `maxEntryBytes`, kept local only */
  oversized: number;
  /** layer stacks answered whole (memory, local or bucket); these counters, not the ones above, count stacks */
  stackHits: number;
  /** stacks answered from the bucket: another worker scanned the same stack of layers */
  stackRemoteHits: number;
  /** no usable stack entry: the layers are looked up (or analysed) and merged */
  stackMisses: number;
  stackRemoteWrites: number;
}

/** How one kind of entry is encoded, decoded, kept locally and counted. */
interface EntryCodec<T> {
  kind: EntryKind;
  encode(key: string, value: T): EncodedEntry;
  decode(key: string, bytes: Uint8Array): DecodedEntry<T> | undefined;
  localGet(local: FsLayerCache, key: string): Promise<T | undefined>;
  counters: {
    memoryHits: number;
    localHits: number;
    remoteHits: number;
    misses: number;
    remoteWrites: number;
  };
}

const KEY_RE = /^[a-f0-9]{64}$/;
/**
 * The name of an entry in the bucket and the memory tier: a layer's key as it is (the names entries have always
 * had), a stack's prefixed. The kinds' keys are different hashes; the names keep them apart all the same.
 */
const slotOf = (kind: EntryKind, key: string): string => (kind === 'stack' ? `stack-${key}` : key);
const BUCKET_RE = /^[A-Za-z0-9_-]{1,64}$/;
const SILENT: CacheLogger = { warn: () => {}, info: () => {} };

/** Settles with `promise`, or rejects with the abort reason when `signal` aborts first (the operation runs on). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  promise.catch(() => undefined);
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const intAtLeast = (name: string, value: number, min: number): number => {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new WorkerError(
      'WRK_CONFIG_INVALID',
      `layer cache ${name} must be an integer ≥ ${min}, got ${value}`,
    );
  }
  return value;
};

export class NatsLayerCache implements LayerCache {
  readonly bucket: string;
  private readonly nc: NatsConnection;
  private readonly local: FsLayerCache | undefined;
  private readonly memory: ByteLru;
  private readonly maxEntryBytes: number;
  private readonly bucketOptions: { ttlMs: number; maxBytes: number; timeoutMs: number };
  private readonly retryMs: number;
  private readonly logger: CacheLogger;
  /** outcomes common to both kinds of entry */
  private readonly counters = { corrupt: 0, remoteAlreadyStored: 0, remoteFailures: 0, oversized: 0 };
  private readonly layers: EntryCodec<LayerAnalysis> = {
    kind: 'analysis',
    encode: encodeEntry,
    decode: decodeEntry,
    localGet: (local, key) => local.get(key),
    counters: { memoryHits: 0, localHits: 0, remoteHits: 0, misses: 0, remoteWrites: 0 },
  };
  private readonly stacks: EntryCodec<StackInventory> = {
    kind: 'stack',
    encode: encodeStack,
    decode: decodeStack,
    localGet: (local, key) => local.getStack(key),
    counters: { memoryHits: 0, localHits: 0, remoteHits: 0, misses: 0, remoteWrites: 0 },
  };
  /** keys whose bucket entry this process found damaged: their next put replaces the entry */
  private readonly damaged = new Set<string>();
  private readonly localWrites = new Set<Promise<void>>();
  private opening: Promise<LayerBucket> | null = null;
  /** the bucket is not tried before this time (ms since epoch) after a failure */
  private retryAt = 0;
  private degraded = false;
  private connected = true;
  private readonly statusIterator: AsyncIterable<Status> & { stop?: () => void };

  /** @throws WRK_CONFIG_INVALID for an invalid bucket name or bound */
  constructor(options: NatsLayerCacheOptions) {
    this.bucket = options.bucket ?? 'VIGIL_LAYERS';
    if (!BUCKET_RE.test(this.bucket)) {
      throw new WorkerError(
        'WRK_CONFIG_INVALID',
        `layer cache bucket must be 1-64 letters, digits, _ or -, got ${JSON.stringify(this.bucket)}`,
      );
    }
    this.nc = options.connection;
    this.local = options.localDir ? new FsLayerCache({ dir: options.localDir }) : undefined;
    this.memory = new ByteLru(intAtLeast('memoryBytes', options.memoryBytes ?? 64 * 1024 * 1024, 0));
    this.maxEntryBytes = intAtLeast('maxEntryBytes', options.maxEntryBytes ?? 64 * 1024 * 1024, 0);
    this.bucketOptions = {
      ttlMs: intAtLeast('ttlMs', options.ttlMs ?? 30 * 24 * 3_600_000, 0),
      maxBytes: intAtLeast('maxBucketBytes', options.maxBucketBytes ?? -1, -1),
      timeoutMs: intAtLeast('timeoutMs', options.timeoutMs ?? 5_000, 1),
    };
    this.retryMs = intAtLeast('retryMs', options.retryMs ?? 5_000, 0);
    this.logger = options.logger ?? SILENT;
    this.statusIterator = this.nc.status() as AsyncIterable<Status> & { stop?: () => void };
    void this.watchConnection();
  }

  /** A copy of the counters. */
  stats(): LayerCacheStats {
    const l = this.layers.counters;
    const s = this.stacks.counters;
    return {
      hits: l.memoryHits + l.localHits + l.remoteHits,
      ...l,
      ...this.counters,
      stackHits: s.memoryHits + s.localHits + s.remoteHits,
      stackRemoteHits: s.remoteHits,
      stackMisses: s.misses,
      stackRemoteWrites: s.remoteWrites,
    };
  }

  /** Stops following the connection's status (the connection itself stays open). */
  close(): void {
    this.statusIterator.stop?.();
  }

  /** Resolves when the local copies of bucket hits started so far are written. */
  async flush(): Promise<void> {
    await Promise.all(this.localWrites);
  }

  /**
   * Copies a bucket hit to the local tier after the scan has its answer (a restart then needs no refetch): the
   * value's JSON text from the fetched entry, written as it is (no second decode, no re-encoding).
   */
  private writeBehind(key: string, json: Uint8Array, kind: EntryKind): void {
    const local = this.local;
    if (!local) return;
    const write = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => local.putJson(key, json, kind === 'stack' ? 'stack' : undefined))
      .catch(() => undefined)
      .finally(() => this.localWrites.delete(write));
    this.localWrites.add(write);
  }

  get(key: string, signal?: AbortSignal): Promise<LayerAnalysis | undefined> {
    return this.lookup(this.layers, key, signal);
  }

  /** Stores in every tier; resolves also when a tier fails (the scan goes on without it). */
  put(key: string, value: LayerAnalysis, signal?: AbortSignal): Promise<void> {
    return this.store(this.layers, key, value, signal);
  }

  /** The merged inventory of a layer stack (the engine's stackCacheKey), from the first tier that has it. */
  getStack(key: string, signal?: AbortSignal): Promise<StackInventory | undefined> {
    return this.lookup(this.stacks, key, signal);
  }

  /** Stores a stack's merged inventory in every tier, as `put` does a layer's analysis. */
  putStack(key: string, value: StackInventory, signal?: AbortSignal): Promise<void> {
    return this.store(this.stacks, key, value, signal);
  }

  private async lookup<T>(codec: EntryCodec<T>, key: string, signal?: AbortSignal): Promise<T | undefined> {
    if (!KEY_RE.test(key)) return undefined;
    const counters = codec.counters;
    const slot = slotOf(codec.kind, key);
    const inMemory = this.memory.get(slot);
    const fromMemory = inMemory && codec.decode(key, inMemory)?.value;
    if (fromMemory) {
      counters.memoryHits++;
      return fromMemory;
    }
    const fromDisk = this.local && (await codec.localGet(this.local, key));
    if (fromDisk) {
      counters.localHits++;
      this.memory.set(slot, codec.encode(key, fromDisk).bytes);
      return fromDisk;
    }
    const read = await this.remote((b) => abortable(b.read(slot, signal), signal), signal);
    if (read?.kind === 'found') {
      const entry = codec.decode(key, read.bytes);
      if (entry) {
        counters.remoteHits++;
        this.memory.set(slot, read.bytes);
        this.writeBehind(key, entry.json, codec.kind);
        return entry.value;
      }
    }
    if (read?.kind === 'found' || read?.kind === 'damaged') {
      this.counters.corrupt++;
      this.damaged.add(slot);
      const reason = read.kind === 'damaged' ? read.reason : 'entry does not decode';
      this.logger.warn(
        { bucket: this.bucket, key, kind: codec.kind, reason },
        codec.kind === 'stack'
          ? 'layer cache stack entry damaged, merging its layers again'
          : 'layer cache entry damaged, analysing the layer again',
      );
    }
    if (!signal?.aborted) counters.misses++;
    return undefined;
  }

  private async store<T>(codec: EntryCodec<T>, key: string, value: T, signal?: AbortSignal): Promise<void> {
    if (!KEY_RE.test(key)) {
      throw new WorkerError('WRK_INTERNAL', `invalid layer cache key ${JSON.stringify(key)}`);
    }
    const slot = slotOf(codec.kind, key);
    const { bytes, json } = codec.encode(key, value);
    this.memory.set(slot, bytes);
    await this.local?.putJson(key, json, codec.kind === 'stack' ? 'stack' : undefined).catch(() => undefined);
    if (bytes.byteLength > this.maxEntryBytes) {
      this.counters.oversized++;
      return;
    }
    const replace = this.damaged.has(slot);
    const written = await this.remote((b) => abortable(b.write(slot, bytes, replace), signal), signal);
    if (written === 'written') {
      codec.counters.remoteWrites++;
      this.damaged.delete(slot);
    } else if (written === 'present') {
      this.counters.remoteAlreadyStored++;
    }
  }

  /**
   * Runs `op` on the bucket, opening it first when needed; undefined when the bucket is not usable now (NATS
   * down, a recent failure) or `op` fails, which also leaves the bucket alone for `retryMs`. Aborts are not failures.
   */
  private async remote<T>(
    op: (bucket: LayerBucket) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T | undefined> {
    if (!this.connected || this.nc.isClosed() || Date.now() < this.retryAt) {
      this.counters.remoteFailures++;
      return undefined;
    }
    try {
      this.opening ??= LayerBucket.open(this.nc, {
        bucket: this.bucket,
        maxEntryBytes: this.maxEntryBytes,
        ...this.bucketOptions,
      });
      const result = await op(await abortable(this.opening, signal));
      if (this.degraded) {
        this.degraded = false;
        this.logger.info({ bucket: this.bucket }, 'shared layer cache available again');
      }
      return result;
    } catch (err) {
      if (signal?.aborted) return undefined;
      this.counters.remoteFailures++;
      this.opening = null;
      this.retryAt = Date.now() + this.retryMs;
      this.degrade(err);
      return undefined;
    }
  }

  /** The warning, once per stretch of unusable bucket. */
  private degrade(err: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(
      { bucket: this.bucket, err },
      'shared layer cache unavailable, using the local cache only',
    );
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.statusIterator) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.degrade(new Error(`disconnected from NATS at ${status.server}`));
      } else if (status.type === 'reconnect') {
        this.connected = true;
      }
    }
  }
}
