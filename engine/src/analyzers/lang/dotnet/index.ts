/**
 * .NET NuGet packages. `lang/dotnet-deps` reads what a built application ships with
 * (`<app>.deps.json`); `lang/nuget-lock` reads what a project declares
 * (`packages.lock.json`, and the legacy `packages.config`).
 */
import { throwIfAborted } from '../../../errors.js';
import { defineAnalyzer, type AnalysisResult, type AnalyzerInput, type FileInfo } from '../../types.js';
import type { NugetResult } from './nuget-common.js';
import { parseDepsJson } from './parse-deps-json.js';
import { parsePackagesConfig } from './parse-packages-config.js';
import { parsePackagesLock } from './parse-packages-lock.js';
import { decodeText as decodeUtf8 } from '../text.js';

const DEPS_NAME = 'lang/dotnet-deps';
const LOCK_NAME = 'lang/nuget-lock';

/**
 * NuGet packages of a built .NET application, from `*.deps.json` (`libraries` of type
 * `package` only). Packages: ecosystem `nuget`, name and version from the `Name/Version` key.
 * A file that is not a deps.json becomes an unknown.
 */
export const dotnetDepsAnalyzer = defineAnalyzer({
  name: DEPS_NAME,
  version: 1,
  tags: ['lang', 'installed'],
  required: (path: string, _info: FileInfo): boolean => path.endsWith('.deps.json'),
  analyze: (input) => run(input, DEPS_NAME, parseDepsJson, false),
});

/**
 * NuGet packages a project locks in `packages.lock.json` (all target frameworks, once per
 * id and version, project references excluded) or lists in `packages.config`
 * (`developmentDependency="true"` → `dev: true`). Packages: ecosystem `nuget`, `declared: true`.
 */
export const nugetLockAnalyzer = defineAnalyzer({
  name: LOCK_NAME,
  version: 1,
  tags: ['lang', 'declared'],
  required: (path: string, _info: FileInfo): boolean => LOCK_FILES.has(basename(path)),
  analyze: (input) =>
    run(
      input,
      LOCK_NAME,
      basename(input.path) === 'packages.config' ? parsePackagesConfig : parsePackagesLock,
      true,
    ),
});

const LOCK_FILES = new Set(['packages.lock.json', 'packages.config']);

async function run(
  input: AnalyzerInput,
  name: string,
  parse: (text: string) => NugetResult,
  declared: boolean,
): Promise<AnalysisResult> {
  throwIfAborted(input.signal);
  try {
    const { packages, problems } = parse(decodeText(await input.content.read()));
    const result: AnalysisResult = {
      packages: packages.map((p) => ({
        ...p,
        ecosystem: 'nuget',
        foundBy: name,
        ...(declared ? { declared: true } : {}),
      })),
    };
    if (problems.length > 0)
      result.unknowns = problems.map((message) => ({ path: input.path, message, source: name }));
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { unknowns: [{ path: input.path, message, source: name }] };
  }
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Text without a byte-order mark (Visual Studio writes UTF-8 with a BOM; UTF-16 is rare but legal XML). */
function decodeText(buf: Buffer): string {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  return decodeUtf8(buf);
}
