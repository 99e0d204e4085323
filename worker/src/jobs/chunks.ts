/**
 * Splits an inventory and its findings into the chunks of a Report stream. A chunk holds at most
 * `maxItems` entries and about `maxBytes` of them (estimated from their JSON size, which is larger
 * than their protobuf encoding), so no message comes near gRPC's 4 MiB default limit however large
 * the packages' metadata or the findings' descriptions are. There is always at least one chunk of
 * each kind: the first inventory chunk carries the artifact and OS, the first findings chunk the
 * match warnings.
 */
import type { Finding, MatchWarning, ScanResult } from '@vigil/engine/core';
import type { FindingsChunk, InventoryChunk } from '@vigil/proto/v1/worker_pb';
import { lazyFindingsChunk, lazyInventoryChunk } from '../grpc/lazy-chunks.js';

export interface ChunkLimits {
  maxItems: number;
  maxBytes: number;
}

export const DEFAULT_CHUNK_LIMITS: ChunkLimits = { maxItems: 1000, maxBytes: 1024 * 1024 };

/** Consecutive slices of `items` within the limits (at least one slice, possibly empty). */
function* slices<T>(items: readonly T[], limits: ChunkLimits): Generator<T[]> {
  let slice: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = JSON.stringify(item).length;
    if (slice.length > 0 && (slice.length >= limits.maxItems || bytes + size > limits.maxBytes)) {
      yield slice;
      slice = [];
      bytes = 0;
    }
    slice.push(item);
    bytes += size;
  }
  yield slice;
}

/**
 * The inventory chunks of a scan: packages first, then the unknowns, numbered from 0. The chunks
 * hold the engine's objects until their lists are read (grpc/lazy-chunks.ts), so the report
 * encoder writes them without building a message per package.
 */
export function* inventoryChunks(scan: ScanResult, limits: ChunkLimits): Generator<InventoryChunk> {
  type Entry = { pkg: ScanResult['packages'][number] } | { unknown: ScanResult['unknowns'][number] };
  const entries: Entry[] = [
    ...scan.packages.map((pkg) => ({ pkg })),
    ...scan.unknowns.map((unknown) => ({ unknown })),
  ];
  let seq = 0;
  for (const slice of slices(entries, limits)) {
    const packages: ScanResult['packages'] = [];
    const unknowns: ScanResult['unknowns'] = [];
    for (const entry of slice) {
      if ('pkg' in entry) packages.push(entry.pkg);
      else unknowns.push(entry.unknown);
    }
    const first = seq === 0 ? { artifact: scan.artifact, os: scan.os } : undefined;
    yield lazyInventoryChunk(seq, first, { packages, unknowns });
    seq++;
  }
}

/** The findings chunks of a match, numbered from 0; the warnings ride in the first. */
export function* findingsChunks(
  findings: readonly Finding[],
  warnings: readonly MatchWarning[],
  limits: ChunkLimits,
): Generator<FindingsChunk> {
  let seq = 0;
  for (const slice of slices(findings, limits)) {
    yield lazyFindingsChunk(seq, { findings: slice, warnings: seq === 0 ? warnings : [] });
    seq++;
  }
}
