/**
 * NatsLayerCache on real NATS JetStream: the shared server (a fresh bucket per test) for sharing, big entries,
 * damage and concurrent puts; a private nats-server that the outage test kills and starts again.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsLayerCache } from '@vigil/engine/core';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Base64UrlPaddedCodec, Objm } from '@nats-io/obj';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  startPrivateNatsServer,
  type PrivateNatsServer,
} from '../../../control-plane/src/queue/testdata/nats-server.js';
import { connectQueue } from '../queue/jetstream/connect.js';
import { NATS_URL } from '../testdata/jetstream-test-queue.js';
import { encodeEntry } from './codec.js';
import { NatsLayerCache, type CacheLogger, type LayerCacheStats } from './nats-layer-cache.js';
import { dropBucket, layerAnalysis, stackInventory, uniqueBucket } from './testdata/layer-analysis.js';

const key = (c: string): string => c.repeat(64);
const ZERO: LayerCacheStats = {
  hits: 0,
  memoryHits: 0,
  localHits: 0,
  remoteHits: 0,
  misses: 0,
  corrupt: 0,
  remoteWrites: 0,
  remoteAlreadyStored: 0,
  remoteFailures: 0,
  oversized: 0,
  stackHits: 0,
  stackRemoteHits: 0,
  stackMisses: 0,
  stackRemoteWrites: 0,
};
const stats = (s: Partial<LayerCacheStats>): LayerCacheStats => ({ ...ZERO, ...s });

/** A logger keeping `level message` lines. */
function recordingLogger(): CacheLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (fields, message) => {
      const reason = (fields as { reason?: string }).reason;
      lines.push(`warn ${message}${reason ? `: ${reason}` : ''}`);
    },
    info: (_fields, message) => lines.push(`info ${message}`),
  };
}

