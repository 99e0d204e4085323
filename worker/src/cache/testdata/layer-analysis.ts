/**
 * Test support (not built): layer analyses of a chosen size for the layer-cache tests, and a fresh bucket name
 * per test on the shared NATS server, removed again by `dropBucket`.
 */
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { LayerAnalysis } from '@vigil/engine/internal';
import type { StackInventory } from '../codec.js';

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

/** A layer stack's merged inventory over `diffIds`, as the engine's scan stores it (putStack). */
export function stackInventory(diffIds: string[]): StackInventory {
  return {
    diffIds,
    os: { family: 'alpine', name: 'Alpine Linux', version: '3.19.1', source: 'etc/os-release' },
    packages: [
      {
        name: 'musl',
        version: '1.2.4-r2',
        ecosystem: 'apk',
        srcName: 'musl',
        foundBy: 'os/apk',
        path: 'lib/apk/db/installed',
        layer: diffIds[0],
        purl: 'pkg:apk/alpine/musl@1.2.4-r2?distro=3.19.1',
      },
    ],
    unknowns: [],
    layerFiles: diffIds.map(() => 1),
  };
}

export const uniqueBucket = (): string => `TEST_LAYERS_${randomBytes(5).toString('hex')}`;

/** Deletes the bucket's stream (absent: nothing to do). */
export async function dropBucket(nc: NatsConnection, bucket: string): Promise<void> {
  await (await jetstreamManager(nc)).streams.delete(`OBJ_${bucket}`).catch(() => false);
}
