/**
 * A loopback stand-in for the NVD CVE API 2.0 (tests only). It serves a fixed list of real
 * `{cve}` elements with the API's paging (`startIndex`, `resultsPerPage` ≤ 2000) and
 * lastModified filtering, refuses what NVD refuses (a date without UTC offset, one bound
 * without the other, a range over 120 days → 404), records every request (query, apiKey header,
 * the fake time it arrived) and can be scripted to answer errors first.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  /** the raw query string, as sent */
  query: string;
  params: Record<string, string>;
  apiKey?: string;
  /** the injected clock's time when the request arrived */
  at: number;
}

export interface Scripted {
  status: number;
  retryAfter?: string;
  body?: string;
}

type Item = { cve: { id: string; lastModified: string } };

const OFFSET = /(Z|[+-]\d{2}:\d{2})$/;
const MAX_RANGE_MS = 120 * 86_400_000;

export class NvdReplayServer {
  readonly seen: SeenRequest[] = [];
  /** answers given before the real ones, first in first out */
  readonly script: Scripted[] = [];
  /** replaces every page body (e.g. another NVD API's output) */
  override?: string;
  private server?: Server;
  url = '';

  constructor(
    private readonly items: Item[],
    private readonly now: () => number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://localhost');
      const params = Object.fromEntries(u.searchParams);
      const apiKey = req.headers.apikey;
      this.seen.push({
        query: u.search.slice(1),
        params,
        ...(typeof apiKey === 'string' ? { apiKey } : {}),
        at: this.now(),
      });
      const scripted = this.script.shift();
      if (scripted) {
        const headers: Record<string, string> = scripted.retryAfter ? { 'retry-after': scripted.retryAfter } : {};
        res.writeHead(scripted.status, headers).end(scripted.body ?? '');
        return;
      }
      if (this.override !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(this.override);
        return;
      }
      const answer = this.page(params);
      if (typeof answer === 'string') {
        res.writeHead(404, { message: answer }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/rest/json/cves/2.0`;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }

  /** The CVEs whose lastModified (UTC) lies in [start, end], in list order. */
  inWindow(start?: string, end?: string): Item[] {
    if (!start || !end) return this.items;
    const s = Date.parse(start);
    const e = Date.parse(end);
    return this.items.filter((i) => {
      const t = Date.parse(`${i.cve.lastModified}Z`);
      return t >= s && t <= e;
    });
  }

  private page(p: Record<string, string>): object | string {
    const perPage = Number(p.resultsPerPage ?? 2000);
    const startIndex = Number(p.startIndex ?? 0);
    if (!(perPage >= 1 && perPage <= 2000) || !(startIndex >= 0)) return 'bad paging';
    const start = p.lastModStartDate;
    const end = p.lastModEndDate;
    if ((start === undefined) !== (end === undefined)) return 'both dates are required';
    if (start && end) {
      if (!OFFSET.test(start) || !OFFSET.test(end)) return 'Invalid ISO 8601 date/time format, see documentation.';
      if (Date.parse(end) - Date.parse(start) > MAX_RANGE_MS) return 'range over 120 days';
    }
    const all = this.inWindow(start, end);
    const slice = all.slice(startIndex, startIndex + perPage);
    return {
      resultsPerPage: slice.length,
      startIndex,
      totalResults: all.length,
      format: 'NVD_CVE',
      version: '2.0',
      timestamp: '2023-07-20T00:00:00.000',
      vulnerabilities: slice,
    };
  }
}
