/**
 * Reports of a real match: the realdata alpine 3.10 image matched (by the engine's matchers)
 * against the realdata Alpine secdb subset and NVD page, rendered in every format and checked
 * against each format's schema. The findings themselves are the matchers' golden
 * (matchers/testdata/alpine-3.10.golden.json); here the point is that real producer output,
 * not only hand-made results, renders into valid documents that agree with each other.
 */
import { readFileSync } from 'node:fs';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { XmlDocument, XsdValidator } from 'libxml2-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../test/support/realdata.js';
import { fileBody } from '../advisories/file-body.js';
import { MemoryAdvisoryReader } from '../advisories/memory-reader.js';
import { alpineFeed } from '../feeds/alpine/index.js';
import { nvdFeed } from '../feeds/nvd/index.js';
import { matchInventory } from '../matchers/match.js';
import type { VulnerabilityScanResult } from '../model/finding.js';
import { scanImage } from '../scan/scan-image.js';
import { REPORT_FORMATS, renderReport, type VigilReport } from './index.js';

const NOW = new Date('2026-11-27T00:00:00Z');
const FIXED = {
  timestamp: NOW,
  serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
  namespace: 'https://vigil.invalid/x',
};
const schema = (f: string) => JSON.parse(readFileSync(new URL(`./schemas/${f}`, import.meta.url), 'utf8'));

describe.skipIf(!hasRealdata)('reports of the realdata alpine 3.10 match', () => {
  let result: VulnerabilityScanResult;
  const out = new Map<string, string>();

  beforeAll(async () => {
    const scan = await scanImage({
      input: realdata('images/docker-archive/trivy-alpine-3.10-docker-save.tar.gz'),
    });
    const reader = new MemoryAdvisoryReader({ now: () => NOW });
    await reader.addFeed(alpineFeed, [
      fileBody(realdata('feeds/alpine/vulnlist-secdb-v3.10-main-image-subset.json')),
    ]);
    await reader.addFeed(nvdFeed, [fileBody(realdata('feeds/nvd/fkie-nvd-api2-alpine-image-cves.json'))]);
    result = matchInventory(scan, reader, { now: NOW });
    for (const f of REPORT_FORMATS) out.set(f, await renderReport(result, f, FIXED));
  });

  it('the match has findings and a fix plan to render', () => {
    expect([result.findings.length > 0, result.remediations.length > 0]).toEqual([true, true]);
  });

  it('json: valid, one vulnerability per finding, summary and fix plan as in the result', () => {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats.default(ajv);
    const validate = ajv.compile(schema('vigil-report-1.schema.json'));
    const report = JSON.parse(out.get('json')!) as VigilReport;
    validate(report);
    expect(validate.errors ?? []).toEqual([]);
    expect([report.vulnerabilities.length, report.summary.total, report.remediations.length]).toEqual([
      result.findings.length,
      result.findings.length,
      result.remediations.length,
    ]);
  });

  it('sarif: valid; a result per finding, a rule per distinct id', () => {
    const ajv = new Ajv({ allErrors: true, strictRequired: false });
    addFormats.default(ajv);
    const validate = ajv.compile(schema('sarif-schema-2.1.0.json'));
    const log = JSON.parse(out.get('sarif')!) as {
      runs: { tool: { driver: { rules: unknown[] } }; results: unknown[] }[];
    };
    validate(log);
    expect(validate.errors ?? []).toEqual([]);
    expect([log.runs[0]!.results.length, log.runs[0]!.tool.driver.rules.length]).toEqual([
      result.findings.length,
      new Set(result.findings.map((f) => f.id)).size,
    ]);
  });

  it('cyclonedx: valid against the strict 1.6 schema', async () => {
    expect(
      await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(out.get('cyclonedx')!),
    ).toBeNull();
  });

  it('junit: valid against both JUnit schemas, a test case per finding', () => {
    const doc = XmlDocument.fromString(out.get('junit')!);
    try {
      for (const f of ['junit-10.xsd', 'junit-ant-windyroad.xsd']) {
        const xsd = XmlDocument.fromBuffer(readFileSync(new URL(`./schemas/${f}`, import.meta.url)));
        const validator = XsdValidator.fromDoc(xsd);
        try {
          validator.validate(doc);
        } finally {
          validator.dispose();
          xsd.dispose();
        }
      }
      expect(doc.find('//testcase').length).toBe(result.findings.length);
    } finally {
      doc.dispose();
    }
  });

  it('table and markdown agree with the result: totals and one fix plan line per remediation', () => {
    const table = out.get('table')!;
    expect(table).toContain(`Total: ${result.findings.length} (`);
    expect(table.split('\n').filter((l) => l.startsWith('  upgrade ')).length).toBe(
      result.remediations.length,
    );
    const md = out.get('markdown')!;
    expect(md).toContain(`| **Total** | **${result.findings.length}** |`);
    expect(md.split('\n').filter((l) => l.startsWith('- upgrade ')).length).toBe(result.remediations.length);
  });
});
