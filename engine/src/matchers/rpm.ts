/**
 * `os/rpm`: Red Hat family and Amazon Linux packages (namespaces `rhel:<major>`, `rocky:<major>`,
 * `almalinux:<major>`, `amzn:<release>`), with rpm's ordering (epoch:version-release).
 *
 * What the feeds key on: Red Hat CSAF rows name the SOURCE rpm (the `arch=src` product), or a
 * binary rpm marked `extra.binary` when a document names no source rpm; Amazon's updateinfo rows
 * name binary rpms (`extra.binary`); the AlmaLinux / Rocky OSV advisories name binary rpms too
 * (unmarked). So both names are queried — the source rpm (SOURCERPM) and the binary — and a row
 * applies by what it names: a row marked binary, or any row of a namespace whose feed names
 * binaries, applies when it names the installed binary (its own version compared); other rows
 * apply when they name the package's source rpm (the source version compared). A name that is
 * both (`openssl` from `openssl`) matches either way with the same version.
 *
 * Module streams (RHEL 8+ AppStream): a row of a module (`extra.module` = `nodejs:18`) applies only
 * to packages of that module (modularitylabel `nodejs:18:<version>:<context>`); Red Hat's rows
 * without a module apply only to non-modular packages — the same package name ships in several
 * streams with unrelated versions (Trivy keys modular packages the same way). The AlmaLinux and
 * Rocky advisories carry no module field; their modular builds show in the release
 * (`3.3.1-2.module+el9.4.0+…`), so a row applies only when its fixed version and the installed
 * package are both modular or both not.
 */
import type { Package } from '../model/package.js';
import type { AffectedPackage } from '../model/vulnerability.js';
import { decideRow } from './decide.js';
import { CLEAR, type LookupKey, type Matcher } from './types.js';

/** Namespaces whose feeds name binary rpms on every row. */
const BINARY_NAMESPACES = /^(?:almalinux|rocky|amzn):/;

function moduleOf(pkg: Package): string | undefined {
  const label = pkg.metadata?.modularityLabel;
  if (typeof label !== 'string') return undefined;
  const [name, stream] = label.split(':');
  return name && stream ? `${name}:${stream}` : undefined;
}

const MODULAR_RELEASE = /\.module[+_]/;

function namesBinary(row: AffectedPackage): boolean {
  return row.extra?.binary === true || BINARY_NAMESPACES.test(row.namespace);
}

export const rpmMatcher: Matcher = {
  name: 'os/rpm',
  version: 1,
  filter: (pkg, env) => pkg.ecosystem === 'rpm' && env.distro?.scheme === 'rpm',
  query: (pkg, env) => {
    const names = [...new Set([pkg.srcName || pkg.name, pkg.name])];
    return (env.distro?.namespaces ?? []).flatMap((namespace): LookupKey[] =>
      names.map((packageName) => ({ namespace, packageName })),
    );
  },
  vulnerable: (pkg, row, env) => {
    const rowModule = typeof row.extra?.module === 'string' ? row.extra.module : undefined;
    const pkgModule = moduleOf(pkg);
    if (
      rowModule !== undefined
        ? rowModule !== pkgModule
        : pkgModule !== undefined && row.namespace.startsWith('rhel:')
    )
      return CLEAR;
    if (
      rowModule === undefined &&
      !row.namespace.startsWith('rhel:') &&
      typeof row.fixedVersion === 'string' &&
      MODULAR_RELEASE.test(row.fixedVersion) !==
        (pkgModule !== undefined || MODULAR_RELEASE.test(pkg.version))
    )
      return CLEAR;
    if (namesBinary(row)) {
      return row.packageName === pkg.name
        ? decideRow(pkg.version, row, env.distro?.scheme ?? 'rpm', env.versions)
        : CLEAR;
    }
    return row.packageName === (pkg.srcName || pkg.name)
      ? decideRow(pkg.srcVersion || pkg.version, row, env.distro?.scheme ?? 'rpm', env.versions)
      : CLEAR;
  },
  // binary rows compare the binary's version, the others the source's
  installed: (pkg, env) => ({
    scheme: env.distro?.scheme ?? 'rpm',
    versions: [pkg.srcVersion || pkg.version, pkg.version],
  }),
};
