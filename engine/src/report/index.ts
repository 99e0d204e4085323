/**
 * Report outputs of a scan. Inventory formats so far: the Vigil JSON report (ARCHITECTURE §5),
 * CycloneDX 1.6 JSON and SPDX 2.3 JSON. All order packages the same way (ecosystem, name,
 * version, path) and take purls from the scan (else toPurl).
 */
import { EngineError } from '../errors.js';
import type { ScanResult } from '../model/scan.js';
import type { CycloneDxOptions } from './cyclonedx.js';
import { toJsonReport } from './json.js';
import { toSpdx, type SpdxOptions } from './spdx.js';
import { REPORT_FORMATS, type ReportFormat } from './types.js';

export * from './types.js';
export { toJsonReport, summarize, type JsonReportOptions } from './json.js';
// toCycloneDx is not re-exported here: the CycloneDX library is heavy to load, so it is imported
// only when that format is asked for (internal.ts exports it for tests and siblings).
export type { CycloneDxOptions } from './cyclonedx.js';
export { toSpdx, type SpdxOptions } from './spdx.js';
export { normalizeSpdxExpression, spdxLicenseExpression } from './license.js';
export { REPORT_TOOL, comparePackages } from './packages.js';

/** Options of the SBOM formats, for reproducible output (tests, goldens). */
export interface RenderOptions {
  /** CycloneDX metadata.timestamp and SPDX creationInfo.created; default now. */
  timestamp?: Date;
  /** CycloneDX serialNumber (`urn:uuid:…`); default random. */
  serialNumber?: string;
  /** SPDX documentNamespace; default a fresh URI. */
  namespace?: string;
}

/** True for the names renderInventory accepts. */
export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

/**
 * Renders the inventory of `scan` in `format`: `json` (Vigil report, 2-space indented, no
 * findings, `db: null`), `cyclonedx` (1.6 JSON) or `spdx` (2.3 JSON). Returns the document text
 * with a trailing newline.
 *
 * @throws EngineError ENG_FORMAT_UNSUPPORTED for any other format name (CLI input reaches here).
 */
export async function renderInventory(
  scan: ScanResult,
  format: ReportFormat,
  options: RenderOptions = {},
): Promise<string> {
  switch (format) {
    case 'json':
      return `${JSON.stringify(toJsonReport(scan), null, 2)}\n`;
    case 'cyclonedx': {
      const o: CycloneDxOptions = {};
      if (options.timestamp) o.timestamp = options.timestamp;
      if (options.serialNumber) o.serialNumber = options.serialNumber;
      const { toCycloneDx } = await import('./cyclonedx.js');
      return `${toCycloneDx(scan, o)}\n`;
    }
    case 'spdx': {
      const o: SpdxOptions = {};
      if (options.timestamp) o.created = options.timestamp;
      if (options.namespace) o.namespace = options.namespace;
      return `${toSpdx(scan, o)}\n`;
    }
    default:
      throw new EngineError(
        'ENG_FORMAT_UNSUPPORTED',
        `unsupported inventory format "${String(format)}" (expected one of ${REPORT_FORMATS.join(', ')})`,
      );
  }
}
