/**
 * Installed npm package manifests: `node_modules/<name>/package.json`.
 * Format: https://docs.npmjs.com/cli/v10/configuring-npm/package-json (name, version, license;
 * the legacy `license: {type, url}` object and `licenses: [...]` array are still found in old
 * packages, see https://docs.npmjs.com/cli/v10/configuring-npm/package-json#license).
 */
import { isRecord, str } from './common.js';

export interface InstalledPackage {
  name: string;
  version: string;
  licenses: string[];
}

/** Thrown for bytes that are not a JSON object: the wiring turns it into an unknown. */
export class PackageJsonSyntaxError extends Error {
  override name = 'PackageJsonSyntaxError';
}

/**
 * Parses one installed package.json.
 *
 * @returns the package, or undefined when the manifest has no name or no version (folders such
 *   as test fixtures or workspaces that are not published packages).
 * @throws PackageJsonSyntaxError when the text is not a JSON object.
 */
export function parseInstalledPackageJson(text: string): InstalledPackage | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new PackageJsonSyntaxError(`invalid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!isRecord(doc)) throw new PackageJsonSyntaxError('package.json is not a JSON object');
  const name = str(doc['name'])?.trim();
  const version = str(doc['version'])?.trim();
  if (!name || !version) return undefined;
  return { name, version, licenses: licensesOf(doc) };
}

/** `license` (string or legacy `{type}`), else the legacy `licenses` array of strings or `{type}`. */
export function licensesOf(doc: Record<string, unknown>): string[] {
  const one = licenseName(doc['license']);
  if (one) return [one];
  const many = doc['licenses'];
  const out: string[] = [];
  if (Array.isArray(many)) {
    for (const item of many) {
      const l = licenseName(item);
      if (l && !out.includes(l)) out.push(l);
    }
  } else {
    const l = licenseName(many);
    if (l) out.push(l);
  }
  return out;
}

function licenseName(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (isRecord(value)) return str(value['type'])?.trim() || undefined;
  return undefined;
}
