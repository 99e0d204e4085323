/**
 * A throttling reverse proxy in front of a real registry, for the fleet scenario tests: image references name
 * the proxy, so the control plane and the workers pull through it. By default it passes everything through; a
 * test can make pulls slow on cue, so a scan is surely running (or a batch surely in flight) when it acts:
 *
 * - `hold()`: blob downloads send half their body, then wait until `release()` (a scan stuck mid-download,
 *   which only an abort ends early). Manifests are never held, so scan requests still resolve.
 * - `delayMs`: every request waits this long before it is forwarded (a slow registry).
 *
 * A client that goes away (an aborted scan, a killed worker) simply ends its request here.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RegistryProxy {
  /** `127.0.0.1:<port>`: the registry part of image references */
  host: string;
  /** milliseconds every request waits before it is forwarded (default 0) */
  delayMs: number;
  /** from now on, blob downloads stop halfway until `release()` */
  hold(): void;
  /** lets held downloads (and later ones) finish */
  release(): void;
  /** blob downloads waiting at the gate right now */
  readonly waiting: number;
  stop(): Promise<void>;
}

const BLOB_GET = /^\/v2\/.+\/blobs\/sha256:[0-9a-f]{64}$/;

/** Starts the proxy on a free loopback port, forwarding to `upstream` (`http://127.0.0.1:PORT`). */
export async function startRegistryProxy(upstream: string): Promise<RegistryProxy> {
  const target = new URL(upstream);
  let gate: Promise<void> | null = null;
  let open = (): void => {};
  let waiting = 0;

  const forward = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (proxy.delayMs > 0) await sleep(proxy.delayMs);
    const upstreamReq = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        const held = gate;
        if (!held || req.method !== 'GET' || !BLOB_GET.test(req.url ?? '')) {
          upstreamRes.pipe(res);
          return;
        }
        void holdHalfway(upstreamRes, res, held);
      },
    );
    upstreamReq.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
    req.pipe(upstreamReq);
  };

  const holdHalfway = async (
    from: IncomingMessage,
    to: ServerResponse,
    held: Promise<void>,
  ): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of from) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const half = Math.floor(body.length / 2);
    to.write(body.subarray(0, half));
    waiting++;
    await Promise.race([held, new Promise((resolve) => to.once('close', resolve))]);
    waiting--;
    if (!to.destroyed) to.end(body.subarray(half));
  };

  const server = createServer((req, res) => {
    forward(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const proxy: RegistryProxy = {
    host: `127.0.0.1:${port}`,
    delayMs: 0,
    hold() {
      gate ??= new Promise<void>((resolve) => (open = resolve));
    },
    release() {
      open();
      gate = null;
    },
    get waiting() {
      return waiting;
    },
    async stop() {
      proxy.release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
