/**
 * Test oracle: the purl that packageurl-js 2.0.1 makes of the same parts (how engine/src/purl built
 * purls before it formatted them itself). index.test.ts checks formatPurl against it.
 */
import { PackageURL } from 'packageurl-js';
import type { PurlParts } from '../index.js';

/** Encodes parts with the library's component encoders but without its validators (fallback). */
function encodeUnchecked(p: PurlParts): string {
  const C = PackageURL.Component;
  // apply the type's normalisation (lowercasing, pypi `_`→`-`) on a plain copy
  const norm = { ...p, namespace: p.namespace, qualifiers: p.qualifiers } as unknown as PackageURL;
  PackageURL.Type[p.type as keyof typeof PackageURL.Type]?.normalize(norm);
  let out = `pkg:${p.type}/`;
  if (norm.namespace) out += `${C.namespace.encode(norm.namespace)}/`;
  out += C.name.encode(norm.name);
  if (norm.version) out += `@${C.version.encode(norm.version)}`;
  const q = C.qualifiers.normalize(p.qualifiers);
  if (q && Object.keys(q).length > 0) out += `?${C.qualifiers.encode(q)}`;
  return out;
}

/** packageurl-js's purl of `p`, with the unvalidated fallback Vigil used for parts it rejects. */
export function libraryPurl(p: PurlParts): string {
  if (!p.name.trim()) return '';
  const qualifiers = p.qualifiers && Object.keys(p.qualifiers).length > 0 ? p.qualifiers : undefined;
  try {
    return new PackageURL(p.type, p.namespace, p.name, p.version || undefined, qualifiers).toString();
  } catch {
    // The library rejects what the spec's type rules forbid (a maven purl without a group) and
    // its golang validator throws a ReferenceError on `v`-prefixed non-semver versions
    // (packageurl-js 2.0.1). A best-effort purl is more use to matching than none.
    return encodeUnchecked({ ...p, ...(qualifiers ? { qualifiers } : { qualifiers: undefined }) });
  }
}
