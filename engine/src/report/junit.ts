/**
 * JUnit XML (`--format junit`), as Trivy's contrib/junit.tpl lays it out: one `<testsuite>` per
 * target, one `<testcase>` per finding (classname `<package>-<installed version>`, name
 * `[SEVERITY] <id>`) holding a `<failure>` whose message is the title and whose text is the
 * description. CI systems then show each vulnerability as a failed test. Departures from the
 * template: a `not-affected` finding is a `<skipped>` test, and the document also satisfies the
 * stricter Apache Ant schema (every suite has `id`, `package`, `timestamp`, `hostname`, `time`,
 * `<properties>`, `<system-out>` and `<system-err>`; times are `0`, not empty).
 * Schemas checked in tests: schemas/junit-10.xsd (Jenkins xUnit) and schemas/junit-ant-windyroad.xsd.
 */
import type { Finding } from '../model/finding.js';
import {
  asVulnerabilityResult,
  countBySeverity,
  displayTitle,
  sortFindings,
  totalsLine,
  type FindingSort,
  type ReportInput,
} from './findings.js';
import { groupByTarget } from './targets.js';
import { oneLine, safeLines } from './text.js';

export interface JunitOptions {
  /** Test case order inside a suite. Default `severity`. */
  sort?: FindingSort;
}

// XML 1.0 Char production: TAB, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/** Text content: invalid XML characters become U+FFFD, `& < >` entities. */
export function xmlText(text: string): string {
  return text
    .replace(NOT_XML_CHAR, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** Attribute value (double-quoted): as text, plus `"`, and TAB/LF/CR as character references so they survive normalisation. */
export function xmlAttr(text: string): string {
  return xmlText(text)
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** `xs:token` values (Ant schema): whitespace collapsed, never empty. */
function token(text: string, fallback: string): string {
  const t = text.replace(/[\t\n\r ]+/g, ' ').trim();
  return t || fallback;
}

/** The Ant schema's timestamp: `YYYY-MM-DDTHH:MM:SS`, UTC, no zone. */
function antTimestamp(iso: string): string {
  const d = new Date(iso);
  return (Number.isNaN(d.getTime()) ? new Date(0) : d).toISOString().slice(0, 19);
}

function testcase(f: Finding): string {
  const classname = xmlAttr(token(oneLine(`${f.package.name}-${f.installedVersion}`), 'package'));
  const name = xmlAttr(token(oneLine(`[${f.severity}] ${f.id}`), f.severity));
  const head = `    <testcase classname="${classname}" name="${name}" time="0">`;
  if (f.status === 'not-affected') {
    return `${head}\n      <skipped message="not affected: the vendor states this package is not affected"/>\n    </testcase>`;
  }
  const message = xmlAttr(oneLine(displayTitle(f) || f.id));
  const body = [
    `Package: ${oneLine(f.package.name)}`,
    `Installed version: ${oneLine(f.installedVersion)}`,
    `Fixed version: ${f.fixedVersion === null ? 'none' : oneLine(f.fixedVersion)}`,
    `Status: ${f.status}`,
    ...(f.package.path ? [`Path: ${oneLine(f.package.path)}`] : []),
    ...(f.description ? ['', safeLines(f.description.trim())] : []),
  ].join('\n');
  return `${head}\n      <failure message="${message}" type="description">${xmlText(body)}</failure>\n    </testcase>`;
}

/**
 * Renders `input` as a JUnit XML document (UTF-8, no trailing newline). An inventory-only scan
 * or a scan without findings gives `<testsuites>` with no suites; targets without findings are
 * left out, as in Trivy. Matching warnings go to the first suite's `<system-err>`. Names,
 * versions and titles are reduced to one safe line (text.ts), descriptions keep their lines;
 * everything is XML-escaped, and characters XML 1.0 forbids become U+FFFD.
 */
export function toJunit(input: ReportInput, options: JunitOptions = {}): string {
  const result = asVulnerabilityResult(input);
  const findings = sortFindings(result.findings, options.sort);
  const timestamp = antTimestamp(result.finishedAt);
  const warnings = result.warnings.map((w) => oneLine(`${w.code}: ${w.message}`)).join('\n');
  const suites = groupByTarget(findings, (f) => f.package, result).map((target, i) => {
    const failures = target.items.filter((f) => f.status !== 'not-affected').length;
    const skipped = target.items.length - failures;
    const props = [
      ['type', target.kind === 'os' ? 'os' : (target.ecosystem ?? 'lang')],
      ['artifact', result.artifact.name],
      ...(result.db ? [['db', result.db.version]] : []),
    ];
    const title = token(oneLine(target.title), 'target');
    return [
      `  <testsuite name="${xmlAttr(title)}" package="${xmlAttr(title)}" id="${i}" tests="${target.items.length}" failures="${failures}" errors="0" skipped="${skipped}" time="0" timestamp="${timestamp}" hostname="localhost">`,
      '    <properties>',
      ...props.map(([n, v]) => `      <property name="${xmlAttr(n!)}" value="${xmlAttr(oneLine(v!))}"/>`),
      '    </properties>',
      ...target.items.map(testcase),
      `    <system-out>${xmlText(totalsLine(countBySeverity(target.items)))}</system-out>`,
      `    <system-err>${i === 0 ? xmlText(warnings) : ''}</system-err>`,
      '  </testsuite>',
    ].join('\n');
  });
  return ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites>', ...suites, '</testsuites>'].join('\n');
}
