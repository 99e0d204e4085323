/**
 * Reads the legacy NuGet `packages.config` (https://learn.microsoft.com/nuget/reference/packages-config):
 *
 *   <packages>
 *     <package id="Newtonsoft.Json" version="13.0.1" targetFramework="net472" />
 *     <package id="Microsoft.Net.Compilers" version="1.0.0" developmentDependency="true" />
 *   </packages>
 *
 * The format is one flat list of empty elements, so a small scanner does (no XML library):
 * comments are removed, each `<package …>` start tag is read for its attributes, the five
 * predefined entities and character references are decoded. `developmentDependency="true"`
 * marks a dev-only package.
 */
import {
  isToken,
  NugetFormatError,
  skippedProblem,
  type NugetPackage,
  type NugetResult,
} from './nuget-common.js';

/** A `<package …>` start tag; attributes never contain `<`, which keeps the scan linear. */
const PACKAGE_TAG = /<package(?=[\s/>])([^<>]*)>/g;
const ATTRIBUTE = /([A-Za-z_:][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Parses packages.config text. Throws NugetFormatError when there is no `<packages>` element. */
export function parsePackagesConfig(text: string): NugetResult {
  const xml = text.replace(/<!--[\s\S]*?(?:-->|$)/g, '');
  if (!/<packages(?=[\s/>])/.test(xml)) throw new NugetFormatError('packages.config: no <packages> element');
  const out: NugetResult = { packages: [], problems: [] };
  let skipped = 0;
  for (const tag of xml.matchAll(PACKAGE_TAG)) {
    const attrs = new Map<string, string>();
    for (const a of tag[1]!.matchAll(ATTRIBUTE)) attrs.set(a[1]!, decodeXml(a[2] ?? a[3] ?? '').trim());
    const name = attrs.get('id');
    const version = attrs.get('version');
    if (!isToken(name) || !isToken(version)) {
      skipped++;
      continue;
    }
    const pkg: NugetPackage = { name, version };
    if (attrs.get('developmentDependency')?.toLowerCase() === 'true') pkg.dev = true;
    out.packages.push(pkg);
  }
  out.problems = skippedProblem('packages.config', skipped);
  return out;
}

function decodeXml(s: string): string {
  return s.replace(/&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[a-z]+);/g, (whole, ref: string) => {
    if (ref[0] !== '#') return ENTITIES[ref] ?? whole;
    const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
  });
}
