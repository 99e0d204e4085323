import { describe, expect, it } from 'vitest';
import type { CvssEntry, VendorSeverity, Vulnerability } from '../model/vulnerability.js';
import {
  pickSeverity,
  type PickSeverityOptions,
  type SeverityChoice,
  type SeverityRecord,
} from './severity-policy.js';

/**
 * Vectors and the scores NVD states for them in the realdata pages (feeds/nvd); the policy must
 * recompute the same numbers from the vectors, whatever score the record claims.
 */
const V31_CRIT = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'; // 9.8
const V31_HIGH = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N'; // 7.5
const V31_MED = 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N'; // 5.3
const V30_MED = 'CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N'; // 6.5
const V40_MED =
  'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N/E:X/CR:X/IR:X/AR:X/MAV:X/MAC:X/MAT:X/MPR:X/MUI:X/MVC:X/MVI:X/MVA:X/MSC:X/MSI:X/MSA:X/S:X/AU:X/R:X/V:X/RE:X/U:X'; // 6.9
const V40_HIGH = 'CVSS:4.0/AV:A/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N'; // 8.5
const V2_HIGH = 'AV:N/AC:L/Au:N/C:C/I:C/A:C'; // 10.0, HIGH on the NVD v2 scale
const V2_MED = 'AV:N/AC:M/Au:N/C:N/I:P/A:N'; // 4.3

const cvss = (
  version: CvssEntry['version'],
  vector: string,
  source: string,
  type?: CvssEntry['type'],
): CvssEntry => ({ version, vector, source, ...(type ? { type } : {}) });

function record(
  source: string,
  entries: CvssEntry[],
  ratings: VendorSeverity[] = [],
  id = 'CVE-2024-0001',
): SeverityRecord {
  const vulnerability: Vulnerability = {
    id,
    aliases: [],
    cvss: entries,
    vendorSeverities: ratings,
    cwes: [],
    references: [],
  };
  return { source, vulnerability };
}

const nvdPrimary = (version: CvssEntry['version'], vector: string) =>
  cvss(version, vector, 'nvd@nist.gov', 'Primary');
const cna = (version: CvssEntry['version'], vector: string) =>
  cvss(version, vector, 'security-advisories@github.com', 'Secondary');
const debianHigh: VendorSeverity = { source: 'debian', rating: 'high', severity: 'HIGH' };
const debianUnimportant: VendorSeverity = { source: 'debian', rating: 'unimportant', severity: 'LOW' };
const debianUnassigned: VendorSeverity = {
  source: 'debian',
  rating: 'not yet assigned',
  severity: 'UNKNOWN',
};
const redhatImportant: VendorSeverity = { source: 'redhat', rating: 'Important', severity: 'HIGH' };
const ghsaModerate: VendorSeverity = { source: 'ghsa', rating: 'MODERATE', severity: 'MEDIUM' };

const fromCvss = (
  severity: SeverityChoice['severity'],
  version: CvssEntry['version'],
  vector: string,
  score: number,
  scorer: string,
  source: string,
): SeverityChoice => ({ severity, cvss: { version, vector, score, source: scorer }, source });

const cases: Array<
  [name: string, records: SeverityRecord[], options: PickSeverityOptions, expected: SeverityChoice]
