/**
 * Package URLs: the single place Vigil makes them. Spec:
 * https://github.com/package-url/purl-spec (PURL-SPECIFICATION.rst, PURL-TYPES.rst).
 *
 * Conventions beyond the spec, chosen to match what syft and trivy emit so SBOM consumers
 * (grype, Dependency-Track) recognise them:
 * - OS packages carry `distro=<os family>-<os version>` (e.g. `debian-12.5`, `alpine-3.19.1`,
 *   `rhel-9.3`) and `arch` when known.
 * - `upstream=<source name>[@<source version>]` when an OS package was built from a source
 *   package of another name (dpkg `Source:`, apk origin, rpm SOURCERPM) or another version.
 * - rpm: the epoch becomes the `epoch` qualifier and leaves the version (PURL-TYPES rpm); an
 *   explicit epoch 0 is dropped since rpm treats a missing epoch as 0. deb versions keep their
 *   epoch (`1:2.3-4`): PURL-TYPES defines no deb epoch qualifier and syft keeps it in place.
 */
import type { OsRelease } from '../model/os.js';
import type { Package } from '../model/package.js';
import type { ScannedArtifact } from '../model/scan.js';
import { parseReference, type ImageReference } from '../image/registry/reference.js';

export type Qualifiers = Record<string, string>;

export interface PurlParts {
  type: string;
  namespace?: string;
  name: string;
  version?: string;
  qualifiers?: Qualifiers;
}

/** OS families (os-release ID as normalised in OsRelease) → rpm purl namespace (the vendor). */
const RPM_VENDORS: Readonly<Record<string, string>> = {
  rhel: 'redhat',
  redhat: 'redhat',
  centos: 'centos',
  rocky: 'rocky',
  almalinux: 'almalinux',
  fedora: 'fedora',
  amzn: 'amazon',
  amazon: 'amazon',
  ol: 'oracle',
  oracle: 'oracle',
  opensuse: 'opensuse',
  'opensuse-leap': 'opensuse',
  'opensuse-tumbleweed': 'opensuse',
  sles: 'sles',
  sles_sap: 'sles',
  mariner: 'mariner',
  azurelinux: 'azurelinux',
  photon: 'photon',
};

const APK_VENDORS: ReadonlySet<string> = new Set(['alpine', 'wolfi', 'chainguard']);

function distroQualifier(os: OsRelease | undefined): Qualifiers {
  const family = os?.family.trim().toLowerCase();
  if (!family) return {};
  const version = os?.version.trim();
  return { distro: version ? `${family}-${version}` : family };
}

/** `upstream` value when the source package differs from the binary package (see module doc). */
function upstream(pkg: Package): string | undefined {
  const src = pkg.srcName?.trim();
  if (!src) return undefined;
  const srcVersion = pkg.srcVersion?.trim();
  const otherVersion = srcVersion && srcVersion !== pkg.version ? srcVersion : undefined;
  if (src === pkg.name && !otherVersion) return undefined;
  return otherVersion ? `${src}@${otherVersion}` : src;
}

function osQualifiers(pkg: Package, os: OsRelease | undefined): Qualifiers {
  const q: Qualifiers = { ...distroQualifier(os) };
  if (pkg.arch) q.arch = pkg.arch;
  const up = upstream(pkg);
  if (up) q.upstream = up;
  return q;
}

/** Splits at the last `/` (Go module paths, `@scope/name`, `vendor/name`); no `/` → name only. */
function splitLast(path: string, sep: string): { namespace?: string; name: string } {
  const i = path.lastIndexOf(sep);
  if (i <= 0 || i === path.length - 1) return { name: path };
  return { namespace: path.slice(0, i), name: path.slice(i + 1) };
}

