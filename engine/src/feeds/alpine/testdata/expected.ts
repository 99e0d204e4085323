/** Test helper: the records a secdb document must give, from a hand transcription of it. */
import type { AffectedPackage } from '../../../model/vulnerability.js';
import type { FeedRecord } from '../../types.js';

/** package → fixed version → CVEs, transcribed by hand from the secdb file under test */
export type Secfixes = Record<string, Record<string, string[]>>;

/**
 * The records a secdb document must give: one per CVE in first-seen order, one row per
 * (package, version) that lists it; version "0" = not affected.
 */
export function expectedRecords(fixes: Secfixes, namespace: string, repository: string): FeedRecord[] {
  const byId = new Map<string, AffectedPackage[]>();
  for (const [pkg, versions] of Object.entries(fixes))
    for (const [version, ids] of Object.entries(versions))
      for (const id of ids) {
        const row: AffectedPackage =
          version === '0'
            ? { vulnId: id, namespace, packageName: pkg, fixState: 'not-affected', ranges: [] }
            : {
                vulnId: id,
                namespace,
                packageName: pkg,
                fixState: 'fixed',
                ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: version }] }],
                fixedVersion: version,
              };
        row.extra = { repository };
        byId.set(id, [...(byId.get(id) ?? []), row]);
      }
  return [...byId].map(([id, affected]) => ({
    type: 'vulnerability',
    vulnerability: { id, aliases: [], cvss: [], vendorSeverities: [], cwes: [], references: [] },
    affected,
  }));
}

