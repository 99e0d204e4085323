/**
 * Hand-made findings for the policy tests. Package data follows the realdata alpine 3.10 image
 * (openssl 1.1.1c-r0 → libcrypto1.1/libssl1.1, musl 1.1.22-r3) and a small npm project.
 */
import type { Finding } from '../../model/finding.js';
import type { Package } from '../../model/package.js';
import { toPurl } from '../../purl/index.js';

const ALPINE = { family: 'alpine', version: '3.10.4' };

export function apk(name: string, version: string, srcName: string): Package {
  const pkg: Package = { name, version, ecosystem: 'apk', srcName, arch: 'x86_64', foundBy: 'os/apk', path: 'lib/apk/db/installed' };
  pkg.purl = toPurl(pkg, ALPINE);
  return pkg;
}

export function npm(name: string, version: string, path: string): Package {
  const pkg: Package = { name, version, ecosystem: 'npm', foundBy: 'lang/npm', path };
  pkg.purl = toPurl(pkg);
  return pkg;
}

/** A finding with neutral defaults; `extra` overrides any field. */
export function finding(id: string, pkg: Package, extra: Partial<Finding> = {}): Finding {
  return {
    id,
    aliases: [],
    package: pkg,
    installedVersion: pkg.version,
    fixedVersion: null,
    status: 'unfixed',
    severity: 'UNKNOWN',
    severitySource: 'none',
    cvss: null,
    kev: false,
    epss: null,
    epssPercentile: null,
    references: [],
    cwes: [],
    dataSources: [],
    ...extra,
  };
}

/** The short label tests compare on: `id package@version`. */
export const label = (f: Finding) => `${f.id} ${f.package.name}@${f.package.version}`;
