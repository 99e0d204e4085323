/**
 * yarn.lock, both generations:
 * - classic v1: yarn's own indented format, https://classic.yarnpkg.com/lang/en/docs/yarn-lock/
 *   (grammar in yarnpkg/yarn src/lockfile/parse.js): unindented `pattern, pattern:` headers, then
 *   two-space `key value` fields (values optionally double-quoted), deeper blocks for
 *   dependencies. Patterns are `name@range`; a range `npm:real@range` is an alias.
 * - berry (v2+): YAML with a `__metadata` key; each entry has `version` and
 *   `resolution: "name@protocol:reference"`, https://yarnpkg.com/protocols .
 */
import {
  type LockEntry,
  finishEntries,
  isPackageName,
  isRecord,
  isReleaseVersion,
  parseLockYaml,
  resolveAlias,
  splitSpec,
  str,
} from './common.js';

/** Protocols that point at the project's own code (v1 ranges and berry resolutions). */
const LOCAL_PROTOCOLS = new Set(['workspace', 'link', 'portal', 'file', 'exec']);

/** True when the text is a yarn berry (YAML) lock file rather than a classic v1 one. */
export function isYarnBerry(text: string): boolean {
  return /^__metadata:/m.test(text);
}

/**
 * Parses either generation of yarn.lock.
 * @throws for berry text that is not YAML; v1 parsing never throws (unknown lines are skipped).
 */
export function parseYarnLock(text: string): LockEntry[] {
  return isYarnBerry(text) ? parseYarnBerry(text) : parseYarnV1(text);
}

/** Classic (v1) yarn.lock. Lines that fit no rule are skipped. */
export function parseYarnV1(text: string): LockEntry[] {
  const out: LockEntry[] = [];
  let patterns: string[] | undefined;
  let version: string | undefined;
  const flush = () => {
    if (patterns && version !== undefined) {
      const e = entryFromV1(patterns, version);
      if (e) out.push(e);
    }
    patterns = undefined;
    version = undefined;
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const trimmed = line.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const indent = line.length - trimmed.length;
    if (indent === 0) {
      flush();
      if (line.endsWith(':')) patterns = splitPatterns(line.slice(0, -1));
      continue;
    }
    // only the entry's own fields (one level deep) matter; deeper lines are dependency lists.
    if (!patterns || indent !== 2 || trimmed.endsWith(':')) continue;
    const field = splitField(trimmed);
    if (field?.key === 'version') version = field.value;
  }
  flush();
  return finishEntries(out);
}

function entryFromV1(patterns: string[], version: string): LockEntry | undefined {
  for (const pattern of patterns) {
    const spec = splitSpec(pattern);
    if (!spec) continue;
    const protocol = /^([a-z]+):/.exec(spec.rest)?.[1];
    if (protocol && LOCAL_PROTOCOLS.has(protocol)) return undefined;
    const name = resolveAlias(spec.name, spec.rest).name;
    if (isPackageName(name) && isReleaseVersion(version)) return { name, version };
    return undefined;
  }
  return undefined;
}

/** `a@1, "b@^2"` → [`a@1`, `b@^2`]; commas inside quotes do not split. */
function splitPatterns(header: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header[i]!;
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && quoted && i + 1 < header.length) cur += header[++i];
    else if (c === ',' && !quoted) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out.filter((p) => p.length > 0);
}

/** `version "1.2.3"` / `version 1.2.3` / `"key" value` → {key, value}. */
function splitField(content: string): { key: string; value: string } | undefined {
  const m = /^("(?:[^"\\]|\\.)*"|\S+)\s+(.*)$/.exec(content);
  if (!m) return undefined;
  return { key: unquote(m[1]!), value: unquote(m[2]!.trim()) };
}

function unquote(s: string): string {
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) {
    try {
      const v: unknown = JSON.parse(s);
      if (typeof v === 'string') return v;
    } catch {
      // not a JSON string: fall back to stripping the quotes
    }
    return s.slice(1, -1);
  }
  return s;
}

/**
 * Yarn berry lock file. Entries resolved through a local protocol (workspace, link, portal,
 * file, exec) are the project's own code and are skipped; `patch:` entries are skipped because
 * the patched package is always listed again under its plain `npm:` resolution.
 * @throws YAMLParseError for text that is not YAML, TypeError when it is not a mapping.
 */
export function parseYarnBerry(text: string): LockEntry[] {
  const doc: unknown = parseLockYaml(text);
  if (!isRecord(doc)) throw new TypeError('yarn.lock is not a YAML mapping');
  const out: LockEntry[] = [];
  for (const [key, entry] of Object.entries(doc)) {
    if (key === '__metadata' || !isRecord(entry)) continue;
    const resolution = splitSpec(str(entry['resolution']) ?? '');
    if (!resolution) continue;
    const protocol = /^([a-z-]+):/.exec(resolution.rest)?.[1];
    if (protocol && (LOCAL_PROTOCOLS.has(protocol) || protocol === 'patch')) continue;
    let version = str(entry['version']);
    if (!version && protocol === 'npm') version = resolution.rest.slice(4).split('::')[0];
    if (!version) continue;
    if (isPackageName(resolution.name) && isReleaseVersion(version)) {
      out.push({ name: resolution.name, version });
    }
  }
  return finishEntries(out);
}