/** The purl components of `pkg` (see the module doc for the conventions). */
export function purlParts(pkg: Package, os: OsRelease | undefined): PurlParts {
  const { name, version } = pkg;
  switch (pkg.ecosystem) {
    case 'deb':
      return {
        type: 'deb',
        namespace: os?.family.toLowerCase() === 'ubuntu' ? 'ubuntu' : 'debian',
        name,
        version,
        qualifiers: osQualifiers(pkg, os),
      };
    case 'apk': {
      const family = os?.family.toLowerCase() ?? '';
      return {
        type: 'apk',
        namespace: APK_VENDORS.has(family) ? family : 'alpine',
        name,
        version,
        qualifiers: osQualifiers(pkg, os),
      };
    }
    case 'rpm': {
      const family = os?.family.toLowerCase() ?? '';
      const qualifiers = osQualifiers(pkg, os);
      const m = /^(\d+):(.+)$/.exec(version);
      if (m && Number(m[1]) !== 0) qualifiers.epoch = String(Number(m[1]));
      const vendor = RPM_VENDORS[family] ?? (/^[a-z0-9][a-z0-9._-]*$/.test(family) ? family : undefined);
      return { type: 'rpm', namespace: vendor, name, version: m ? m[2]! : version, qualifiers };
    }
    case 'npm':
      return name.startsWith('@')
        ? { type: 'npm', ...splitLast(name, '/'), version }
        : { type: 'npm', name, version };
    case 'golang':
      return { type: 'golang', ...splitLast(name, '/'), version };
    case 'maven': {
      const [group, artifact] = name.split(':');
      return group && artifact
        ? { type: 'maven', namespace: group, name: artifact, version }
        : { type: 'maven', name, version };
    }
    case 'composer': {
      const i = name.indexOf('/');
      return i > 0
        ? { type: 'composer', namespace: name.slice(0, i), name: name.slice(i + 1), version }
        : { type: 'composer', name, version };
    }
    case 'pypi':
    case 'gem':
    case 'cargo':
    case 'nuget':
      return { type: pkg.ecosystem, name, version };
  }
}

/** PURL-TYPES normalisation of the types Vigil emits: which components are case-insensitive. */
const LOWER_NAMESPACE: ReadonlySet<string> = new Set(['deb', 'apk', 'npm', 'composer', 'pypi', 'rpm']);
const LOWER_NAME: ReadonlySet<string> = new Set(['deb', 'apk', 'npm', 'composer', 'pypi', 'oci']);

