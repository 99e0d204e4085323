/**
 * Pipenv's Pipfile.lock: JSON with `default` (runtime) and `develop` (dev) sections mapping a
 * package name to `{ version: "==1.2.3", hashes, markers, index }`.
 * Format: https://pipenv.pypa.io/en/latest/pipfile.html and the pipfile spec
 * (https://github.com/pypa/pipfile). Git, path and editable entries have no `version` and are
 * left out. A package in both sections is not dev-only.
 */
import { type LockEntry, finishEntries, isRecord, str } from './common.js';

/**
 * Parses a Pipfile.lock text.
 * @throws SyntaxError when the text is not JSON, TypeError when it is not a JSON object.
 */
export function parsePipfileLock(text: string): LockEntry[] {
  const doc: unknown = JSON.parse(text);
  if (!isRecord(doc)) throw new TypeError('Pipfile.lock is not a JSON object');
  const out: LockEntry[] = [];
  for (const [section, dev] of [
    ['default', false],
    ['develop', true],
  ] as const) {
    const deps = doc[section];
    if (!isRecord(deps)) continue;
    for (const [name, entry] of Object.entries(deps)) {
      const version = isRecord(entry) ? str(entry['version']) : undefined;
      const pinned = version && /^===?\s*(\S+)$/.exec(version.trim());
      if (pinned) out.push({ name, version: pinned[1]!, dev });
    }
  }
  return finishEntries(out);
}