> = [
  [
    'nvd_primary_beats_cna_and_ghsa_at_the_same_version',
    [
      record('ghsa', [cvss('3.1', V31_MED, 'ghsa')]),
      record('nvd', [cna('3.1', V31_HIGH), nvdPrimary('3.1', V31_CRIT)]),
    ],
    {},
    fromCvss('CRITICAL', '3.1', V31_CRIT, 9.8, 'nvd@nist.gov', 'nvd'),
  ],
  [
    'v3_preferred_over_v4_and_v2_in_one_nvd_record',
    [record('nvd', [nvdPrimary('4.0', V40_MED), nvdPrimary('2.0', V2_HIGH), cna('3.1', V31_HIGH)])],
    {},
    fromCvss('HIGH', '3.1', V31_HIGH, 7.5, 'security-advisories@github.com', 'nvd'),
  ],
  [
    'v3_from_ghsa_preferred_over_nvd_v2',
    [record('nvd', [nvdPrimary('2.0', V2_MED)]), record('ghsa', [cvss('3.1', V31_CRIT, 'ghsa')])],
    {},
    fromCvss('CRITICAL', '3.1', V31_CRIT, 9.8, 'ghsa', 'ghsa'),
  ],
  [
    'v4_when_no_v3_anywhere_primary_before_cna',
    [record('nvd', [cna('4.0', V40_HIGH), nvdPrimary('4.0', V40_MED), nvdPrimary('2.0', V2_HIGH)])],
    {},
    fromCvss('MEDIUM', '4.0', V40_MED, 6.9, 'nvd@nist.gov', 'nvd'),
  ],
  [
    'v2_only_uses_the_nvd_v2_scale_10_is_high',
    [record('nvd', [nvdPrimary('2.0', V2_HIGH)])],
    {},
    fromCvss('HIGH', '2.0', V2_HIGH, 10, 'nvd@nist.gov', 'nvd'),
  ],
  [
    'v3_1_before_v3_0_within_a_source',
    [record('nvd', [nvdPrimary('3.0', V30_MED), nvdPrimary('3.1', V31_HIGH)])],
    {},
    fromCvss('HIGH', '3.1', V31_HIGH, 7.5, 'nvd@nist.gov', 'nvd'),
  ],
  [
    'nvd_primary_v3_0_before_cna_v3_1',
    [record('nvd', [cna('3.1', V31_CRIT), nvdPrimary('3.0', V30_MED)])],
    {},
    fromCvss('MEDIUM', '3.0', V30_MED, 6.5, 'nvd@nist.gov', 'nvd'),
  ],
  [
    'post_april_2026_no_nvd_score_cna_vector_fills_in',
    [
      record('nvd', [cna('3.1', V31_HIGH)]),
      record('ghsa', [cvss('3.1', V31_MED, 'ghsa')], [ghsaModerate]),
      record('debian', [], [debianHigh]),
    ],
    {},
    fromCvss('HIGH', '3.1', V31_HIGH, 7.5, 'security-advisories@github.com', 'nvd'),
  ],
  [
    'post_april_2026_nvd_record_without_metrics_ghsa_vector_fills_in',
    [record('nvd', []), record('ghsa', [cvss('3.1', V31_MED, 'ghsa')], [ghsaModerate])],
    {},
    fromCvss('MEDIUM', '3.1', V31_MED, 5.3, 'ghsa', 'ghsa'),
  ],
  [
    'stated_score_ignored_score_recomputed_from_the_vector',
    [record('nvd', [{ ...nvdPrimary('3.1', V31_MED), baseScore: 10 }])],
    {},
    fromCvss('MEDIUM', '3.1', V31_MED, 5.3, 'nvd@nist.gov', 'nvd'),
  ],
  [
    'version_taken_from_the_vector_not_the_label',
    [record('osv', [cvss('3.0', V31_HIGH, 'osv')])],
    {},
    fromCvss('HIGH', '3.1', V31_HIGH, 7.5, 'osv', 'osv'),
  ],
  [
    'unparseable_vector_skipped',
    [
      record('nvd', [nvdPrimary('3.1', 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q')]),
      record('osv', [cvss('3.1', V31_MED, 'osv')]),
    ],
    {},
    fromCvss('MEDIUM', '3.1', V31_MED, 5.3, 'osv', 'osv'),
  ],
  [
    'only_a_debian_urgency',
    [record('debian', [])],
    { affectedSeverity: debianHigh },
    { severity: 'HIGH', cvss: null, source: 'debian', rating: debianHigh },
  ],
  [
    'only_a_ghsa_rating_when_no_vector_parses',
    [record('nvd', [nvdPrimary('3.1', 'CVSS:3.1/garbage')]), record('ghsa', [], [ghsaModerate])],
    {},
    { severity: 'MEDIUM', cvss: null, source: 'ghsa', rating: ghsaModerate },
  ],
  [
    'unknown_rating_skipped_for_the_next_rating',
    [record('ghsa', [], [ghsaModerate])],
    { affectedSeverity: debianUnassigned },
    { severity: 'MEDIUM', cvss: null, source: 'ghsa', rating: ghsaModerate },
  ],
  [
    'nothing_rates_it',
    [record('nvd', []), record('debian', [], [debianUnassigned])],
    {},
    { severity: 'UNKNOWN', cvss: null, source: 'none' },
  ],
  ['no_records', [], {}, { severity: 'UNKNOWN', cvss: null, source: 'none' }],
  [
    'vendor_first_vendor_vector_beats_nvd',
    [
      record('nvd', [nvdPrimary('3.1', V31_CRIT)]),
      record('redhat', [cvss('3.1', V31_MED, 'redhat')], [redhatImportant]),
    ],
    { prefer: 'vendor', vendorSource: 'redhat' },
    fromCvss('MEDIUM', '3.1', V31_MED, 5.3, 'redhat', 'redhat'),
  ],
  [
    'vendor_first_vendor_rating_beats_nvd_vector',
    [record('nvd', [nvdPrimary('3.1', V31_CRIT)]), record('redhat', [], [redhatImportant])],
    { prefer: 'vendor', vendorSource: 'redhat' },
    { severity: 'HIGH', cvss: null, source: 'redhat', rating: redhatImportant },
  ],
  [
    'vendor_first_debian_urgency_of_the_package_beats_nvd',
    [record('nvd', [nvdPrimary('3.1', V31_CRIT)]), record('debian', [])],
    { prefer: 'vendor', vendorSource: 'debian', affectedSeverity: debianUnimportant },
    { severity: 'LOW', cvss: null, source: 'debian', rating: debianUnimportant },
  ],
  [
    'vendor_first_other_vendor_ignored_for_the_vendor_step',
    [record('nvd', [nvdPrimary('3.1', V31_CRIT)]), record('redhat', [], [redhatImportant])],
    { prefer: 'vendor', vendorSource: 'debian' },
    fromCvss('CRITICAL', '3.1', V31_CRIT, 9.8, 'nvd@nist.gov', 'nvd'),
  ],
  [
    'vendor_first_without_vendor_data_falls_back_to_nvd_first',
    [
      record('ghsa', [cvss('3.1', V31_MED, 'ghsa')]),
      record('nvd', [cna('3.1', V31_HIGH)]),
      record('debian', []),
    ],
    { prefer: 'vendor', vendorSource: 'debian', affectedSeverity: debianUnassigned },
    fromCvss('HIGH', '3.1', V31_HIGH, 7.5, 'security-advisories@github.com', 'nvd'),
  ],
  [
    'vendor_first_without_vendor_source_any_distro_record_is_the_vendor',
    [record('nvd', [nvdPrimary('3.1', V31_CRIT)]), record('ubuntu', [cvss('3.1', V31_HIGH, 'ubuntu')])],
    { prefer: 'vendor' },
    fromCvss('HIGH', '3.1', V31_HIGH, 7.5, 'ubuntu', 'ubuntu'),
  ],
  [
    'nvd_first_ignores_the_distro_rating_when_a_vector_exists',
    [record('nvd', [nvdPrimary('3.1', V31_CRIT)]), record('debian', [])],
    { vendorSource: 'debian', affectedSeverity: debianUnimportant },
    fromCvss('CRITICAL', '3.1', V31_CRIT, 9.8, 'nvd@nist.gov', 'nvd'),
  ],
  [
    'nvd_first_distro_vectors_come_after_ghsa',
    [record('debian', [cvss('3.1', V31_CRIT, 'debian')]), record('osv', [cvss('3.1', V31_MED, 'osv')])],
    {},
    fromCvss('MEDIUM', '3.1', V31_MED, 5.3, 'osv', 'osv'),
  ],
  [
    'nvd_first_per_package_rating_before_record_ratings',
    [record('ghsa', [], [ghsaModerate])],
    { affectedSeverity: debianHigh },
    { severity: 'HIGH', cvss: null, source: 'debian', rating: debianHigh },
  ],
];

describe('pickSeverity', () => {
  it.each(cases)('%s', (_name, records, options, expected) => {
    expect(pickSeverity(records, options)).toEqual(expected);
  });
});