// semver.org's suggested pattern: a golang version starting with `v` must be `v` + semver
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Namespace path: no leading, trailing or repeated `/` (the spec's canonical form). */
function normalizePath(path: string): string {
  if (!path.startsWith('/') && !path.endsWith('/') && !path.includes('//')) return path;
  return path
    .split('/')
    .filter((s) => s.length > 0)
    .join('/');
}

/** Whether the spec's type rules forbid these (normalised) parts: maven needs a group (namespace),
 * a golang version starting with `v` must be semver, oci has no namespace. */
function breaksTypeRule(type: string, namespace: string | undefined, version: string | undefined): boolean {
  if (type === 'maven') return !namespace;
  if (type === 'golang') return !!version && version.startsWith('v') && !SEMVER.test(version.slice(1));
  if (type === 'oci') return !!namespace;
  return false;
}

/** Characters no component encoding escapes: text of only these is its own encoding. */
const PLAIN = /^[A-Za-z0-9._*-]*$/;

/** encodeURIComponent with `%XX` escapes of `kept` (`%3A`, `%2F`, `%2B`) put back as the character. */
function encodeKeeping(s: string, kept: RegExp): string {
  if (PLAIN.test(s)) return s;
  const out = encodeURIComponent(s);
  return out.includes('%') ? out.replace(kept, (m) => String.fromCharCode(parseInt(m.slice(1), 16))) : out;
}
const encodeNamespace = (s: string) => encodeKeeping(s, /%3A|%2F/g);
const encodeVersion = (s: string) => encodeKeeping(s, /%3A|%2B/g);
/** application/x-www-form-urlencoded (WHATWG URL), a space as `%20`: encodeURIComponent of the
 * well-formed text plus `!'()~`, which the form encoding escapes too. */
const encodeQualifierPart = (s: string) =>
  PLAIN.test(s)
    ? s
    : encodeURIComponent(wellFormed(s)).replace(
        /[!'()~]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      );

/** Qualifiers in canonical form: keys lower-case, values trimmed, empty values dropped, sorted by key. */
function encodeQualifiers(qualifiers: Qualifiers | undefined): string {
  if (!qualifiers) return '';
  const norm = new Map<string, string>();
  for (const [key, value] of Object.entries(qualifiers)) {
    const trimmed = value.trim();
    if (trimmed) norm.set(key.toLowerCase(), trimmed);
  }
  return [...norm.keys()]
    .sort()
    .map((k) => `${encodeQualifierPart(k)}=${encodeQualifierPart(norm.get(k)!)}`)
    .join('&');
}

/**
 * The purl string of `p`, per the spec (what packageurl-js 2.0.1 makes of the same parts, without
 * its per-call objects; engine/src/purl/index.test.ts checks the two agree). Parts that break a
 * type rule (a maven purl without a group, a `v` golang version that is not semver) still give a
 * best-effort purl, unnormalised, as a purl is more use to matching than none. `''` for an empty name.
 */
export function formatPurl(p: PurlParts): string {
  if (!p.name.trim()) return '';
  let namespace = p.namespace ? normalizePath(p.namespace) : p.namespace;
  let name = p.name.trim();
  let version = p.version ? p.version.trim() : undefined;
  if (breaksTypeRule(p.type, namespace, version)) ({ namespace, name, version } = p);
  if (namespace && LOWER_NAMESPACE.has(p.type)) namespace = namespace.toLowerCase();
  if (LOWER_NAME.has(p.type)) name = name.toLowerCase();
  if (p.type === 'pypi') name = name.replaceAll('_', '-');
  let out = `pkg:${p.type}/`;
  if (namespace) out += `${encodeNamespace(namespace)}/`;
  out += PLAIN.test(name) ? name : encodeURIComponent(name);
  if (version) out += `@${encodeVersion(version)}`;
  const qualifiers = encodeQualifiers(p.qualifiers);
  if (qualifiers) out += `?${qualifiers}`;
  return out;
}

/**
 * The canonical package-url of `pkg`. `os` (the image's OS release) supplies the namespace of
 * OS packages (deb: debian|ubuntu; apk: alpine|wolfi|chainguard; rpm: the vendor) and the
 * `distro` qualifier. Never throws: returns `''` when no purl can be made (an empty name),
 * and a best-effort unvalidated purl when the input breaks a type rule of the spec.
 */
export function toPurl(pkg: Package, os?: OsRelease): string {
  // percent-encoding throws URIError on a lone UTF-16 surrogate (a `\ud800` escape in a lock file)
  const clean: Package =
    isWellFormed(pkg.name) && isWellFormed(pkg.version) && isWellFormed(pkg.srcName) && isWellFormed(pkg.arch)
      ? pkg
      : {
          ...pkg,
          name: wellFormed(pkg.name),
          version: wellFormed(pkg.version),
          ...(pkg.srcName !== undefined ? { srcName: wellFormed(pkg.srcName) } : {}),
          ...(pkg.arch !== undefined ? { arch: wellFormed(pkg.arch) } : {}),
        };
  return formatPurl(purlParts(clean, os));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const LONE_SURROGATE_ONE = new RegExp(LONE_SURROGATE.source); // not global: `test` keeps no state
const SURROGATE = /[\uD800-\uDFFF]/;

/** Replaces lone surrogates with U+FFFD (String.prototype.toWellFormed, ES2024). */
function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/** No lone surrogate in `text` (String.prototype.isWellFormed, ES2024); true when undefined. */
function isWellFormed(text: string | undefined): boolean {
  return text === undefined || !SURROGATE.test(text) || !LONE_SURROGATE_ONE.test(text);
}

/**
 * `pkg:oci` purl of a registry image (PURL-TYPES oci): name = last repository path segment,
 * version = manifest digest, `repository_url` = domain/repository (Docker Hub names expanded,
 * `docker.io/library/alpine`) and `tag`. Undefined for non-registry artifacts, artifacts
 * without a manifest digest, and names that do not parse as image references.
 */
export function imagePurl(artifact: ScannedArtifact): string | undefined {
  if (artifact.kind !== 'registry' || !artifact.digest) return undefined;
  let ref: ImageReference;
  try {
    ref = parseReference(artifact.name);
  } catch {
    return undefined;
  }
  const name = ref.repository.slice(ref.repository.lastIndexOf('/') + 1);
  const qualifiers: Qualifiers = { repository_url: `${ref.domain}/${ref.repository}` };
  if (ref.tag) qualifiers.tag = ref.tag;
  return formatPurl({ type: 'oci', name, version: artifact.digest, qualifiers });
}
