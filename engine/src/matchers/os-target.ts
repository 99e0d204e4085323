/**
 * Which distro tracker the OS packages of a scan are matched against, and what the user must be
 * told about it (unknown OS, a distribution Vigil has no tracker for, a release past its end of
 * life, a database without that distro's data). Resolved once per scan.
 *
 * Release granularity follows each tracker: Alpine major.minor (`3.10.4` → `alpine:3.10`; an
 * `_alpha` pre-release is edge), Debian major (`12.5` → `debian:12`; testing/unstable by codename,
 * sid → `debian:unstable`), Ubuntu YY.MM, RHEL major, Amazon Linux 1 / 2 / 2022 / 2023. Rolling
 * distros (Wolfi, Chainguard) have one namespace. Red Hat rebuilds: Rocky and AlmaLinux use their
 * own OSV advisories (`rocky:<major>`, `almalinux:<major>`); CentOS and Oracle Linux use Red Hat's
 * CSAF data (`rhel:<major>`), as Trivy does for CentOS — Oracle's own errata are not a Vigil feed,
 * so an Oracle Linux scan says it is matched against RHEL data.
 */
import { DEBIAN_RELEASES } from '../feeds/debian/parse-tracker.js';
import type { MatchWarning } from '../model/finding.js';
import type { OsRelease } from '../model/os.js';
import { schemeFor } from '../versions/index.js';
import type { SchemeId } from '../versions/types.js';
import { eolOf } from './eol.js';
import type { DistroTarget } from './types.js';

/** Warning codes of matching (MatchWarning.code). */
export const MATCH_WARNING_CODES = [
  /** OS packages were found but no OS release: they could not be matched */
  'VIGIL_OS_UNKNOWN',
  /** a distribution or release Vigil has no tracker data for: its OS packages were not matched */
  'VIGIL_OS_UNSUPPORTED',
  /** the release is past its end of life: the trackers no longer follow it */
  'VIGIL_OS_EOL',
  /** the database holds none of the feeds of this distribution */
  'VIGIL_OS_NO_DATA',
  /** matched against a related distribution's data (Oracle Linux against RHEL) */
  'VIGIL_OS_APPROXIMATE',
  /** inventory entries without a usable name or version (malformed SBOM input): not matched */
  'VIGIL_PACKAGE_INVALID',
  /** an installed version does not parse in its scheme: the package was not matched */
  'VIGIL_VERSION_INVALID',
  /** advisory rows whose versions do not parse were skipped */
  'VIGIL_ADVISORY_INVALID',
] as const;
export type MatchWarningCode = (typeof MATCH_WARNING_CODES)[number];

const warn = (code: MatchWarningCode, message: string): MatchWarning => ({ code, message });

interface FamilySpec {
  scheme: SchemeId;
  /** namespace family the data lives under */
  data: string;
  vendorSource: string;
  feeds: string[];
  release(os: OsRelease): string | undefined;
}

const major = (os: OsRelease) => /^(\d+)(?:\.|$)/.exec(os.version)?.[1];

function alpineRelease(os: OsRelease): string | undefined {
  if (/_alpha/.test(os.version)) return 'edge';
  return /^(\d+\.\d+)(?:\.|$)/.exec(os.version)?.[1];
}

function debianRelease(os: OsRelease): string | undefined {
  const m = major(os);
  if (m) return m;
  // testing and unstable have no VERSION_ID: `trixie/sid` in debian_version, or the codename
  const codename = /^([a-z]+)\/sid$/.exec(os.version)?.[1] ?? os.codename;
  return codename && Object.hasOwn(DEBIAN_RELEASES, codename) ? DEBIAN_RELEASES[codename] : undefined;
}

function amazonRelease(os: OsRelease): string | undefined {
  if (/^20\d\d\.\d\d/.test(os.version)) return '1'; // Amazon Linux AMI 2018.03
  return /^(1|2|2022|2023)(?:\.|$)/.exec(os.version)?.[1];
}

const rpmFamily = (data: string, vendorSource: string, feeds: string[]): Omit<FamilySpec, 'scheme'> => ({
  data,
  vendorSource,
  feeds,
  release: major,
});

/** os-release family → how its packages are matched. */
const FAMILY_SPECS: Readonly<Record<string, Omit<FamilySpec, 'scheme'>>> = {
  alpine: { data: 'alpine', vendorSource: 'alpine', feeds: ['alpine', 'osv'], release: alpineRelease },
  wolfi: { data: 'wolfi', vendorSource: 'wolfi', feeds: ['wolfi'], release: () => '' },
  chainguard: {
    data: 'chainguard',
    vendorSource: 'chainguard',
    feeds: ['chainguard'],
    release: () => '',
  },
  debian: { data: 'debian', vendorSource: 'debian', feeds: ['debian', 'osv'], release: debianRelease },
  ubuntu: {
    data: 'ubuntu',
    vendorSource: 'ubuntu',
    feeds: ['ubuntu'],
    release: (os) => /^(\d\d\.\d\d)(?:\.|$)/.exec(os.version)?.[1],
  },
  rhel: rpmFamily('rhel', 'redhat', ['redhat']),
  centos: rpmFamily('rhel', 'redhat', ['redhat']),
  ol: rpmFamily('rhel', 'redhat', ['redhat']),
  rocky: rpmFamily('rocky', 'rocky', ['rocky']),
  almalinux: rpmFamily('almalinux', 'almalinux', ['almalinux']),
  amzn: { data: 'amzn', vendorSource: 'amzn', feeds: ['amzn'], release: amazonRelease },
};

