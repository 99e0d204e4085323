/** Shared shapes of the .NET parsers. */

/** One NuGet package. */
export interface NugetPackage {
  name: string;
  version: string;
  dev?: boolean;
}

/** Packages plus human-readable problems about entries that were skipped. */
export interface NugetResult {
  packages: NugetPackage[];
  problems: string[];
}

/** Thrown when a file is not of the expected format at all (the caller makes it an unknown). */
export class NugetFormatError extends Error {
  override name = 'NugetFormatError';
}

/** A NuGet id or version as found in these files: non-empty, no whitespace, no `/`. */
export function isToken(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && !/[\s/]/.test(value);
}

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON.parse that throws NugetFormatError naming the file kind. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new NugetFormatError(`${what}: invalid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** One problem line summarising `skipped` unreadable entries, or none. */
export function skippedProblem(what: string, skipped: number): string[] {
  return skipped > 0
    ? [`${what}: ${skipped} entr${skipped === 1 ? 'y' : 'ies'} without a valid name and version skipped`]
    : [];
}
