/**
 * Report outputs of a scan (ARCHITECTURE §5 `--format`): the human table, the Vigil JSON report,
 * SARIF 2.1.0, CycloneDX 1.6, SPDX 2.3 (inventory only), JUnit XML and Markdown. Every format
 * takes an inventory (ScanResult) or a matched result (VulnerabilityScanResult); inventory
 * formats order packages the same way (ecosystem, name, version, path) and take purls from the
 * scan (else toPurl).
 */
import { EngineError } from '../errors.js';
import type { CycloneDxOptions } from './cyclonedx.js';
import type { FindingSort, ReportInput } from './findings.js';
import { toJsonReport } from './json.js';
import { toJunit } from './junit.js';
import { toMarkdown } from './markdown.js';
import { toSarif } from './sarif.js';
import { toSpdx, type SpdxOptions } from './spdx.js';
import { renderTable } from './table.js';
import { REPORT_FORMATS, type ReportFormat } from './types.js';

export * from './types.js';
export { toJsonReport, toReportVulnerability, summarize, type JsonReportOptions } from './json.js';
// toCycloneDx is not re-exported here: the CycloneDX library is heavy to load, so it is imported
// only when that format is asked for (internal.ts exports it for tests and siblings).
export type { CycloneDxOptions } from './cyclonedx.js';
export { toSpdx, type SpdxOptions } from './spdx.js';
export { toSarif, securitySeverity, type SarifOptions } from './sarif.js';
export { toJunit, type JunitOptions } from './junit.js';
export { toMarkdown, type MarkdownOptions } from './markdown.js';
export { renderTable, type TableOptions } from './table.js';
export {
  FINDING_SORTS,
  advisoryUrl,
  asVulnerabilityResult,
  compareFindings,
  compareRemediations,
  countBySeverity,
  countsPhrase,
  isMatched,
  remediationLine,
  sortFindings,
  totalsLine,
  type FindingSort,
  type ReportInput,
} from './findings.js';
export { normalizeSpdxExpression, spdxLicenseExpression } from './license.js';
export { REPORT_TOOL, comparePackages } from './packages.js';

/** Options of renderReport. Each applies to the formats named; the others ignore it. */
export interface RenderOptions {
  /** CycloneDX metadata.timestamp and SPDX creationInfo.created; default now. */
  timestamp?: Date;
  /** CycloneDX serialNumber (`urn:uuid:…`); default random. */
  serialNumber?: string;
  /** SPDX documentNamespace; default a fresh URI. */
  namespace?: string;
  /** table: ANSI colours (the CLI sets it for a terminal). Default false. */
  color?: boolean;
  /** table, json, sarif, junit, markdown: finding order (`--sort`). Default `severity`. */
  sort?: FindingSort;
  /** markdown: finding rows at most (GitHub comments are capped at 65,536 characters). Default 250. */
  maxRows?: number;
}

/** True for the names renderReport accepts. */
export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

/**
 * Renders `input` in `format` and returns the document text with a trailing newline:
 * `table` (human, findings per target or packages for an inventory), `json` (Vigil report,
 * 2-space indented), `sarif` (2.1.0), `cyclonedx` (1.6 JSON, with vulnerabilities when
 * matched), `spdx` (2.3 JSON, inventory only: findings are not part of SPDX 2.3), `junit`
 * (XML) or `markdown` (GitHub). Deterministic apart from the SBOM timestamp, serial number and
 * namespace, which `options` can fix.
 *
 * @throws EngineError ENG_FORMAT_UNSUPPORTED for any other format name (CLI input reaches here).
 */
export async function renderReport(
  input: ReportInput,
  format: ReportFormat,
  options: RenderOptions = {},
): Promise<string> {
  const sort = options.sort ? { sort: options.sort } : {};
  switch (format) {
    case 'table':
      return `${renderTable(input, { color: options.color ?? false, ...sort })}\n`;
    case 'json':
      return `${JSON.stringify(toJsonReport(input, sort), null, 2)}\n`;
    case 'sarif':
      return `${toSarif(input, sort)}\n`;
    case 'cyclonedx': {
      const o: CycloneDxOptions = {};
      if (options.timestamp) o.timestamp = options.timestamp;
      if (options.serialNumber) o.serialNumber = options.serialNumber;
      const { toCycloneDx } = await import('./cyclonedx.js');
      return `${toCycloneDx(input, o)}\n`;
    }
    case 'spdx': {
      const o: SpdxOptions = {};
      if (options.timestamp) o.created = options.timestamp;
      if (options.namespace) o.namespace = options.namespace;
      return `${toSpdx(input, o)}\n`;
    }
    case 'junit':
      return `${toJunit(input, sort)}\n`;
    case 'markdown':
      return `${toMarkdown(input, { ...sort, ...(options.maxRows !== undefined ? { maxRows: options.maxRows } : {}) })}\n`;
    default:
      throw new EngineError(
        'ENG_FORMAT_UNSUPPORTED',
        `unsupported report format "${String(format)}" (expected one of ${REPORT_FORMATS.join(', ')})`,
      );
  }
}

/**
 * Renders an inventory: renderReport of a result without findings (kept for the CLI's scan
 * commands). Same formats, output and errors as renderReport.
 */
export async function renderInventory(
  scan: ReportInput,
  format: ReportFormat,
  options: RenderOptions = {},
): Promise<string> {
  return renderReport(scan, format, options);
}
