/**
 * Poetry's poetry.lock: TOML with one `[[package]]` table per locked distribution.
 * Format: no formal spec; written by poetry-core / poetry `Locker`
 * (https://python-poetry.org/docs/basic-usage/#committing-your-poetrylock-file-to-version-control).
 * Dev-only: lock-version 1.x writes `category = "dev"`; Poetry 2 (lock-version 2.1) writes
 * `groups = ["main", ...]`, where a package outside the `main` group is dev-only. Lock files
 * between the two record neither. `source.type = "directory"` packages are the project's own
 * path dependencies and are left out.
 */
import { parse as parseToml } from 'smol-toml';
import { type LockEntry, finishEntries, isRecord, str } from './common.js';

/**
 * Parses a poetry.lock text.
 * @throws TomlError when the text is not TOML.
 */
export function parsePoetryLock(text: string): LockEntry[] {
  const doc = parseToml(text);
  const packages = doc['package'];
  if (!Array.isArray(packages)) return [];
  const out: LockEntry[] = [];
  for (const pkg of packages) {
    if (!isRecord(pkg)) continue;
    const name = str(pkg['name']);
    const version = str(pkg['version']);
    if (!name || !version) continue;
    if (isRecord(pkg['source']) && pkg['source']['type'] === 'directory') continue;
    out.push({ name, version, dev: isDevOnly(pkg) });
  }
  return finishEntries(out);
}

function isDevOnly(pkg: Record<string, unknown>): boolean {
  if (pkg['category'] === 'dev') return true;
  const groups = pkg['groups'];
  return Array.isArray(groups) && groups.length > 0 && !groups.includes('main');
}
