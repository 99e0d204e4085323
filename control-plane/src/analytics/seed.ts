/**
 * Synthetic but realistic analytics data for benchmarks and tests: `seedAnalytics(store, {orgId, images: 10_000,
 * findingsPerImage: 500})` writes and publishes one scan per image through the store's own batch paths.
 * Deterministic for a given `seed`. Realistic in the ways the queries care about: CVE ids with GHSA aliases for a
 * third of them, a skewed popularity (a few vulnerabilities in most images, a long tail in few, as base layers
 * make it), severities about 5% critical / 25% high / 45% medium / 20% low / 5% unknown, ~60% fixable, OS and
 * language packages, and Finding JSON of the engine's full shape (~1 kB with description and references).
 */
import type { Ecosystem, Finding, Package, Severity } from '@vigil/engine';
import type { ClickHouseAnalyticsStore } from './store.js';
import type { AttemptRows, PublishScan } from './types.js';

/** Options of {@link seedAnalytics}. */
export interface SeedOptions {
  orgId: string;
  images: number;
  findingsPerImage: number;
  /** Inventory size per image at least (default 200; more when the findings' packages are more). */
  packagesPerImage?: number;
  /** Vulnerabilities in the head of the distribution (default 20,000); the tail is 100 times larger. */
  vulnerabilities?: number;
  /** PRNG seed (default 1): the same options give the same data. */
  seed?: number;
  /** Images written per insert (default 20: 10,000 findings per insert at 500 per image). */
  imagesPerBatch?: number;
  /** Completion time of the first image's scan; the next ones follow a millisecond apart (default 2025-01-01). */
  completedAt?: Date;
  onProgress?: (imagesDone: number) => void;
}

/** What was written: ids to query with. */
export interface SeedResult {
  /** Sorted. */
  imageIds: string[];
  /** The scan (attempt 1) of imageIds[i] is scanIds[i]. */
  scanIds: string[];
  findings: number;
  packages: number;
  /** The vulnerability present in the most images, and how many. */
  common: { id: string; images: number };
  /** A vulnerability present in exactly one to five images (null if none is). */
  rare: { id: string; images: number } | null;
  /** An alias (GHSA id) of a vulnerability present in several images. */
  alias: { alias: string; id: string; images: number } | null;
}

const SEVERITY_WEIGHTS: ReadonlyArray<[Severity, number]> = [
  ['CRITICAL', 0.05],
  ['HIGH', 0.25],
  ['MEDIUM', 0.45],
  ['LOW', 0.2],
  ['UNKNOWN', 0.05],
];
/** Distinct packages across the fleet. */
const PACKAGE_POOL = 3000;
const ECOSYSTEMS: readonly Ecosystem[] = ['deb', 'deb', 'deb', 'apk', 'npm', 'pypi', 'golang', 'maven'];
const WORDS = [
  'buffer',
  'overflow',
  'in',
  'parser',
  'allows',
  'remote',
  'attackers',
  'to',
  'cause',
  'denial',
  'of',
  'service',
  'via',
  'crafted',
  'input',
  'heap',
  'use-after-free',
  'header',
  'certificate',
  'validation',
];

/** mulberry32: a small deterministic PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random UUID-shaped id from `rand`. */
export function syntheticUuid(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

interface Vulnerability {
  id: string;
  aliases: string[];
  severity: Severity;
  score: number;
  title: string;
  description: string;
  references: string[];
  cwes: string[];
  published: string;
  kev: boolean;
  epss: number;
}

function pickSeverity(r: number): Severity {
  let acc = 0;
  for (const [severity, weight] of SEVERITY_WEIGHTS) {
    acc += weight;
    if (r < acc) return severity;
  }
  return 'UNKNOWN';
}

function sentence(rand: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(rand() * WORDS.length)]!).join(' ');
}

/**
 * The vulnerabilities draws come from: index i is always the same vulnerability for a given seed (made from a
 * PRNG seeded by (seed, i)), so the long tail needs no table; the head, drawn again and again, is cached.
 */
function vulnerabilityCatalogue(seed: number, head: number): (i: number) => Vulnerability {
  const cache = new Map<number, Vulnerability>();
  return (i) => {
    const cached = cache.get(i);
    if (cached) return cached;
    const vuln = makeVulnerability(prng(seed * 1_000_003 + i), i);
    if (i < head) cache.set(i, vuln);
    return vuln;
  };
}

