import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import type { FeedRecord, FetchContext, FetchResult } from '../types.js';
import { createNvdFeed, type Clock } from './index.js';
import { NvdReplayServer } from './testdata/replay-server.js';

/** Fake time: sleeping advances it at once. */
class FakeClock implements Clock {
  constructor(public t: number) {}
  now = () => this.t;
  sleep = async (ms: number, signal?: AbortSignal) => {
    signal?.throwIfAborted();
    this.t += ms;
  };
}

const T0 = Date.parse('2023-07-20T00:00:00.000Z');
type Item = { cve: { id: string; lastModified: string } };
const pageItems = (file: string): Item[] =>
  (
    JSON.parse(gunzipSync(readFileSync(realdata(`feeds/nvd/${file}`))).toString('utf8')) as {
      vulnerabilities: Item[];
    }
  ).vulnerabilities;

async function records(result: FetchResult, feed = createNvdFeed()): Promise<FeedRecord[]> {
  if (result.status !== 'updated') return [];
  const out: FeedRecord[] = [];
  for (const body of result.bodies) for await (const r of feed.parse(body)) out.push(r);
  return out;
}
const ids = (rs: FeedRecord[]) =>
  rs.map((r) => (r.type === 'vulnerability' ? r.vulnerability.id : r.type === 'withdrawn' ? r.id : '?'));
/** The most requests seen in any half-open window [t, t + 30 s). */
const busiest = (times: number[]) =>
  Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 30_000).length));

