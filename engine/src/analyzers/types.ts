/**
 * Analyzer plugin shape (trivy analyzer / syft cataloger / scalibr extractor).
 *
 * The core walks files (a layer tar or a directory), asks every analyzer `required(path, info)`
 * (cheap, never reads content), keeps the content of wanted files (size-capped) and calls
 * `analyze`. Results are cached per layer keyed on every analyzer's `version`: bump it when
 * the output for the same input changes.
 */
import type { Package } from '../model/package.js';
import type { OsRelease } from '../model/os.js';
import type { Unknown } from '../model/unknown.js';

export type AnalyzerTag =
  /** finds the OS release */
  | 'release'
  /** OS package databases */
  | 'os'
  /** language packages */
  | 'lang'
  /** what is installed (image and rootfs scans) */
  | 'installed'
  /** what a project declares (lock files; directory scans only) */
  | 'declared'
  /** compiled binaries */
  | 'binary';

export interface FileInfo {
  /** size in bytes */
  size: number;
  /** permission bits (e.g. 0o755) */
  mode: number;
}

/** Content of one file. Small files are in memory; large ones are spooled to a temp file. */
export interface FileContent {
  readonly size: number;
  /** The whole content. */
  read(): Promise<Buffer>;
  /** `length` bytes from `offset` (fewer at the end of the file). */
  readAt(offset: number, length: number): Promise<Buffer>;
}

export interface AnalyzerInput extends FileInfo {
  /** image-relative POSIX path, no leading slash: `lib/apk/db/installed` */
  path: string;
  content: FileContent;
  signal?: AbortSignal;
}

/**
 * What one file yielded. Packages carry no `layer`, `path` or `purl`: the core sets `path`
 * (when the analyzer leaves it empty), `layer` and `purl`.
 */
export interface AnalysisResult {
  packages?: Package[];
  os?: OsRelease;
  /** image-relative paths of files owned by OS packages (dpkg .list, rpm file lists, apk R:). */
  ownedFiles?: string[];
  /** per-file problems; the scan goes on. */
  unknowns?: Unknown[];
}

export interface Analyzer {
  /** unique, path-like: `os/apk`, `lang/npm`, `release/os-release` */
  readonly name: string;
  /** integer ≥ 0; part of the layer cache key */
  readonly version: number;
  readonly tags: readonly AnalyzerTag[];
  /** Exact paths this analyzer wants, if it only wants fixed paths (a fast path for walks). */
  readonly staticPaths?: readonly string[];
  /** Cheap, content-free predicate. `path` is image-relative with no leading slash. */
  required(path: string, info: FileInfo): boolean;
  /** Parse one file. Throwing is allowed: the core turns it into an unknown for that path. */
  analyze(input: AnalyzerInput): Promise<AnalysisResult> | AnalysisResult;
}

/** Helper to declare an analyzer with type checking (syft `generic.NewCataloger`). */
export function defineAnalyzer<const N extends string>(
  analyzer: Analyzer & { readonly name: N },
): Analyzer & { readonly name: N } {
  return analyzer;
}

/** A FileContent over an in-memory buffer (tests, small files). */
export function bufferContent(buf: Buffer): FileContent {
  return {
    size: buf.length,
    read: () => Promise.resolve(buf),
    readAt: (offset, length) => Promise.resolve(buf.subarray(offset, Math.min(buf.length, offset + length))),
  };
}

/** Build an AnalyzerInput from a buffer (tests and directory walks of small files). */
export function inputFromBuffer(path: string, buf: Buffer, mode = 0o644): AnalyzerInput {
  return { path, size: buf.length, mode, content: bufferContent(buf) };
}
