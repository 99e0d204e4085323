/**
 * The full-scale synthetic snapshot and inventory of bench M1 (matching), deterministic (seeded):
 *
 * snapshot (bench/.work/match-snapshot-v<GEN>-s<schema>.db, built once through SnapshotWriter, reused while present):
 * - nvd: 300,000 CVE records (a CVSS v3.1 vector from a pool of 24, CWE, ~300-character
 *   description, 3 references), no affected rows (NVD never matches);
 * - ghsa: 130,000 advisories over 8 language ecosystems (85 % alias a CVE), 1-4 rows each, 1-2
 *   ranges a row; osv: 80,000 advisories (half PYSEC/GO/RUSTSEC copies of a GHSA, aliasing it and
 *   its CVE);
 * - debian: 66,000 tracker CVEs × 1-3 source packages × 5 releases (fixed / open / not-affected
 *   rows with urgencies); ubuntu: 56,000 UBUNTU-CVE records × 1-3 packages × 4 releases; alpine:
 *   20,000 CVEs × 8 releases; redhat: 40,000 CVEs × 1-3 source rpms × 3 releases;
 * - kev: 1,200 entries; epss: 300,000 scores.
 * ≈ 2.0M affected rows in all.
 *
 * Names are pure functions of an index (`npm-lib-123`), so the inventory is derived without reading
 * the snapshot: 100,000 packages on Debian 12 — 20,000 deb packages of tracker source packages
 * (every one has tracker rows) and 80,000 language packages, some named in advisories and the rest
 * not (`npm-app-…` names are looked up and miss) — with versions by profile (PROFILES below).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Bump when the generated content changes (a new file name). */
export const GEN = 2;

export const COUNTS = {
  nvd: 300_000,
  ghsa: 130_000,
  osv: 80_000,
  debian: 66_000,
  ubuntu: 56_000,
  alpine: 20_000,
  redhat: 40_000,
  kev: 1_200,
  epss: 300_000,
};

/** Package name pools per namespace family (sizes). */
export const POOLS = {
  npm: 40_000,
  pypi: 20_000,
  maven: 15_000,
  golang: 10_000,
  gem: 5_000,
  cargo: 5_000,
  composer: 5_000,
  nuget: 5_000,
  deb: 25_000,
  apk: 6_000,
  rpm: 12_000,
};
const LANGS = ['npm', 'pypi', 'maven', 'golang', 'gem', 'cargo', 'composer', 'nuget'];
const DEBIAN_RELEASES = ['10', '11', '12', '13', 'unstable'];
const UBUNTU_RELEASES = ['20.04', '22.04', '24.04', '24.10'];
const ALPINE_RELEASES = ['3.15', '3.16', '3.17', '3.18', '3.19', '3.20', '3.21', '3.22'];
const RHEL_RELEASES = ['8', '9', '10'];

/** Mulberry32. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const int = (rand, n) => Math.floor(rand() * n);

/** The name of package `i` of a pool, as the feeds store it. */
export function poolName(pool, i) {
  switch (pool) {
    case 'npm':
      return i % 5 === 0 ? `@scope${i % 700}/lib-${i}` : `npm-lib-${i}`;
    case 'pypi':
      return `py-lib-${i}`;
    case 'maven':
      return `org.example${i % 900}:artifact-${i}`;
    case 'golang':
      return `github.com/org${i % 800}/mod-${i}`;
    case 'composer':
      return `vendor${i % 600}/pkg-${i}`;
    case 'deb':
      return `src-${i}`;
    case 'apk':
      return `origin-${i}`;
    case 'rpm':
      return `srpm-${i}`;
    default:
      return `${pool}-lib-${i}`;
  }
}

/** A version `a.b.c` of the language version space (valid in every language scheme). */
export const langVersion = (rand) => `${int(rand, 6)}.${int(rand, 20)}.${int(rand, 30)}`;
/** A Debian source version. */
export const debVersion = (rand) =>
  `${1 + int(rand, 5)}.${int(rand, 20)}.${int(rand, 10)}-${1 + int(rand, 4)}+deb12u${int(rand, 4)}`;
const apkVersion = (rand) => `${1 + int(rand, 5)}.${int(rand, 20)}.${int(rand, 10)}-r${int(rand, 6)}`;
const rpmVersion = (rand, major) =>
  `${1 + int(rand, 5)}.${int(rand, 20)}.${int(rand, 10)}-${1 + int(rand, 30)}.el${major}`;

