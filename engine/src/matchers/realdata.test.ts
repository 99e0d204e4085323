/**
 * Real-data golden: the realdata Alpine 3.10 image matched against the realdata Alpine secdb
 * subset and NVD page, parsed by the real feed parsers, through the in-memory reader and through
 * a SQLite snapshot built from the same files. Every expected finding is justified in
 * testdata/alpine-3.10.justification.md.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../test/support/realdata.js';
import { fileBody } from '../advisories/file-body.js';
import { MemoryAdvisoryReader } from '../advisories/memory-reader.js';
import { alpineFeed } from '../feeds/alpine/index.js';
import { nvdFeed } from '../feeds/nvd/index.js';
import type { VulnerabilityScanResult } from '../model/finding.js';
import type { ScanResult } from '../model/scan.js';
import { scanImage } from '../scan/scan-image.js';
import { feedRecords } from '../vulndb/feed-records.js';
import { SnapshotReader } from '../vulndb/snapshot-reader.js';
import { SnapshotWriter } from '../vulndb/snapshot-writer.js';
import { matchInventory } from './match.js';

const NOW = new Date('2026-11-27T00:00:00Z');
const SECDB = 'feeds/alpine/vulnlist-secdb-v3.10-main-image-subset.json';
const NVD = 'feeds/nvd/fkie-nvd-api2-alpine-image-cves.json';

/** The golden's projection of a result (descriptions and references are long; checked apart). */
function project(result: VulnerabilityScanResult) {
  return {
    findings: result.findings.map((f) => ({
      id: f.id,
      aliases: f.aliases,
      package: f.package.name,
      installedVersion: f.installedVersion,
      fixedVersion: f.fixedVersion,
      status: f.status,
      severity: f.severity,
      severitySource: f.severitySource,
      cvss: f.cvss,
      kev: f.kev,
      epss: f.epss,
      dataSources: f.dataSources,
    })),
    remediations: result.remediations,
    warnings: result.warnings,
  };
}

describe.skipIf(!hasRealdata)('alpine 3.10 image against the realdata secdb and NVD page', () => {
  let scan: ScanResult;
  let golden: { findings: unknown[]; remediations: unknown[]; warnings: unknown[] };
  let dir = '';

  beforeAll(async () => {
    scan = await scanImage({ input: realdata('images/docker-archive/trivy-alpine-3.10-docker-save.tar.gz') });
    const text = await readFile(new URL('./testdata/alpine-3.10.golden.json', import.meta.url), 'utf8');
    const parsed = JSON.parse(text) as typeof golden & { $comment?: string };
    delete parsed.$comment;
    golden = parsed;
    dir = await mkdtemp(join(tmpdir(), 'vigil-match-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('matches through the in-memory reader loaded with the real feed parsers', async () => {
    const reader = new MemoryAdvisoryReader({ now: () => NOW });
    await reader.addFeed(alpineFeed, [fileBody(realdata(SECDB))]);
    await reader.addFeed(nvdFeed, [fileBody(realdata(NVD))]);
    const result = matchInventory(scan, reader, { now: NOW });
    expect(project(result)).toEqual(golden);
    // the rest of the finding comes from the NVD record of the id (checked on one: CVE-2021-36159)
    const apk = result.findings.find((f) => f.id === 'CVE-2021-36159')!;
    expect({
      cwes: apk.cwes,
      published: apk.published,
      references: apk.references.length,
      description: apk.description?.slice(0, 60),
    }).toEqual({
      cwes: ['CWE-125'],
      published: '2021-08-03T14:15:08.233Z',
      references: 6,
      description: 'libfetch before 2021-07-26, as used in apk-tools, xbps, and ',
    });
    expect(result.db).toEqual({ version: reader.meta().version, builtAt: NOW.toISOString() });
  });

  it('gives the same findings through a SQLite snapshot built from the same files', async () => {
    const target = join(dir, 'vigil.db');
    const writer = await SnapshotWriter.create({ target, now: () => NOW });
    await writer.applySource(alpineFeed, 'full', feedRecords(alpineFeed, [fileBody(realdata(SECDB))]));
    await writer.applySource(nvdFeed, 'full', feedRecords(nvdFeed, [fileBody(realdata(NVD))]));
    const meta = await writer.finalize();
    const reader = SnapshotReader.open(target);
    try {
      const result = matchInventory(scan, reader, { now: NOW });
      expect(project(result)).toEqual(golden);
      expect(result.db).toEqual({ version: meta.version, builtAt: NOW.toISOString() });
    } finally {
      reader.close();
    }
  });

  it('reports a release the secdb has no data for, instead of staying silent', async () => {
    const reader = new MemoryAdvisoryReader({ now: () => NOW });
    await reader.addFeed(alpineFeed, [fileBody(realdata(SECDB))]);
    const result = matchInventory({ ...scan, os: { ...scan.os!, version: '3.99.0' } }, reader, { now: NOW });
    expect({ findings: result.findings.length, warnings: result.warnings }).toEqual({
      findings: 0,
      warnings: [
        {
          code: 'VIGIL_OS_UNSUPPORTED',
          message:
            'alpine 3.99.0: the vulnerability database has no advisories for any of its 14 OS packages in alpine:3.99; the release may be too new or unknown to its tracker',
        },
      ],
    });
  });
});
