/**
 * The synthetic feed set of benches D1/D2, in the feeds' NATIVE formats, generated once into
 * bench/.work/feeds-v<GEN>/ (gitignored) and reused while present. Deterministic (seeded PRNG).
 * Record shapes follow the real samples in /work/shared/realdata/feeds (PROVENANCE.md):
 * - nvd/page-NNN.json: NVD CVE API 2.0 responses (`resultsPerPage` 2,000, `startIndex`,
 *   `totalResults`, `format` NVD_CVE, `version` 2.0, `vulnerabilities[].cve`): 300,000 CVEs with
 *   en (and some es) descriptions, cvssMetricV31 (NVD Primary, some CNA Secondary), cvssMetricV2
 *   for older CVEs, cvssMetricV40 for some recent ones (base scores from scoreCvss), weaknesses,
 *   CPE configurations and references; 1 % are `Rejected`.
 * - osv/<Ecosystem>/all.zip: the osv.dev export per ecosystem, one `<id>.json` per advisory
 *   (deflated): 200,000 advisories over npm, PyPI, Go, Maven, RubyGems, crates.io, Packagist and
 *   NuGet; GHSA ids (PYSEC, GO and RUSTSEC where those databases publish), aliases to the NVD
 *   CVEs, ECOSYSTEM/SEMVER ranges (some with two ranges, PYSEC with `versions` lists), severity
 *   vectors, database_specific as GitHub writes it.
 * - debian/tracker.json: the security tracker document (`{package: {CVE: {description, scope,
 *   debianbug, releases: {codename: {status, repositories, fixed_version, urgency, nodsa…}}}}}`)
 *   with 50,000 CVEs over 15,000 source packages and 4 releases (bullseye, bookworm, trixie, sid).
 * - alpine/v3.X/{main,community}.json: secdb documents of 3.12–3.22.
 * Package names are drawn with a skew (popular packages collect many advisories), so a key that
 * hits holds a few rows on average and a few keys hold hundreds.
 *
 * Also writes, outside the feed directory, the manifest bench/.work/feeds-v<GEN>.json (counts,
 * expected affected rows, bytes, build time) and the lookup key sets of D2 (hit keys as Vigil
 * names them: namespace `npm`, `pypi`, `golang`, `maven`, `gem`, `cargo`, `composer`, `nuget`,
 * `debian:<n>`, `alpine:<x.y>`; miss keys: names of the same shapes that no feed mentions).
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { WORK } from './fixtures.mjs';
import { ZipWriter } from './db-zip.mjs';

/** Bump when the generated content changes (a new directory). */
export const GEN = 1;
export const FEEDS_DIR = join(WORK, `feeds-v${GEN}`);
export const FEEDS_MANIFEST = join(WORK, `feeds-v${GEN}.json`);

const NVD_CVES = 300_000;
const NVD_PAGE = 2_000;
/** advisories per ecosystem (200,000) and the size of its package-name pool */
const OSV = {
  npm: { advisories: 50_000, pool: 30_000, ns: 'npm' },
  PyPI: { advisories: 30_000, pool: 15_000, ns: 'pypi' },
  Go: { advisories: 22_000, pool: 9_000, ns: 'golang' },
  Maven: { advisories: 38_000, pool: 24_000, ns: 'maven' },
  RubyGems: { advisories: 10_000, pool: 4_000, ns: 'gem' },
  'crates.io': { advisories: 12_000, pool: 6_000, ns: 'cargo' },
  Packagist: { advisories: 24_000, pool: 9_000, ns: 'composer' },
  NuGet: { advisories: 14_000, pool: 6_000, ns: 'nuget' },
};
const DEBIAN_CVES = 50_000;
const DEBIAN_PACKAGES = 15_000;
const DEBIAN_RELEASES = { bullseye: '11', bookworm: '12', trixie: '13', sid: 'unstable' };
const ALPINE_RELEASES = [
  '3.12',
  '3.13',
  '3.14',
  '3.15',
  '3.16',
  '3.17',
  '3.18',
  '3.19',
  '3.20',
  '3.21',
  '3.22',
];
const ALPINE_PACKAGES = { main: 1_600, community: 3_000 };

