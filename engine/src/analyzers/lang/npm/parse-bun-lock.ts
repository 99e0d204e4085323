/**
 * bun.lock, Bun's text lock file (Bun ≥ 1.1.39): JSON with comments and trailing commas.
 * Format: https://bun.sh/docs/install/lockfile . `packages` maps an install path to an array
 * whose first element is the resolved `name@version`; workspace, git, GitHub, tarball and
 * folder packages have a protocol reference there instead of a version. bun.lock records no
 * dev-only flag per package.
 */
import {
  type LockEntry,
  finishEntries,
  isPackageName,
  isRecord,
  isReleaseVersion,
  splitSpec,
} from './common.js';

/**
 * Parses a bun.lock text.
 * @throws SyntaxError when the text is not JSONC, TypeError when it is not an object.
 */
export function parseBunLock(text: string): LockEntry[] {
  const doc: unknown = JSON.parse(stripJsonc(text));
  if (!isRecord(doc)) throw new TypeError('bun.lock is not a JSON object');
  const packages = doc['packages'];
  if (!isRecord(packages)) return [];
  const out: LockEntry[] = [];
  for (const value of Object.values(packages)) {
    if (!Array.isArray(value) || typeof value[0] !== 'string') continue;
    const spec = splitSpec(value[0]);
    if (spec && isPackageName(spec.name) && isReleaseVersion(spec.rest)) {
      out.push({ name: spec.name, version: spec.rest });
    }
  }
  return finishEntries(out);
}

/**
 * JSONC → JSON: drops `//` and `/* *\/` comments and commas before `}` or `]`, leaving string
 * contents untouched.
 */
export function stripJsonc(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === ',') {
      const next = text[skipBlank(text, i + 1)];
      if (next !== '}' && next !== ']') out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Index of the first character at or after `i` that is neither whitespace nor a comment. */
function skipBlank(text: string, i: number): number {
  const n = text.length;
  while (i < n) {
    if (/\s/.test(text[i]!)) i++;
    else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else break;
  }
  return i;
}
