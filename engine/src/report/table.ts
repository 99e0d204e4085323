/**
 * The human table (`--format table`), Trivy's layout: matching warnings first, then one section
 * per target (OS packages, then each language file) with a totals line and a row per finding
 * (PACKAGE/LIBRARY, VULNERABILITY, SEVERITY, STATUS, INSTALLED, FIXED, KEV/EPSS, TITLE), then
 * the fix plan and the unknowns. An inventory-only scan prints the package table instead.
 */
import type { Finding, VulnerabilityScanResult } from '../model/finding.js';
import type { Severity } from '../model/severity.js';
import {
  countBySeverity,
  compareRemediations,
  displayTitle,
  epssPercent,
  isMatched,
  remediationLine,
  sortFindings,
  totalsLine,
  type FindingSort,
  type ReportInput,
} from './findings.js';
import { renderInventoryTable } from './table-inventory.js';
import { STYLE, layoutTable, type Paint } from './table-layout.js';
import { groupByTarget, osTargetTitle } from './targets.js';
import { oneLine, truncate } from './text.js';

export interface TableOptions {
  /** ANSI colours (severities, headings); the CLI turns it on for a terminal. Default false. */
  color?: boolean;
  /** Row order inside a target. Default `severity`. */
  sort?: FindingSort;
  /** Longest TITLE cell in code points (cut with `…`). Default 50. */
  titleWidth?: number;
}

const SEVERITY_STYLE: Record<Severity, (s: string) => string> = {
  CRITICAL: STYLE.boldRed,
  HIGH: STYLE.red,
  MEDIUM: STYLE.yellow,
  LOW: STYLE.blue,
  UNKNOWN: STYLE.dim,
};

function markers(f: Finding): string {
  return [f.kev ? 'KEV' : '', f.epss !== null ? `EPSS ${epssPercent(f.epss)}` : ''].filter(Boolean).join(' ');
}

const SEVERITY_COLUMN = 2;
const MARKER_COLUMN = 6;

function findingRows(findings: readonly Finding[], titleWidth: number): string[][] {
  return findings.map((f) => [
    f.package.name,
    f.id,
    f.severity,
    f.status,
    f.installedVersion,
    f.fixedVersion ?? '',
    markers(f),
    truncate(oneLine(displayTitle(f)), titleWidth),
  ]);
}

function paintFor(color: boolean): Paint | undefined {
  if (!color) return undefined;
  return (text, column, row) => {
    if (row < 0) return STYLE.bold(text);
    if (column === SEVERITY_COLUMN) return (SEVERITY_STYLE[text as Severity] ?? ((s: string) => s))(text);
    if (column === MARKER_COLUMN && text.startsWith('KEV')) return STYLE.boldRed('KEV') + text.slice(3);
    return text;
  };
}

function renderFindingsTable(result: VulnerabilityScanResult, options: TableOptions): string {
  const color = options.color ?? false;
  const bold = (s: string) => (color ? STYLE.bold(s) : s);
  const findings = sortFindings(result.findings, options.sort);
  const out: string[] = [bold(oneLine(osTargetTitle(result)))];
  const db = result.db ? `, db ${oneLine(result.db.version)} (built ${oneLine(result.db.builtAt)})` : '';
  out.push(`packages: ${result.packages.length}, vulnerabilities: ${findings.length}${db}`, '');

  if (result.warnings.length > 0) {
    out.push(bold(`warnings: ${result.warnings.length}`));
    for (const w of result.warnings) out.push(`  ${oneLine(w.code)}: ${oneLine(w.message)}`);
    out.push('');
  }

  // every target with packages gets a section (a clean one says `Total: 0`), then targets of
  // findings whose package is not in the inventory (never expected; shown rather than dropped)
  type Row = { finding?: Finding; pkg: Finding['package'] };
  const rows: Row[] = [
    ...result.packages.map((pkg) => ({ pkg })),
    ...findings.map((finding) => ({ finding, pkg: finding.package })),
  ];
  const paint = paintFor(color);
  for (const target of groupByTarget(rows, (r) => r.pkg, result)) {
    const targetFindings = target.items.flatMap((r) => (r.finding ? [r.finding] : []));
    out.push(bold(oneLine(target.title)), totalsLine(countBySeverity(targetFindings)), '');
    if (targetFindings.length === 0) continue;
    const header = [
      target.kind === 'os' ? 'PACKAGE' : 'LIBRARY',
      'VULNERABILITY',
      'SEVERITY',
      'STATUS',
      'INSTALLED',
      'FIXED',
      'KEV/EPSS',
      'TITLE',
    ];
    out.push(layoutTable(header, findingRows(targetFindings, options.titleWidth ?? 50), paint), '');
  }

  if (findings.length === 0) out.push('No vulnerabilities found.', '');
  if (result.remediations.length > 0) {
    out.push(bold('Fix plan'));
    for (const r of [...result.remediations].sort(compareRemediations))
      out.push(`  ${oneLine(remediationLine(r))}`);
    out.push('');
  }
  if (result.unknowns.length > 0) {
    out.push(bold(`unknowns: ${result.unknowns.length}`));
    for (const u of result.unknowns) out.push(`  ${oneLine(u.path)}: ${oneLine(u.message)}`);
  }
  return out.join('\n').trimEnd();
}

/**
 * Renders the human table. A matched result (a database was consulted) lists findings per
 * target; an inventory-only scan lists packages (renderInventoryTable). Every value from the
 * image or the feeds is reduced to one safe line (no control characters, no escape sequences);
 * colour codes appear only when `color` is true. No trailing newline.
 */
export function renderTable(input: ReportInput, options: TableOptions = {}): string {
  if (!isMatched(input)) return renderInventoryTable(input, options.color ?? false);
  return renderFindingsTable(input, options);
}
