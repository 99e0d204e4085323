/**
 * Two workers (two runWorker handles, each with its own memory and local cache directory) sharing one NATS
 * layer-cache bucket scan the same image from the loopback registry: the base layer is downloaded and analysed
 * once, by the first; the second takes the image's layer stack from the bucket (its hit is counted) and reports
 * the same inventory.
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { hasRealdata } from '../../../test/support/realdata.js';
import { connectQueue } from '../queue/jetstream/connect.js';
import { ArrayJobSource, scanJob } from '../testdata/array-job-source.js';
import { NATS_URL } from '../testdata/jetstream-test-queue.js';
import { eventsOf, terminalKinds } from '../testdata/recording-control-plane.js';
import { startWorkerFixture, WAIT, type WorkerFixture } from '../testdata/worker-fixture.js';
import { NatsLayerCache } from './nats-layer-cache.js';
import { dropBucket, uniqueBucket } from './testdata/layer-analysis.js';

describe.skipIf(!hasRealdata)('workers sharing the NATS layer cache', () => {
  let fx: WorkerFixture;
  let nc: NatsConnection;
  const bucket = uniqueBucket();
  beforeAll(async () => {
    fx = await startWorkerFixture();
    nc = await connectQueue({ servers: NATS_URL, name: 'shared-cache-worker-test' });
  }, 120_000);
  afterEach(() => fx.reset());
  afterAll(async () => {
    await dropBucket(nc, bucket);
    await nc?.drain();
    await fx?.close();
  });

  it('an image one worker scanned is answered for the other from the bucket (its layer stack, counted): downloaded and analysed once', async () => {
    const scanOn = async (workerId: string, scanId: string) => {
      const cache = new NatsLayerCache({
        connection: nc,
        bucket,
        localDir: await mkdtemp(join(fx.work, `cache-${workerId}-`)),
      });
      const source = new ArrayJobSource();
      source.push(scanJob(scanId, fx.registry.ref));
      await fx.start(source, { cache, workerId });
      await vi.waitFor(() => expect(source.settlements).toHaveLength(1), WAIT);
      await cache.flush();
      cache.close();
      const stream = fx.streamOf(scanId);
      const [first] = eventsOf(stream, 'inventory');
      return {
        stats: cache.stats(),
        kinds: terminalKinds(stream),
        layerDigest: first!.artifact!.layers[0]!.digest,
        packages: eventsOf(stream, 'inventory')
          .flatMap((c) => c.packages)
          .map((p) => `${p.name}@${p.version}`)
          .sort(),
      };
    };
    const a = await scanOn('worker-a', 'scan-a');
    const b = await scanOn('worker-b', 'scan-b');
    const layerDownloads = fx.registry.server.requests.filter((r) => r.url.endsWith(a.layerDigest)).length;

    expect({ layerDownloads, a: a.stats, b: b.stats, kinds: b.kinds, samePackages: b.packages }).toEqual({
      layerDownloads: 1,
      a: expect.objectContaining({
        hits: 0,
        misses: 1,
        remoteWrites: 1,
        stackMisses: 1,
        stackRemoteWrites: 1,
        remoteFailures: 0,
      }),
      // the same stack of layers: one entry answers, no layer is looked up or merged again
      b: expect.objectContaining({
        stackHits: 1,
        stackRemoteHits: 1,
        stackMisses: 0,
        hits: 0,
        misses: 0,
        remoteWrites: 0,
        stackRemoteWrites: 0,
        remoteFailures: 0,
      }),
      kinds: a.kinds,
      samePackages: a.packages,
    });
    expect(a.packages.length).toBeGreaterThan(10);
  });
});
