/**
 * The cheap gate shared by the compiled-binary analyzers (Go, Rust): an executable regular
 * file big enough to hold a linked program. Content is checked (ELF magic) in `analyze`.
 */
import type { FileInfo } from '../../types.js';

/**
 * Smallest file worth opening. A stripped Go "hello world" is over 1 MB and a Rust program
 * with cargo-auditable data is well over 100 KB; shell scripts with the exec bit are mostly
 * far smaller than this.
 */
export const MIN_BINARY_SIZE = 64 * 1024;

/** True for files with any execute bit set and at least MIN_BINARY_SIZE bytes. */
export function isBinaryCandidate(info: FileInfo): boolean {
  return (info.mode & 0o111) !== 0 && info.size >= MIN_BINARY_SIZE;
}
