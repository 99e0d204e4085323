/**
 * Ignore files (`--ignorefile`): findings the user accepts, by id, optionally narrowed to a
 * package, a purl or paths, optionally until a date.
 *
 * `.vigilignore` is YAML (https://yaml.org/spec/1.2.2/, parsed with the `yaml` package): a list of
 * entries, or a mapping with the list under `ignore`. An entry is an id string, or a mapping:
 *
 * ```yaml
 * ignore:
 *   - CVE-2019-1549                     # every package
 *   - id: CVE-2023-5678                 # finding id or any alias (CVE, GHSA, distro advisory…)
 *     package: openssl                  # package name or OS source package name
 *     purl: pkg:apk/alpine/libcrypto1.1 # purl; without a version it covers every version
 *     paths: ["app/node_modules/**"]   # globs over the package path (see glob.ts)
 *     expires: 2025-06-30               # YYYY-MM-DD (that day 00:00 UTC) or RFC 3339
 *     reason: not reachable from our code
 * ```
 *
 * Trivy's `.trivyignore` plain format is accepted as well for migrating users
 * (https://trivy.dev/latest/docs/configuration/filtering/#trivyignore): one id per line, `#`
 * comment lines, an optional `exp:YYYY-MM-DD` after the id; text after a ` #` is kept as the reason.
 * Unlike trivy, any other token on a line is an error (a typo such as `exp 2025-01-01` must not
 * silently make an entry permanent).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Node } from 'yaml';
import { yaml } from '../lazy-yaml.js';
import { EngineError } from '../errors.js';
import type { Finding } from '../model/finding.js';
import { toPurl } from '../purl/index.js';
import { parseExpiry } from './expiry.js';
import { globToRegExp, matchesAnyGlob } from './glob.js';
import { parsePurl, purlMatches, type ParsedPurl } from './purl-match.js';

/** One accepted finding (or family of findings). `line` is where it was written, for messages. */
export interface IgnoreEntry {
  id: string;
  package?: string;
  purl?: string;
  paths?: string[];
  /** as written: `YYYY-MM-DD` or an RFC 3339 date-time */
  expires?: string;
  reason?: string;
  /** 1-based line in the ignore file */
  line?: number;
}

export interface ParseIgnoreOptions {
  /** file name for messages; a base name `.trivyignore` selects the plain format */
  name?: string;
  /** `auto` (default) tells the plain format from YAML by content */
  format?: 'auto' | 'yaml' | 'trivyignore';
}

