/**
 * Inventory and findings chunk messages that keep the engine's own objects until someone reads
 * their lists. A chunk is a real protobuf-es message (`create` in a ReportRequest takes it as it
 * is), but `packages` and `unknowns` (or `findings` and `warnings`) are built with mapping.ts only
 * on first read or write. Until then the report encoder (report-encoder.ts) writes the chunk
 * straight from the engine objects, so a worker builds no message per package just to send it.
 * A chunk whose lists were read is an ordinary message and goes through protobuf-es.
 */
import { create } from '@bufbuild/protobuf';
import type { Finding, MatchWarning, OsRelease, Package, ScannedArtifact, Unknown } from '@vigil/engine/core';
import {
  FindingsChunkSchema,
  InventoryChunkSchema,
  type FindingsChunk,
  type InventoryChunk,
} from '@vigil/proto/v1/worker_pb';
import {
  toProtoArtifact,
  toProtoFinding,
  toProtoOs,
  toProtoPackage,
  toProtoUnknown,
  toProtoWarning,
} from '../mapping.js';

/** The engine objects of a chunk whose lists were not built yet. */
export interface InventorySource {
  packages: readonly Package[];
  unknowns: readonly Unknown[];
}
export interface FindingsSource {
  findings: readonly Finding[];
  warnings: readonly MatchWarning[];
}

const inventorySources = new WeakMap<InventoryChunk, InventorySource>();
const findingsSources = new WeakMap<FindingsChunk, FindingsSource>();

/** The engine objects of `chunk`, or undefined once its lists were built (or it was not made here). */
export const inventorySourceOf = (chunk: InventoryChunk) => inventorySources.get(chunk);
export const findingsSourceOf = (chunk: FindingsChunk) => findingsSources.get(chunk);

/**
 * Makes the `names` properties of `target` build on first access: `build` returns every list at
 * once, `forget` drops the engine objects (the encoder then leaves the chunk to protobuf-es).
 */
function defineLazy<T extends object>(
  target: T,
  names: readonly (keyof T & string)[],
  build: () => Partial<T>,
  forget: () => void,
): void {
  const materialise = () => {
    const built = build();
    forget();
    for (const name of names) {
      Object.defineProperty(target, name, {
        value: built[name],
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  };
  for (const name of names) {
    Object.defineProperty(target, name, {
      get() {
        materialise();
        return target[name];
      },
      set(value: unknown) {
        materialise();
        (target as Record<string, unknown>)[name] = value;
      },
      enumerable: true,
      configurable: true,
    });
  }
}

/** An inventory chunk of engine objects; `artifact` and `os` (first chunk only) are built now. */
export function lazyInventoryChunk(
  seq: number,
  first: { artifact: ScannedArtifact; os?: OsRelease } | undefined,
  source: InventorySource,
): InventoryChunk {
  const chunk = create(InventoryChunkSchema, { seq });
  if (first) {
    chunk.artifact = toProtoArtifact(first.artifact);
    if (first.os) chunk.os = toProtoOs(first.os);
  }
  inventorySources.set(chunk, source);
  defineLazy(
    chunk,
    ['packages', 'unknowns'],
    () => ({ packages: source.packages.map(toProtoPackage), unknowns: source.unknowns.map(toProtoUnknown) }),
    () => inventorySources.delete(chunk),
  );
  return chunk;
}

/** A findings chunk of engine objects. */
export function lazyFindingsChunk(seq: number, source: FindingsSource): FindingsChunk {
  const chunk = create(FindingsChunkSchema, { seq });
  findingsSources.set(chunk, source);
  defineLazy(
    chunk,
    ['findings', 'warnings'],
    () => ({ findings: source.findings.map(toProtoFinding), warnings: source.warnings.map(toProtoWarning) }),
    () => findingsSources.delete(chunk),
  );
  return chunk;
}