/** Mulberry32. */
function prng(seed) {
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
const pick = (rand, xs) => xs[int(rand, xs.length)];
/** index in [0, n) skewed towards 0: a few popular packages collect many advisories */
const skewed = (rand, n) => Math.floor(n * rand() ** 2.4);

const WORDS = `
  access account adapter agent api archive array async auth auto backend base batch bean bind bit
  blob block boot bridge buffer build bundle byte cache call canvas cert chain channel chart check
  cipher class cli client cloud cluster codec color config connect console context cookie core
  crypto css data date debug decode deep deploy dev dialog diff digest dom driver dump edge editor
  email encode engine entity env event express extract fast feed fetch field file filter flow form
  format frame fs gateway gen git glob graph grid guard hash header helper hook host html http icon
  image index info init input io jar java json jwt kafka kernel key lang layout lazy lib link lint
  list load lock log loop mail map markdown match media merge meta micro mime mock model module
  mongo mount net node oauth object open orm pack page parse path pdf pipe plugin point pool port
  post proxy pub query queue quick react read redis remote render report request resolve rest route
  rpc rss runtime safe sax scan schema scope secure serial server session shell sign simple site
  slug socket sort source spec sql ssh stack state static store stream string style sync table tag
  task template test text theme thread time token tool trace tree type ui upload uri url user util
  valid value vector view vue watch web widget worker xml yaml zip`
  .trim()
  .split(/\s+/);
const W = WORDS.length;
const word = (i) => WORDS[i % W];

/** Package name `i` of an ecosystem's pool, as the ecosystem spells it (PyPI: normalised). */
function poolName(eco, i) {
  const a = word(i);
  const b = word(Math.floor(i / W) + 7);
  const n = Math.floor(i / (W * W));
  const tail = n ? `${n}` : '';
  switch (eco) {
    case 'npm':
      return i % 5 === 0 ? `@${b}${tail}/${a}` : `${a}-${b}${tail}`;
    case 'PyPI':
      return `py${a}-${b}${tail}`;
    case 'Go':
      return i % 40 === 0 ? `golang.org/x/${a}${tail}` : `github.com/${b}${tail}/${a}`;
    case 'Maven':
      // artifacts of one group are neighbours: multi-artifact advisories take a run of them
      return `org.${word(Math.floor(i / 6))}${Math.floor(i / (6 * W)) || ''}:${word(Math.floor(i / 6) + 3)}-${a}`;
    case 'RubyGems':
      return `${a}_${b}${tail}`;
    case 'crates.io':
      return `${a}-${b}${tail}-rs`;
    case 'Packagist':
      return `${b}${tail}/${a}`;
    case 'NuGet':
      return `${b[0].toUpperCase()}${b.slice(1)}${tail}.${a[0].toUpperCase()}${a.slice(1)}`;
    case 'debian':
      return i % 9 === 0 ? `lib${a}${b}${tail}` : `${a}${b}${tail}`;
    case 'alpine':
      return i % 7 === 0 ? `py3-${a}${b}${tail}` : `${a}-${b}${tail}`;
    default:
      throw new Error(eco);
  }
}

const cveId = (i) => `CVE-${1999 + Math.floor(i / 11_200)}-${String(1_000 + (i % 11_200)).padStart(4, '0')}`;
const cveYear = (i) => 1999 + Math.floor(i / 11_200);
const B32 = '23456789cfghjmpqrvwx';
const ghsaId = (rand) =>
  `GHSA-${[4, 4, 4].map((n) => Array.from({ length: n }, () => B32[int(rand, 20)]).join('')).join('-')}`;
const sentence = (rand, n) => {
  const w = Array.from({ length: n }, () => pick(rand, WORDS));
  return `${w[0][0].toUpperCase()}${w[0].slice(1)} ${w.slice(1).join(' ')}.`;
};
const text = (rand, sentences) =>
  Array.from({ length: sentences }, () => sentence(rand, 8 + int(rand, 14))).join(' ');
const isoDate = (year, rand) =>
  `${year}-${String(1 + int(rand, 12)).padStart(2, '0')}-${String(1 + int(rand, 28)).padStart(2, '0')}T${String(int(rand, 24)).padStart(2, '0')}:15:${String(int(rand, 60)).padStart(2, '0')}.${String(int(rand, 1000)).padStart(3, '0')}`;
const version = (rand, major = int(rand, 8)) => `${major}.${int(rand, 20)}.${int(rand, 30)}`;

/** CVSS vector pools with the base scores scoreCvss gives them (filled in by `scoreVectors`). */
const V31 = [
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N',
  'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
  'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
  'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N',
  'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H',
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N',
  'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N',
  'CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N',
  'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H',
  'CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
];
const V2 = [
  'AV:N/AC:L/Au:N/C:P/I:P/A:P',
  'AV:N/AC:M/Au:N/C:N/I:P/A:N',
  'AV:N/AC:L/Au:N/C:N/I:N/A:P',
  'AV:L/AC:L/Au:N/C:C/I:C/A:C',
  'AV:N/AC:M/Au:N/C:P/I:P/A:P',
  'AV:N/AC:L/Au:S/C:P/I:N/A:N',
];
const V40 = [
  'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
  'CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N',
  'CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
];
const V2_NAMES = {
  AV: 'accessVector',
  AC: 'accessComplexity',
  Au: 'authentication',
  C: 'confidentialityImpact',
  I: 'integrityImpact',
  A: 'availabilityImpact',
};
const V2_VALUES = {
  N: 'NETWORK',
  A: 'ADJACENT_NETWORK',
  L: 'LOCAL',
  M: 'MEDIUM',
  H: 'HIGH',
  S: 'SINGLE',
  P: 'PARTIAL',
  C: 'COMPLETE',
};
const V3_NAMES = {
  AV: 'attackVector',
  AC: 'attackComplexity',
  PR: 'privilegesRequired',
  UI: 'userInteraction',
  S: 'scope',
  C: 'confidentialityImpact',
  I: 'integrityImpact',
  A: 'availabilityImpact',
};
const V3_VALUES = {
  AV: { N: 'NETWORK', A: 'ADJACENT_NETWORK', L: 'LOCAL', P: 'PHYSICAL' },
  AC: { L: 'LOW', H: 'HIGH' },
  PR: { N: 'NONE', L: 'LOW', H: 'HIGH' },
  UI: { N: 'NONE', R: 'REQUIRED' },
  S: { U: 'UNCHANGED', C: 'CHANGED' },
  C: { N: 'NONE', L: 'LOW', H: 'HIGH' },
  I: { N: 'NONE', L: 'LOW', H: 'HIGH' },
  A: { N: 'NONE', L: 'LOW', H: 'HIGH' },
};

async function scoreVectors() {
  const { scoreCvss } = await import('@vigil/engine');
  const score = (v) => {
    const s = scoreCvss(v);
    return { vector: v, baseScore: s.baseScore, severity: s.severity };
  };
  return { v31: V31.map(score), v2: V2.map(score), v40: V40.map(score) };
}

function v31Metric(s, source, type) {
  const parts = Object.fromEntries(
    s.vector
      .split('/')
      .slice(1)
      .map((p) => p.split(':')),
  );
  const cvssData = { version: '3.1', vectorString: s.vector };
  for (const [k, name] of Object.entries(V3_NAMES)) cvssData[name] = V3_VALUES[k][parts[k]];
  Object.assign(cvssData, { baseScore: s.baseScore, baseSeverity: s.severity });
  return { source, type, cvssData, exploitabilityScore: 3.9, impactScore: 5.9 };
}

function v2Metric(s) {
  const parts = Object.fromEntries(s.vector.split('/').map((p) => p.split(':')));
  const cvssData = { version: '2.0', vectorString: s.vector, baseScore: s.baseScore };
  for (const [k, name] of Object.entries(V2_NAMES)) cvssData[name] = V2_VALUES[parts[k]];
  return {
    source: 'nvd@nist.gov',
    type: 'Primary',
    cvssData,
    baseSeverity: s.baseScore >= 7 ? 'HIGH' : s.baseScore >= 4 ? 'MEDIUM' : 'LOW',
    exploitabilityScore: 10.0,
    impactScore: 6.4,
    acInsufInfo: false,
    obtainAllPrivilege: false,
    obtainUserPrivilege: false,
    obtainOtherPrivilege: false,
    userInteractionRequired: false,
  };
}

const CNAS = [
  'security@apache.org',
  'secalert@redhat.com',
  'security-advisories@github.com',
  'cve@mitre.org',
  'psirt@cisco.com',
  'security@wordfence.com',
  'cna@vuldb.com',
];
const TAGS = [
  ['Vendor Advisory'],
  ['Patch', 'Third Party Advisory'],
  ['Exploit', 'Issue Tracking'],
  ['Release Notes'],
  ['Mailing List', 'Third Party Advisory'],
];

function nvdRecord(i, rand, vectors) {
  const id = cveId(i);
  const year = cveYear(i);
  const cna = pick(rand, CNAS);
  if (rand() < 0.01)
    return {
      cve: {
        id,
        sourceIdentifier: cna,
        published: isoDate(year, rand),
        lastModified: isoDate(Math.min(year + 1, 2025), rand),
        vulnStatus: 'Rejected',
        descriptions: [{ lang: 'en', value: `Rejected reason: ${sentence(rand, 12)}` }],
        metrics: {},
        references: [],
      },
    };
  const vendor = pick(rand, WORDS);
  const product = `${pick(rand, WORDS)}_${pick(rand, WORDS)}`;
  const descriptions = [{ lang: 'en', value: text(rand, 1 + int(rand, 4)) }];
  if (rand() < 0.3) descriptions.push({ lang: 'es', value: text(rand, 1 + int(rand, 3)) });
  const metrics = {};
  if (year >= 2016 || rand() < 0.3) {
    const m = [v31Metric(pick(rand, vectors.v31), 'nvd@nist.gov', 'Primary')];
    if (rand() < 0.4) m.push(v31Metric(pick(rand, vectors.v31), cna, 'Secondary'));
    metrics.cvssMetricV31 = m;
  }
  if (year < 2017) metrics.cvssMetricV2 = [v2Metric(pick(rand, vectors.v2))];
  if (year >= 2023 && rand() < 0.3) {
    const s = pick(rand, vectors.v40);
    metrics.cvssMetricV40 = [
      {
        source: cna,
        type: 'Secondary',
        cvssData: {
          version: '4.0',
          vectorString: s.vector,
          baseScore: s.baseScore,
          baseSeverity: s.severity,
        },
      },
    ];
  }
  const cpeMatch = Array.from({ length: 1 + int(rand, 6) }, (_, k) => {
    const m = { vulnerable: true, criteria: `cpe:2.3:a:${vendor}:${product}:*:*:*:*:*:*:*:*` };
    if (k === 0 || rand() < 0.5) {
      m.versionStartIncluding = version(rand, k);
      m.versionEndExcluding = version(rand, k + 1);
    } else m.criteria = `cpe:2.3:a:${vendor}:${product}:${version(rand, k)}:*:*:*:*:*:*:*`;
    m.matchCriteriaId = `${int(rand, 0xffffffff).toString(16).toUpperCase()}-2928-49B6-AACA-${int(rand, 0xffffff).toString(16).toUpperCase()}`;
    return m;
  });
  return {
    cve: {
      id,
      sourceIdentifier: cna,
      published: isoDate(year, rand),
      lastModified: isoDate(Math.min(year + 1, 2025), rand),
      vulnStatus: pick(rand, ['Analyzed', 'Analyzed', 'Modified', 'Awaiting Analysis']),
      cveTags: [],
      descriptions,
      metrics,
      weaknesses: [
        {
          source: 'nvd@nist.gov',
          type: 'Primary',
          description: [
            {
              lang: 'en',
              value:
                rand() < 0.15
                  ? 'NVD-CWE-noinfo'
                  : `CWE-${pick(rand, [20, 22, 79, 89, 119, 125, 200, 287, 352, 400, 416, 502, 787, 918])}`,
            },
          ],
        },
      ],
      configurations: [{ nodes: [{ operator: 'OR', negate: false, cpeMatch }] }],
      references: Array.from({ length: 1 + int(rand, 7) }, (_, k) => ({
        url: `https://${vendor}.example.org/security/${id.toLowerCase()}/${k}`,
        source: k === 0 ? cna : 'nvd@nist.gov',
        tags: pick(rand, TAGS),
      })),
    },
  };
}

function writeNvd(dir, vectors) {
  mkdirSync(join(dir, 'nvd'), { recursive: true });
  const rand = prng(1);
  let bytes = 0;
  for (let start = 0; start < NVD_CVES; start += NVD_PAGE) {
    const vulnerabilities = [];
    for (let i = start; i < Math.min(NVD_CVES, start + NVD_PAGE); i++)
      vulnerabilities.push(nvdRecord(i, rand, vectors));
    const page = {
      resultsPerPage: vulnerabilities.length,
      startIndex: start,
      totalResults: NVD_CVES,
      format: 'NVD_CVE',
      version: '2.0',
      timestamp: '2026-11-20T08:00:00.000',
      vulnerabilities,
    };
    const body = JSON.stringify(page);
    writeFileSync(join(dir, 'nvd', `page-${String(start / NVD_PAGE).padStart(3, '0')}.json`), body);
    bytes += body.length;
  }
  return { records: NVD_CVES, bytes };
}

/** Number of affected packages of one language advisory (mean ≈ 4; Maven lists artifact families). */
function affectedCount(rand, eco) {
  const r = rand();
  const n = r < 0.45 ? 1 : r < 0.7 ? 2 : r < 0.87 ? 3 + int(rand, 4) : 7 + int(rand, 14);
  return eco === 'Maven' ? n + int(rand, 3) : n;
}

function osvAdvisory(eco, k, rand, vectors, keys) {
  const spec = OSV[eco];
  const cve = rand() < 0.85 ? cveId(int(rand, NVD_CVES)) : undefined;
  const ghsa = ghsaId(rand);
  const year = 2017 + int(rand, 9);
  let id = ghsa;
  const aliases = cve ? [cve] : [];
  if (eco === 'PyPI' && k % 3 === 0) {
    id = `PYSEC-${year}-${k}`;
    aliases.push(ghsa);
  } else if (eco === 'Go') {
    id = `GO-${year}-${String(k).padStart(4, '0')}`;
    aliases.push(ghsa);
  } else if (eco === 'crates.io' && k % 2 === 0) {
    id = `RUSTSEC-${year}-${String(k).padStart(4, '0')}`;
    aliases.push(ghsa);
  }
  const n = affectedCount(rand, eco);
  const first = skewed(rand, spec.pool);
  const names = new Set();
  for (let j = 0; j < n; j++)
    names.add(poolName(eco, eco === 'Maven' ? (first + j) % spec.pool : j ? skewed(rand, spec.pool) : first));
  const affected = [...names].map((name) => {
    keys.add(`${spec.ns}\u0000${name}`);
    const major = int(rand, 6);
    const ranges = [
      {
        type: eco === 'Go' ? 'SEMVER' : 'ECOSYSTEM',
        events: [{ introduced: rand() < 0.6 ? '0' : `${major}.0.0` }, { fixed: version(rand, major) }],
      },
    ];
    if (rand() < 0.25)
      ranges.push({
        type: ranges[0].type,
        events: [{ introduced: `${major + 1}.0.0` }, { fixed: version(rand, major + 1) }],
      });
    const a = { package: { ecosystem: eco, name, purl: `pkg:${spec.ns}/${name}` }, ranges };
    if (id.startsWith('PYSEC-'))
      a.versions = Array.from({ length: 5 + int(rand, 40) }, (_, v) => `${Math.floor(v / 10)}.${v % 10}.0`);
    if (eco === 'Go')
      a.ecosystem_specific = {
        imports: [{ path: `${name}/${pick(rand, WORDS)}`, symbols: [pick(rand, WORDS), pick(rand, WORDS)] }],
      };
    else
      a.database_specific = {
        source: `https://github.com/github/advisory-database/blob/main/advisories/github-reviewed/${year}/${ghsa}/${ghsa}.json`,
      };
    return a;
  });
  const severity = rand() < 0.8 ? [{ type: 'CVSS_V3', score: pick(rand, vectors.v31).vector }] : [];
  const rec = {
    schema_version: '1.6.0',
    id,
    modified: `${isoDate(Math.min(year + 1, 2025), rand)}Z`,
    published: `${isoDate(year, rand)}Z`,
    aliases,
    summary: sentence(rand, 6 + int(rand, 8)),
    details: text(rand, 2 + int(rand, 8)),
    severity,
    affected,
    references: [
      { type: 'ADVISORY', url: `https://github.com/advisories/${ghsa}` },
      ...(cve ? [{ type: 'ADVISORY', url: `https://nvd.nist.gov/vuln/detail/${cve}` }] : []),
      {
        type: 'WEB',
        url: `https://github.com/${pick(rand, WORDS)}/${pick(rand, WORDS)}/commit/${int(rand, 2 ** 31).toString(16)}`,
      },
      { type: 'PACKAGE', url: `https://github.com/${pick(rand, WORDS)}/${pick(rand, WORDS)}` },
    ],
    database_specific: {
      cwe_ids: [`CWE-${pick(rand, [20, 22, 79, 89, 400, 502, 918, 1321])}`],
      severity: pick(rand, ['LOW', 'MODERATE', 'HIGH', 'CRITICAL']),
      github_reviewed: true,
      github_reviewed_at: `${isoDate(year, rand)}Z`,
      nvd_published_at: cve ? `${isoDate(year, rand)}Z` : null,
    },
  };
  return { id, rec, rows: affected.length };
}

function writeOsv(dir, vectors, keys) {
  let records = 0;
  let rows = 0;
  let bytes = 0;
  for (const [i, eco] of Object.keys(OSV).entries()) {
    const rand = prng(100 + i);
    mkdirSync(join(dir, 'osv', eco), { recursive: true });
    const zip = new ZipWriter(join(dir, 'osv', eco, 'all.zip'));
    for (let k = 0; k < OSV[eco].advisories; k++) {
      const a = osvAdvisory(eco, k, rand, vectors, keys);
      zip.add(`${a.id}.json`, JSON.stringify(a.rec, null, 2));
      records++;
      rows += a.rows;
    }
    bytes += zip.close();
  }
  return { records, rows, bytes };
}

const URGENCIES = ['low', 'medium', 'high', 'not yet assigned', 'unimportant', 'low**', 'medium**'];

function trackerRelease(rand, codename) {
  const r = rand();
  const v = `${1 + int(rand, 9)}.${int(rand, 30)}.${int(rand, 10)}-${1 + int(rand, 5)}`;
  const urgency = pick(rand, URGENCIES);
  const repositories = { [codename]: v };
  if (r < 0.55) return { status: 'resolved', repositories, fixed_version: v, urgency };
  if (r < 0.65) return { status: 'resolved', repositories, fixed_version: '0', urgency: 'unimportant' };
  const rel = { status: r < 0.95 ? 'open' : 'undetermined', repositories, urgency };
  if (r < 0.75)
    Object.assign(rel, { nodsa: 'Minor issue', nodsa_reason: pick(rand, ['', 'ignored', 'postponed']) });
  return rel;
}

/** The tracker document, written member by member (package → CVE → releases). */
function writeDebian(dir, keys) {
  mkdirSync(join(dir, 'debian'), { recursive: true });
  const rand = prng(200);
  const byPackage = new Map();
  let entries = 0;
  for (let c = 0; c < DEBIAN_CVES; c++) {
    // the tracker's CVEs: a spread over the NVD set, each under 1–8 source packages (embedded
    // copies, kernel flavours, language runtimes of several versions)
    const cve = cveId(Math.floor((c * NVD_CVES) / DEBIAN_CVES) + int(rand, 5));
    const r = rand();
    const n = r < 0.3 ? 1 : r < 0.55 ? 2 : r < 0.8 ? 3 + int(rand, 2) : 5 + int(rand, 4);
    for (let j = 0; j < n; j++) {
      const pkg = poolName('debian', skewed(rand, DEBIAN_PACKAGES));
      let list = byPackage.get(pkg);
      if (!list) byPackage.set(pkg, (list = new Set()));
      if (!list.has(cve)) {
        list.add(cve);
        entries++;
      }
    }
  }
  const fd = openSync(join(dir, 'debian', 'tracker.json'), 'w');
  let bytes = 0;
  let rows = 0;
  const out = (s) => (bytes += writeSync(fd, s));
  out('{');
  let firstPkg = true;
  for (const pkg of [...byPackage.keys()].sort()) {
    out(`${firstPkg ? '' : ','}\n  ${JSON.stringify(pkg)}: {`);
    firstPkg = false;
    let firstCve = true;
    for (const cve of byPackage.get(pkg)) {
      const releases = {};
      for (const codename of Object.keys(DEBIAN_RELEASES)) {
        releases[codename] = trackerRelease(rand, codename);
        keys.add(`debian:${DEBIAN_RELEASES[codename]}\u0000${pkg}`);
        rows++;
      }
      const entry = {
        description: sentence(rand, 10 + int(rand, 20)),
        scope: pick(rand, ['local', 'remote']),
        releases,
      };
      if (rand() < 0.4) entry.debianbug = 900_000 + int(rand, 200_000);
      out(`${firstCve ? '' : ','}\n    ${JSON.stringify(cve)}: ${JSON.stringify(entry)}`);
      firstCve = false;
    }
    out('\n  }');
  }
  out('\n}\n');
  closeSync(fd);
  return { cves: DEBIAN_CVES, packages: byPackage.size, entries, rows, bytes };
}

function writeAlpine(dir, keys) {
  const rand = prng(300);
  let rows = 0;
  let bytes = 0;
  let files = 0;
  for (const [r, release] of ALPINE_RELEASES.entries()) {
    for (const [repo, count] of Object.entries(ALPINE_PACKAGES)) {
      const offset = repo === 'main' ? 0 : 50_000;
      const packages = [];
      // later releases carry more packages and more history
      const n = Math.round(count * (0.6 + (0.4 * r) / ALPINE_RELEASES.length));
      for (let p = 0; p < n; p++) {
        const name = poolName('alpine', offset + p);
        const secfixes = {};
        const versions = 1 + int(rand, 8);
        for (let v = 0; v < versions; v++) {
          const ids = Array.from({ length: 1 + int(rand, 4) }, () => cveId(int(rand, NVD_CVES)));
          secfixes[
            v === 0 && rand() < 0.1 ? '0' : `${1 + int(rand, 5)}.${v}.${int(rand, 20)}-r${int(rand, 5)}`
          ] = ids;
        }
        const distinct = new Set(
          Object.entries(secfixes).flatMap(([ver, ids]) => ids.map((id) => `${ver} ${id}`)),
        );
        rows += distinct.size;
        keys.add(`alpine:${release}\u0000${name}`);
        packages.push({ pkg: { name, secfixes } });
      }
      const doc = {
        apkurl: '{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk',
        archs: ['aarch64', 'armhf', 'armv7', 'ppc64le', 's390x', 'x86', 'x86_64'],
        reponame: repo,
        urlprefix: 'https://dl-cdn.alpinelinux.org/alpine',
        distroversion: `v${release}`,
        packages,
      };
      mkdirSync(join(dir, 'alpine', `v${release}`), { recursive: true });
      const body = JSON.stringify(doc, null, 2);
      writeFileSync(join(dir, 'alpine', `v${release}`, `${repo}.json`), body);
      bytes += body.length;
      files++;
    }
  }
  return { files, rows, bytes };
}

/** Miss keys: names of the same shapes in the same namespaces that no feed mentions. */
function missKeys(rand, n) {
  const out = [];
  const spaces = [
    ['npm', (i) => `${word(i)}-unlisted-${i}`],
    ['pypi', (i) => `py-unlisted-${word(i)}-${i}`],
    ['golang', (i) => `github.com/unlisted${i}/${word(i)}`],
    ['maven', (i) => `com.unlisted${i}:${word(i)}`],
    ['debian:12', (i) => `${word(i)}-unlisted${i}`],
    ['alpine:3.20', (i) => `${word(i)}-unlisted${i}`],
  ];
  for (let i = 0; i < n; i++) {
    const [ns, name] = pick(rand, spaces);
    out.push([ns, name(i)]);
  }
  return out;
}

/**
 * Generates the feed set unless present; returns its manifest.
 * @returns {{dir, keysFile, nvd, osv, debian, alpine, expectedAffected, bytes, seconds}}
 */
export async function dbFeeds({ log = (m) => process.stderr.write(`[bench feeds] ${m}\n`) } = {}) {
  const keysFile = join(WORK, `db-keys-v${GEN}.json`);
  if (existsSync(FEEDS_DIR) && existsSync(FEEDS_MANIFEST) && existsSync(keysFile))
    return JSON.parse((await import('node:fs')).readFileSync(FEEDS_MANIFEST, 'utf8'));
  const tmp = `${FEEDS_DIR}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const t0 = performance.now();
  const vectors = await scoreVectors();
  const keys = new Set();
  log('NVD pages …');
  const nvd = writeNvd(tmp, vectors);
  log('OSV zips …');
  const osv = writeOsv(tmp, vectors, keys);
  log('Debian tracker …');
  const debian = writeDebian(tmp, keys);
  log('Alpine secdb …');
  const alpine = writeAlpine(tmp, keys);
  rmSync(FEEDS_DIR, { recursive: true, force: true });
  renameSync(tmp, FEEDS_DIR);
  const rand = prng(400);
  const hits = [...keys].map((k) => k.split('\u0000'));
  writeFileSync(keysFile, JSON.stringify({ hits, misses: missKeys(rand, 200_000) }));
  const manifest = {
    gen: GEN,
    dir: FEEDS_DIR,
    keysFile,
    nvd,
    osv,
    debian,
    alpine,
    keys: keys.size,
    expectedAffected: osv.rows + debian.rows + alpine.rows,
    bytes: nvd.bytes + osv.bytes + debian.bytes + alpine.bytes,
    seconds: (performance.now() - t0) / 1000,
    builtAt: new Date().toISOString(),
  };
  writeFileSync(FEEDS_MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  log(
    `feed set built in ${manifest.seconds.toFixed(1)} s: ${(manifest.bytes / 2 ** 20).toFixed(0)} MiB, ${manifest.expectedAffected} affected rows expected, ${keys.size} keys`,
  );
  return manifest;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  process.stdout.write(`${JSON.stringify(await dbFeeds(), null, 2)}\n`);
}
