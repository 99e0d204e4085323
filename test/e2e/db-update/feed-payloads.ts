/**
 * The REAL upstream payloads of /work/shared/realdata/feeds/ laid out the way each feed's online
 * fetch asks for them under its base URL (one path prefix per feed on the replay server):
 *
 * - nvd: `rest/json/cves/2.0?startIndex=…`, answered live by the server from every distinct
 *   `{cve}` of nvd/*.json(.gz) (API pages, `{cve}` wrappers, bare cve objects);
 * - osv, ubuntu, almalinux, rocky: `<Ecosystem>/all.zip` of one bucket, zips of the OSV records of
 *   osv/, ghsa/, ubuntu/ and wolfi/ by the ecosystems their `affected[]` name;
 * - debian: `data/json` ← debian/vunnel-security-tracker-slice.json;
 * - alpine: the index page, then `v3.NN/{main,community}.json` ← alpine/*.json (the YAML copies
 *   are not what secdb serves under .json);
 * - wolfi, chainguard: `security.json` ← wolfi/vunnel-{wolfi,chainguard}-security.json;
 * - redhat: `archive_latest.txt`, `changes.csv`, `deletions.csv` ← redhat/vunnel-csaf-*, and the
 *   archive they name: a tar.zst of the real CSAF documents;
 * - kev: `known_exploited_vulnerabilities.json` ← kev/claircore-known_exploited_vulnerabilities.json;
 * - epss: `epss_scores-current.csv.gz` ← epss/claircore-epss-data.csv, gzipped.
 *
 * Not served: `ghsa` (the REST API pages it reads, arrays of `ghsa_id`/`updated_at` advisories, are
 * not in realdata: the two GitHub files there are the GraphQL export shape; without GITHUB_TOKEN the
 * feed sends no request) and `amzn` (realdata has repomd.xml but no updateinfo.xml for it to name).
 * The only bytes made up are the Alpine index page (an autoindex listing of the served releases),
 * the zip/tar/gzip containers around real files and the NVD page envelopes around real CVEs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import * as tar from 'tar-stream';
import { compress as zstdCompress } from 'zstd-napi';
import { detectOsvFamily, LANGUAGE_ECOSYSTEMS } from '../../../engine/src/feeds/osv/index.js';
import { realdata } from '../../support/realdata.js';

/** The feeds served, in FEEDS order (engine/src/feeds/index.ts). */
export const SERVED_FEEDS = [
  'nvd',
  'osv',
  'ubuntu',
  'almalinux',
  'rocky',
  'debian',
  'wolfi',
  'chainguard',
  'alpine',
  'redhat',
  'kev',
  'epss',
] as const;

/** The bucket folders the four OSV-export feeds request (osv/index.ts). */
export const OSV_BUCKETS = [...LANGUAGE_ECOSYSTEMS, 'Ubuntu', 'AlmaLinux', 'Rocky Linux'];

/** An NVD API 2.0 `vulnerabilities[]` element (only what the server looks at is typed). */
export interface NvdItem {
  cve: { id: string; lastModified: string; vulnStatus?: string; [k: string]: unknown };
}

export interface FeedPayloads {
  /** static files: server path (after the feed prefix, e.g. `/kev/known_exploited_vulnerabilities.json`) → bytes */
  files: Map<string, Buffer>;
  /** the NVD collection, in the order the realdata files list it */
  nvd: NvdItem[];
  /** `--mirror` values, relative to the server URL */
  mirrors: Record<(typeof SERVED_FEEDS)[number], string>;
}

const feedFile = (rel: string) => readFileSync(realdata(`feeds/${rel}`));
const json = (bytes: Buffer): unknown => JSON.parse(bytes.toString('utf8'));

/** API pages first (exact upstream answers), then single-CVE files; the first copy of an id wins. */
const NVD_FILES = [
  'nvdgo-api2-cves-page-startIndex0.json.gz',
  'nvdgo-api2-cves-page-startIndex200000.json.gz',
  'fkie-nvd-api2-alpine-image-cves.json',
  'vunnel-nvd-api2-full-page.json',
  'vunnel-nvd-api2-single-entry.json',
  'claircore-nvdcve-2.0-feed.json',
  'nvdgo-api2-cves-CVE-2023-0001.json.gz',
  'grype-CVE-2023-45283-platform-cpe.json',
  'grype-CVE-2026-25076.json',
  'trivydb-CVE-2020-0001.json',
  'trivydb-CVE-2023-0001.json',
  'trivydb-CVE-2024-5732.json',
];

/** Every distinct CVE of the realdata NVD files (pages, `{cve}` wrappers and bare cve objects). */
export function nvdItems(): NvdItem[] {
  const byId = new Map<string, NvdItem>();
  for (const name of NVD_FILES) {
    let bytes = feedFile(`nvd/${name}`);
    if (name.endsWith('.gz')) bytes = gunzipSync(bytes);
    const doc = json(bytes) as { vulnerabilities?: NvdItem[]; cve?: NvdItem['cve'] } & NvdItem['cve'];
    const items = doc.vulnerabilities ?? (doc.cve ? [{ cve: doc.cve }] : [{ cve: doc }]);
    for (const item of items) if (!byId.has(item.cve.id)) byId.set(item.cve.id, item);
  }
  return [...byId.values()];
}

