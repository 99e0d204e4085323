/**
 * Test support (not built): layer analyses of a chosen size for the layer-cache tests, and a fresh bucket name
 * per test on the shared NATS server, removed again by `dropBucket`.
 */
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { LayerAnalysis } from '@vigil/engine/internal';

/** A complete analysis of `diffId`; `padBytes` of incompressible text make it large. */
export function layerAnalysis(diffId: string, padBytes = 0): LayerAnalysis {
  return {
    walkVersion: 3,
    diffId,
    files: [
      {
        path: 'lib/apk/db/installed',
        analyzer: 'os/apk',
        result: {
          packages: [{ name: 'musl', version: '1.2.4-r2', ecosystem: 'apk', srcName: 'musl', foundBy: 'os/apk' }],
          unknowns: padBytes ? [{ path: 'pad', message: randomBytes(padBytes / 2).toString('hex') }] : [],
        },
      },
    ],
    whiteouts: ['etc/old'],
    opaqueDirs: [],
    symlinks: { 'etc/os-release': '../usr/lib/os-release' },
    unknowns: [],
    complete: true,
    stats: { entries: 3, bytes: 1_000 + padBytes, analyzedFiles: 1 },
  };
}

export const uniqueBucket = (): string => `TEST_LAYERS_${randomBytes(5).toString('hex')}`;

/** Deletes the bucket's stream (absent: nothing to do). */
export async function dropBucket(nc: NatsConnection, bucket: string): Promise<void> {
  await (await jetstreamManager(nc)).streams.delete(`OBJ_${bucket}`).catch(() => false);
}
