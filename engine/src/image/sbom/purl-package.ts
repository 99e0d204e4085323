/**
 * Package-url → Package, the inverse of engine/src/purl (toPurl), for SBOM input.
 * Spec: https://github.com/package-url/purl-spec (PURL-SPECIFICATION.rst, PURL-TYPES.rst).
 *
 * - ecosystem = the purl type when it is one of ECOSYSTEMS; other types are unsupported.
 * - name: npm `@scope/name`, golang and composer `namespace/name`, maven `group:artifact`, the
 *   rest the purl name. The name the document declares wins when it is the same name up to case
 *   and `-`/`_`/`.` (purl normalisation turns pypi `typing_extensions` into `typing-extensions`).
 * - version: the purl version (rpm: `epoch:version` when the `epoch` qualifier is above 0), else
 *   the declared version.
 * - arch from `arch`; srcName/srcVersion from `upstream` (`name`, `name@version`, or an rpm
 *   source file name `name-version-release.src.rpm`, as syft writes it).
 * - distro: the `distro` qualifier (`alpine-3.10.4`, `debian-12`; trivy writes only `3.10.4`, the
 *   family then comes from the namespace).
 */
import { normaliseFamily } from '../../analyzers/os/release/family.js';
import { ECOSYSTEMS, type Ecosystem } from '../../model/package.js';
import type { OsRelease } from '../../model/os.js';
import { parsePurl, type ParsedPurl } from '../../policy/purl-match.js';

export interface PurlPackageFields {
  name: string;
  version: string;
  ecosystem: Ecosystem;
  arch?: string;
  srcName?: string;
  srcVersion?: string;
}

const canonical = (s: string) => s.toLowerCase().replace(/[-_.]+/g, '-');

/** The purl type as an ecosystem, or undefined when Vigil cannot match that type. */
export function ecosystemOf(type: string): Ecosystem | undefined {
  return (ECOSYSTEMS as readonly string[]).includes(type) ? (type as Ecosystem) : undefined;
}

function nameOf(p: ParsedPurl, ecosystem: Ecosystem): string {
  const ns = p.namespace;
  switch (ecosystem) {
    case 'npm':
    case 'golang':
    case 'composer':
      return ns ? `${ns}/${p.name}` : p.name;
    case 'maven':
      return ns ? `${ns}:${p.name}` : p.name;
    default:
      return p.name;
  }
}

/** `upstream` qualifier → source package name and version. */
export function parseUpstream(value: string | undefined): { srcName?: string; srcVersion?: string } {
  const v = value?.trim();
  if (!v) return {};
  const rpm = /^(.+)-([^-]+)-([^-]+)\.(?:src|nosrc)\.rpm$/.exec(v);
  if (rpm) return { srcName: rpm[1]!, srcVersion: `${rpm[2]}-${rpm[3]}` };
  const at = v.indexOf('@');
  if (at > 0 && at < v.length - 1) return { srcName: v.slice(0, at), srcVersion: v.slice(at + 1) };
  return { srcName: v };
}

/**
 * Package fields of a purl. `declaredName` / `declaredVersion` are what the SBOM states beside
 * the purl. Returns `unsupported` for a type Vigil cannot match (see ecosystemOf) and
 * `no-version` when neither the purl nor the document gives a version.
 */
export function packageFromPurl(
  p: ParsedPurl,
  declaredName?: string,
  declaredVersion?: string,
): PurlPackageFields | 'unsupported' | 'no-version' {
  const ecosystem = ecosystemOf(p.type);
  if (!ecosystem) return 'unsupported';
  let name = nameOf(p, ecosystem);
  if (declaredName && canonical(declaredName) === canonical(name)) name = declaredName;
  let version = p.version ?? declaredVersion?.trim();
  if (!version) return 'no-version';
  const epoch = p.qualifiers.epoch;
  if (
    ecosystem === 'rpm' &&
    p.version &&
    epoch &&
    /^\d+$/.test(epoch) &&
    Number(epoch) > 0 &&
    !/^\d+:/.test(version)
  ) {
    version = `${Number(epoch)}:${version}`;
  }
  const out: PurlPackageFields = { name, version, ecosystem };
  if (p.qualifiers.arch) out.arch = p.qualifiers.arch;
  Object.assign(out, parseUpstream(p.qualifiers.upstream));
  return out;
}

/** Namespaces (vendors) → family, for trivy's version-only `distro` values. */
const VENDOR_FAMILIES: Readonly<Record<string, string>> = { redhat: 'rhel', amazon: 'amzn', oracle: 'ol' };
/** Rolling distributions identified by their purl namespace alone. */
const ROLLING: ReadonlySet<string> = new Set(['wolfi', 'chainguard']);

/** Maps an SBOM's OS name (`alpine`, trivy's `redhat`, `opensuse.leap`…) to an OsRelease family. */
export function familyOf(name: string): string {
  return normaliseFamily(name.trim().replace(/[.\s]+/g, '-'));
}

/** The OS release an OS package purl states, when it states one. */
export function distroFromPurl(p: ParsedPurl): OsRelease | undefined {
  if (p.type !== 'apk' && p.type !== 'deb' && p.type !== 'rpm') return undefined;
  const d = p.qualifiers.distro?.trim();
  if (d) {
    const full = /^([a-z][a-z0-9_.]*(?:-[a-z][a-z0-9_.]*)*)-(\d[\w.+~-]*)$/i.exec(d);
    if (full) return { family: familyOf(full[1]!), version: full[2]! };
    if (/^\d[\w.+~-]*$/.test(d) && p.namespace) {
      const ns = p.namespace.toLowerCase();
      return { family: familyOf(VENDOR_FAMILIES[ns] ?? ns), version: d };
    }
    if (ROLLING.has(d.toLowerCase())) return { family: d.toLowerCase(), version: '' };
    return undefined;
  }
  const ns = p.namespace?.toLowerCase();
  return ns && ROLLING.has(ns) ? { family: ns, version: '' } : undefined;
}

/** The manifest digest of a `pkg:oci/name@sha256:…` purl (an image artifact), else undefined. */
export function ociDigest(purl: string | undefined): string | undefined {
  const p = purl ? parsePurl(purl) : undefined;
  return p?.type === 'oci' && p.version && /^sha256:[0-9a-f]{64}$/.test(p.version) ? p.version : undefined;
}