function makeVulnerability(rand: () => number, i: number): Vulnerability {
  const year = 2014 + (i % 11);
  const id = `CVE-${year}-${String(10_000 + i).padStart(5, '0')}`;
  const severity = pickSeverity(rand());
  const ghsa = rand() < 0.33;
  const alias = `GHSA-${Math.floor(rand() * 0xffffff)
    .toString(36)
    .padStart(4, 'x')
    .slice(0, 4)}-${i.toString(36).padStart(4, 'q')}-${Math.floor(rand() * 0xffffff)
    .toString(36)
    .padStart(4, 'z')
    .slice(0, 4)}`;
  return {
    id,
    aliases: ghsa ? [alias] : [],
    severity,
    score: { CRITICAL: 9.8, HIGH: 7.5, MEDIUM: 5.3, LOW: 3.1, UNKNOWN: 0 }[severity],
    title: `${sentence(rand, 6)} (${id})`,
    description: sentence(rand, 24),
    references: [
      `https://nvd.nist.gov/vuln/detail/${id}`,
      `https://security-tracker.debian.org/tracker/${id}`,
    ],
    cwes: [`CWE-${20 + Math.floor(rand() * 900)}`],
    published: new Date(Date.UTC(year, Math.floor(rand() * 12), 1 + Math.floor(rand() * 28))).toISOString(),
    kev: rand() < 0.01,
    epss: Math.round(rand() * 1000) / 1000,
  };
}

/**
 * One draw: 90% from the head (`head` vulnerabilities, skewed by rand³ so a few are in nearly every image, as
 * base layers make it), 10% from a long tail 100 times larger (each in a handful of images at most).
 */
function drawVulnerability(rand: () => number, head: number): number {
  return rand() < 0.9 ? Math.floor(head * rand() ** 3) : head + Math.floor(rand() * head * 100);
}

/** A package of `ecosystem` named from `n`, as an analyzer reports it. */
export function syntheticPackage(ecosystem: Ecosystem, n: number, layer: string): Package {
  const name = ecosystem === 'maven' ? `org.example:lib${n}` : `pkg${n}`;
  const version =
    ecosystem === 'deb' ? `1.${n % 17}.${n % 5}-${1 + (n % 3)}+deb12u1` : `${1 + (n % 9)}.${n % 13}.${n % 7}`;
  const os = ecosystem === 'deb' || ecosystem === 'apk';
  return {
    name,
    version,
    ecosystem,
    purl: `pkg:${ecosystem}/${name}@${version}`,
    ...(os ? { srcName: name, srcVersion: version } : { path: `app/node_modules/${name}/package.json` }),
    layer,
    foundBy: os ? `os/${ecosystem === 'deb' ? 'dpkg' : 'apk'}` : `lang/${ecosystem}`,
  };
}

/** A finding of `vuln` in `pkg`. */
function syntheticFinding(vuln: Vulnerability, pkg: Package, fixable: boolean): Finding {
  return {
    id: vuln.id,
    aliases: vuln.aliases,
    package: pkg,
    installedVersion: pkg.version,
    fixedVersion: fixable ? `${pkg.version}.1` : null,
    status: fixable ? 'fixed' : 'unfixed',
    severity: vuln.severity,
    severitySource: vuln.severity === 'UNKNOWN' ? 'none' : 'cvss:nvd@nist.gov',
    cvss:
      vuln.severity === 'UNKNOWN'
        ? null
        : {
            version: '3.1',
            vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
            score: vuln.score,
            source: 'nvd@nist.gov',
          },
    kev: vuln.kev,
    epss: vuln.epss,
    epssPercentile: vuln.epss,
    title: vuln.title,
    description: vuln.description,
    references: vuln.references,
    cwes: vuln.cwes,
    published: vuln.published,
    dataSources: [{ source: 'debian', namespace: 'debian:12', advisoryId: vuln.id }],
  };
}

/** One image's generated scan. */
interface ImageScan {
  rows: AttemptRows;
  publish: PublishScan;
  vulnerabilities: number[];
}

/**
 * Generates one image: its findings are `findingsPerImage` distinct vulnerabilities (see drawVulnerability),
 * each in the package it belongs to (vulnerability v affects package v mod PACKAGE_POOL, so CVE-X is in the same
 * package everywhere); the inventory is those packages plus others up to `packagesPerImage`.
 */
