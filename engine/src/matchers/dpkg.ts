/**
 * `os/dpkg`: Debian and Ubuntu packages against their trackers (namespaces `debian:<major>`,
 * `ubuntu:<YY.MM>`). Both trackers list vulnerabilities per SOURCE package (dpkg's `Source:`
 * field) with fixed versions of the source, so the source name is queried and the source version
 * compared (a binary's own version can differ, e.g. binNMUs `+b1`), with dpkg's ordering.
 * Formats: https://security-tracker.debian.org/tracker/data/json, https://ubuntu.com/security/cves
 * (OSV export).
 */
import { decideRow } from './decide.js';
import type { Matcher } from './types.js';

export const dpkgMatcher: Matcher = {
  name: 'os/dpkg',
  version: 1,
  filter: (pkg, env) => pkg.ecosystem === 'deb' && env.distro?.scheme === 'deb',
  query: (pkg, env) =>
    (env.distro?.namespaces ?? []).map((namespace) => ({ namespace, packageName: pkg.srcName || pkg.name })),
  vulnerable: (pkg, affected, env) =>
    decideRow(pkg.srcVersion || pkg.version, affected, env.distro?.scheme ?? 'deb', env.versions),
  installed: (pkg, env) => ({
    scheme: env.distro?.scheme ?? 'deb',
    versions: [pkg.srcVersion || pkg.version],
  }),
};
