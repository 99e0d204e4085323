import { toBinary } from '@bufbuild/protobuf';
import type { Finding, ScanResult } from '@vigil/engine/core';
import { FindingsChunkSchema, InventoryChunkSchema } from '@vigil/proto/v1/worker_pb';
import { describe, expect, it } from 'vitest';
import { findingsChunks, inventoryChunks } from './chunks.js';

const scan = (packages: number, unknowns: number): ScanResult => ({
  artifact: { name: 'alpine.tar', kind: 'docker-archive' },
  os: { family: 'alpine', version: '3.19.1' },
  packages: Array.from({ length: packages }, (_, i) => ({
    name: `pkg-${i}`,
    version: '1.0.0-r0',
    ecosystem: 'apk' as const,
    foundBy: 'os/apk',
  })),
  unknowns: Array.from({ length: unknowns }, (_, i) => ({
    path: `usr/lib/broken-${i}`,
    message: 'truncated',
  })),
  status: unknowns ? 'partial' : 'succeeded',
  startedAt: '2025-01-01T00:00:00Z',
  finishedAt: '2025-01-01T00:00:01Z',
});

const finding = (i: number, description: string): Finding => ({
  id: `CVE-2024-${1000 + i}`,
  aliases: [],
  package: { name: 'openssl', version: '3.1.4-r0', ecosystem: 'apk', foundBy: 'os/apk' },
  installedVersion: '3.1.4-r0',
  fixedVersion: '3.1.4-r1',
  status: 'fixed',
  severity: 'HIGH',
  severitySource: 'cvss:nvd',
  cvss: null,
  kev: false,
  epss: null,
  epssPercentile: null,
  description,
  references: [],
  cwes: [],
  dataSources: [],
});

describe('report chunks', () => {
  it('splits packages then unknowns by count, numbering chunks and putting artifact and OS in the first only', () => {
    const chunks = [...inventoryChunks(scan(5, 2), { maxItems: 3, maxBytes: 1 << 20 })];
    expect(
      chunks.map((c) => ({
        seq: c.seq,
        artifact: c.artifact?.name,
        os: c.os?.version,
        packages: c.packages.map((p) => p.name),
        unknowns: c.unknowns.map((u) => u.path),
      })),
    ).toEqual([
      { seq: 0, artifact: 'alpine.tar', os: '3.19.1', packages: ['pkg-0', 'pkg-1', 'pkg-2'], unknowns: [] },
      {
        seq: 1,
        artifact: undefined,
        os: undefined,
        packages: ['pkg-3', 'pkg-4'],
        unknowns: ['usr/lib/broken-0'],
      },
      { seq: 2, artifact: undefined, os: undefined, packages: [], unknowns: ['usr/lib/broken-1'] },
    ]);
  });

  it('sends one inventory chunk and one findings chunk (with the warnings) for an empty image', () => {
    const warnings = [{ code: 'VIGIL_OS_UNSUPPORTED', message: 'no tracker for this OS' }];
    expect({
      inventory: [...inventoryChunks(scan(0, 0), { maxItems: 10, maxBytes: 1 << 20 })].map((c) => [
        c.seq,
        c.packages.length,
      ]),
      findings: [...findingsChunks([], warnings, { maxItems: 10, maxBytes: 1 << 20 })].map((c) => [
        c.seq,
        c.findings.length,
        c.warnings.map((w) => w.code),
      ]),
    }).toEqual({ inventory: [[0, 0]], findings: [[0, 0, ['VIGIL_OS_UNSUPPORTED']]] });
  });

  it('keeps every findings chunk under the byte budget however long the descriptions are', () => {
    const findings = Array.from({ length: 40 }, (_, i) => finding(i, 'x'.repeat(50_000)));
    const chunks = [...findingsChunks(findings, [], { maxItems: 1000, maxBytes: 256 * 1024 })];
    const sizes = chunks.map((c) => toBinary(FindingsChunkSchema, c).length);
    expect({
      count: chunks.flatMap((c) => c.findings).length,
      seqs: chunks.map((c) => c.seq),
      overBudget: sizes.filter((s) => s > 256 * 1024),
    }).toEqual({ count: 40, seqs: chunks.map((_, i) => i), overBudget: [] });
    expect(chunks.length).toBeGreaterThan(1);
  });

  it('lets a single item larger than the budget through in a chunk of its own', () => {
    const chunks = [
      ...findingsChunks([finding(0, 'short'), finding(1, 'y'.repeat(5000)), finding(2, 'short')], [], {
        maxItems: 10,
        maxBytes: 2000,
      }),
    ];
    expect(chunks.map((c) => c.findings.map((f) => f.id))).toEqual([
      ['CVE-2024-1000'],
      ['CVE-2024-1001'],
      ['CVE-2024-1002'],
    ]);
    expect(
      toBinary(InventoryChunkSchema, [...inventoryChunks(scan(1, 0), { maxItems: 1, maxBytes: 1 })][0]!)
        .length,
    ).toBeGreaterThan(0);
  });
});