describe('NatsLayerCache on the shared NATS server', () => {
  let nc: NatsConnection;
  let bucket: string;
  const dirs: string[] = [];
  const caches: NatsLayerCache[] = [];
  /** a cache as one worker has it: its own memory and local directory, the test's bucket */
  const workerCache = async (extra: Partial<ConstructorParameters<typeof NatsLayerCache>[0]> = {}) => {
    const localDir = await mkdtemp(join(tmpdir(), 'vigil-layer-cache-'));
    dirs.push(localDir);
    const cache = new NatsLayerCache({ connection: nc, bucket, localDir, ...extra });
    caches.push(cache);
    return cache;
  };

  beforeAll(async () => {
    nc = await connectQueue({ servers: NATS_URL, name: 'layer-cache-test' });
  });
  afterEach(async () => {
    await Promise.all(caches.map((c) => c.flush()));
    caches.splice(0).forEach((c) => c.close());
    await dropBucket(nc, bucket);
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  beforeEach(() => {
    bucket = uniqueBucket();
  });
  afterAll(() => nc?.drain());

  it('an entry one worker stored is a hit for another; repeats come from memory', async () => {
    const a = await workerCache();
    const b = await workerCache();
    const value = layerAnalysis('sha256:base');
    expect(await a.get(key('a'))).toBeUndefined();
    await a.put(key('a'), value);
    const first = await b.get(key('a'));
    const second = await b.get(key('a'));
    expect({ first, second, a: a.stats(), b: b.stats() }).toEqual({
      first: value,
      second: value,
      a: stats({ misses: 1, remoteWrites: 1 }),
      b: stats({ hits: 2, remoteHits: 1, memoryHits: 1 }),
    });
  });

  it('a restarted worker answers from its local directory, for its own puts and its bucket hits', async () => {
    const a = await workerCache();
    const b = await workerCache();
    await a.put(key('b'), layerAnalysis('sha256:b'));
    await b.get(key('b'));
    await b.flush();
    const restarted = (dir: string) => {
      const cache = new NatsLayerCache({ connection: nc, bucket: 'TEST_LAYERS_NONE', localDir: dir });
      caches.push(cache);
      return cache;
    };
    const [a2, b2] = [restarted(dirs[0]!), restarted(dirs[1]!)];
    expect({
      a: await a2.get(key('b')),
      b: await b2.get(key('b')),
      stats: [a2.stats(), b2.stats()],
    }).toEqual({
      a: layerAnalysis('sha256:b'),
      b: layerAnalysis('sha256:b'),
      stats: [stats({ hits: 1, localHits: 1 }), stats({ hits: 1, localHits: 1 })],
    });
  });

  it("a bucket hit's local copy is the engine's own cache file, also for non-ASCII text and over 1 MiB", async () => {
    const a = await workerCache({ maxEntryBytes: 4 * 1024 * 1024 });
    const b = await workerCache({ maxEntryBytes: 4 * 1024 * 1024 });
    const text = layerAnalysis('sha256:text');
    text.files[0]!.result.packages![0]!.name = 'mü\u{1F600}lib';
    const big = layerAnalysis('sha256:big-local', 1.5 * 1024 * 1024); // 1.5 MiB of JSON: gzipped on disk
    await a.put(key('1'), text);
    await a.put(key('2'), big);
    const hits = [await b.get(key('1')), await b.get(key('2'))];
    await b.flush();
    const files = (await readdir(dirs[1]!)).sort();
    const engine = new FsLayerCache({ dir: dirs[1]! }); // the engine's local cache reading b's directory
    expect({
      hits,
      files,
      read: [await engine.get(key('1')), await engine.get(key('2'))],
      bigGzipped: (await readFile(join(dirs[1]!, `${key('2')}.v2.json`))).readUInt16BE(0) === 0x1f8b,
      b: b.stats(),
    }).toEqual({
      hits: [text, big],
      files: [`${key('1')}.v2.json`, `${key('2')}.v2.json`],
      read: [text, big],
      bigGzipped: true,
      b: stats({ hits: 2, remoteHits: 2 }),
    });
  });

  it("a layer stack's merged inventory is shared like a layer, kept locally as the engine's stack file", async () => {
    const a = await workerCache();
    const b = await workerCache();
    const stack = stackInventory(['sha256:base', 'sha256:app']);
    expect(await a.getStack(key('5'))).toBeUndefined();
    await a.putStack(key('5'), stack);
    const first = await b.getStack(key('5'));
    const second = await b.getStack(key('5'));
    await b.flush();
    const engine = new FsLayerCache({ dir: dirs[1]! });
    expect({
      first,
      second,
      // the same key as a layer names another entry: a miss, not the stack
      asLayer: await b.get(key('5')),
      local: await engine.getStack(key('5')),
      a: a.stats(),
      b: b.stats(),
    }).toEqual({
      first: stack,
      second: stack,
      asLayer: undefined,
      local: stack,
      a: stats({ stackMisses: 1, stackRemoteWrites: 1 }),
      b: stats({ stackHits: 2, stackRemoteHits: 1, misses: 1 }),
    });
  });

  it('round-trips an entry of several chunks; one over the entry cap stays local', async () => {
    const a = await workerCache({ maxEntryBytes: 2 * 1024 * 1024 });
    const b = await workerCache({ maxEntryBytes: 2 * 1024 * 1024 });
    const big = layerAnalysis('sha256:big', 2 * 1024 * 1024); // ≈1.1 MB gzipped: 3 chunks of 512 KiB
    const huge = layerAnalysis('sha256:huge', 5 * 1024 * 1024); // ≈2.7 MB gzipped
    await a.put(key('c'), big);
    await a.put(key('d'), huge);
    const info = await (await new Objm(jetstream(nc)).open(bucket)).info(key('c'));
    expect({
      chunks: info!.chunks,
      big: await b.get(key('c')),
      huge: await b.get(key('d')),
      hugeFromA: (await a.get(key('d')))?.stats,
      a: a.stats(),
      b: b.stats(),
    }).toEqual({
      chunks: Math.ceil(encodeEntry(key('c'), big).bytes.byteLength / (512 * 1024)),
      big,
      huge: undefined,
      hugeFromA: huge.stats,
      a: stats({ hits: 1, memoryHits: 1, remoteWrites: 1, oversized: 1 }),
      b: stats({ hits: 1, remoteHits: 1, misses: 1 }),
    });
    expect(info!.chunks).toBeGreaterThan(1);
  });

  it('concurrent puts of one key from several workers all succeed and leave one readable entry', async () => {
    const writers = await Promise.all([1, 2, 3].map(() => workerCache()));
    await Promise.all(writers.map((w) => w.put(key('e'), layerAnalysis('sha256:e'))));
    const reader = await workerCache();
    const stored = writers.map((w) => w.stats());
    expect({
      value: await reader.get(key('e')),
      written: stored.reduce((n, s) => n + s.remoteWrites + s.remoteAlreadyStored, 0),
      failures: stored.reduce((n, s) => n + s.remoteFailures, 0),
    }).toEqual({ value: layerAnalysis('sha256:e'), written: 3, failures: 0 });
  });

  describe('damaged entries are misses, rewritten by the next put', () => {
    const damage = {
      /** stored through the object store correctly, but not an entry (another program's bytes) */
      async undecodable(k: string) {
        const os = await new Objm(jetstream(nc)).create(bucket);
        await os.putBlob({ name: k }, new TextEncoder().encode('not gzip'));
      },
      /** an entry of another key stored under this one */
      async misplaced(k: string) {
        const os = await new Objm(jetstream(nc)).create(bucket);
        await os.putBlob({ name: k }, encodeEntry(key('0'), layerAnalysis('sha256:other')).bytes);
      },
      /** chunks gone (expired or purged) under intact metadata */
      async chunksGone(k: string, writer: NatsLayerCache) {
        await writer.put(k, layerAnalysis('sha256:gone'));
        const info = await (await new Objm(jetstream(nc)).open(bucket)).info(k);
        const jsm = await jetstreamManager(nc);
        await jsm.streams.purge(`OBJ_${bucket}`, { filter: `$O.${bucket}.C.${info!.nuid}` });
      },
      /** the entry's chunk replaced by one of the same size with a byte flipped: the digest no longer matches */
      async alteredChunk(k: string, writer: NatsLayerCache) {
        await writer.put(k, layerAnalysis('sha256:altered'));
        const info = await (await new Objm(jetstream(nc)).open(bucket)).info(k);
        const subject = `$O.${bucket}.C.${info!.nuid}`;
        const jsm = await jetstreamManager(nc);
        const chunk = await jsm.streams.getMessage(`OBJ_${bucket}`, { last_by_subj: subject });
        const altered = Uint8Array.from(chunk!.data);
        altered[altered.length - 1]! ^= 0xff;
        await jetstream(nc).publish(subject, altered);
        await jsm.streams.purge(`OBJ_${bucket}`, { filter: subject, keep: 1 });
      },
      /** metadata that is not JSON (the library itself cannot read it) */
      async badMetadata(k: string) {
        await new Objm(jetstream(nc)).create(bucket);
        const h = headers();
        h.set('Nats-Rollup', 'sub');
        await jetstream(nc).publish(`$O.${bucket}.M.${Base64UrlPaddedCodec.encode(k)}`, 'garbage', {
          headers: h,
        });
      },
    };

    it.each([
      ['undecodable', 'entry does not decode'],
      ['misplaced', 'entry does not decode'],
      ['chunksGone', 'chunk 1 of 1 is missing'],
      ['alteredChunk', 'SHA-256 digest mismatch'],
      ['badMetadata', 'metadata is not JSON'],
    ] as const)('%s', async (kind, reason) => {
      const logger = recordingLogger();
      const writer = await workerCache();
      const a = await workerCache({ logger });
      const k = key('f');
      await damage[kind](k, writer);
      const miss = await a.get(k);
      await a.put(k, layerAnalysis('sha256:fresh'));
      const later = await workerCache();
      expect({
        miss,
        logged: logger.lines,
        a: a.stats(),
        later: await later.get(k),
      }).toEqual({
        miss: undefined,
        logged: [`warn layer cache entry damaged, analysing the layer again: ${reason}`],
        a: stats({ misses: 1, corrupt: 1, remoteWrites: 1 }),
        later: layerAnalysis('sha256:fresh'),
      });
    });
  });

  it('refuses an invalid bucket name or bound with WRK_CONFIG_INVALID', () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return 'no error';
    };
    expect([
      codeOf(() => new NatsLayerCache({ connection: nc, bucket: 'a.b' })),
      codeOf(() => new NatsLayerCache({ connection: nc, bucket, memoryBytes: -1 })),
      codeOf(() => new NatsLayerCache({ connection: nc, bucket, timeoutMs: 0 })),
    ]).toEqual(['WRK_CONFIG_INVALID', 'WRK_CONFIG_INVALID', 'WRK_CONFIG_INVALID']);
  });
});