/** The specs with each family's scheme from the one ecosystem → scheme table (versions/index.ts). */
const FAMILIES: Readonly<Record<string, FamilySpec>> = Object.fromEntries(
  Object.entries(FAMILY_SPECS).map(([family, spec]) => {
    const scheme = schemeFor(family);
    if (!scheme) throw new Error(`no version scheme for ${family}`); // a programming error, at load
    return [family, { ...spec, scheme }];
  }),
);

/** The OS families Vigil matches. */
export const SUPPORTED_OS_FAMILIES: readonly string[] = Object.keys(FAMILIES);

export interface OsTargetResult {
  distro?: DistroTarget;
  warnings: MatchWarning[];
}

/**
 * Resolves the distro target of a scan.
 * @param os the detected OS release (undefined: none found)
 * @param osPackages number of OS (apk/deb/rpm) packages in the inventory: without any, an unknown
 *   or unsupported OS is not worth a warning
 * @param sourceNames the feeds the database holds (meta().sources names)
 * @param now the clock for end-of-life checks
 */
export function resolveOsTarget(
  os: OsRelease | undefined,
  osPackages: number,
  sourceNames: readonly string[],
  now: Date,
): OsTargetResult {
  const warnings: MatchWarning[] = [];
  if (!os) {
    if (osPackages > 0)
      warnings.push(
        warn(
          'VIGIL_OS_UNKNOWN',
          `${osPackages} OS packages found but no OS release (/etc/os-release): they were not matched`,
        ),
      );
    return { warnings };
  }
  const label = `${os.family} ${os.version || os.codename || '(no version)'}`;
  const spec = Object.hasOwn(FAMILIES, os.family) ? FAMILIES[os.family] : undefined;
  if (!spec) {
    if (osPackages > 0)
      warnings.push(
        warn(
          'VIGIL_OS_UNSUPPORTED',
          `${label}: Vigil has no vulnerability tracker for this distribution (supported: ${SUPPORTED_OS_FAMILIES.join(', ')}); its ${osPackages} OS packages were not matched`,
        ),
      );
    return { warnings };
  }
  const release = spec.release(os);
  if (release === undefined) {
    warnings.push(
      warn(
        'VIGIL_OS_UNSUPPORTED',
        `${label}: release not recognised for ${os.family}; its OS packages were not matched`,
      ),
    );
    return { warnings };
  }
  const namespace = release === '' ? spec.data : `${spec.data}:${release}`;
  const distro: DistroTarget = {
    family: os.family,
    release,
    namespaces: [namespace],
    scheme: spec.scheme,
    vendorSource: spec.vendorSource,
    feeds: spec.feeds,
  };
  if (os.family === 'ol')
    warnings.push(
      warn(
        'VIGIL_OS_APPROXIMATE',
        `${label}: matched against Red Hat's data for RHEL ${release} (Oracle's own errata are not a Vigil feed); Oracle-specific fixes may be missed`,
      ),
    );
  const eol = eolOf(os.family, release);
  if (eol && now.toISOString().slice(0, 10) > eol.eol) {
    const extended = eol.extended && now.toISOString().slice(0, 10) <= eol.extended;
    warnings.push(
      warn(
        'VIGIL_OS_EOL',
        extended
          ? `${label} reached the end of standard support on ${eol.eol}; fixes until ${eol.extended} need extended support (Ubuntu Pro ESM)`
          : `${label} reached end of life on ${eol.eol}: it gets no more security fixes and its tracker may no longer list new vulnerabilities; upgrade the base image`,
      ),
    );
  }
  if (osPackages > 0 && !spec.feeds.some((f) => sourceNames.includes(f)))
    warnings.push(
      warn(
        'VIGIL_OS_NO_DATA',
        `${label}: the vulnerability database has none of the feeds for ${os.family} (${spec.feeds.join(', ')}); its OS packages could not be matched — rebuild the database with them`,
      ),
    );
  return { distro, warnings };
}

/** The warning for a release whose namespaces returned no advisory row for any of its packages. */
export function noReleaseDataWarning(os: OsRelease, distro: DistroTarget, osPackages: number): MatchWarning {
  return warn(
    'VIGIL_OS_UNSUPPORTED',
    `${os.family} ${os.version || distro.release}: the vulnerability database has no advisories for any of its ${osPackages} OS packages in ${distro.namespaces.join(', ')}; the release may be too new or unknown to its tracker`,
  );
}