const MAX_IGNORE_FILE_BYTES = 4 * 1024 * 1024;
const ENTRY_KEYS: ReadonlySet<string> = new Set(['id', 'package', 'purl', 'paths', 'expires', 'reason']);
const ID_RE = /^[^\s#]+$/;

function invalid(where: string, message: string): EngineError {
  return new EngineError('ENG_POLICY_INVALID', `${where}: ${message}`);
}

/** True when the text reads as the trivy plain format rather than YAML. */
function looksPlain(text: string): boolean {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (/^[-[{'"!&*|>%@`]/.test(line) || /:(\s|$)/.test(line)) return false;
  }
  return true;
}

function parsePlain(text: string, name: string): IgnoreEntry[] {
  const entries: IgnoreEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const hash = trimmed.search(/\s#/);
    const body = hash === -1 ? trimmed : trimmed.slice(0, hash).trim();
    const reason = hash === -1 ? undefined : trimmed.slice(hash).trim().replace(/^#\s*/, '');
    const [id, ...rest] = body.split(/\s+/);
    const entry: IgnoreEntry = { id: id!, line };
    for (const token of rest) {
      if (!token.startsWith('exp:')) {
        throw invalid(
          `${name}:${line}`,
          `unexpected "${token}" after the id (only exp:YYYY-MM-DD may follow)`,
        );
      }
      const date = token.slice(4);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || parseExpiry(date) === undefined) {
        throw invalid(`${name}:${line}`, `"${token}" is not exp:YYYY-MM-DD`);
      }
      if (entry.expires !== undefined) throw invalid(`${name}:${line}`, 'exp: given twice');
      entry.expires = date;
    }
    if (reason) entry.reason = reason;
    entries.push(entry);
  });
  return entries;
}

function scalarString(node: unknown, where: string, key: string): string {
  const { isScalar } = yaml();
  if (isScalar(node) && typeof node.value === 'string' && node.value.trim() !== '') return node.value.trim();
  throw invalid(where, `"${key}" must be a non-empty string`);
}

function yamlEntry(node: unknown, where: string, line: number): IgnoreEntry {
  const { isMap, isScalar, isSeq } = yaml();
  if (isScalar(node)) {
    const id = scalarString(node, where, 'id');
    if (!ID_RE.test(id)) throw invalid(where, `"${id}" is not an id (no spaces)`);
    return { id, line };
  }
  if (!isMap(node)) throw invalid(where, 'an entry must be an id or a mapping with an "id"');
  const entry: Partial<IgnoreEntry> = { line };
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!ENTRY_KEYS.has(key)) {
      throw invalid(where, `unknown key "${key}" (expected ${[...ENTRY_KEYS].join(', ')})`);
    }
    if (key === 'paths') {
      const v = pair.value;
      if (isSeq(v)) {
        entry.paths = v.items.map((item) => scalarString(item, where, 'paths[]'));
      } else {
        entry.paths = [scalarString(v, where, 'paths')];
      }
      if (entry.paths.length === 0) throw invalid(where, '"paths" must not be empty');
    } else if (key === 'expires') {
      const v = scalarString(pair.value, where, 'expires');
      if (parseExpiry(v) === undefined) {
        throw invalid(where, `"expires: ${v}" is not YYYY-MM-DD or an RFC 3339 date-time`);
      }
      entry.expires = v;
    } else {
      entry[key as 'id' | 'package' | 'purl' | 'reason'] = scalarString(pair.value, where, key);
    }
  }
  if (entry.id === undefined) throw invalid(where, 'entry without an "id"');
  if (!ID_RE.test(entry.id)) throw invalid(where, `"${entry.id}" is not an id (no spaces)`);
  if (entry.purl !== undefined && parsePurl(entry.purl) === undefined) {
    throw invalid(where, `"purl: ${entry.purl}" is not a package URL (pkg:type/…)`);
  }
  return entry as IgnoreEntry;
}

function parseYaml(text: string, name: string): IgnoreEntry[] {
  const { LineCounter, isMap, isScalar, isSeq, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number | undefined) => lineCounter.linePos(offset ?? 0).line;
  const first = doc.errors[0];
  if (first)
    throw invalid(`${name}:${lineOf(first.pos[0])}`, `not valid YAML: ${first.message.split('\n')[0]}`);
  let list: unknown = doc.contents;
  if (list === null || (isScalar(list) && (list.value === null || list.value === ''))) return [];
  if (isMap(list)) {
    const keys = list.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''));
    if (keys.length !== 1 || keys[0] !== 'ignore') {
      throw invalid(
        `${name}:${lineOf((list as Node).range?.[0])}`,
        'expected a list of entries or "ignore:" with a list',
      );
    }
    list = list.items[0]!.value;
    if (list === null || (isScalar(list) && list.value === null)) return [];
  }
  if (!isSeq(list))
    throw invalid(`${name}:${lineOf((list as Node | null)?.range?.[0])}`, 'expected a list of entries');
  return list.items.map((item, i) => {
    const line = lineOf((item as Node | null)?.range?.[0]);
    return yamlEntry(item, `${name}:${line} (entry ${i + 1})`, line);
  });
}

/**
 * Parses an ignore file (see module doc). Returns the entries in file order.
 *
 * @throws EngineError ENG_POLICY_INVALID naming the file and line for malformed YAML, an entry
 *   without an id, an unknown key, a bad `expires`/`exp:` date or a non-purl `purl`.
 */
export function parseIgnoreFile(text: string, options: ParseIgnoreOptions = {}): IgnoreEntry[] {
  const name = options.name ?? '.vigilignore';
  const body = text.replace(/^\uFEFF/, '');
  const format =
    options.format && options.format !== 'auto'
      ? options.format
      : basename(name).endsWith('.trivyignore') || looksPlain(body)
        ? 'trivyignore'
        : 'yaml';
  return format === 'trivyignore' ? parsePlain(body, name) : parseYaml(body, name);
}

