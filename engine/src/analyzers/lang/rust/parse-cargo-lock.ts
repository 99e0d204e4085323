/**
 * Reads Cargo's lock file, all formats Cargo has written (https://doc.rust-lang.org/cargo/guide/cargo-toml-vs-cargo-lock.html;
 * format history in cargo's `src/cargo/core/resolver/encode.rs`, ResolveVersion V1–V4):
 *
 * - V1 (before Rust 1.41): `[root]` (very old) or `[[package]]` tables, checksums in `[metadata]`;
 * - V2: checksums inline in each `[[package]]`; V3 adds a top-level `version = 3`; V4 `version = 4`.
 *
 * Every format lists `[[package]]` tables with `name`, `version` and, for anything not in the
 * workspace, `source` (`registry+https://…`, `sparse+https://…`, `git+https://…#<commit>`).
 *
 * Packages without a `source` are the workspace's own crates and local `path` dependencies
 * (and V1's `[root]`). They are not published crates, their version is whatever the
 * project's Cargo.toml says, and matching their names against crates.io advisories only
 * yields false positives, so they are skipped. (trivy reaches the same result when it has
 * the Cargo.toml: its walk starts at the manifest's dependencies, so the root crate is never
 * reported.) Git dependencies keep the version written in the lock file. A crate locked
 * from two sources with the same version (registry and git) is reported once.
 */
import { parse } from 'smol-toml';

/** One locked crate. */
export interface LockedCrate {
  name: string;
  version: string;
}

/** Crates plus human-readable problems about `[[package]]` tables that were skipped. */
export interface CargoLockResult {
  crates: LockedCrate[];
  problems: string[];
}

/** Thrown when the file is not TOML or has no `[[package]]` array. */
export class CargoLockError extends Error {
  override name = 'CargoLockError';
}

/** Cargo's semver: `MAJOR.MINOR.PATCH[-pre][+build]`. */
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** Parses Cargo.lock text. Throws CargoLockError for invalid TOML or a missing `package` array. */
export function parseCargoLock(text: string): CargoLockResult {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text, { maxDepth: 64 });
  } catch (error) {
    throw new CargoLockError(`Cargo.lock: invalid TOML: ${firstLine(error)}`, { cause: error });
  }
  const list = doc.package;
  if (list === undefined) return { crates: [], problems: [] }; // a workspace with no crates at all
  if (!Array.isArray(list)) throw new CargoLockError('Cargo.lock: "package" is not an array of tables');

  const crates: LockedCrate[] = [];
  const seen = new Set<string>();
  let invalid = 0;
  for (const entry of list as unknown[]) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      invalid++;
      continue;
    }
    const { name, version, source } = entry as Record<string, unknown>;
    if (
      typeof name !== 'string' ||
      !/^[A-Za-z0-9_-]+$/.test(name) ||
      typeof version !== 'string' ||
      !SEMVER.test(version)
    ) {
      invalid++;
      continue;
    }
    if (typeof source !== 'string' || source === '') continue; // workspace member or path dependency
    const key = `${name}@${version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    crates.push({ name, version });
  }
  const problems =
    invalid > 0
      ? [`Cargo.lock: ${invalid} [[package]] table(s) without a valid name and version skipped`]
      : [];
  return { crates, problems };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
