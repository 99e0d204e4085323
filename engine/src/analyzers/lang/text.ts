/** Small text helpers shared by the language analyzers. */
import type { AnalysisResult } from '../types.js';

/** UTF-8 text without a byte-order mark (lock files and manifests written on Windows carry one). */
export function decodeText(buf: Buffer): string {
  const text = buf.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The last segment of an image-relative path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** A file that could not be parsed: one unknown naming the file and the reason. */
export function parseProblem(input: { path: string }, source: string, error: unknown): AnalysisResult {
  const message = error instanceof Error ? error.message : String(error);
  return {
    unknowns: [{ path: input.path, message: `cannot parse ${baseName(input.path)}: ${message}`, source }],
  };
}