/**
 * Reads and parses an ignore file.
 *
 * @throws EngineError ENG_IMAGE_SOURCE_NOT_FOUND when the file does not exist; ENG_POLICY_INVALID
 *   when it is not a regular file, larger than 4 MiB, not UTF-8 text, or malformed.
 */
export async function readIgnoreFile(
  path: string,
  options: Omit<ParseIgnoreOptions, 'name'> = {},
): Promise<IgnoreEntry[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new EngineError('ENG_IMAGE_SOURCE_NOT_FOUND', `ignore file ${path} does not exist`);
  if (!info.isFile()) throw invalid(path, 'not a regular file');
  if (info.size > MAX_IGNORE_FILE_BYTES) throw invalid(path, `larger than ${MAX_IGNORE_FILE_BYTES} bytes`);
  const bytes = await readFile(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid(path, 'not UTF-8 text');
  }
  return parseIgnoreFile(text, { ...options, name: path });
}

/** A finding the ignore file accepted, with the entry that accepted it (first match in file order). */
export interface IgnoredFinding {
  finding: Finding;
  entry: IgnoreEntry;
}

export interface IgnoreResult {
  kept: Finding[];
  ignored: IgnoredFinding[];
  /** entries whose `expires` is at or before `now`: they no longer apply (file order) */
  expired: IgnoreEntry[];
}

interface CompiledEntry {
  entry: IgnoreEntry;
  id: string;
  purl?: ParsedPurl;
  globs?: RegExp[];
}

function compile(entry: IgnoreEntry): CompiledEntry {
  const c: CompiledEntry = { entry, id: entry.id.toUpperCase() };
  if (entry.purl !== undefined) {
    const p = parsePurl(entry.purl);
    if (!p)
      throw invalid(
        entry.line ? `line ${entry.line}` : entry.id,
        `"purl: ${entry.purl}" is not a package URL`,
      );
    c.purl = p;
  }
  if (entry.paths) c.globs = entry.paths.map(globToRegExp);
  return c;
}

function applies(c: CompiledEntry, f: Finding): boolean {
  if (f.id.toUpperCase() !== c.id && !f.aliases.some((a) => a.toUpperCase() === c.id)) return false;
  const pkg = f.package;
  if (c.entry.package !== undefined && c.entry.package !== pkg.name && c.entry.package !== pkg.srcName)
    return false;
  if (c.purl) {
    const own = parsePurl(pkg.purl ?? toPurl(pkg));
    if (!own || !purlMatches(c.purl, own)) return false;
  }
  if (c.globs && !(pkg.path !== undefined && matchesAnyGlob(pkg.path, c.globs))) return false;
  return true;
}

/**
 * Splits `findings` into those kept and those an active entry ignores. An entry applies when the
 * finding id or one of its aliases equals the entry id (case-insensitive) and every optional
 * criterion holds: `package` equals the package name or its source package name; `purl` covers
 * the package purl (purl-match.ts rules: no version = every version, qualifiers a subset);
 * `paths` has a glob matching the package path (a package without a path never matches).
 * Entries expiring at or before `now` do not apply and are listed in `expired`.
 * Pure; order of `kept` and `ignored` follows `findings`.
 *
 * @throws EngineError ENG_POLICY_INVALID for an entry built by hand with an invalid `expires` or `purl`.
 */
export function applyIgnoreFile(
  findings: readonly Finding[],
  entries: readonly IgnoreEntry[],
  now: Date = new Date(),
): IgnoreResult {
  const active: CompiledEntry[] = [];
  const expired: IgnoreEntry[] = [];
  for (const entry of entries) {
    if (entry.expires !== undefined) {
      const at = parseExpiry(entry.expires);
      if (at === undefined)
        throw invalid(entry.line ? `line ${entry.line}` : entry.id, `bad expires "${entry.expires}"`);
      if (at <= now.getTime()) {
        expired.push(entry);
        continue;
      }
    }
    active.push(compile(entry));
  }
  const kept: Finding[] = [];
  const ignored: IgnoredFinding[] = [];
  for (const finding of findings) {
    const hit = active.find((c) => applies(c, finding));
    if (hit) ignored.push({ finding, entry: hit.entry });
    else kept.push(finding);
  }
  return { kept, ignored, expired };
}