const cveId = (i) => `CVE-${2000 + (i % 26)}-${String(10_000 + i)}`;
const ghsaId = (i) => {
  const s = ((i * 2654435761) >>> 0).toString(36).padStart(7, '0');
  return `GHSA-${s.slice(0, 4)}-${s.slice(4, 7)}${i % 10}-${String(i).padStart(6, '0').slice(-4)}`;
};
const VECTORS = Array.from({ length: 24 }, (_, k) => {
  const pick = (xs, n) => xs[(k >> n) % xs.length];
  return `CVSS:3.1/AV:${pick(['N', 'A', 'L'], 0)}/AC:${pick(['L', 'H'], 1)}/PR:${pick(['N', 'L', 'H'], 2)}/UI:N/S:U/C:${pick(['H', 'L', 'N'], 1)}/I:${pick(['H', 'N'], 3)}/A:H`;
});
const WORDS =
  'buffer overflow allows remote attackers to execute arbitrary code via crafted input in the parser of the library when handling malformed requests leading to denial of service or information disclosure'.split(
    ' ',
  );
const text = (rand, n) => Array.from({ length: n }, () => WORDS[int(rand, WORDS.length)]).join(' ');
const base = { aliases: [], cvss: [], vendorSeverities: [], cwes: [], references: [] };
const record = (vulnerability, affected = []) => ({
  type: 'vulnerability',
  vulnerability: { ...base, ...vulnerability },
  affected,
});

function langRows(rand, id, eco, n) {
  const rows = [];
  for (let k = 0; k < n; k++) {
    const name = poolName(eco, int(rand, POOLS[eco]));
    const ranges = [];
    const major = int(rand, 6);
    ranges.push({
      type: 'ECOSYSTEM',
      events: [
        { introduced: rand() < 0.5 ? '0' : `${major}.0.0` },
        { fixed: `${major}.${int(rand, 20)}.${int(rand, 30)}` },
      ],
    });
    if (rand() < 0.3)
      ranges.push({
        type: 'ECOSYSTEM',
        events: [
          { introduced: `${major + 1}.0.0` },
          { fixed: `${major + 1}.${int(rand, 20)}.${int(rand, 30)}` },
        ],
      });
    const fixed = ranges[0].events[1].fixed;
    rows.push({
      vulnId: id,
      namespace: eco,
      packageName: name,
      fixState: 'fixed',
      ranges,
      fixedVersion: fixed,
    });
  }
  return rows;
}

async function* nvd() {
  const rand = prng(1);
  for (let i = 0; i < COUNTS.nvd; i++) {
    const id = cveId(i);
    yield record({
      id,
      description: text(rand, 45),
      published: `20${String(10 + (i % 16)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}T10:00:00.000Z`,
      cvss: [
        { version: '3.1', vector: VECTORS[i % VECTORS.length], source: 'nvd@nist.gov', type: 'Primary' },
      ],
      cwes: [`CWE-${20 + (i % 700)}`],
      references: [
        `https://example.org/advisory/${id}`,
        `https://bugs.example.com/${i}`,
        `https://git.example.com/commit/${(i * 7919).toString(16)}`,
      ],
    });
  }
}

async function* ghsa() {
  const rand = prng(2);
  for (let i = 0; i < COUNTS.ghsa; i++) {
    const id = ghsaId(i);
    const eco = LANGS[i % LANGS.length];
    yield record(
      {
        id,
        aliases: rand() < 0.85 ? [cveId(int(rand, COUNTS.nvd))] : [],
        title: text(rand, 8),
        description: text(rand, 30),
        cvss: [{ version: '3.1', vector: VECTORS[(i * 7) % VECTORS.length], source: 'ghsa' }],
        vendorSeverities: [{ source: 'ghsa', rating: 'MODERATE', severity: 'MEDIUM' }],
        references: [`https://github.com/advisories/${id}`],
      },
      langRows(rand, id, eco, 1 + int(rand, 4)),
    );
  }
}

async function* osv() {
  const rand = prng(3);
  for (let i = 0; i < COUNTS.osv; i++) {
    const copy = i % 2 === 0;
    const eco = copy ? ['pypi', 'golang', 'cargo'][i % 3] : LANGS[i % LANGS.length];
    const prefix = { pypi: 'PYSEC', golang: 'GO', cargo: 'RUSTSEC' }[eco] ?? 'OSV';
    const id = `${prefix}-${2015 + (i % 10)}-${i}`;
    const aliases = copy ? [ghsaId(int(rand, COUNTS.ghsa)), cveId(int(rand, COUNTS.nvd))] : [];
    yield record({ id, aliases, description: text(rand, 25) }, langRows(rand, id, eco, 1 + int(rand, 3)));
  }
}

