/**
 * Path rules for image content. Every path Vigil stores is image-relative, POSIX, without a
 * leading slash and without `.` or `..` segments. Entries that would leave the root are refused.
 */
import { posix } from 'node:path';

/** A leading slash, `//`, a `.` or `..` segment, a backslash or NUL: the slow path decides. */
const NEEDS_NORMALIZING = /^\/|\/\/|\\|\0|(?:^|\/)\.\.?(?:\/|$)/;

/**
 * Normalises a tar entry name (`./usr/bin/x`, `/etc/passwd`, `a/./b/`) to `usr/bin/x`, `etc/passwd`, `a/b`.
 * Returns undefined for names that escape the root (`../x`, `a/../../x`) or are empty.
 */
export function normalizeEntryPath(name: string): string | undefined {
  // Fast path for the usual tar name (`usr/bin/x`, `etc/`): nothing to normalise but a trailing
  // slash. Called once per layer entry, so the two posix.normalize calls below are worth skipping.
  if (!NEEDS_NORMALIZING.test(name)) {
    const out = name.endsWith('/') ? name.slice(0, -1) : name;
    return out === '' ? undefined : out;
  }
  if (name.includes('\0')) return undefined;
  const norm = posix.normalize('/' + name.replace(/\\/g, '/'));
  // posix.normalize('/..') is '/', so ask for escapes on the raw relative form too
  const rel = posix.normalize(name.replace(/^\/+/, '').replace(/\\/g, '/'));
  if (rel === '..' || rel.startsWith('../')) return undefined;
  const out = norm.replace(/^\/+/, '').replace(/\/+$/, '');
  return out === '' || out === '.' ? undefined : out;
}

/** True when `path` is `dir` itself or lies below it. Both image-relative. */
export function isUnder(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(dir + '/');
}

const MAX_LINK_HOPS = 40; // as Linux's ELOOP limit

/**
 * Resolves `path` inside the image root, following the symlinks in `links` (image-relative path →
 * link target as stored). Absolute targets are taken relative to the image root and `..` stops at
 * the root, as a chroot would: a link can never lead outside the image. Returns undefined for loops.
 */
export function resolveInRoot(path: string, links: ReadonlyMap<string, string>): string | undefined {
  let parts = path.split('/').filter((p) => p !== '' && p !== '.');
  let hops = 0;
  const done: string[] = [];
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    done.push(part);
    const target = links.get(done.join('/'));
    if (target === undefined) continue;
    if (++hops > MAX_LINK_HOPS) return undefined;
    done.pop();
    const tparts = target.split('/').filter((p) => p !== '' && p !== '.');
    if (target.startsWith('/')) done.length = 0;
    parts = [...tparts, ...parts];
  }
  return done.join('/');
}
