/**
 * The NVD fetch's on-disk state, so a sync killed half-way resumes at the next page: the plan
 * (mode, windows, the checkpoint it will end with) and the pages archived so far. Rewritten
 * atomically (temp file + rename) after every page; a missing or unreadable file means "no run
 * in progress".
 */
import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';

/** Bumped when the file's shape changes: older state is then ignored (the run starts over). */
export const PROGRESS_VERSION = 1;

/** One lastModified window; both bounds absent for the unfiltered full sync. */
export interface Window {
  start?: string;
  end?: string;
}

export interface ArchivedPage {
  /** file name inside the NVD work directory */
  file: string;
  window: number;
  startIndex: number;
  /** CVEs on the page */
  count: number;
}

export interface NvdProgress {
  version: number;
  /** identifies the run: mode and the checkpoint it started from; a different key starts over */
  key: string;
  mode: 'full' | 'delta';
  /** the checkpoint's `lastModified` once the run completes (end of the last window) */
  end: string;
  windows: Window[];
  /** index of the window being fetched (= windows.length when complete) */
  window: number;
  /** next startIndex within that window */
  startIndex: number;
  /** the window's totalResults as last reported */
  totalResults: number | null;
  pages: ArchivedPage[];
  complete: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the progress file; undefined when absent, unreadable or of another version. */
export async function readProgress(path: string): Promise<NvdProgress | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (
    !isObj(value) ||
    value.version !== PROGRESS_VERSION ||
    typeof value.key !== 'string' ||
    typeof value.end !== 'string' ||
    !Array.isArray(value.windows) ||
    !Array.isArray(value.pages) ||
    typeof value.window !== 'number' ||
    !(value.window >= 0 && value.window <= value.windows.length) ||
    typeof value.startIndex !== 'number' ||
    !(value.startIndex >= 0) ||
    typeof value.complete !== 'boolean'
  )
    return undefined;
  return value as unknown as NvdProgress;
}

/** Writes the progress file atomically: readers see the old or the new state, never a torn one. */
export async function writeProgress(path: string, progress: NvdProgress): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  await writeFile(tmp, JSON.stringify(progress));
  await rename(tmp, path);
}
