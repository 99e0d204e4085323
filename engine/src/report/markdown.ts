/**
 * GitHub-flavoured Markdown for PR comments (`--format markdown`): a heading with the artifact,
 * matching warnings as a caution block, a summary table by severity, the fix plan, then one
 * findings table per target, folded into `<details>` when long. Every value from the image or
 * the feeds is escaped (markdown-text.ts): it renders as text, never as markup, links or mentions.
 * The comment stays under GitHub's 65,536-character limit by capping the rows (`maxRows`).
 */
import type { Finding } from '../model/finding.js';
import { SEVERITIES, type Severity } from '../model/severity.js';
import {
  advisoryUrl,
  asVulnerabilityResult,
  compareRemediations,
  countBySeverity,
  countsPhrase,
  displayTitle,
  epssPercent,
  isMatched,
  sortFindings,
  type FindingSort,
  type ReportInput,
} from './findings.js';
import { htmlText, mdCode, mdLink, mdText } from './markdown-text.js';
import { groupByTarget, osTargetTitle } from './targets.js';
import { oneLine, truncate } from './text.js';

export interface MarkdownOptions {
  /** Finding order inside a target. Default `severity`. */
  sort?: FindingSort;
  /** Finding rows at most, over all targets (the rest are counted, not listed). Default 250. */
  maxRows?: number;
  /** A target with more rows than this is folded into `<details>`. Default 10. */
  foldAfter?: number;
}

const BADGE: Record<Severity, string> = {
  CRITICAL: '🟥 Critical',
  HIGH: '🟧 High',
  MEDIUM: '🟨 Medium',
  LOW: '🟦 Low',
  UNKNOWN: '⬜ Unknown',
};

function findingRow(f: Finding): string {
  const flags = [f.kev ? '**KEV**' : '', f.epss !== null ? `EPSS ${epssPercent(f.epss)}` : '']
    .filter(Boolean)
    .join(' ');
  const cells = [
    mdCode(f.package.name, true),
    mdLink(f.id, advisoryUrl(f.id, f.references)),
    f.severity,
    f.status,
    mdCode(f.installedVersion, true),
    f.fixedVersion === null ? '' : mdCode(f.fixedVersion, true),
    flags,
    mdText(truncate(oneLine(displayTitle(f)), 80)),
  ];
  return `| ${cells.join(' | ')} |`;
}

function summaryTable(counts: Record<Severity, number>, total: number): string[] {
  return [
    '| Severity | Findings |',
    '| --- | ---: |',
    ...SEVERITIES.map((s) => `| ${BADGE[s]} | ${counts[s]} |`),
    `| **Total** | **${total}** |`,
  ];
}

/**
 * Renders `input` as a Markdown document (no trailing newline). An inventory-only scan gives a
 * short note with the package count (there is nothing to review). Deterministic.
 */
export function toMarkdown(input: ReportInput, options: MarkdownOptions = {}): string {
  const result = asVulnerabilityResult(input);
  const out: string[] = [`## Vigil scan: ${mdText(osTargetTitle(result))}`, ''];
  if (!isMatched(input)) {
    out.push(
      `${result.packages.length} packages found; no vulnerability database was used, so no findings are reported.`,
    );
    return out.join('\n');
  }
  if (result.db)
    out.push(`Vulnerability database ${mdCode(result.db.version)}, built ${mdText(result.db.builtAt)}.`, '');
  if (result.warnings.length > 0) {
    out.push('> [!WARNING]', ...result.warnings.map((w) => `> ${mdCode(w.code)} ${mdText(w.message)}  `), '');
  }

  const findings = sortFindings(result.findings, options.sort);
  const counts = countBySeverity(findings);
  out.push(...summaryTable(counts, findings.length), '');

  if (result.remediations.length > 0) {
    out.push('### Fix plan', '');
    for (const r of [...result.remediations].sort(compareRemediations)) {
      const where = r.path ? ` in ${mdCode(r.path)}` : '';
      out.push(
        `- upgrade ${mdCode(r.packageName)} ${mdCode(r.installedVersion)} → ${mdCode(r.fixedVersion)}${where} fixes ${r.fixes} (${countsPhrase(r.bySeverity)})`,
      );
    }
    out.push('');
  }

  if (findings.length === 0) {
    out.push('No vulnerabilities found.');
    return out.join('\n');
  }
  out.push('### Findings', '');
  const maxRows = options.maxRows ?? 250;
  const foldAfter = options.foldAfter ?? 10;
  let shown = 0;
  for (const target of groupByTarget(findings, (f) => f.package, result)) {
    const rows = target.items.slice(0, Math.max(0, maxRows - shown));
    shown += rows.length;
    const head = `${target.title}: ${target.items.length} (${countsPhrase(countBySeverity(target.items))})`;
    const table =
      rows.length === 0
        ? []
        : [
            `| ${target.kind === 'os' ? 'Package' : 'Library'} | Vulnerability | Severity | Status | Installed | Fixed | KEV/EPSS | Title |`,
            '| --- | --- | --- | --- | --- | --- | --- | --- |',
            ...rows.map(findingRow),
          ];
    const hidden = target.items.length - rows.length;
    const more =
      hidden > 0 ? ['', `_${hidden} more not shown; see the full report (\`--format json\`)._`] : [];
    if (target.items.length > foldAfter) {
      out.push(
        '<details>',
        `<summary>${htmlText(head)}</summary>`,
        '',
        ...table,
        ...more,
        '',
        '</details>',
        '',
      );
    } else {
      out.push(`#### ${mdText(head)}`, '', ...table, ...more, '');
    }
  }
  return out.join('\n').trimEnd();
}
