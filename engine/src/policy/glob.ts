/**
 * Path globs of ignore-file entries, matched against image-relative package paths (no leading
 * slash): `*` any run of characters but `/`, `?` one character but `/`, `**` any run including
 * `/` (`**` followed by `/` also matches no directory at all), `[abc]` / `[!abc]` / `[a-z]` one
 * character of a class, `\x` a literal x. A pattern also matches everything below a directory it
 * matches (`app/vendor` covers `app/vendor/x/package.json`), as in .gitignore. Leading `/` and
 * `./` are dropped so patterns may be written either way.
 */

function classToRegex(body: string): string {
  let negate = false;
  let b = body;
  if (b.startsWith('!') || b.startsWith('^')) {
    negate = true;
    b = b.slice(1);
  }
  const escaped = b.replace(/[\\\]^]/g, (c) => `\\${c}`);
  return negate ? `[^/${escaped}]` : `[${escaped}]`;
}

/** Compiles a glob to an anchored RegExp. Never throws: a malformed class is taken literally. */
export function globToRegExp(glob: string): RegExp {
  const g = glob.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
  let re = '';
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '*') {
      if (g[i + 1] === '*') {
        i++;
        if (g[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = g.indexOf(']', i + 2);
      if (end === -1) {
        re += '\\[';
      } else {
        re += classToRegex(g.slice(i + 1, end));
        i = end;
      }
    } else if (c === '\\' && i + 1 < g.length) {
      i++;
      re += g[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  // a trailing `/` means "the directory": match it and what is below it
  if (re.endsWith('/')) re = re.slice(0, -1);
  try {
    return new RegExp(`^${re}(?:/.*)?$`, 's');
  } catch {
    return new RegExp(`^${g.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:/.*)?$`, 's');
  }
}

/** True when `path` (leading `/` ignored) matches any of the compiled globs. */
export function matchesAnyGlob(path: string, globs: readonly RegExp[]): boolean {
  const p = path.replace(/^\/+/, '');
  return globs.some((g) => g.test(p));
}
