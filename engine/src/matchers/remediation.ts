/**
 * The fix plan: per installed package, the lowest version that fixes every fixable finding of it
 * ("upgrade openssl 1.1.1c-r0 → 1.1.1d-r0 fixes 4 (2 critical, 1 high)"). That is the highest of
 * the findings' fixed versions under the package's scheme. Findings without a fixed version
 * (unfixed, will-not-fix, deferred) are not counted. Plans are sorted by impact: most critical
 * fixes first, then high, medium, low, unknown, then the number of fixes, then name and version.
 */
import type { Finding, Remediation } from '../model/finding.js';
import { OS_ECOSYSTEMS, type Package } from '../model/package.js';
import { SEVERITIES, type Severity } from '../model/severity.js';
import type { SchemeId } from '../versions/types.js';
import { ParsedVersions } from './decide.js';
import { highestVersion } from './enrich.js';

const zero = (): Record<Severity, number> => ({ CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const RANK: ReadonlyMap<string, number> = new Map(SEVERITIES.map((s, i) => [s, i]));

/** More critical fixes first, then more high ones, and so on down the scale. */
function bySeverity(a: Remediation, b: Remediation): number {
  for (const s of SEVERITIES) {
    const d = b.bySeverity[s] - a.bySeverity[s];
    if (d) return d;
  }
  return 0;
}

/**
 * Builds the remediations.
 * @param findings every finding of the scan
 * @param schemeOf the version scheme a package was compared with
 * @param versions the scan's parsed-version cache
 */
export function buildRemediations(
  findings: readonly Finding[],
  schemeOf: (pkg: Package) => SchemeId | undefined,
  versions: ParsedVersions = new ParsedVersions(),
): Remediation[] {
  const byPackage = new Map<Package, Finding[]>();
  for (const f of findings) {
    if (f.fixedVersion === null || f.status !== 'fixed') continue;
    const list = byPackage.get(f.package);
    if (list) list.push(f);
    else byPackage.set(f.package, [f]);
  }
  const out: Remediation[] = [];
  for (const [pkg, fixable] of byPackage) {
    const scheme = schemeOf(pkg);
    if (!scheme) continue;
    const fixedVersion = highestVersion(
      fixable.map((f) => f.fixedVersion!),
      scheme,
      versions,
    );
    if (fixedVersion === undefined) continue;
    const bySeverity = zero();
    for (const f of fixable) bySeverity[f.severity]++;
    const plan: Remediation = {
      packageName: pkg.name,
      ecosystem: pkg.ecosystem,
      installedVersion: pkg.version,
      fixedVersion,
      fixes: fixable.length,
      bySeverity,
      ids: fixable
        .slice()
        .sort((a, b) => RANK.get(a.severity)! - RANK.get(b.severity)! || cmp(a.id, b.id))
        .map((f) => f.id),
    };
    if (!OS_ECOSYSTEMS.has(pkg.ecosystem) && pkg.path) plan.path = pkg.path;
    out.push(plan);
  }
  return out.sort(
    (a, b) =>
      bySeverity(a, b) ||
      b.fixes - a.fixes ||
      cmp(a.packageName, b.packageName) ||
      cmp(a.installedVersion, b.installedVersion) ||
      cmp(a.path ?? '', b.path ?? ''),
  );
}