describe.skipIf(!hasRealdata)('NVD fetch against a loopback replay of real pages', () => {
  // 400 real CVEs: the oldest 200 (1999) and 200 from 2022-2023, served 50 a page
  const items = hasRealdata
    ? [
        ...pageItems('nvdgo-api2-cves-page-startIndex0.json.gz'),
        ...pageItems('nvdgo-api2-cves-page-startIndex200000.json.gz'),
      ]
    : [];
  let clock: FakeClock;
  let server: NvdReplayServer;
  let workDir: string;
  const feed = () => createNvdFeed({ clock, resultsPerPage: 50 });
  const ctx = (extra: Partial<FetchContext> = {}): FetchContext => ({
    workDir,
    baseUrl: server.url,
    now: () => new Date(T0),
    ...extra,
  });

  beforeEach(async () => {
    clock = new FakeClock(T0);
    server = new NvdReplayServer(items, () => clock.t);
    await server.start();
    workDir = await mkdtemp(join(tmpdir(), 'vigil-nvd-'));
  });
  afterEach(async () => {
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  it('first run: full sync of every page, at most 5 requests per 30 s without a key', async () => {
    const progress: [number, number | undefined][] = [];
    const result = await feed().fetch(ctx({ onProgress: (d, t) => progress.push([d, t]) }));
    expect(server.seen.map((s) => s.query)).toEqual(
      [0, 50, 100, 150, 200, 250, 300, 350].map((i) => `resultsPerPage=50&startIndex=${i}`),
    );
    expect(server.seen.every((s) => s.apiKey === undefined)).toBe(true);
    // five at once, then the sixth waits until the first leaves the window
    expect(server.seen.map((s) => s.at - T0)).toEqual([0, 0, 0, 0, 0, 30_000, 30_000, 30_000]);
    expect(busiest(server.seen.map((s) => s.at))).toBe(5);
    expect(progress).toEqual([
      [1, 8],
      [2, 8],
      [3, 8],
      [4, 8],
      [5, 8],
      [6, 8],
      [7, 8],
      [8, 8],
    ]);
    expect(result).toMatchObject({
      status: 'updated',
      mode: 'full',
      checkpoint: { lastModified: '2023-07-20T00:00:00.000Z' },
    });
    const rs = await records(result);
    expect(ids(rs)).toEqual(items.map((i) => i.cve.id));
    // the two real pages hold 3 + 1 rejected CVEs
    expect(rs.filter((r) => r.type === 'withdrawn').length).toBe(4);
  });

  it('with an API key: the apiKey header on every request and 50 requests per 30 s', async () => {
    await feed().fetch(ctx({ credentials: { nvdApiKey: 'k-123' } }));
    expect(server.seen.map((s) => [s.apiKey, s.at - T0])).toEqual(Array(8).fill(['k-123', 0]));
  });

  it('incremental: lastModStartDate/lastModEndDate windows of ≤ 120 days from the checkpoint to now', async () => {
    // 10 a page: only 21 of the 400 CVEs were modified in 2023
    const small = createNvdFeed({ clock, resultsPerPage: 10 });
    const result = await small.fetch(ctx({ checkpoint: { lastModified: '2023-01-01T00:00:00.000Z' } }));
    const w1 =
      'lastModStartDate=2023-01-01T00:00:00.000%2B00:00&lastModEndDate=2023-05-01T00:00:00.000%2B00:00';
    const w2 =
      'lastModStartDate=2023-05-01T00:00:00.000%2B00:00&lastModEndDate=2023-07-20T00:00:00.000%2B00:00';
    const first = server.inWindow('2023-01-01T00:00:00Z', '2023-05-01T00:00:00Z').length;
    const second = server.inWindow('2023-05-01T00:00:00Z', '2023-07-20T00:00:00Z').length;
    // ≤ 10 CVEs in the first window, 11–20 in the second: one page, then two
    expect([first <= 10, second > 10 && second <= 20]).toEqual([true, true]);
    expect(server.seen.map((s) => s.query)).toEqual([
      `resultsPerPage=10&startIndex=0&${w1}`,
      `resultsPerPage=10&startIndex=0&${w2}`,
      `resultsPerPage=10&startIndex=10&${w2}`,
    ]);
    expect(result).toMatchObject({
      status: 'updated',
      mode: 'delta',
      checkpoint: { lastModified: '2023-07-20T00:00:00.000Z' },
    });
    expect(ids(await records(result))).toEqual(
      [
        ...server.inWindow('2023-01-01T00:00:00Z', '2023-05-01T00:00:00Z'),
        ...server.inWindow('2023-05-01T00:00:00Z', '2023-07-20T00:00:00Z'),
      ].map((i) => i.cve.id),
    );
  });

  it('a long gap is covered by consecutive windows of at most 120 days, which the API accepts', async () => {
    await feed().fetch(ctx({ checkpoint: { lastModified: '2019-06-01T12:00:00.000Z' } }));
    const windows = [
      ...new Map(server.seen.map((s) => [s.params.lastModStartDate, s.params.lastModEndDate])).entries(),
    ].map(([s, e]) => [Date.parse(s!), Date.parse(e!)] as const);
    // 2019-06-01T12:00 → 2023-07-20T00:00 is 1,509.5 days: 12 full windows and a shorter one
    expect(windows.length).toBe(13);
    expect(windows[0]![0]).toBe(Date.parse('2019-06-01T12:00:00Z'));
    expect(windows.at(-1)![1]).toBe(T0);
    for (const [i, [s, e]] of windows.entries()) {
      expect(e - s).toBeLessThanOrEqual(120 * 86_400_000);
      if (i > 0) expect(s).toBe(windows[i - 1]![1]);
    }
  });

  it('nothing modified since the checkpoint: unchanged, and no state left behind', async () => {
    const result = await feed().fetch(ctx({ checkpoint: { lastModified: '2023-07-19T00:00:00.000Z' } }));
    expect(result).toEqual({ status: 'unchanged' });
    expect(server.seen.map((s) => s.params.startIndex)).toEqual(['0']);
    expect(await readdir(join(workDir, 'nvd'))).toEqual([]);
  });

  it('403, 429 and 503 are retried after their Retry-After, then the page is fetched', async () => {
    server.script.push(
      { status: 403, retryAfter: '7' },
      { status: 429, retryAfter: '3' },
      { status: 503, retryAfter: '1' },
    );
    const result = await feed().fetch(ctx({ checkpoint: { lastModified: '2023-07-19T00:00:00.000Z' } }));
    expect(server.seen.map((s) => [s.params.startIndex, s.at - T0])).toEqual([
      ['0', 0],
      ['0', 7_000],
      ['0', 10_000],
      ['0', 11_000],
    ]);
    expect(result).toEqual({ status: 'unchanged' });
  });

  it('a 403 that outlasts the retries fails the fetch with ENG_FEED_RATE_LIMITED', async () => {
    for (let i = 0; i < 3; i++) server.script.push({ status: 403, retryAfter: '1' });
    const limited = createNvdFeed({ clock, resultsPerPage: 50, retries: 2 });
    await expect(limited.fetch(ctx())).rejects.toMatchObject({ code: 'ENG_FEED_RATE_LIMITED' });
    expect(server.seen.length).toBe(3);
  });

  it('killed after page 2, the next run resumes at page 3 of the same run', async () => {
    const ac = new AbortController();
    const first = feed().fetch(ctx({ signal: ac.signal, onProgress: (done) => done === 2 && ac.abort() }));
    await expect(first).rejects.toMatchObject({ code: 'ENG_ABORTED' });
    expect(server.seen.map((s) => s.params.startIndex)).toEqual(['0', '50']);

    server.seen.length = 0;
    // later, with a new clock reading: the resumed run keeps its plan and its end
    const result = await feed().fetch(ctx({ now: () => new Date(T0 + 3_600_000) }));
    expect(server.seen.map((s) => s.params.startIndex)).toEqual(['100', '150', '200', '250', '300', '350']);
    expect(result).toMatchObject({
      status: 'updated',
      mode: 'full',
      checkpoint: { lastModified: '2023-07-20T00:00:00.000Z' },
    });
    expect(ids(await records(result))).toEqual(items.map((i) => i.cve.id));

    // the checkpoint was never stored: the completed run is handed out again without a request
    server.seen.length = 0;
    const again = await feed().fetch(ctx());
    expect(server.seen).toEqual([]);
    expect(ids(await records(again))).toEqual(items.map((i) => i.cve.id));

    // once stored, the next run is an incremental one from it, and the old pages are gone
    const next = await feed().fetch(
      ctx({ checkpoint: { lastModified: '2023-07-20T00:00:00.000Z' }, now: () => new Date(T0 + 86_400_000) }),
    );
    expect(next).toEqual({ status: 'unchanged' });
    expect(await readdir(join(workDir, 'nvd'))).toEqual([]);
  });

  it('an unreadable progress file is ignored: the run starts over', async () => {
    await mkdir(join(workDir, 'nvd'), { recursive: true });
    await writeFile(join(workDir, 'nvd', 'progress.json'), '{"version": 1, "key": "full|", "wind');
    const result = await feed().fetch(ctx());
    expect(server.seen.map((s) => s.params.startIndex)).toEqual([
      '0',
      '50',
      '100',
      '150',
      '200',
      '250',
      '300',
      '350',
    ]);
    expect(ids(await records(result))).toEqual(items.map((i) => i.cve.id));
  });

  it('a server that answers another NVD API: ENG_FEED_FORMAT', async () => {
    server.override = gunzipSync(
      readFileSync(realdata('feeds/nvd/nvdgo-api2-cvehistory-CVE-2019-1010218.json.gz')),
    ).toString();
    await expect(feed().fetch(ctx())).rejects.toMatchObject({ code: 'ENG_FEED_FORMAT' });
  });
});