/**
 * The OSV export buckets: each OSV record of realdata goes into the bucket of every ecosystem its
 * `affected[]` names (as osv.dev's export does), as `<id>.json`; the first copy of an id wins
 * (the exact advisory-database files sort before trivy-db's trimmed copies). A bucket with no
 * record is an empty zip (RubyGems: none in realdata).
 */
export function osvBuckets(): Map<string, Buffer> {
  const entries = new Map<string, Map<string, Buffer>>(OSV_BUCKETS.map((b) => [b, new Map()]));
  for (const dir of ['ghsa', 'osv', 'ubuntu', 'wolfi']) {
    for (const name of readdirSync(realdata(`feeds/${dir}`)).sort()) {
      if (!name.endsWith('.json')) continue;
      const bytes = feedFile(`${dir}/${name}`);
      if (detectOsvFamily(bytes) === undefined) continue; // not an OSV record (secdb, API shapes, lists)
      const doc = json(bytes) as { id: string; affected?: { package?: { ecosystem?: string } }[] };
      const buckets = new Set((doc.affected ?? []).map((a) => a.package?.ecosystem?.split(':')[0] ?? ''));
      for (const bucket of buckets) {
        const zip = entries.get(bucket);
        if (zip && !zip.has(`${doc.id}.json`)) zip.set(`${doc.id}.json`, bytes);
      }
    }
  }
  const mtime = new Date('2026-01-01T00:00:00Z');
  return new Map(
    [...entries].map(([bucket, files]) => [
      bucket,
      Buffer.from(zipSync(Object.fromEntries([...files].map(([n, b]) => [n, [b, { mtime }]])))),
    ]),
  );
}

async function zstdTar(entries: [string, Buffer][]): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of entries)
    pack.entry({ name, mtime: new Date('2025-02-15T00:00:00Z') }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return zstdCompress(Buffer.concat(chunks));
}

/** Red Hat's VEX directory: the archive named by the real archive_latest.txt, holding the real CSAF documents. */
async function redhatFiles(): Promise<[string, Buffer][]> {
  const latest = feedFile('redhat/vunnel-csaf-archive_latest.txt');
  const docs = [
    'trivydb-csaf-vex-cve-2024-10041.json',
    'vunnel-csaf-rhsa-2024_6163.json',
    'vunnel-csaf-rhsa-2024_9371.json',
  ];
  // CSAF paths are `<year>/<lower-case id>.json`, as in changes.csv
  const archive = await zstdTar(
    docs.map((d) => [`2024/${d.replace(/^(trivydb|vunnel)-csaf-(vex-)?/, '')}`, feedFile(`redhat/${d}`)]),
  );
  return [
    ['/redhat/archive_latest.txt', latest],
    [`/redhat/${latest.toString('utf8').trim()}`, archive],
    ['/redhat/changes.csv', feedFile('redhat/vunnel-csaf-changes.csv')],
    ['/redhat/deletions.csv', feedFile('redhat/vunnel-csaf-deletions.csv')],
  ];
}

/** An nginx-style autoindex of the secdb root listing these release folders. */
export function alpineIndex(releases: readonly string[]): Buffer {
  const links = releases.map((r) => `<a href="${r}/">${r}/</a>`).join('\n');
  return Buffer.from(
    `<html><head><title>Index of /</title></head><body><h1>Index of /</h1><hr><pre>\n${links}\n</pre><hr></body></html>\n`,
  );
}

/** Builds every payload (a few hundred KB; well under a second). */
export async function loadFeedPayloads(): Promise<FeedPayloads> {
  const files = new Map<string, Buffer>();
  for (const [bucket, zip] of osvBuckets()) files.set(`/osv/${bucket}/all.zip`, zip);
  files.set('/debian/data/json', feedFile('debian/vunnel-security-tracker-slice.json'));
  files.set('/alpine/', alpineIndex(['v3.10', 'v3.11']));
  files.set('/alpine/v3.10/main.json', feedFile('alpine/vulnlist-secdb-v3.10-main-image-subset.json'));
  files.set('/alpine/v3.10/community.json', feedFile('alpine/claircore-secdb-v3.10-community.json'));
  files.set('/alpine/v3.11/main.json', feedFile('alpine/vulnlist-secdb-v3.11-main-image-subset.json'));
  files.set('/wolfi/security.json', feedFile('wolfi/vunnel-wolfi-security.json'));
  files.set('/chainguard/security.json', feedFile('wolfi/vunnel-chainguard-security.json'));
  for (const [path, bytes] of await redhatFiles()) files.set(path, bytes);
  files.set(
    '/kev/known_exploited_vulnerabilities.json',
    feedFile('kev/claircore-known_exploited_vulnerabilities.json'),
  );
  files.set('/epss/epss_scores-current.csv.gz', gzipSync(feedFile('epss/claircore-epss-data.csv')));
  return {
    files,
    nvd: nvdItems(),
    mirrors: {
      nvd: '/nvd/rest/json/cves/2.0',
      osv: '/osv',
      ubuntu: '/osv',
      almalinux: '/osv',
      rocky: '/osv',
      debian: '/debian/',
      wolfi: '/wolfi/',
      chainguard: '/chainguard/',
      alpine: '/alpine/',
      redhat: '/redhat/',
      kev: '/kev/',
      epss: '/epss/',
    },
  };
}

/** File name for an offline copy of a served path (`/osv/Rocky Linux/all.zip` → `osv-Rocky-Linux-all.zip`). */
export function offlineName(path: string): string {
  return path.replace(/^\//, '').replace(/[^A-Za-z0-9.-]+/g, '-');
}
