/**
 * Test support (not built): genuine Vigil JSON reports (schemaVersion 1) made by the engine's own
 * `toJsonReport` from a small matched scan result, as `vigil image … --format json` would print them.
 */
import type { Finding, Package, Severity, VigilReport } from '@vigil/engine/core';
import { toJsonReport } from '@vigil/engine/internal';

export const pkg = (name: string, version = '1.0.0'): Package => ({
  name,
  version,
  ecosystem: 'apk',
  foundBy: 'os/apk',
  srcName: name,
});

/** A finding of `p`; fixable when `fixedVersion` is given; `aliases` for the which-images-have-CVE-X lookup. */
export function finding(id: string, severity: Severity, p: Package, fixedVersion: string | null = null, aliases: string[] = []): Finding {
  return {
    id,
    aliases,
    package: p,
    installedVersion: p.version,
    fixedVersion,
    status: fixedVersion ? 'fixed' : 'unfixed',
    severity,
    severitySource: severity === 'UNKNOWN' ? 'none' : 'cvss:nvd@nist.gov',
    cvss: severity === 'UNKNOWN' ? null : { version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 9.8, source: 'nvd@nist.gov' },
    kev: false,
    epss: 0.5,
    epssPercentile: 0.9,
    title: `${id} in ${p.name}`,
    references: [`https://nvd.nist.gov/vuln/detail/${id}`],
    cwes: ['CWE-787'],
    dataSources: [{ source: 'alpine', namespace: 'alpine:3.19', advisoryId: id }],
  };
}

/** The JSON report of a registry image `name` with `digest`, its packages and findings. */
export function report(name: string, digest: string, packages: Package[], findings: Finding[]): VigilReport {
  return toJsonReport({
    artifact: { name, kind: 'registry', digest },
    os: { family: 'alpine', version: '3.19.1' },
    packages,
    unknowns: [],
    status: 'succeeded',
    startedAt: '2026-11-27T10:00:00.000Z',
    finishedAt: '2026-11-27T10:00:05.000Z',
    db: { version: 'db-upload-1', builtAt: '2026-11-26T00:00:00.000Z' },
    findings,
    remediations: [],
    warnings: [],
  });
}
