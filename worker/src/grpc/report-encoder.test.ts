import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type {
  Finding,
  FixState,
  MatchWarning,
  Package,
  ScanResult,
  Severity,
  Unknown,
} from '@vigil/engine/core';
import {
  FindingsChunkSchema,
  InventoryChunkSchema,
  ReportRequestSchema,
  type ReportRequest,
} from '@vigil/proto/v1/worker_pb';
import { describe, expect, it } from 'vitest';
import { findingsChunks, inventoryChunks } from '../jobs/chunks.js';
import {
  toProtoArtifact,
  toProtoFinding,
  toProtoOs,
  toProtoPackage,
  toProtoUnknown,
  toProtoWarning,
} from '../mapping.js';
import { lazyFindingsChunk, lazyInventoryChunk } from './lazy-chunks.js';
import { encodeReportChunkRequest, encodeReportRequest } from './report-encoder.js';

/** mulberry32: the same generated cases on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}

// strings that survive a round trip (decoding gives them back)
const TEXT = [
  '',
  'a',
  'openssl',
  '1:2.36-9+deb12u4',
  'pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12',
  'x'.repeat(64),
  'y'.repeat(65),
  'z'.repeat(127),
  'w'.repeat(128),
  'v'.repeat(20_000),
  'café',
  'Ünïcödé – “quotes” ‘and’ dashes',
  '中文软件包',
  'emoji 😀 and 𝔘 astral',
  '😀',
  '\u0000nul\u007f',
  'é'.repeat(70),
  `${'a'.repeat(64)}é`,
];
// lone surrogates: TextEncoder writes U+FFFD for them (protobuf-es does the same), not decodable back
const LOSSY_TEXT = ['\ud800', 'a\udc00b', `${'q'.repeat(80)}\ud83d`, '\udfff\ud800'];

const ECOSYSTEMS = ['apk', 'deb', 'rpm', 'npm', 'pypi', 'golang', 'maven'] as const;
const FIX_STATES: FixState[] = ['fixed', 'unfixed', 'will-not-fix', 'deferred', 'not-affected'];
const SEVERITIES: Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
const NUMBERS = [0, -0, 1, -1, 0.5, 9.8, 1e300, -1e-300, Number.MAX_SAFE_INTEGER, Number.NaN, Infinity];

function generator(seed: number, lossy: boolean) {
  const r = rng(seed);
  const texts = lossy ? [...TEXT, ...LOSSY_TEXT] : TEXT;
  const text = () => r.pick(texts);
  const opt = () => (r.chance(0.5) ? text() : undefined);
  const list = () => Array.from({ length: r.pick([0, 0, 1, 2, 5]) }, text);
  const bool = () => r.pick([undefined, true, false]);

  const metadata = (): Package['metadata'] => {
    if (r.chance(0.3)) return undefined;
    const m: Record<string, unknown> = {};
    for (let i = r.int(6); i > 0; i--) {
      const key = r.pick([...texts, '10', '2', 'epoch', 'vendor', 'modularityLabel']);
      m[key] = r.pick<unknown>([
        text(),
        r.pick(NUMBERS),
        true,
        false,
        null,
        // beyond the engine's scalars: protobuf-es still takes them
        ['a', 1, null, [true]],
        { nested: { deeper: 'x', n: 2 } },
        [],
        {},
        ...(lossy ? [undefined] : []),
      ]);
    }
    return m as Package['metadata'];
  };

  const pkg = (): Package => ({
    name: text(),
    version: text(),
    ecosystem: r.pick(ECOSYSTEMS),
    purl: opt(),
    srcName: opt(),
    srcVersion: opt(),
    arch: opt(),
    licenses: r.chance(0.5) ? list() : undefined,
    layer: opt(),
    path: opt(),
    foundBy: text(),
    declared: bool(),
    dev: bool(),
    metadata: metadata(),
  });

  const unknown = (): Unknown => ({ path: text(), message: text(), layer: opt(), source: opt() });

  const finding = (): Finding => ({
    id: text(),
    aliases: list(),
    package: pkg(),
    installedVersion: text(),
    fixedVersion: r.chance(0.4) ? null : text(),
    status: r.pick(FIX_STATES),
    severity: r.pick(SEVERITIES),
    severitySource: text(),
    cvss: r.chance(0.3)
      ? null
      : {
          version: r.pick(['2.0', '3.0', '3.1', '4.0'] as const),
          vector: text(),
          score: r.pick(NUMBERS),
          source: text(),
        },
    vendorSeverity: r.chance(0.5)
      ? { source: text(), rating: text(), severity: r.pick(SEVERITIES) }
      : undefined,
    kev: r.chance(0.3),
    kevEntry: r.chance(0.3)
      ? {
          cveId: text(),
          dateAdded: text(),
          dueDate: opt(),
          knownRansomwareCampaignUse: opt(),
          vendorProject: opt(),
          product: opt(),
          name: opt(),
        }
      : undefined,
    epss: r.chance(0.5) ? null : r.pick(NUMBERS),
    epssPercentile: r.chance(0.5) ? null : r.pick(NUMBERS),
    title: opt(),
    description: opt(),
    references: list(),
    cwes: list(),
    published: opt(),
    dataSources: Array.from({ length: r.int(4) }, () => ({
      source: text(),
      namespace: text(),
      advisoryId: text(),
    })),
  });

  const warning = (): MatchWarning => ({ code: text(), message: text() });

  const scan = (packages: number, unknowns: number): ScanResult => ({
    artifact: {
      name: text(),
      kind: r.pick(['registry', 'docker-archive', 'oci-layout', 'rootfs', 'sbom'] as const),
      digest: opt(),
      repoTags: r.chance(0.5) ? list() : undefined,
      repoDigests: r.chance(0.5) ? list() : undefined,
      configDigest: opt(),
      layers: Array.from({ length: r.int(3) }, () => ({
        diffId: text(),
        digest: opt(),
        size: r.pick([undefined, 0, 1, 300_000_000, 2 ** 40]),
      })),
    },
    os: r.chance(0.8)
      ? {
          family: text(),
          version: text(),
          name: opt(),
          prettyName: opt(),
          codename: opt(),
          idLike: r.chance(0.5) ? list() : undefined,
          distroless: bool(),
          source: opt(),
        }
      : undefined,
    packages: Array.from({ length: packages }, pkg),
    unknowns: Array.from({ length: unknowns }, unknown),
    status: 'succeeded',
    startedAt: '2025-01-01T00:00:00Z',
    finishedAt: '2025-01-01T00:00:01Z',
  });

  const request = () => ({
    scanId: r.pick([...texts, '0b9e6a1c-5f1e-4c8e-9a3b-2d1f0e7c6b5a']),
    attempt: r.pick([0, 1, 2, 127, 128, 300, 0xffffffff]),
  });

  return { r, pkg, unknown, finding, warning, scan, request };
}

const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

/** The fast bytes, protobuf-es's bytes of the same chunk built with mapping.ts, and both decoded. */
function inventoryCase(
  head: { scanId: string; attempt: number },
  seq: number,
  scan: ScanResult,
  packages: Package[],
  unknowns: Unknown[],
  first: boolean,
) {
  const lazy = lazyInventoryChunk(seq, first ? { artifact: scan.artifact, os: scan.os } : undefined, {
    packages,
    unknowns,
  });
  const fast = encodeReportChunkRequest(
    create(ReportRequestSchema, { ...head, event: { case: 'inventory', value: lazy } }),
  );
  const expected = create(ReportRequestSchema, {
    ...head,
    event: {
      case: 'inventory',
      value: create(InventoryChunkSchema, {
        seq,
        artifact: first ? toProtoArtifact(scan.artifact) : undefined,
        os: first && scan.os ? toProtoOs(scan.os) : undefined,
        packages: packages.map(toProtoPackage),
        unknowns: unknowns.map(toProtoUnknown),
      }),
    },
  });
  return { fast, expected };
}

