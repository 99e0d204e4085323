/**
 * uv's uv.lock: TOML with one `[[package]]` table per distribution.
 * Format: https://docs.astral.sh/uv/concepts/projects/layout/#the-lockfile (no formal spec;
 * fields as written by uv): `name`, `version`, `source = { registry | git | url | path |
 * directory | editable | virtual = ... }`, `dependencies = [{ name, version?, ... }]`,
 * `[package.optional-dependencies]` (extras) and `[package.dev-dependencies]` (groups).
 * Workspace members (`editable`, `virtual`) and local `directory` sources are the project's own
 * code and are left out. They are the roots of the graph: a package reachable only through a
 * root's dev-dependencies is dev-only.
 */
import { parse as parseToml } from 'smol-toml';
import { type LockEntry, finishEntries, isRecord, str } from './common.js';

interface UvPackage {
  name: string;
  version: string | undefined;
  local: boolean;
  root: boolean;
  table: Record<string, unknown>;
}

/**
 * Parses a uv.lock text.
 * @throws TomlError when the text is not TOML.
 */
export function parseUvLock(text: string): LockEntry[] {
  const doc = parseToml(text);
  const raw = doc['package'];
  if (!Array.isArray(raw)) return [];
  const packages: UvPackage[] = [];
  for (const table of raw) {
    if (!isRecord(table)) continue;
    const name = str(table['name']);
    if (!name) continue;
    const source = isRecord(table['source']) ? table['source'] : {};
    const root = 'editable' in source || 'virtual' in source;
    packages.push({
      name,
      version: str(table['version']),
      local: root || 'directory' in source,
      root,
      table,
    });
  }
  const devOnly = devOnlyPackages(packages);
  const out: LockEntry[] = [];
  for (const pkg of packages) {
    if (pkg.local || !pkg.version) continue;
    out.push({ name: pkg.name, version: pkg.version, dev: devOnly.has(pkg) });
  }
  return finishEntries(out);
}

function devOnlyPackages(packages: UvPackage[]): Set<UvPackage> {
  const byName = new Map<string, UvPackage[]>();
  for (const pkg of packages) {
    const list = byName.get(pkg.name);
    if (list) list.push(pkg);
    else byName.set(pkg.name, [pkg]);
  }
  const resolve = (refs: unknown): UvPackage[] => {
    if (!Array.isArray(refs)) return [];
    const out: UvPackage[] = [];
    for (const ref of refs) {
      if (!isRecord(ref)) continue;
      const candidates = byName.get(str(ref['name']) ?? '') ?? [];
      const version = str(ref['version']);
      out.push(...(version ? candidates.filter((c) => c.version === version) : candidates));
    }
    return out;
  };
  const groupRefs = (groups: unknown): UvPackage[] =>
    isRecord(groups) ? Object.values(groups).flatMap((refs) => resolve(refs)) : [];
  const edges = (pkg: UvPackage) => [
    ...resolve(pkg.table['dependencies']),
    ...groupRefs(pkg.table['optional-dependencies']),
  ];
  const reach = (start: UvPackage[]): Set<UvPackage> => {
    const seen = new Set<UvPackage>();
    const queue = [...start];
    while (queue.length > 0) {
      const pkg = queue.pop()!;
      if (seen.has(pkg)) continue;
      seen.add(pkg);
      queue.push(...edges(pkg));
    }
    return seen;
  };
  const roots = packages.filter((p) => p.root);
  const prod = reach(roots);
  const dev = reach(roots.flatMap((r) => groupRefs(r.table['dev-dependencies'])));
  return new Set([...dev].filter((p) => !prod.has(p)));
}