function generateImage(
  rand: () => number,
  catalogue: { at: (i: number) => Vulnerability; head: number },
  options: { findingsPerImage: number; packagesPerImage: number },
  ids: { imageId: string; scanId: string; completedAt: Date },
): ImageScan {
  const layer = `sha256:${syntheticUuid(rand).replace(/-/g, '')}`;
  const packageOf = new Map<number, Package>();
  const pkgFor = (n: number) => {
    let p = packageOf.get(n);
    if (!p) packageOf.set(n, (p = syntheticPackage(ECOSYSTEMS[n % ECOSYSTEMS.length]!, n, layer)));
    return p;
  };
  const vulns = new Set<number>();
  const wanted = Math.min(options.findingsPerImage, catalogue.head);
  while (vulns.size < wanted) vulns.add(drawVulnerability(rand, catalogue.head));
  const findings = [...vulns].map((v) =>
    syntheticFinding(catalogue.at(v), pkgFor(v % PACKAGE_POOL), rand() < 0.6),
  );
  const inventorySize = Math.min(options.packagesPerImage, PACKAGE_POOL);
  for (let n = Math.floor(rand() * PACKAGE_POOL); packageOf.size < inventorySize; n++)
    pkgFor(n % PACKAGE_POOL);
  return {
    rows: { scanId: ids.scanId, attempt: 1, packages: [...packageOf.values()], findings },
    publish: {
      scanId: ids.scanId,
      attempt: 1,
      digest: `sha256:${ids.scanId.replace(/-/g, '')}${ids.imageId.replace(/-/g, '')}`,
      imageIds: [ids.imageId],
      completedAt: ids.completedAt,
      os: { family: 'debian', version: '12', codename: 'bookworm' },
    },
    vulnerabilities: [...vulns],
  };
}

/**
 * Writes and publishes `images` scans (attempt 1 each, one image per scan) through the store's batch paths,
 * `imagesPerBatch` images per insert. Generating the next batch overlaps writing the previous one (chdb and
 * HTTP inserts run off the event loop).
 */
export async function seedAnalytics(
  store: ClickHouseAnalyticsStore,
  options: SeedOptions,
): Promise<SeedResult> {
  const rand = prng(options.seed ?? 1);
  const head = Math.max(1, options.vulnerabilities ?? 20_000);
  const catalogue = { at: vulnerabilityCatalogue(options.seed ?? 1, head), head };
  const shape = {
    findingsPerImage: options.findingsPerImage,
    packagesPerImage: options.packagesPerImage ?? 200,
  };
  const perBatch = Math.max(1, options.imagesPerBatch ?? 20);
  const start = (options.completedAt ?? new Date(Date.UTC(2025, 0, 1))).getTime();
  const imagesWith = new Map<number, number>();
  const imageIds = Array.from({ length: options.images }, () => syntheticUuid(rand));
  const scanIds = imageIds.map(() => syntheticUuid(rand));
  let findings = 0;
  let packages = 0;

  let writing: Promise<void> = Promise.resolve();
  for (let first = 0; first < options.images; first += perBatch) {
    const batch: ImageScan[] = [];
    for (let i = first; i < Math.min(first + perBatch, options.images); i++) {
      const image = generateImage(rand, catalogue, shape, {
        imageId: imageIds[i]!,
        scanId: scanIds[i]!,
        completedAt: new Date(start + i),
      });
      for (const v of image.vulnerabilities) imagesWith.set(v, (imagesWith.get(v) ?? 0) + 1);
      findings += image.rows.findings!.length;
      packages += image.rows.packages!.length;
      batch.push(image);
    }
    await writing;
    const done = first + batch.length;
    writing = (async () => {
      await store.appendBatch(
        options.orgId,
        batch.map((b) => b.rows),
      );
      await store.publishScans(
        options.orgId,
        batch.map((b) => b.publish),
      );
      options.onProgress?.(done);
    })();
  }
  await writing;

  // In index order: the head first, so `common` and `alias` are the most widespread of their kind.
  const counted = [...imagesWith].sort(([a], [b]) => a - b);
  const common = counted.reduce((best, entry) => (entry[1] > best[1] ? entry : best), [0, 0]);
  const rare = counted.find(([, n]) => n <= 5);
  const aliased = counted.find(([v, n]) => n >= 2 && catalogue.at(v).aliases.length > 0);
  const order = imageIds
    .map((id, i) => [id, scanIds[i]!] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    imageIds: order.map(([id]) => id),
    scanIds: order.map(([, scan]) => scan),
    findings,
    packages,
    common: { id: catalogue.at(common[0]).id, images: common[1] },
    rare: rare ? { id: catalogue.at(rare[0]).id, images: rare[1] } : null,
    alias: aliased
      ? { alias: catalogue.at(aliased[0]).aliases[0]!, id: catalogue.at(aliased[0]).id, images: aliased[1] }
      : null,
  };
}
