/**
 * pip requirements files (requirements*.txt).
 * Format: https://pip.pypa.io/en/stable/reference/requirements-file-format/ with requirement
 * specifiers from PEP 508 (https://peps.python.org/pep-0508/).
 * - a line ending in `\` continues on the next line;
 * - `#` at the start of a line or after whitespace starts a comment;
 * - lines starting with `-` are options (`-r`/`-c` includes, `-e` editables, `--index-url`...):
 *   ignored, includes are not followed;
 * - per-requirement options (`--hash=...`) and environment markers (`; python_version < "3.8"`)
 *   are dropped; extras (`pkg[a,b]`) are dropped from the name.
 * Only pinned requirements (`==1.2.3` or `===1.2.3`, no wildcard) are packages: a range names
 * no installed version. Markers are not evaluated, so one file may yield several versions of a
 * name (e.g. one per python_version).
 */
import { type LockEntry, finishEntries } from './common.js';

const REQUIREMENT_RE = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(.*)$/;
const PIN_RE = /^(===|==)\s*(\S+)$/;
const PEP440_CHARS_RE = /^[A-Za-z0-9._+!-]+$/;

/** Parses a requirements file; never throws (lines that are not pinned requirements are skipped). */
export function parseRequirements(text: string): LockEntry[] {
  const out: LockEntry[] = [];
  for (const line of logicalLines(text)) {
    const entry = parseRequirementLine(line);
    if (entry) out.push(entry);
  }
  return finishEntries(out);
}

/** Physical lines joined at trailing backslashes; a comment line never continues. */
function* logicalLines(text: string): Generator<string> {
  let pending = '';
  for (const raw of text.split(/\r?\n/)) {
    const isComment = /^\s*#/.test(raw);
    if (!isComment && raw.endsWith('\\')) {
      pending += raw.slice(0, -1);
      continue;
    }
    yield pending + (isComment && pending ? '' : raw);
    pending = '';
  }
  if (pending) yield pending;
}

/** One logical line → a pinned requirement, or undefined. */
export function parseRequirementLine(line: string): LockEntry | undefined {
  let s = line.replace(/(?:^|\s)#.*$/, '').trim();
  if (s === '' || s.startsWith('-')) return undefined;
  // per-requirement options: `pkg==1 --hash=sha256:...`
  s = s.replace(/\s--?[A-Za-z].*$/, '');
  // environment marker
  const semi = s.indexOf(';');
  if (semi >= 0) s = s.slice(0, semi);
  const m = REQUIREMENT_RE.exec(s.trim());
  if (!m) return undefined;
  let specs = m[2]!.trim();
  // a direct reference `name @ url` has no version; a stray `@ url` after a pin is dropped
  if (specs.startsWith('@')) return undefined;
  const at = specs.indexOf('@');
  if (at >= 0) specs = specs.slice(0, at);
  for (const spec of specs.split(',')) {
    const pin = PIN_RE.exec(spec.trim());
    // `==` takes a PEP 440 version (a wildcard is a range); `===` any string
    if (pin && (pin[1] === '===' || PEP440_CHARS_RE.test(pin[2]!))) return { name: m[1]!, version: pin[2]! };
  }
  return undefined;
}