async function* debian() {
  const rand = prng(4);
  const urgencies = ['low', 'medium', 'high', 'unimportant', 'not yet assigned'];
  for (let i = 0; i < COUNTS.debian; i++) {
    const id = cveId(int(rand, COUNTS.nvd));
    for (let p = 1 + int(rand, 3); p > 0; p--) {
      const pkg = poolName('deb', int(rand, POOLS.deb));
      const affected = DEBIAN_RELEASES.map((rel) => {
        const r = rand();
        const urgency = urgencies[int(rand, urgencies.length)];
        const severity = {
          source: 'debian',
          rating: urgency,
          severity:
            urgency === 'high'
              ? 'HIGH'
              : urgency === 'medium'
                ? 'MEDIUM'
                : urgency === 'not yet assigned'
                  ? 'UNKNOWN'
                  : 'LOW',
        };
        const row = {
          vulnId: id,
          namespace: `debian:${rel}`,
          packageName: pkg,
          severity,
          extra: { release: rel },
        };
        if (r < 0.7) {
          const fixed = debVersion(rand);
          return {
            ...row,
            fixState: 'fixed',
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
            fixedVersion: fixed,
          };
        }
        return {
          ...row,
          fixState: r < 0.85 ? 'unfixed' : r < 0.95 ? 'will-not-fix' : 'not-affected',
          ranges: [],
        };
      });
      yield record(
        {
          id,
          description: text(rand, 20),
          references: [`https://security-tracker.debian.org/tracker/${id}`],
        },
        affected,
      );
    }
  }
}

async function* ubuntu() {
  const rand = prng(5);
  for (let i = 0; i < COUNTS.ubuntu; i++) {
    const cve = cveId(int(rand, COUNTS.nvd));
    const id = `UBUNTU-${cve}`;
    const affected = [];
    for (let p = 1 + int(rand, 3); p > 0; p--) {
      const pkg = poolName('deb', int(rand, POOLS.deb));
      for (const rel of UBUNTU_RELEASES) {
        const fixed = `${1 + int(rand, 5)}.${int(rand, 20)}.${int(rand, 10)}-${1 + int(rand, 4)}ubuntu${int(rand, 5)}`;
        affected.push(
          rand() < 0.8
            ? {
                vulnId: id,
                namespace: `ubuntu:${rel}`,
                packageName: pkg,
                fixState: 'fixed',
                ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
                fixedVersion: fixed,
              }
            : { vulnId: id, namespace: `ubuntu:${rel}`, packageName: pkg, fixState: 'unfixed', ranges: [] },
        );
      }
    }
    yield record(
      { id, aliases: [cve], vendorSeverities: [{ source: 'ubuntu', rating: 'medium', severity: 'MEDIUM' }] },
      affected,
    );
  }
}

async function* alpine() {
  const rand = prng(6);
  for (let i = 0; i < COUNTS.alpine; i++) {
    const id = cveId(int(rand, COUNTS.nvd));
    const pkg = poolName('apk', int(rand, POOLS.apk));
    const affected = ALPINE_RELEASES.map((rel) => {
      const fixed = apkVersion(rand);
      return {
        vulnId: id,
        namespace: `alpine:${rel}`,
        packageName: pkg,
        fixState: 'fixed',
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
        fixedVersion: fixed,
        extra: { repository: 'main' },
      };
    });
    yield record({ id }, affected);
  }
}

async function* redhat() {
  const rand = prng(7);
  for (let i = 0; i < COUNTS.redhat; i++) {
    const id = cveId(int(rand, COUNTS.nvd));
    const affected = [];
    for (let p = 1 + int(rand, 3); p > 0; p--) {
      const pkg = poolName('rpm', int(rand, POOLS.rpm));
      for (const rel of RHEL_RELEASES) {
        const fixed = rpmVersion(rand, rel);
        affected.push({
          vulnId: id,
          namespace: `rhel:${rel}`,
          packageName: pkg,
          fixState: 'fixed',
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
          fixedVersion: fixed,
          severity: { source: 'redhat', rating: 'Moderate', severity: 'MEDIUM' },
        });
      }
    }
    yield record(
      {
        id,
        cvss: [{ version: '3.1', vector: VECTORS[i % VECTORS.length], source: 'redhat' }],
        vendorSeverities: [{ source: 'redhat', rating: 'Moderate', severity: 'MEDIUM' }],
      },
      affected,
    );
  }
}

async function* kev() {
  for (let i = 0; i < COUNTS.kev; i++)
    yield {
      type: 'kev',
      entry: { cveId: cveId(i * 211), dateAdded: '2024-01-01', vendorProject: 'Example', product: 'Lib' },
    };
}

