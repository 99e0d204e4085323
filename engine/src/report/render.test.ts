import { readFileSync } from 'node:fs';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { XmlDocument, XsdValidator } from 'libxml2-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { fuzz } from '../../../test/support/fuzz.js';
import { isEngineError } from '../errors.js';
import type { Finding, VulnerabilityScanResult } from '../model/index.js';
import {
  REPORT_FORMATS,
  isReportFormat,
  renderInventory,
  renderReport,
  toJsonReport,
  toJunit,
  toMarkdown,
  toSarif,
  renderTable,
  type ReportFormat,
} from './index.js';
import { toCycloneDx } from './cyclonedx.js';
import {
  HOSTILE,
  alpineResult,
  emptyResult,
  finding,
  hostileResult,
  mixedResult,
} from './testdata/results.js';
import { alpineScan } from './testdata/scans.js';

const FIXED = {
  timestamp: new Date('2024-05-01T12:00:04Z'),
  serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
  namespace: 'https://vigil.invalid/spdx/test/doc-1',
};

const schema = (f: string) => JSON.parse(readFileSync(new URL(`./schemas/${f}`, import.meta.url), 'utf8'));
const ajv2020 = new Ajv2020({ allErrors: true, strict: true });
addFormats.default(ajv2020);
const validJson = ajv2020.compile(schema('vigil-report-1.schema.json'));
const ajv7 = new Ajv({ allErrors: true, strictRequired: false });
addFormats.default(ajv7);
const validSarif = ajv7.compile(schema('sarif-schema-2.1.0.json'));
const cdx = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
const xsds = ['junit-10.xsd', 'junit-ant-windyroad.xsd'].map((f) =>
  XsdValidator.fromDoc(XmlDocument.fromBuffer(readFileSync(new URL(`./schemas/${f}`, import.meta.url)))),
);
afterAll(() => xsds.forEach((v) => v.dispose()));

