/**
 * Reads a .NET `<app>.deps.json`, written next to every built .NET (Core) application
 * (format: https://github.com/dotnet/sdk/blob/main/documentation/specs/runtime-configuration-file.md).
 * `libraries` maps `"Name/Version"` to `{ type, serviceable, sha512, path, hashPath }`.
 * Only `type: "package"` entries are NuGet packages; `project` is the application or one of
 * its own projects, `referenceassembly` a framework reference, `runtimepack` the runtime
 * shipped with a self-contained app: none of them is a NuGet package version.
 */
import {
  isObject,
  isToken,
  NugetFormatError,
  parseJson,
  skippedProblem,
  type NugetResult,
} from './nuget-common.js';

/** Parses deps.json text. Throws NugetFormatError when it is not JSON or has no `libraries` object. */
export function parseDepsJson(text: string): NugetResult {
  const doc = parseJson(text, 'deps.json');
  if (!isObject(doc) || !isObject(doc.libraries))
    throw new NugetFormatError('deps.json: no "libraries" object');
  const out: NugetResult = { packages: [], problems: [] };
  let skipped = 0;
  for (const [key, library] of Object.entries(doc.libraries)) {
    if (!isObject(library) || library.type !== 'package') continue;
    const slash = key.indexOf('/');
    const name = key.slice(0, slash);
    const version = key.slice(slash + 1);
    if (slash < 0 || !isToken(name) || !isToken(version)) {
      skipped++;
      continue;
    }
    out.packages.push({ name, version });
  }
  out.problems = skippedProblem('deps.json', skipped);
  return out;
}
