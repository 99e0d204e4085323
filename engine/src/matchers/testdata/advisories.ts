/**
 * Small hand-written advisory sets for the matcher tests: builders for records and packages, and
 * a reader loaded from them (the real in-memory reader, not a mock).
 */
import { MemoryAdvisoryReader } from '../../advisories/memory-reader.js';
import type { FeedRecord } from '../../feeds/types.js';
import type { OsRelease } from '../../model/os.js';
import type { Package } from '../../model/package.js';
import type { ScanResult } from '../../model/scan.js';
import type {
  AffectedPackage,
  AffectedRange,
  CvssEntry,
  FixState,
  VendorSeverity,
  Vulnerability,
} from '../../model/vulnerability.js';

export const NOW = new Date('2026-11-27T00:00:00Z');

/** `[introduced, fixed]` pairs → one ECOSYSTEM range (`fixed` omitted: open-ended). */
export function range(...pairs: [string, string?][]): AffectedRange {
  return {
    type: 'ECOSYSTEM',
    events: pairs.flatMap(([introduced, fixed]) => (fixed ? [{ introduced }, { fixed }] : [{ introduced }])),
  };
}

/** An affected row; `fixed` makes a `[0, fixed)` range with fixState fixed. */
export function row(
  namespace: string,
  packageName: string,
  spec: {
    fixed?: string;
    ranges?: AffectedRange[];
    versions?: string[];
    state?: FixState;
    severity?: VendorSeverity;
    extra?: AffectedPackage['extra'];
  } = {},
): Omit<AffectedPackage, 'vulnId'> {
  const ranges = spec.ranges ?? (spec.fixed ? [range(['0', spec.fixed])] : []);
  const out: Omit<AffectedPackage, 'vulnId'> = {
    namespace,
    packageName,
    fixState: spec.state ?? (spec.fixed || ranges.some((r) => r.events.some((e) => 'fixed' in e)) ? 'fixed' : 'unfixed'),
    ranges,
  };
  if (spec.fixed) out.fixedVersion = spec.fixed;
  if (spec.versions) out.versions = spec.versions;
  if (spec.severity) out.severity = spec.severity;
  if (spec.extra) out.extra = spec.extra;
  return out;
}

/** A vulnerability record with its rows. */
export function vuln(
  id: string,
  rows: Omit<AffectedPackage, 'vulnId'>[],
  extra: Partial<Omit<Vulnerability, 'id'>> = {},
): FeedRecord {
  return {
    type: 'vulnerability',
    vulnerability: { id, aliases: [], cvss: [], vendorSeverities: [], cwes: [], references: [], ...extra },
    affected: rows.map((r) => ({ ...r, vulnId: id })),
  };
}

export const nvdCvss = (vector: string): CvssEntry => ({
  version: vector.startsWith('CVSS:3.1/') ? '3.1' : vector.startsWith('CVSS:3.0/') ? '3.0' : '2.0',
  vector,
  source: 'nvd@nist.gov',
  type: 'Primary',
});

/** A reader holding each source's records (full applications, in the order given). */
export function readerOf(sources: Record<string, FeedRecord[]>): MemoryAdvisoryReader {
  const reader = new MemoryAdvisoryReader({ now: () => NOW });
  for (const [source, records] of Object.entries(sources)) reader.addRecords(source, records);
  return reader;
}

/** A package; OS packages get their source name/version when given. */
export function pkg(
  ecosystem: Package['ecosystem'],
  name: string,
  version: string,
  more: Partial<Package> = {},
): Package {
  return { name, version, ecosystem, foundBy: `test/${ecosystem}`, ...more };
}

/** An inventory of these packages on this OS. */
export function scanOf(os: OsRelease | undefined, packages: Package[]): ScanResult {
  return {
    artifact: { name: 'test', kind: 'rootfs' },
    ...(os ? { os } : {}),
    packages,
    unknowns: [],
    status: 'succeeded',
    startedAt: NOW.toISOString(),
    finishedAt: NOW.toISOString(),
  };
}

/** One line per finding: `id package installed → status fixed` (the fields the matcher tables check). */
export function lines(result: { findings: { id: string; package: Package; installedVersion: string; status: string; fixedVersion: string | null }[] }): string[] {
  return result.findings.map(
    (f) => `${f.id} ${f.package.name} ${f.installedVersion} → ${f.status} ${f.fixedVersion ?? '-'}`,
  );
}
