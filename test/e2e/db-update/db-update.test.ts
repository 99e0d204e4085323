/**
 * Acceptance test of issue #3's online path: the BUILT `vigil db update` runs end to end against
 * one loopback replay server holding the real upstream payloads of twelve feeds
 * (feed-payloads.ts), incrementally, and resumes after being killed.
 *
 * The scenarios run in order and share the server:
 * 1. a first update fetches every feed in full; its version equals an offline `db build --from`
 *    of the very bytes served (same parsers, same logical content);
 * 2. a second update with nothing changed: every conditional GET is answered 304, NVD asks for
 *    the window since the stored checkpoint and finds nothing, the version stays;
 * 3. one NVD record modified upstream (newer lastModified): a delta run, a new version, the
 *    record changed in the snapshot, every other source untouched;
 * 4. a run killed (SIGKILL) while NVD page 3 hangs: (a) a first, full sync leaves no file at the
 *    target, (b) an incremental one leaves the previous snapshot byte for byte; the next run
 *    resumes at page 3 (pages 1-2 are not asked for again; the same lastModified window) and ends
 *    with the version of the same run uninterrupted;
 * 5. 503 + Retry-After then 200 is retried; 500 forever fails an on-error `skip` feed (error in
 *    `db status`, exit 0, the rest updated) and aborts the update for an on-error `fail` feed
 *    (exit 8, ENG_DB_BUILD_FAILED, the previous file byte for byte).
 *
 * `npm test` builds the CLI first; this test does not build.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSnapshot } from '../../../engine/src/vulndb/snapshot-reader.js';
import type { SnapshotMeta } from '../../../engine/src/vulndb/types.js';
import type { UpdateSnapshotResult } from '../../../engine/src/vulndb/update.js';
import { runVigil, VIGIL_BIN, type CliResult } from '../../support/cli.js';
import { hasRealdata, realdata } from '../../support/realdata.js';
import {
  loadFeedPayloads,
  offlineName,
  SERVED_FEEDS,
  type FeedPayloads,
  type NvdItem,
} from './feed-payloads.js';
import { FeedReplayServer, NVD_PATH, type LoggedRequest } from './replay-server.js';

const API_KEY = 'e2e-nvd-key';
/** smaller than the 2,000 asked for, so the 471 realdata CVEs take five pages */
const NVD_PAGE = 100;

let dir = '';
let payloads: FeedPayloads;
let server: FeedReplayServer;
let pristineNvd: NvdItem[];

const env = () => ({
  NVD_API_KEY: API_KEY, // 50 requests / 30 s: no rate-limit wait in these runs
  GITHUB_TOKEN: '',
  HTTPS_PROXY: '',
  HTTP_PROXY: '',
  https_proxy: '',
  http_proxy: '',
  VIGIL_CACHE_DIR: join(dir, 'cache'),
});

function updateArgs(db: string, work: string, sources: readonly string[] = SERVED_FEEDS): string[] {
  const mirrors = sources.flatMap((f) => [
    '--mirror',
    `${f}=${server.url}${payloads.mirrors[f as keyof FeedPayloads['mirrors']]}`,
  ]);
  return [
    'db',
    'update',
    '--db',
    db,
    '--work-dir',
    work,
    '--sources',
    sources.join(','),
    ...mirrors,
    '--format',
    'json',
  ];
}

const update = (db: string, work: string, sources?: readonly string[]) =>
  runVigil(updateArgs(db, work, sources), { env: env(), timeoutMs: 60_000 });