function findingsCase(
  head: { scanId: string; attempt: number },
  seq: number,
  findings: Finding[],
  warnings: MatchWarning[],
) {
  const lazy = lazyFindingsChunk(seq, { findings, warnings });
  const fast = encodeReportChunkRequest(
    create(ReportRequestSchema, { ...head, event: { case: 'findings', value: lazy } }),
  );
  const expected = create(ReportRequestSchema, {
    ...head,
    event: {
      case: 'findings',
      value: create(FindingsChunkSchema, {
        seq,
        findings: findings.map(toProtoFinding),
        warnings: warnings.map(toProtoWarning),
      }),
    },
  });
  return { fast, expected };
}

const SEQS = [0, 1, 2, 127, 128, 16_384, 0xffffffff];

describe('report encoder', () => {
  it.each(Array.from({ length: 40 }, (_, i) => [i]))(
    'writes generated inventory chunks exactly as protobuf-es does, and they decode back (seed %i)',
    (seed) => {
      const g = generator(seed, false);
      const scan = g.scan(g.r.pick([0, 1, 3, 40, 200]), g.r.pick([0, 0, 1, 7]));
      const { fast, expected } = inventoryCase(
        g.request(),
        g.r.pick(SEQS),
        scan,
        scan.packages,
        scan.unknowns,
        g.r.chance(0.7),
      );
      const bytes = toBinary(ReportRequestSchema, expected);
      expect({ fast: fast && hex(fast), decoded: fast && fromBinary(ReportRequestSchema, fast) }).toEqual({
        fast: hex(bytes),
        decoded: expected,
      });
    },
  );

  it.each(Array.from({ length: 40 }, (_, i) => [i]))(
    'writes generated findings chunks exactly as protobuf-es does, and they decode back (seed %i)',
    (seed) => {
      const g = generator(1000 + seed, false);
      const findings = Array.from({ length: g.r.pick([0, 1, 4, 30, 120]) }, g.finding);
      const warnings = Array.from({ length: g.r.pick([0, 0, 1, 3]) }, g.warning);
      const { fast, expected } = findingsCase(g.request(), g.r.pick(SEQS), findings, warnings);
      expect({ fast: fast && hex(fast), decoded: fast && fromBinary(ReportRequestSchema, fast) }).toEqual({
        fast: hex(toBinary(ReportRequestSchema, expected)),
        decoded: expected,
      });
    },
  );

  it.each(Array.from({ length: 20 }, (_, i) => [i]))(
    'writes lone surrogates, undefined metadata values and "__proto__" keys as protobuf-es does (seed %i)',
    (seed) => {
      const g = generator(2000 + seed, true);
      const scan = g.scan(60, 3);
      const proto = JSON.parse('{"__proto__": "x", "a": 1}') as Package['metadata'];
      scan.packages.push({ ...g.pkg(), metadata: proto });
      const inventory = inventoryCase(g.request(), seed, scan, scan.packages, scan.unknowns, true);
      const findings = findingsCase(
        g.request(),
        seed,
        Array.from({ length: 30 }, g.finding),
        Array.from({ length: 2 }, g.warning),
      );
      expect({
        inventory: inventory.fast && hex(inventory.fast),
        findings: findings.fast && hex(findings.fast),
      }).toEqual({
        inventory: hex(toBinary(ReportRequestSchema, inventory.expected)),
        findings: hex(toBinary(ReportRequestSchema, findings.expected)),
      });
    },
  );

  it('writes a large inventory (5,000 packages, 4-byte lengths) and zero values as protobuf-es does', () => {
    const g = generator(7, false);
    const scan = g.scan(5_000, 50);
    const zero: Package = { name: '', version: '', ecosystem: '' as Package['ecosystem'], foundBy: '' };
    const falsy: Package = { ...zero, purl: '', declared: false, dev: false, licenses: [''], metadata: {} };
    scan.packages.push(zero, falsy);
    scan.unknowns.push({ path: '', message: '' }, { path: '', message: '', layer: '', source: '' });
    const { fast, expected } = inventoryCase(
      { scanId: '', attempt: 0 },
      0,
      scan,
      scan.packages,
      scan.unknowns,
      true,
    );
    expect({ fast: fast && hex(fast), decoded: fast && fromBinary(ReportRequestSchema, fast) }).toEqual({
      fast: hex(toBinary(ReportRequestSchema, expected)),
      decoded: expected,
    });
  });

  it('encodes the chunks of chunks.ts by hand, the same bytes as protobuf-es once their lists are read', () => {
    const g = generator(11, false);
    const scan = g.scan(2_500, 5);
    const findings = Array.from({ length: 700 }, g.finding);
    const warnings = [{ code: 'VIGIL_OS_UNSUPPORTED', message: 'no tracker for this OS' }];
    const limits = { maxItems: 1000, maxBytes: 256 * 1024 };
    const chunks: ReportRequest[] = [
      ...[...inventoryChunks(scan, limits)].map((value) =>
        create(ReportRequestSchema, { scanId: 's', attempt: 3, event: { case: 'inventory', value } }),
      ),
      ...[...findingsChunks(findings, warnings, limits)].map((value) =>
        create(ReportRequestSchema, { scanId: 's', attempt: 3, event: { case: 'findings', value } }),
      ),
    ];
    const fast = chunks.map((request) => hex(encodeReportRequest(request)));
    const viaHand = chunks.map((request) => encodeReportChunkRequest(request) !== undefined);
    // reading a chunk's lists builds them as mapping.ts does; the chunk then goes through protobuf-es
    const read = chunks.map((request) => {
      const chunk = request.event.value as { packages?: unknown[]; findings?: unknown[] };
      return (chunk.packages ?? chunk.findings)!.length;
    });
    expect({
      viaHand,
      read: read.reduce((a, b) => a + b, 0),
      fast,
      afterRead: chunks.map((request) => encodeReportChunkRequest(request)),
    }).toEqual({
      viaHand: chunks.map(() => true),
      read: 2_500 + 700,
      fast: chunks.map((request) => hex(toBinary(ReportRequestSchema, request))),
      afterRead: chunks.map(() => undefined),
    });
    expect(chunks.length).toBeGreaterThan(4);
  });

  it('leaves other events and ordinary chunk messages to protobuf-es, with its bytes', () => {
    const g = generator(5, false);
    const pkg = toProtoPackage(g.pkg());
    const requests = [
      create(ReportRequestSchema, {
        scanId: 'a',
        attempt: 1,
        event: { case: 'progress', value: { stage: 'match', done: 3, total: 9 } },
      }),
      create(ReportRequestSchema, {
        scanId: 'a',
        attempt: 1,
        event: { case: 'failed', value: { code: 'WRK_SCAN_TIMEOUT', message: 'é', retryable: true } },
      }),
      create(ReportRequestSchema, {
        scanId: 'a',
        attempt: 1,
        event: { case: 'inventory', value: { seq: 2, packages: [pkg] } },
      }),
      create(ReportRequestSchema, { scanId: 'a', attempt: 1 }),
    ];
    expect({
      viaHand: requests.map((request) => encodeReportChunkRequest(request)),
      bytes: requests.map((request) => hex(encodeReportRequest(request))),
    }).toEqual({
      viaHand: requests.map(() => undefined),
      bytes: requests.map((request) => hex(toBinary(ReportRequestSchema, request))),
    });
  });
});
