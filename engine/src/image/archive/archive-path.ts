/**
 * Normalisation of paths inside an image archive. Archive entries and the paths that
 * manifest.json names are looked up by exact normalised name, so a name that is absolute or
 * climbs out with `..` never matches anything (and manifest paths like that are rejected).
 */

/**
 * Returns the canonical relative form of an archive path (`./a//b/` → `a/b`), or undefined when
 * the path is empty, absolute, contains NUL or has a `..` segment.
 */
export function normalizeArchivePath(path: string): string | undefined {
  if (path.length === 0 || path.startsWith('/') || path.includes('\0')) return undefined;
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return undefined;
    parts.push(part);
  }
  return parts.length ? parts.join('/') : undefined;
}

/**
 * Resolves a symlink target found at `entry` (both archive paths) to a normalised archive path.
 * Absolute targets and targets that climb above the archive root give undefined.
 */
export function resolveLinkTarget(entry: string, target: string): string | undefined {
  if (target.startsWith('/')) return undefined;
  const parts = entry.split('/').slice(0, -1);
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.length ? parts.join('/') : undefined;
}