/** toEqual on megabyte Buffers compares byte by byte, slowly: compare digests. */
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The built CLI as a child process that a test can kill (runVigil waits for the end). */
function spawnVigil(args: string[]) {
  const child = spawn(process.execPath, [VIGIL_BIN, ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env() },
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  return {
    /** polls `condition` every 50 ms while the process runs (at most 30 s) */
    async waitFor(condition: () => boolean): Promise<boolean> {
      for (let i = 0; i < 600 && !condition() && child.exitCode === null; i++) await sleep(50);
      return condition();
    },
    /** SIGKILL; resolves to the signal that ended the process */
    kill(): Promise<NodeJS.Signals | null> {
      child.kill('SIGKILL');
      return exited;
    },
  };
}

async function status(db: string): Promise<SnapshotMeta> {
  const r = await runVigil(['db', 'status', '--db', db, '--format', 'json'], { env: env() });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as SnapshotMeta;
}

const outcomes = (r: CliResult) =>
  Object.fromEntries(
    (JSON.parse(r.stdout) as UpdateSnapshotResult).feeds.map((f) => [
      f.name,
      f.mode ? `${f.status} ${f.mode}` : f.status,
    ]),
  );
const allAre = (value: string, feeds: readonly string[] = SERVED_FEEDS) =>
  Object.fromEntries(feeds.map((f) => [f, value]));

const nvdRequests = (log: LoggedRequest[]) => log.filter((r) => r.path === NVD_PATH);
/** path → statuses answered, for the non-NVD requests of a run */
function statusesByPath(log: LoggedRequest[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const r of log) if (r.path !== NVD_PATH) (out[r.path] ??= []).push(r.status ?? 0);
  return out;
}

/** NVD's rejection rule (map-cve.ts): status Rejected, or an English description `** REJECT **…`. */
function rejected(item: NvdItem): boolean {
  const descriptions = (item.cve.descriptions ?? []) as { lang: string; value: string }[];
  const en = descriptions.find((d) => d.lang === 'en')?.value ?? '';
  return item.cve.vulnStatus === 'Rejected' || en.startsWith('** REJECT **');
}

beforeAll(async () => {
  if (!hasRealdata) return;
  dir = await mkdtemp(join(tmpdir(), 'vigil-e2e-db-update-'));
  payloads = await loadFeedPayloads();
  pristineNvd = structuredClone(payloads.nvd);
  server = new FeedReplayServer(payloads.files, structuredClone(payloads.nvd));
  server.nvd.pageSize = NVD_PAGE;
  await server.start();
});
afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!hasRealdata)('vigil db update against loopback replays of the real feeds', () => {
  const db = () => join(dir, 'main/vigil.db');
  const work = () => join(dir, 'main/work');
  let v1 = '';
  let checkpoint1 = '';

  it('1. a first update fetches every feed in full: the same snapshot as an offline build of the same bytes', async () => {
    const from = server.log.length;
    const r = await update(db(), work());
    expect(r.code, r.stderr).toBe(0);
    expect(outcomes(r)).toEqual(allAre('updated full'));

    const meta = await status(db());
    v1 = meta.version;
    const sources = Object.fromEntries(meta.sources.map((s) => [s.name, s]));
    checkpoint1 = String(sources.nvd!.checkpoint?.lastModified);
    const epssRows = (await readFile(realdata('feeds/epss/claircore-epss-data.csv'), 'utf8'))
      .split('\n')
      .filter((l) => /^CVE-/.test(l)).length;
    const nvdRejected = pristineNvd.filter(rejected).length;
    const counts = (vulnerabilities: number, withdrawn = 0, kev = 0, epss = 0) => ({
      vulnerabilities,
      withdrawn,
      kev,
      epss,
    });
    expect(
      Object.fromEntries(
        meta.sources.map((s) => [
          s.name,
          counts(s.counts.vulnerabilities, s.counts.withdrawn, s.counts.kev, s.counts.epss),
        ]),
      ),
    ).toEqual({
      // every distinct CVE served but the rejected ones, which are withdrawals (5 in the realdata pages)
      nvd: counts(pristineNvd.length - nvdRejected, nvdRejected),
      // the OSV records of the language buckets: npm 2, PyPI 6, Go 7, Maven 2, crates.io 1,
      // Packagist 1, NuGet 1 (RubyGems none); GHSA-4v7x-pqxf-cx7m served once
      osv: counts(20),
      ubuntu: counts(3), // UBUNTU-CVE-2021-3782, UBUNTU-CVE-2022-24823, USN-5614-1
      almalinux: counts(1), // ALSA-2024:2433
      rocky: counts(1), // RLSA-2024:3671
      // distinct ids of the documents served (tracker CVE keys; secdb secfixes), counted apart
      debian: counts(7),
      wolfi: counts(59),
      chainguard: counts(189),
      alpine: counts(54), // v3.10 main + community, v3.11 main
      // the archive's three CSAF documents; the four changes.csv rows after the archive's day name
      // documents the server does not have (404): withdrawn
      redhat: counts(3, 4),
      kev: counts(0, 0, 2),
      epss: counts(0, 0, 0, epssRows),
    });
    expect([nvdRejected, epssRows]).toEqual([5, 29]);
    for (const s of meta.sources) expect({ [s.name]: s.lastError }).toEqual({ [s.name]: undefined });

    // NVD: a full sync (no date filter) paged by the answers' resultsPerPage, with the API key
    const nvd = nvdRequests(server.since(from));
    expect(nvd.map((q) => [q.query, q.headers.apikey, q.status])).toEqual(
      [0, 100, 200, 300, 400].map((i) => [{ resultsPerPage: '2000', startIndex: String(i) }, API_KEY, 200]),
    );

    // the same bytes, offline: `db build --from` must arrive at the same logical content
    const offline = join(dir, 'offline');
    await mkdir(offline);
    const indexes = new Set([
      '/alpine/',
      '/redhat/archive_latest.txt',
      '/redhat/changes.csv',
      '/redhat/deletions.csv',
    ]);
    for (const [path, bytes] of payloads.files)
      if (!indexes.has(path)) await writeFile(join(offline, offlineName(path)), bytes);
    const page = {
      resultsPerPage: pristineNvd.length,
      startIndex: 0,
      totalResults: pristineNvd.length,
      format: 'NVD_CVE',
      version: '2.0',
      timestamp: '2026-01-01T00:00:00.000',
      vulnerabilities: pristineNvd,
    };
    await writeFile(join(offline, 'nvd-page.json'), JSON.stringify(page));
    const built = await runVigil(
      [
        'db',
        'build',
        '--from',
        offline,
        '--out',
        join(dir, 'offline.db'),
        '--sources',
        SERVED_FEEDS.join(','),
        '-q',
      ],
      { env: env() },
    );
    expect(built.code, built.stderr).toBe(0);
    expect((await status(join(dir, 'offline.db'))).version).toBe(v1);
  });

  it('2. nothing changed upstream: every conditional GET gets 304, NVD an empty window since the checkpoint, same version', async () => {
    const from = server.log.length;
    const r = await update(db(), work());
    expect(r.code, r.stderr).toBe(0);
    expect(outcomes(r)).toEqual(allAre('unchanged'));
    const result = JSON.parse(r.stdout) as UpdateSnapshotResult;
    expect(result.previousVersion).toBe(v1);
    expect((await status(db())).version).toBe(v1);

    const log = server.since(from);
    // the secdb index is read afresh every time (it decides which files to ask for) and
    // v3.11 has no community repository (an optional file: 404 each time)
    const osv = Object.fromEntries(
      [...payloads.files.keys()].filter((p) => p.startsWith('/osv/')).map((p) => [p, [304]]),
    );
    expect(statusesByPath(log)).toEqual({
      ...osv,
      '/debian/data/json': [304],
      '/wolfi/security.json': [304],
      '/chainguard/security.json': [304],
      '/alpine/': [200],
      '/alpine/v3.10/main.json': [304],
      '/alpine/v3.10/community.json': [304],
      '/alpine/v3.11/main.json': [304],
      '/alpine/v3.11/community.json': [404],
      '/redhat/changes.csv': [304],
      '/redhat/deletions.csv': [304],
      '/kev/known_exploited_vulnerabilities.json': [304],
      '/epss/epss_scores-current.csv.gz': [304],
    });
    for (const q of log)
      if (q.status === 304)
        expect({ [q.path]: typeof q.headers['if-none-match'] }).toEqual({ [q.path]: 'string' });

    const [nvd, ...more] = nvdRequests(log);
    expect(more).toEqual([]);
    expect(Date.parse(nvd!.query.lastModStartDate!)).toBe(Date.parse(checkpoint1));
    expect(Date.parse(nvd!.query.lastModEndDate!)).toBeGreaterThan(Date.parse(checkpoint1));
    expect(nvd!.query.startIndex).toBe('0');
  });

  it('3. one NVD record modified upstream: a delta run, a new version, the change visible in the snapshot', async () => {
    const before = await status(db());
    const id = 'CVE-2023-0001';
    const item = server.nvd.items.find((i) => i.cve.id === id)!;
    const descriptions = item.cve.descriptions as { lang: string; value: string }[];
    descriptions.find((d) => d.lang === 'en')!.value = 'Changed upstream by the e2e test.';
    // NVD's lastModified is UTC without an offset; now is after run 2's window ended
    item.cve.lastModified = new Date().toISOString().replace(/Z$/, '');

    const from = server.log.length;
    const r = await update(db(), work());
    expect(r.code, r.stderr).toBe(0);
    expect(outcomes(r)).toEqual({ ...allAre('unchanged'), nvd: 'updated delta' });
    const after = await status(db());
    expect(after.version).not.toBe(v1);
    // only NVD's content moved
    const hashes = (m: SnapshotMeta) => Object.fromEntries(m.sources.map((s) => [s.name, s.contentHash]));
    expect({ ...hashes(after), nvd: '' }).toEqual({ ...hashes(before), nvd: '' });
    expect(hashes(after).nvd).not.toBe(hashes(before).nvd);

    const [nvd, ...more] = nvdRequests(server.since(from));
    expect(more).toEqual([]);
    expect(Date.parse(nvd!.query.lastModStartDate!)).toBe(
      Date.parse(String(before.sources.find((s) => s.name === 'nvd')!.checkpoint?.lastModified)),
    );

    const reader = openSnapshot(db());
    try {
      const records = reader.vulnerabilities([id]).get(id) ?? [];
      expect(records.filter((x) => x.source === 'nvd').map((x) => x.vulnerability.description)).toEqual([
        'Changed upstream by the e2e test.',
      ]);
    } finally {
      reader.close();
    }
  });

  it('4a. a first run killed while NVD page 3 hangs: no file at the target; the rerun resumes at page 3 and gives the uninterrupted version', async () => {
    server.nvd.items = structuredClone(pristineNvd); // the data of run 1
    const fresh = join(dir, 'killed/vigil.db');
    const freshWork = join(dir, 'killed/work');
    server.nvd.hangAtStartIndex = 2 * NVD_PAGE;

    const from = server.log.length;
    const child = spawnVigil(updateArgs(fresh, freshWork));
    const page3 = () =>
      nvdRequests(server.since(from)).some((q) => q.query.startIndex === String(2 * NVD_PAGE));
    expect(await child.waitFor(page3)).toBe(true);
    expect(existsSync(fresh)).toBe(false);
    expect(await child.kill()).toBe('SIGKILL');
    expect(existsSync(fresh)).toBe(false); // a first run: nothing, never half a file
    expect(nvdRequests(server.since(from)).map((q) => [q.query.startIndex, q.status])).toEqual([
      ['0', 200],
      ['100', 200],
      ['200', undefined],
    ]);

    server.nvd.hangAtStartIndex = undefined;
    server.releaseHung();
    const resumedFrom = server.log.length;
    const r = await update(fresh, freshWork);
    expect(r.code, r.stderr).toBe(0);
    expect(outcomes(r)).toEqual(allAre('updated full'));
    // pages 1 and 2 came from the archive of the killed run
    expect(nvdRequests(server.since(resumedFrom)).map((q) => [q.query.startIndex, q.status])).toEqual([
      ['200', 200],
      ['300', 200],
      ['400', 200],
    ]);
    expect((await status(fresh)).version).toBe(v1);
    // the stale lock and the dead run's temporary file are gone
    expect(await readdir(join(dir, 'killed'))).toEqual(['vigil.db', 'work']);
  });

  it('4b. an incremental run killed while NVD page 3 hangs: the previous snapshot stays; the rerun resumes the same window', async () => {
    // every CVE modified upstream since run 3: a five-page delta
    const stamp = new Date().toISOString().replace(/Z$/, '');
    server.nvd.items = structuredClone(pristineNvd).map((i) => ({ cve: { ...i.cve, lastModified: stamp } }));
    const before = await readFile(db());
    const previous = await status(db());

    // the same run uninterrupted, on a copy of the database and work directory
    const copy = join(dir, 'copy');
    await cp(join(dir, 'main'), copy, { recursive: true });
    const whole = await update(join(copy, 'vigil.db'), join(copy, 'work'), ['nvd']);
    expect(whole.code, whole.stderr).toBe(0);
    expect(outcomes(whole)).toEqual({ nvd: 'updated delta' });
    const uninterrupted = (await status(join(copy, 'vigil.db'))).version;
    expect(uninterrupted).not.toBe(previous.version);

    server.nvd.hangAtStartIndex = 2 * NVD_PAGE;
    const from = server.log.length;
    const killed = spawnVigil(updateArgs(db(), work(), ['nvd']));
    expect(
      await killed.waitFor(() =>
        nvdRequests(server.since(from)).some((q) => q.query.startIndex === String(2 * NVD_PAGE)),
      ),
    ).toBe(true);
    expect(nvdRequests(server.since(from)).map((q) => [q.query.startIndex, q.status])).toEqual([
      ['0', 200],
      ['100', 200],
      ['200', undefined],
    ]);
    expect(await killed.kill()).toBe('SIGKILL');
    expect(sha256(await readFile(db()))).toBe(sha256(before));
    const window = nvdRequests(server.since(from)).map((q) => [
      q.query.lastModStartDate,
      q.query.lastModEndDate,
    ]);
    expect(Date.parse(window[0]![0]!)).toBe(
      Date.parse(String(previous.sources.find((x) => x.name === 'nvd')!.checkpoint?.lastModified)),
    );

    server.nvd.hangAtStartIndex = undefined;
    server.releaseHung();
    const resumedFrom = server.log.length;
    const r = await update(db(), work(), ['nvd']);
    expect(r.code, r.stderr).toBe(0);
    const resumed = nvdRequests(server.since(resumedFrom));
    expect(resumed.map((q) => [q.query.startIndex, q.status])).toEqual([
      ['200', 200],
      ['300', 200],
      ['400', 200],
    ]);
    // the killed run's window, not a new one ending now
    expect(resumed.map((q) => [q.query.lastModStartDate, q.query.lastModEndDate])).toEqual(window);
    expect((await status(db())).version).toBe(uninterrupted);
    expect(await readdir(join(dir, 'main'))).toEqual(['vigil.db', 'work']);
  });

  it('5. 503 + Retry-After is retried; a feed failing with 500 forever keeps its data, is recorded, and fails the command while the others update', async () => {
    server.nvd.items = structuredClone(pristineNvd); // nothing new for NVD since run 4a
    const fresh = join(dir, 'killed/vigil.db');
    const freshWork = join(dir, 'killed/work');
    const before = await status(fresh);
    expect(before.version).toBe(v1);
    const kevPath = '/kev/known_exploited_vulnerabilities.json';
    const epssPath = '/epss/epss_scores-current.csv.gz';
    // a new catalog upstream (3 entries), behind one 503; EPSS broken for good
    server.setFile(kevPath, await readFile(realdata('feeds/kev/vunnel-kev-catalog-slice.json')));
    server.fault(kevPath, [{ status: 503, retryAfter: '1' }]);
    server.fault(epssPath, [], { status: 500 });

    let from = server.log.length;
    const r = await update(fresh, freshWork);
    // the snapshot is published with KEV's update; the broken EPSS feed still fails the command
    expect(r.code, r.stderr).toBe(8);
    expect(r.stderr).toMatch(
      /vigil: ENG_DB_BUILD_FAILED: feed epss \(ENG_FEED_HTTP: .*HTTP 500.*\) failed; their previous data is kept and the other feeds were updated\n$/,
    );
    expect(outcomes(r)).toEqual({ ...allAre('unchanged'), kev: 'updated full', epss: 'failed' });
    const statuses = statusesByPath(server.since(from));
    expect(statuses[kevPath]).toEqual([503, 200]);
    expect(statuses[epssPath]).toEqual([500, 500, 500, 500, 500, 500]); // 1 + download()'s 5 retries

    const after = await status(fresh);
    const epss = after.sources.find((s) => s.name === 'epss')!;
    const kev = after.sources.find((s) => s.name === 'kev')!;
    expect(epss.lastError).toMatch(/^ENG_FEED_HTTP: .*HTTP 500/);
    expect(epss.counts.epss).toBe(29); // the previous rows stay
    expect(epss.contentHash).toBe(before.sources.find((s) => s.name === 'epss')!.contentHash);
    expect(kev.counts.kev).toBe(3);
    expect(after.version).not.toBe(before.version);

    // alpine's on-error policy is `fail` (no body may be skipped): a download failure is handled the same way
    server.clearFaults();
    server.fault('/alpine/', [], { status: 500 });
    from = server.log.length;
    const failed = await update(fresh, freshWork, ['alpine']);
    expect(failed.code).toBe(8);
    expect(failed.stderr).toMatch(
      /vigil: ENG_DB_BUILD_FAILED: feed alpine \(ENG_FEED_HTTP: .*HTTP 500.*\) failed; their previous data is kept/,
    );
    expect(statusesByPath(server.since(from))).toEqual({ '/alpine/': [500, 500, 500, 500, 500, 500] });
    const afterAlpine = await status(fresh);
    const alpine = afterAlpine.sources.find((s) => s.name === 'alpine')!;
    expect([afterAlpine.version, alpine.lastError?.startsWith('ENG_FEED_HTTP'), alpine.contentHash]).toEqual([
      after.version,
      true,
      after.sources.find((s) => s.name === 'alpine')!.contentHash,
    ]);
    server.clearFaults();
  });
});
