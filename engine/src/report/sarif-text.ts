/**
 * The human texts of the SARIF log: a result's message (plain text, one fact per line, as
 * Trivy writes it) and a rule's help (plain text and GitHub Markdown).
 */
import type { Finding } from '../model/finding.js';
import { epssPercent } from './findings.js';
import { mdLink, mdText } from './markdown-text.js';
import { oneLine, truncate } from './text.js';

const MAX_DESCRIPTION = 4000;
const MAX_REFERENCES = 10;

/** The message of one result: package, versions, vulnerability, severity, status, link. */
export function sarifMessage(f: Finding): string {
  const lines = [
    `Package: ${oneLine(f.package.name)}`,
    `Installed Version: ${oneLine(f.installedVersion)}`,
    `Vulnerability: ${oneLine(f.id)}`,
    `Severity: ${f.severity}`,
    `Status: ${f.status}`,
    `Fixed Version: ${f.fixedVersion === null ? 'none' : oneLine(f.fixedVersion)}`,
  ];
  if (f.package.path) lines.push(`Path: ${oneLine(f.package.path)}`);
  return lines.join('\n');
}

function cvssLine(f: Finding): string | undefined {
  if (!f.cvss) return undefined;
  return `CVSS ${f.cvss.version} ${f.cvss.score.toFixed(1)} (${oneLine(f.cvss.vector)}, ${oneLine(f.cvss.source)})`;
}

function epssLine(f: Finding): string | undefined {
  if (f.epss === null) return undefined;
  const pct = f.epssPercentile === null ? '' : `, percentile ${f.epssPercentile}`;
  return `EPSS ${epssPercent(f.epss)}${pct}`;
}

/** The help of a rule, from the most severe finding of its id. */
export function sarifHelp(f: Finding, url: string | undefined): { text: string; markdown: string } {
  const title = oneLine(f.title ?? '');
  const description = truncate((f.description ?? '').trim(), MAX_DESCRIPTION);
  const refs = f.references.slice(0, MAX_REFERENCES);
  const facts = [
    `Severity: ${f.severity} (${oneLine(f.severitySource)})`,
    cvssLine(f),
    f.kev ? 'Known exploited: yes (CISA KEV)' : undefined,
    epssLine(f),
    f.aliases.length ? `Aliases: ${f.aliases.map(oneLine).join(', ')}` : undefined,
    f.cwes.length ? `Weaknesses: ${f.cwes.map(oneLine).join(', ')}` : undefined,
  ].filter((l): l is string => l !== undefined);

  const text = [
    `Vulnerability ${oneLine(f.id)}${title ? `: ${title}` : ''}`,
    ...facts,
    ...(description ? ['', description] : []),
    ...(refs.length ? ['', 'References:', ...refs.map((r) => `- ${oneLine(r)}`)] : []),
  ].join('\n');

  const markdown = [
    `**Vulnerability ${mdLink(f.id, url)}**${title ? ` ${mdText(title)}` : ''}`,
    '',
    ...facts.map((l) => `- ${mdText(l)}`),
    ...(description ? ['', description.split(/\r?\n/).map(mdText).join('  \n')] : []),
    ...(refs.length ? ['', '#### References', ...refs.map((r) => `- ${mdLink(r, r)}`)] : []),
  ].join('\n');
  return { text, markdown };
}
