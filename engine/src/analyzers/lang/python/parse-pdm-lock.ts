/**
 * PDM's pdm.lock: TOML with one `[[package]]` table per locked distribution (name, version,
 * groups, files). Format: https://pdm-project.org/latest/usage/lockfile/ .
 * The lock file lists the groups a package belongs to but not which groups are development
 * groups (that lives in pyproject.toml), so no package is marked dev. Editable and local path
 * packages are left out.
 */
import { parse as parseToml } from 'smol-toml';
import { type LockEntry, finishEntries, isRecord, str } from './common.js';

/**
 * Parses a pdm.lock text.
 * @throws TomlError when the text is not TOML.
 */
export function parsePdmLock(text: string): LockEntry[] {
  const doc = parseToml(text);
  const packages = doc['package'];
  if (!Array.isArray(packages)) return [];
  const out: LockEntry[] = [];
  for (const pkg of packages) {
    if (!isRecord(pkg) || pkg['editable'] === true || pkg['path'] !== undefined) continue;
    const name = str(pkg['name']);
    const version = str(pkg['version']);
    if (name && version) out.push({ name, version });
  }
  return finishEntries(out);
}
