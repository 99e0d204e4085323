/**
 * `os/apk`: Alpine, Wolfi and Chainguard packages against their secdb (namespaces `alpine:<x.y>`,
 * `wolfi`, `chainguard`). The secdb is keyed by origin — the source package, the installed db's
 * `o:` field — and states fixed versions of the origin, so the origin's version is compared
 * (apk origins are built at the package's version), with apk-tools' ordering.
 * Format: https://wiki.alpinelinux.org/wiki/APKBUILD_Reference#secfixes
 */
import { decideRow } from './decide.js';
import type { Matcher } from './types.js';

export const apkMatcher: Matcher = {
  name: 'os/apk',
  version: 1,
  filter: (pkg, env) => pkg.ecosystem === 'apk' && env.distro?.scheme === 'apk',
  query: (pkg, env) =>
    (env.distro?.namespaces ?? []).map((namespace) => ({ namespace, packageName: pkg.srcName || pkg.name })),
  vulnerable: (pkg, affected, env) =>
    decideRow(pkg.srcVersion || pkg.version, affected, env.distro?.scheme ?? 'apk', env.versions),
  installed: (pkg, env) => ({
    scheme: env.distro?.scheme ?? 'apk',
    versions: [pkg.srcVersion || pkg.version],
  }),
};
