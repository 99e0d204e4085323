/**
 * Reads NuGet's `packages.lock.json` (written by `dotnet restore` with
 * `RestorePackagesWithLockFile`; https://learn.microsoft.com/nuget/consume-packages/package-references-in-project-files#locking-dependencies).
 * `dependencies` maps each target framework (`net8.0`, `net8.0/linux-x64`, …) to
 * `{ "<id>": { type, requested?, resolved, contentHash, dependencies? } }`, `type` being
 * `Direct`, `Transitive`, `CentralTransitive` or `Project` (a project reference, not a
 * package: skipped). Packages of all frameworks are reported once per id and version.
 */
import {
  isObject,
  isToken,
  NugetFormatError,
  parseJson,
  skippedProblem,
  type NugetResult,
} from './nuget-common.js';

/** Parses packages.lock.json text. Throws NugetFormatError when it is not JSON or has no `dependencies` object. */
export function parsePackagesLock(text: string): NugetResult {
  const doc = parseJson(text, 'packages.lock.json');
  if (!isObject(doc) || !isObject(doc.dependencies)) {
    throw new NugetFormatError('packages.lock.json: no "dependencies" object');
  }
  const out: NugetResult = { packages: [], problems: [] };
  const seen = new Set<string>();
  let skipped = 0;
  for (const framework of Object.values(doc.dependencies)) {
    if (!isObject(framework)) continue;
    for (const [name, dep] of Object.entries(framework)) {
      if (!isObject(dep) || dep.type === 'Project') continue;
      const version = dep.resolved;
      if (!isToken(name) || !isToken(version)) {
        skipped++;
        continue;
      }
      const key = `${name}\0${version}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.packages.push({ name, version });
    }
  }
  out.problems = skippedProblem('packages.lock.json', skipped);
  return out;
}
