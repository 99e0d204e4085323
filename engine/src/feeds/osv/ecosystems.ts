/**
 * OSV ecosystem strings → Vigil namespaces (model/vulnerability.ts), and which feed owns a namespace.
 *
 * Ecosystem list and suffix rules: https://ossf.github.io/osv-schema/#affectedpackage-field and
 * https://github.com/ossf/osv-schema/blob/main/ecosystems.txt
 */

/** The feeds sharing the OSV parser; each owns the namespaces of its source. */
export type OsvFamily = 'osv' | 'ubuntu' | 'almalinux' | 'rocky';

/** OSV language ecosystem → package-url type. */
const LANGUAGE: Readonly<Record<string, string>> = {
  npm: 'npm',
  PyPI: 'pypi',
  Go: 'golang',
  Maven: 'maven',
  RubyGems: 'gem',
  'crates.io': 'cargo',
  Packagist: 'composer',
  NuGet: 'nuget',
};

/** The OSV export bucket's folder names of the language ecosystems the `osv` feed downloads. */
export const LANGUAGE_ECOSYSTEMS: readonly string[] = Object.keys(LANGUAGE);

export type Extra = Record<string, string | boolean>;

export interface MappedEcosystem {
  namespace: string;
  extra?: Extra;
}

/**
 * Maps an OSV `affected[].package.ecosystem` onto a namespace.
 * - language ecosystems: `npm`, `PyPI`→`pypi`, `Go`→`golang`, `Maven`, `RubyGems`→`gem`,
 *   `crates.io`→`cargo`, `Packagist`→`composer`, `NuGet`; a `:<repository URL>` suffix is kept as
 *   `extra.repository`;
 * - `Ubuntu:22.04:LTS`→`ubuntu:22.04`; `Ubuntu:Pro:18.04:LTS`→`ubuntu:18.04` with `extra.pro`
 *   (and `extra.esm`, the ESM pocket from the purl's `distro=esm-apps/…` qualifier); other tokens
 *   (FIPS streams) go to `extra.variant`;
 * - `AlmaLinux:9`→`almalinux:9`, `Rocky Linux:9`→`rocky:9`, `Debian:12`→`debian:12` (major release),
 *   `Alpine:v3.19`→`alpine:3.19`.
 * @returns undefined for every other ecosystem (Wolfi, Chainguard, Bitnami, Julia, SwiftURL, …) and
 *   for a distro ecosystem without a release; the caller counts these as skipped.
 */
export function mapOsvEcosystem(ecosystem: string, purl?: string): MappedEcosystem | undefined {
  const [base = '', ...rest] = ecosystem.split(':');
  const language = LANGUAGE[base];
  if (language !== undefined) {
    const repository = rest.join(':');
    return repository ? { namespace: language, extra: { repository } } : { namespace: language };
  }
  switch (base) {
    case 'Ubuntu':
      return ubuntu(rest, purl);
    case 'AlmaLinux':
      return major('almalinux', rest[0]);
    case 'Rocky Linux':
      return major('rocky', rest[0]);
    case 'Debian':
      return major('debian', rest[0]);
    case 'Alpine': {
      const m = /^v?(\d+\.\d+)$/.exec(rest[0] ?? '');
      return m ? { namespace: `alpine:${m[1]}` } : undefined;
    }
    default:
      return undefined;
  }
}

function major(family: string, release: string | undefined): MappedEcosystem | undefined {
  const m = /^(\d+)(?:\.\d+)*$/.exec(release ?? '');
  return m ? { namespace: `${family}:${m[1]}` } : undefined;
}

function ubuntu(tokens: string[], purl: string | undefined): MappedEcosystem | undefined {
  const release = tokens.find((t) => /^\d\d\.\d\d$/.test(t));
  if (!release) return undefined;
  const extra: Extra = {};
  if (tokens.includes('Pro')) extra.pro = true;
  const variant = tokens.filter((t) => t !== release && t !== 'LTS' && t !== 'Pro').join(':');
  if (variant) extra.variant = variant;
  // ESM pocket (esm-apps / esm-infra / esm-infra-legacy): the purl says which subscription ships the fix
  const esm = /[?&]distro=(esm-[a-z-]+)\//.exec(purl ?? '');
  if (esm) extra.esm = esm[1]!;
  return Object.keys(extra).length
    ? { namespace: `ubuntu:${release}`, extra }
    : { namespace: `ubuntu:${release}` };
}

/** The feed that owns a namespace: `ubuntu:*`, `almalinux:*`, `rocky:*` their distro feeds, the rest `osv`. */
export function familyOfNamespace(namespace: string): OsvFamily {
  const family = namespace.split(':', 1)[0];
  return family === 'ubuntu' || family === 'almalinux' || family === 'rocky' ? family : 'osv';
}

/** The feed an OSV ecosystem string belongs to (by its base name), for routing files offline. */
export function familyOfEcosystem(ecosystem: string): OsvFamily {
  const base = ecosystem.split(':', 1)[0];
  if (base === 'Ubuntu') return 'ubuntu';
  if (base === 'AlmaLinux') return 'almalinux';
  if (base === 'Rocky Linux') return 'rocky';
  return 'osv';
}

/** The feed an advisory id belongs to by its prefix, when no ecosystem string is at hand. */
export function familyOfId(id: string): OsvFamily {
  if (/^(UBUNTU|USN|LSN)-/.test(id)) return 'ubuntu';
  if (/^(ALSA|ALBA|ALEA)-/.test(id)) return 'almalinux';
  if (/^(RLSA|RLBA|RLEA|RXSA)-/.test(id)) return 'rocky';
  return 'osv';
}

/** PEP 503 normalised name (https://peps.python.org/pep-0503/#normalized-names). */
export function normalizePypiName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** Package name as stored: PyPI names normalised, the others as the source wrote them. */
export function packageName(namespace: string, name: string): string {
  return namespace === 'pypi' ? normalizePypiName(name) : name;
}