async function* epss() {
  const rand = prng(8);
  for (let i = 0; i < COUNTS.epss; i++)
    yield {
      type: 'epss',
      entry: {
        cveId: cveId(i),
        score: Math.round(rand() * 1e5) / 1e5,
        percentile: Math.round(rand() * 1e5) / 1e5,
        date: '2026-11-26',
      },
    };
}

const SOURCES = { nvd, ghsa, osv, debian, ubuntu, alpine, redhat, kev, epss };

/**
 * Builds the snapshot when missing (≈ 1 minute) and returns its path and build facts.
 * @param engine the `@vigil/engine` module
 */
export async function matchSnapshot(engine, work, log) {
  mkdirSync(work, { recursive: true });
  // the schema version in the name: a snapshot of another schema is rebuilt, not misread
  const path = join(work, `match-snapshot-v${GEN}-s${engine.SNAPSHOT_SCHEMA_VERSION}.db`);
  if (existsSync(path)) return { path, built: false };
  log(`building the synthetic snapshot ${path} (≈2M affected rows)…`);
  const t = performance.now();
  const writer = await engine.SnapshotWriter.create({
    target: path,
    now: () => new Date('2026-11-27T00:00:00Z'),
  });
  for (const [name, gen] of Object.entries(SOURCES)) {
    const meta = await writer.applySource({ name, version: 1 }, 'full', gen());
    log(`  ${name}: ${JSON.stringify(meta.counts)}`);
  }
  await writer.finalize();
  return { path, built: true, buildMs: performance.now() - t };
}

/**
 * Inventory profiles:
 * - `typical`: installed trees lean to current releases. deb: 85 % of packages at the release's
 *   current version (above every fix, so only open / will-not-fix tracker rows apply, about one
 *   finding per package as real Debian images show), 15 % outdated (random versions); language
 *   packages: 10 % named in advisories (most packages of a real tree have none), 70 % of those at
 *   a current major (7.x, above every range), 30 % random.
 * - `heavy`: every version random in the advisories' space and 25 % of language packages named in
 *   advisories: about 3× the findings of `typical` (a stress case, reported as info).
 */
export const PROFILES = {
  typical: { debCurrent: 0.85, named: 0.1, langCurrent: 0.7, currentMajor: 7 },
  heavy: { debCurrent: 0, named: 0.25, langCurrent: 0.6, currentMajor: 5 },
};

/**
 * The bench inventory: 100,000 packages on Debian 12 and the lookup keys matching queries for them.
 * @returns `{ scan, keys }` (keys: debian:12 source names, language namespaces and names)
 */
export function matchInventoryFixture(profile = 'typical', total = 100_000, debShare = 0.2) {
  const p = PROFILES[profile];
  const rand = prng(42);
  const packages = [];
  const debCount = Math.round(total * debShare);
  for (let i = 0; i < debCount; i++) {
    const src = poolName('deb', int(rand, POOLS.deb));
    const version = rand() < p.debCurrent ? `9.${int(rand, 5)}.0-1+deb12u${int(rand, 3)}` : debVersion(rand);
    packages.push({
      name: `${src}-bin${i % 3}`,
      version,
      ecosystem: 'deb',
      srcName: src,
      srcVersion: version,
      foundBy: 'os/dpkg',
    });
  }
  for (let i = debCount; i < total; i++) {
    const eco = LANGS[i % LANGS.length];
    const name = rand() < p.named ? poolName(eco, int(rand, POOLS[eco])) : `${eco}-app-${i}`;
    const v =
      rand() < p.langCurrent ? `${p.currentMajor}.${int(rand, 20)}.${int(rand, 30)}` : langVersion(rand);
    packages.push({
      name,
      version: eco === 'golang' ? `v${v}` : v,
      ecosystem: eco,
      path: `app/${eco}/${i}`,
      foundBy: `lang/${eco}`,
    });
  }
  const keys = packages.map((p) =>
    p.ecosystem === 'deb'
      ? { namespace: 'debian:12', packageName: p.srcName }
      : { namespace: p.ecosystem, packageName: p.name },
  );
  const now = new Date('2026-11-27T00:00:00Z').toISOString();
  return {
    scan: {
      artifact: { name: `bench-m1-${profile}`, kind: 'rootfs' },
      os: { family: 'debian', version: '12.5' },
      packages,
      unknowns: [],
      status: 'succeeded',
      startedAt: now,
      finishedAt: now,
    },
    keys,
  };
}
