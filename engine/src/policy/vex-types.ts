/** The normalised VEX model both document formats parse into (see openvex.ts, cyclonedx-vex.ts). */

/** OpenVEX status labels; CycloneDX analysis states map onto them (cyclonedx-vex.ts). */
export const VEX_STATUSES = ['not_affected', 'affected', 'fixed', 'under_investigation'] as const;
export type VexStatus = (typeof VEX_STATUSES)[number];

/** Statuses that take a finding out of the results. */
export const SUPPRESSING_STATUSES: ReadonlySet<VexStatus> = new Set(['not_affected', 'fixed']);

/**
 * A product a statement speaks about: its identifiers (purls, CycloneDX bom-refs, other IRIs)
 * and, when the statement narrows it, the subcomponents (each with its own identifiers) where the
 * vulnerability lives.
 */
export interface VexProduct {
  ids: string[];
  subcomponents: string[][];
}

export interface VexStatement {
  /** the vulnerability's main id as written (CVE-…, GHSA-…) */
  vulnerability: string;
  /** the main id and every alias usable as an id (URLs left out) */
  ids: string[];
  products: VexProduct[];
  status: VexStatus;
  /** the status as the document wrote it (`false_positive`, `resolved`… for CycloneDX) */
  rawStatus: string;
  justification?: string;
  /** OpenVEX impact_statement / CycloneDX analysis.detail */
  impactStatement?: string;
  /** statement time, else the document's (ISO 8601 as written) */
  timestamp?: string;
  /** where it is in the document, for reports: `statements[3]`, `vulnerabilities[0]` */
  location: string;
}

export interface VexDocument {
  format: 'openvex' | 'cyclonedx';
  /** the document's @id / serialNumber, else the file name */
  id: string;
  /** file name or label given to the parser */
  source: string;
  timestamp?: string;
  statements: VexStatement[];
}