function checkJunit(xml: string): void {
  const doc = XmlDocument.fromString(xml);
  try {
    for (const v of xsds) v.validate(doc);
  } finally {
    doc.dispose();
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('renderReport', () => {
  it('lists the formats of ARCHITECTURE §5 --format', () => {
    expect([...REPORT_FORMATS]).toEqual(['table', 'json', 'sarif', 'cyclonedx', 'spdx', 'junit', 'markdown']);
    expect(REPORT_FORMATS.map(isReportFormat)).toEqual(REPORT_FORMATS.map(() => true));
    expect(['html', 'JSON', ''].map(isReportFormat)).toEqual([false, false, false]);
  });

  it('renders every format of a matched result: the format function output plus a newline', async () => {
    const result = mixedResult();
    const texts = await Promise.all(REPORT_FORMATS.map((f) => renderReport(result, f, FIXED)));
    expect(texts.map((t) => t.endsWith('\n') && !t.endsWith('\n\n'))).toEqual(REPORT_FORMATS.map(() => true));
    const [table, json, sarif, cyclonedx, , junit, markdown] = texts;
    expect([table, json, sarif, cyclonedx, junit, markdown]).toEqual([
      `${renderTable(result)}\n`,
      `${JSON.stringify(toJsonReport(result), null, 2)}\n`,
      `${toSarif(result)}\n`,
      `${toCycloneDx(result, FIXED)}\n`,
      `${toJunit(result)}\n`,
      `${toMarkdown(result)}\n`,
    ]);
  });

  it('passes colour, sort and maxRows through', async () => {
    const result = mixedResult();
    expect(await renderReport(result, 'table', { color: true })).toBe(
      `${renderTable(result, { color: true })}\n`,
    );
    expect(await renderReport(result, 'json', { sort: 'risk' })).toBe(
      `${JSON.stringify(toJsonReport(result, { sort: 'risk' }), null, 2)}\n`,
    );
    expect(await renderReport(result, 'markdown', { maxRows: 1 })).toBe(
      `${toMarkdown(result, { maxRows: 1 })}\n`,
    );
  });

  it('SPDX stays an inventory: the same document with or without findings', async () => {
    const result = alpineResult();
    const { db: _db, findings: _f, remediations: _r, warnings: _w, ...inventory } = result;
    expect(await renderReport(result, 'spdx', FIXED)).toBe(await renderReport(inventory, 'spdx', FIXED));
  });

  it('refuses other formats with ENG_FORMAT_UNSUPPORTED', async () => {
    const error: unknown = await renderReport(alpineScan(), 'html' as ReportFormat).catch((e: unknown) => e);
    expect(isEngineError(error) && [error.code, error.message]).toEqual([
      'ENG_FORMAT_UNSUPPORTED',
      'unsupported report format "html" (expected one of table, json, sarif, cyclonedx, spdx, junit, markdown)',
    ]);
  });

  it('renderInventory is renderReport of an inventory', async () => {
    const scan = alpineScan();
    for (const f of REPORT_FORMATS) {
      expect(await renderInventory(scan, f, FIXED)).toBe(await renderReport(scan, f, FIXED));
    }
  });

  it('every fixture in every format is valid against its schema', async () => {
    for (const make of [alpineResult, mixedResult, emptyResult, hostileResult, alpineScan]) {
      const r = make();
      validJson(JSON.parse(await renderReport(r, 'json')));
      expect(validJson.errors ?? []).toEqual([]);
      validSarif(JSON.parse(await renderReport(r, 'sarif')));
      expect(validSarif.errors ?? []).toEqual([]);
      expect(await cdx.validate(await renderReport(r, 'cyclonedx', FIXED))).toBeNull();
      checkJunit(await renderReport(r, 'junit'));
    }
  });
});

/**
 * A result whose one finding carries `text` in every free-text field and in its package. The
 * package name and the id stay non-empty: the model requires them (an empty one is a producer bug
 * the JSON schema rightly rejects).
 */
function withText(text: string, i: number): VulnerabilityScanResult {
  const base = alpineResult();
  const pkg = {
    name: text || '?',
    version: text,
    ecosystem: 'npm' as const,
    path: text,
    foundBy: 'lang/npm-lock',
  };
  const f: Finding = finding({
    id: i % 3 === 0 && text ? text : `CVE-2024-${1000 + i}`,
    package: pkg,
    severity: 'HIGH',
    fixedVersion: i % 2 ? text : null,
    status: i % 2 ? 'fixed' : 'not-affected',
    title: text,
    description: text,
    aliases: [text],
    references: [text, `https://x.example/${text}`],
    cwes: [text, 'CWE-79'],
    published: text,
    dataSources: [{ source: text, namespace: text, advisoryId: text }],
  });
  return {
    ...base,
    artifact: { ...base.artifact, name: text || 'x' },
    packages: [...base.packages, pkg],
    findings: [f],
    remediations:
      i % 2
        ? [
            {
              packageName: text,
              ecosystem: 'npm',
              path: text,
              installedVersion: text,
              fixedVersion: text,
              fixes: 1,
              bySeverity: { CRITICAL: 0, HIGH: 1, MEDIUM: 0, LOW: 0, UNKNOWN: 0 },
              ids: [text],
            },
          ]
        : [],
    warnings: [{ code: text, message: text }],
  };
}

const SEEDS = [
  ...Object.values(HOSTILE),
  'lodash',
  '@babel/core',
  'org.apache.logging.log4j:log4j-core',
  '1:2.36-9+deb12u4',
  'ünïcødé 漢字 😀',
].map((s) => Buffer.from(s, 'utf8'));

// mutated bytes read as UTF-8 and, every other time, as Latin-1 (C1 controls); every fifth input
// also gets a lone surrogate, which no encoder may pass through unescaped
const decode = (b: Buffer, i: number) =>
  (i % 2 ? b.toString('latin1') : b.toString('utf8')) + (i % 5 ? '' : '\ud800');

describe('renderers on fuzzed text (never throw, stay valid)', () => {
  it('json, sarif, junit, table and markdown: 4,000 inputs', async () => {
    let i = 0;
    const failures = await fuzz(SEEDS, 4000, (input) => {
      const r = withText(decode(input, i), i++);
      if (!validJson(toJsonReport(r))) throw new Error(`json: ${JSON.stringify(validJson.errors)}`);
      if (!validSarif(JSON.parse(toSarif(r)))) throw new Error(`sarif: ${JSON.stringify(validSarif.errors)}`);
      checkJunit(toJunit(r));
      if (CONTROL.test(renderTable(r))) throw new Error('table: control character');
      for (const line of toMarkdown(r)
        .split('\n')
        .filter((l) => l.startsWith('| `') || l.startsWith('| ['))) {
        // every findings row keeps its 8 cells: unescaped pipes would add some
        const cells = line.replace(/\\\|/g, '').split('|').length - 2;
        if (cells !== 8) throw new Error(`markdown: ${cells} cells in ${line}`);
      }
    });
    expect(failures).toEqual([]);
  });

  it('cyclonedx: 2,000 inputs against the strict 1.6 schema', async () => {
    let i = 0;
    const failures = await fuzz(
      SEEDS,
      2000,
      async (input) => {
        const errors = await cdx.validate(toCycloneDx(withText(decode(input, i), i++), FIXED));
        if (errors !== null) throw new Error(JSON.stringify(errors));
      },
      { seed: 7 },
    );
    expect(failures).toEqual([]);
  });
});