describe('NatsLayerCache while NATS is down', () => {
  let server: PrivateNatsServer;
  let nc: NatsConnection;
  let localDir: string;
  beforeAll(async () => {
    server = await startPrivateNatsServer();
    nc = await connectQueue({ servers: server.url, name: 'layer-cache-outage-test' });
    localDir = await mkdtemp(join(tmpdir(), 'vigil-layer-cache-'));
  });
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
    await rm(localDir, { recursive: true, force: true });
  });

  it('answers from the local tiers with one warning, and uses the bucket again once NATS is back', async () => {
    const logger = recordingLogger();
    const cache = new NatsLayerCache({ connection: nc, bucket: 'LAYERS', localDir, logger, retryMs: 0 });
    const other = new NatsLayerCache({ connection: nc, bucket: 'LAYERS' });
    await cache.put(key('1'), layerAnalysis('sha256:1'));

    await server.kill();
    await vi.waitFor(() => expect(logger.lines).toHaveLength(1), { timeout: 10_000, interval: 10 });
    const restarted = new NatsLayerCache({ connection: nc, bucket: 'LAYERS', localDir });
    const during = {
      stored: await cache.get(key('1')),
      missing: await cache.get(key('2')),
      put: await cache.put(key('2'), layerAnalysis('sha256:2')),
      local: await restarted.get(key('2')),
      stats: cache.stats(),
    };
    restarted.close();

    await server.start();
    await vi.waitFor(
      async () => {
        await cache.put(key('3'), layerAnalysis('sha256:3'));
        expect(cache.stats().remoteWrites).toBe(2);
      },
      { timeout: 20_000, interval: 200 },
    );
    expect({
      during,
      logged: logger.lines,
      afterwards: await other.get(key('3')),
      firstEntryKept: await other.get(key('1')),
    }).toEqual({
      during: {
        stored: layerAnalysis('sha256:1'),
        missing: undefined,
        put: undefined,
        local: layerAnalysis('sha256:2'),
        stats: stats({ hits: 1, memoryHits: 1, misses: 1, remoteWrites: 1, remoteFailures: 2 }),
      },
      logged: [
        'warn shared layer cache unavailable, using the local cache only',
        'info shared layer cache available again',
      ],
      afterwards: layerAnalysis('sha256:3'),
      firstEntryKept: layerAnalysis('sha256:1'),
    });
    cache.close();
    other.close();
  });
});
