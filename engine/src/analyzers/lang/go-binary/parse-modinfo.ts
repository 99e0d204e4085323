/**
 * Parses the module information text embedded in Go binaries and turns it into packages.
 *
 * Format: runtime/debug.BuildInfo.String / ParseBuildInfo (https://go.dev/src/runtime/debug/mod.go):
 * tab-separated lines `go VERSION`, `path PKG`, `mod PATH VERSION [SUM]`, `dep PATH VERSION [SUM]`,
 * `=> PATH VERSION [SUM]` (replaces the module on the line before) and `build KEY=VALUE`
 * (VALUE Go-quoted when it holds spaces or quotes). Malformed lines are skipped.
 */

export interface GoModule {
  path: string;
  version: string;
  sum?: string;
  replace?: GoModule;
}

export interface ModInfo {
  /** main package path (`path` line) */
  path?: string;
  /** main module (`mod` line) */
  main?: GoModule;
  deps: GoModule[];
  /** `build` settings in order, values unquoted */
  settings: [key: string, value: string][];
}

/** Parses modinfo text. Never throws. */
export function parseModInfo(text: string): ModInfo {
  const info: ModInfo = { deps: [], settings: [] };
  let last: GoModule | undefined;
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const kind = line.slice(0, tab);
    const rest = line.slice(tab + 1);
    switch (kind) {
      case 'path':
        info.path = rest;
        break;
      case 'mod':
      case 'dep': {
        const mod = parseModule(rest);
        if (kind === 'mod') info.main = mod;
        else info.deps.push(mod);
        last = mod;
        break;
      }
      case '=>':
        if (last && !last.replace) last.replace = parseModule(rest);
        break;
      case 'build': {
        const eq = rest.indexOf('=');
        if (eq > 0) info.settings.push([rest.slice(0, eq), unquote(rest.slice(eq + 1))]);
        break;
      }
    }
  }
  return info;
}

function parseModule(text: string): GoModule {
  const [path = '', version = '', sum] = text.split('\t');
  return sum ? { path, version, sum } : { path, version };
}

/** Undoes Go's strconv.Quote (a JSON string except for rare escapes like \x or \a). */
function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed === 'string') return parsed;
  } catch {
    // fall through: keep the text between the quotes
  }
  return value.replace(/^"|"$/g, '');
}

/** Splits a command line the way a POSIX shell would (quotes and backslashes, no expansion). */
export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word += text[++i];
      else word += c;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (c === "'" || c === '"') quote = c;
      else if (c === '\\' && i + 1 < text.length) word += text[++i];
      else word += c;
    }
  }
  if (inWord) words.push(word);
  return words;
}

const SEMVER = /^v?\d+(\.\d+){0,2}(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const DEFAULT_PREFIXES = new Set(['main', 'common', 'version', 'cmd']);

/**
 * The main module version stamped with `-ldflags "-X pkg.version=1.2.3"`, as trivy reads it
 * (https://github.com/aquasecurity/trivy/issues/6702): `-X` keys ending in `.version` or
 * `.ver` with a semver value, preferring keys under `<main path>/cmd/`, then keys whose last
 * path element starts with main/common/version/cmd, then any. Several different values in the
 * winning group, or none, give `''`. The result always carries a `v` prefix.
 */
export function ldflagsVersion(mainPath: string, ldflags: string): string {
  const groups: Set<string>[] = [new Set(), new Set(), new Set()];
  const words = shellSplit(ldflags);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let def: string | undefined;
    if (w === '-X' || w === '--X') def = words[++i];
    else if (w.startsWith('-X=')) def = w.slice(3);
    else if (w.startsWith('--X=')) def = w.slice(4);
    if (!def) continue;
    const eq = def.indexOf('=');
    if (eq <= 0) continue;
    const key = def.slice(0, eq);
    const value = def.slice(eq + 1);
    const lower = key.toLowerCase();
    if (!(lower.endsWith('.version') || lower.endsWith('.ver')) || !SEMVER.test(value)) continue;
    const lastElem = key
      .slice(key.lastIndexOf('/') + 1)
      .split('.')[0]!
      .toLowerCase();
    if (key.startsWith(`${mainPath}/cmd/`)) groups[0]!.add(value);
    else if (DEFAULT_PREFIXES.has(lastElem)) groups[1]!.add(value);
    else groups[2]!.add(value);
  }
  for (const g of groups) {
    if (g.size === 0) continue;
    if (g.size > 1) return '';
    const [v] = g;
    return v!.startsWith('v') ? v! : `v${v}`;
  }
  return '';
}
