/**
 * One loopback HTTP server (node:http on 127.0.0.1) standing in for every feed's upstream, each
 * under its own path prefix (feed-payloads.ts lists the layout). Test-only.
 *
 * - Static files carry an ETag (a hash of their bytes) and a Last-Modified (a fake clock that
 *   moves one second per content change, so validators of successive versions always differ);
 *   a conditional GET that matches gets 304 (If-None-Match wins over If-Modified-Since, RFC 9110
 *   §13.2.2). Unknown paths get 404.
 * - The NVD CVE API 2.0 endpoint pages the collection live: `startIndex`, `resultsPerPage` (capped
 *   at `nvd.pageSize`, as the real API caps at 2,000: clients must follow the `resultsPerPage`
 *   of the answer), `lastModStartDate`/`lastModEndDate` (both or neither, with a UTC offset,
 *   ≤ 120 days, else 404 as NVD answers), filtered with NvdReplayServer.inWindow from the NVD
 *   feed's own replay server. It can be told to delay every page or to never answer one.
 * - Faults per path: answers given before the real ones (503 + Retry-After…) and an answer
 *   given forever (500).
 * - Every request is logged (path, query, headers, the status it got), so tests assert on
 *   what each run asked for.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NvdReplayServer } from '../../../engine/src/feeds/nvd/testdata/replay-server.js';
import type { NvdItem } from './feed-payloads.js';

export const NVD_PATH = '/nvd/rest/json/cves/2.0';

export interface LoggedRequest {
  method: string;
  /** decoded path, e.g. `/osv/Rocky Linux/all.zip` */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** the status answered (absent while the request hangs) */
  status?: number;
  /** Date.now() when it arrived */
  at: number;
}

export interface Fault {
  status: number;
  retryAfter?: string;
}

interface ServedFile {
  bytes: Buffer;
  etag: string;
  lastModified: string;
}

const OFFSET = /(Z|[+-]\d{2}:\d{2})$/;
const MAX_RANGE_MS = 120 * 86_400_000;

export class FeedReplayServer {
  /** `http://127.0.0.1:<port>` */
  url = '';
  readonly log: LoggedRequest[] = [];
  /** the NVD collection and paging behaviour; `items` may be edited between runs */
  readonly nvd: { items: NvdItem[]; pageSize: number; delayMs: number; hangAtStartIndex?: number };
  private readonly files = new Map<string, ServedFile>();
  private readonly faults = new Map<string, { first: Fault[]; forever?: Fault }>();
  private readonly hung = new Set<ServerResponse>();
  private clock = Date.parse('2026-01-01T00:00:00Z');
  private server?: Server;

  constructor(files: ReadonlyMap<string, Buffer>, nvdItems: NvdItem[]) {
    for (const [path, bytes] of files) this.setFile(path, bytes);
    this.nvd = { items: nvdItems, pageSize: 2000, delayMs: 0 };
  }

  /** Serves `bytes` at `path` with fresh validators (or the same ones when the bytes are the same). */
  setFile(path: string, bytes: Buffer): void {
    const etag = `"${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}"`;
    if (this.files.get(path)?.etag === etag) return;
    this.clock += 1000;
    this.files.set(path, { bytes, etag, lastModified: new Date(this.clock).toUTCString() });
  }

  file(path: string): Buffer | undefined {
    return this.files.get(path)?.bytes;
  }

  /** `first` answers go out before the real ones, then `forever` (if set) replaces them for good. */
  fault(path: string, first: Fault[], forever?: Fault): void {
    this.faults.set(path, { first: [...first], ...(forever ? { forever } : {}) });
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** The requests logged since `from` (a previous `log.length`). */
  since(from: number): LoggedRequest[] {
    return this.log.slice(from);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const entry: LoggedRequest = {
        method: req.method ?? 'GET',
        path: decodeURIComponent(u.pathname),
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        at: Date.now(),
      };
      this.log.push(entry);
      const answer = (
        status: number,
        headers: Record<string, string> = {},
        body: Buffer = Buffer.alloc(0),
      ) => {
        entry.status = status;
        res.writeHead(status, { ...headers, 'content-length': String(body.length) }).end(body);
      };
      const fault = this.faults.get(entry.path);
      const scripted = fault?.first.shift() ?? fault?.forever;
      if (scripted) {
        return answer(scripted.status, scripted.retryAfter ? { 'retry-after': scripted.retryAfter } : {});
      }
      if (entry.path === NVD_PATH) return this.nvdPage(entry, res, answer);
      const file = this.files.get(entry.path);
      if (!file) return answer(404, { 'content-type': 'text/plain' }, Buffer.from('not found'));
      const validators = { etag: file.etag, 'last-modified': file.lastModified };
      if (notModified(req.headers, file)) return answer(304, validators);
      answer(200, validators, file.bytes);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Drops the connections of hung NVD requests. */
  releaseHung(): void {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
  }

  async stop(): Promise<void> {
    this.releaseHung();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private nvdPage(
    entry: LoggedRequest,
    res: ServerResponse,
    answer: (status: number, headers?: Record<string, string>, body?: Buffer) => void,
  ): void {
    const q = entry.query;
    const startIndex = Number(q.startIndex ?? 0);
    const asked = Number(q.resultsPerPage ?? 2000);
    const start = q.lastModStartDate;
    const end = q.lastModEndDate;
    const refuse = (message: string) => answer(404, { message });
    if (!(asked >= 1 && asked <= 2000) || !(startIndex >= 0)) return refuse('bad paging');
    if ((start === undefined) !== (end === undefined)) return refuse('both dates are required');
    if (start && end) {
      if (!OFFSET.test(start) || !OFFSET.test(end)) return refuse('Invalid ISO 8601 date/time format');
      if (Date.parse(end) - Date.parse(start) > MAX_RANGE_MS) return refuse('range over 120 days');
    }
    if (this.nvd.hangAtStartIndex === startIndex) {
      this.hung.add(res);
      return;
    }
    // the NVD feed's own replay server decides what a lastModified window holds
    const all = new NvdReplayServer(this.nvd.items, () => 0).inWindow(start, end);
    const slice = all.slice(startIndex, startIndex + Math.min(asked, this.nvd.pageSize));
    const body = Buffer.from(
      JSON.stringify({
        resultsPerPage: slice.length,
        startIndex,
        totalResults: all.length,
        format: 'NVD_CVE',
        version: '2.0',
        timestamp: new Date().toISOString().replace(/Z$/, ''),
        vulnerabilities: slice,
      }),
    );
    const send = () => answer(200, { 'content-type': 'application/json' }, body);
    if (this.nvd.delayMs > 0) setTimeout(send, this.nvd.delayMs);
    else send();
  }
}

/** RFC 9110 §13.1.2 / §13.1.3 (weak comparison for If-None-Match). */
function notModified(headers: IncomingHttpHeaders, file: ServedFile): boolean {
  const inm = headers['if-none-match'];
  if (inm !== undefined) {
    const tags = inm.split(',').map((t) => t.trim().replace(/^W\//, ''));
    return tags.includes('*') || tags.includes(file.etag);
  }
  const ims = headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && Date.parse(file.lastModified) <= since;
}
