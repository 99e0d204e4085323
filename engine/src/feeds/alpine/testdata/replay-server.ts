/**
 * A loopback HTTP server for feed tests: replays real payloads and scripted answers per path,
 * honours ETag / If-None-Match (304), and logs every request. Test-only (used by the distro feed
 * tests: alpine, wolfi, debian, redhat).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status?: number;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** when set, sent as ETag; a request with a matching If-None-Match gets 304 */
  etag?: string;
}

/** A fixed reply, a list of replies served in turn (the last one repeats), or a function. */
export type Route = Reply | Reply[] | ((path: string) => Reply);

export interface ReplayServer {
  url: string;
  requests: { method: string; path: string; headers: IncomingHttpHeaders }[];
  routes: Map<string, Route>;
  close(): Promise<void>;
}

export async function startReplayServer(routes: Record<string, Route> = {}): Promise<ReplayServer> {
  const table = new Map(Object.entries(routes));
  const served = new Map<string, number>();
  const requests: ReplayServer['requests'] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers });
    const route = table.get(path);
    let reply: Reply;
    if (route === undefined) reply = { status: 404, body: 'not found' };
    else if (typeof route === 'function') reply = route(path);
    else if (Array.isArray(route)) {
      const n = served.get(path) ?? 0;
      served.set(path, n + 1);
      reply = route[Math.min(n, route.length - 1)]!;
    } else reply = route;
    const headers: Record<string, string> = { ...reply.headers };
    if (reply.etag) {
      headers.etag = reply.etag;
      if (req.headers['if-none-match'] === reply.etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
    }
    const body = reply.body ?? '';
    headers['content-length'] = String(Buffer.byteLength(body));
    res.writeHead(reply.status ?? 200, headers);
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    routes: table,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
