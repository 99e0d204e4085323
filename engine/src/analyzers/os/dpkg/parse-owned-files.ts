/**
 * Pure parsers for the dpkg file lists that say which files an OS package owns:
 * - /var/lib/dpkg/info/<pkg>[:<arch>].list: one absolute path per line, directories included
 *   (`/.`, `/usr`, `/usr/bin/env`); written by dpkg, see dpkg(1) FILES.
 * - /var/lib/dpkg/status.d/<pkg>.md5sums (distroless) and info/*.md5sums: md5sum(1) output,
 *   `<32 hex digits><two spaces><path relative to />` (`*` before the path in binary mode).
 */
import { posix } from 'node:path';
import type { Unknown } from '../../../model/unknown.js';

export interface OwnedFilesResult {
  /** image-relative paths, no leading slash, normalised, in file order, without duplicates. */
  ownedFiles: string[];
  unknowns: Unknown[];
}

/**
 * `/usr/./bin//x` → `usr/bin/x`; '' for the root itself (`/.`); undefined for paths with NUL
 * bytes and for paths that climb above the root.
 */
export function imagePath(raw: string): string | undefined {
  if (raw.includes('\0')) return undefined;
  const rel = posix.normalize(raw.replace(/^\/+/, '') || '.');
  if (rel === '..' || rel.startsWith('../')) return undefined;
  const out = rel.replace(/\/+$/, '');
  return out === '.' ? '' : out;
}

function lines(text: string): string[] {
  return text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function collect(
  text: string,
  path: string,
  what: string,
  pick: (line: string) => string | undefined,
): OwnedFilesResult {
  const seen = new Set<string>();
  let bad = 0;
  let firstBad = '';
  for (const line of lines(text)) {
    if (line.trim() === '') continue;
    const raw = pick(line);
    const p = raw === undefined ? undefined : imagePath(raw);
    if (p === undefined) {
      if (bad++ === 0) firstBad = line.slice(0, 80);
      continue;
    }
    if (p !== '') seen.add(p);
  }
  const unknowns: Unknown[] =
    bad > 0 ? [{ path, message: `${bad} unreadable ${what} line(s), first: "${firstBad}"` }] : [];
  return { ownedFiles: [...seen], unknowns };
}

/**
 * Reads a dpkg `.list` file. Every listed path is kept (directories too, which the core may use
 * as well); `/.` (the root) is dropped. Lines that cannot be a path inside the image are
 * counted into one unknown on `path`. Never throws.
 */
export function parseDpkgList(text: string, path: string): OwnedFilesResult {
  return collect(text, path, '.list', (line) => line);
}

const MD5SUMS_LINE = /^[0-9a-fA-F]{32} [ *](.+)$/;

/** Reads an `.md5sums` file (paths are relative to the root). Malformed lines → one unknown. Never throws. */
export function parseDpkgMd5sums(text: string, path: string): OwnedFilesResult {
  return collect(text, path, '.md5sums', (line) => MD5SUMS_LINE.exec(line)?.[1]);
}
