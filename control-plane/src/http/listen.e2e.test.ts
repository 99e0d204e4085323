/**
 * The gateway on a real socket, called with fetch (undici): a browser-like login and CSRF-protected write,
 * server-sent events of a scan a worker drives to completion (with heartbeats while it waits), a client that
 * disconnects mid-stream ending the server's watch, and the operations endpoints.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanService } from '../services/api.js';
import { completeReport, messages, wireFinding, wirePackage } from '../services/testdata/harness.js';
import { buildApi } from './app.js';
import { createLogger } from './logger.js';
import { startApi, type ApiHarness } from './testdata/api-harness.js';

let h: ApiHarness;
let app: FastifyInstance;
let base: string;
let draining = false;
let healthy = true;
/** Resolves for each watch the gateway started, when that watch's iteration ends. */
const watchesEnded: Promise<void>[] = [];

/** The real scan service, with each watchScan's end recorded. */
function recordingWatches(scans: ScanService): ScanService {
  return {
    ...scans,
    watchScan(orgId, scanId, signal) {
      const events = scans.watchScan(orgId, scanId, signal);
      let ended!: () => void;
      watchesEnded.push(new Promise<void>((resolve) => (ended = resolve)));
      return (async function* () {
        try {
          yield* events;
        } finally {
          ended();
        }
      })();
    },
  };
}

beforeAll(async () => {
  h = await startApi();
  app = await buildApi({
    stores: h.backends.stores,
    sessions: h.sessions,
    auth: h.auth,
    services: { scans: recordingWatches(h.cp.services.scans), queries: h.cp.services.queries },
    logger: createLogger({ level: 'silent' }),
    isDraining: () => draining,
    readiness: {
      postgres: () => h.backends.db.query('SELECT 1'),
      queue: async () => {
        if (!healthy) throw new Error('queue down');
      },
    },
    options: { sseHeartbeatMs: 20 },
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads server-sent events off a response body: frames, and comment lines counted as heartbeats. */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const state = { events: [] as SseEvent[], comments: 0, done: false };
  async function pump(): Promise<void> {
    const { value, done } = await reader.read();
    if (done) {
      state.done = true;
      return;
    }
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (frame.startsWith(':')) state.comments += 1;
      else {
        const field = (name: string) =>
          frame
            .split('\n')
            .find((l) => l.startsWith(`${name}: `))
            ?.slice(name.length + 2);
        state.events.push({ event: field('event')!, data: JSON.parse(field('data')!) });
      }
    }
  }
  return {
    state,
    async until(condition: () => boolean): Promise<void> {
      while (!condition() && !state.done) await pump();
    },
    cancel: () => reader.cancel(),
  };
}

describe('over a real socket', () => {
  it('signs in like a browser and writes with the CSRF header', async () => {
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'member@tenant-a.test', password: 'correct horse battery staple' }),
    });
    const cookies = login.headers.getSetCookie().map((c) => c.split(';')[0]!);
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const scan = (headers: Record<string, string>) =>
      fetch(`${base}/api/v1/scans`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: cookies.join('; '), ...headers },
        body: JSON.stringify({ imageId: h.a.imageId, force: true }),
      }).then(async (r) => ({ status: r.status, code: ((await r.json()) as { code?: string }).code }));
    expect({
      login: login.status,
      cookies: cookies.map((c) => c.split('=')[0]),
      withoutHeader: await scan({}),
      withHeader: await scan({ 'x-csrf-token': csrfToken }),
      fromElsewhere: await scan({ 'x-csrf-token': csrfToken, origin: 'https://evil.example' }),
    }).toEqual({
      login: 200,
      cookies: ['vigil_session', 'vigil_csrf'],
      withoutHeader: { status: 403, code: 'CP_CSRF' },
      withHeader: { status: 201, code: undefined },
      fromElsewhere: { status: 403, code: 'CP_CSRF' },
    });
  });

  it('streams a scan as server-sent events until it completes, with heartbeats while it waits', async () => {
    const scanId = await h.fresh.queuedScanId(h.a);
    const res = await fetch(`${base}/api/v1/scans/${scanId}/events`, {
      headers: { authorization: `Bearer ${h.a.tokens.read}` },
    });
    const sse = sseReader(res.body!);
    await sse.until(() => sse.state.events.length === 1 && sse.state.comments >= 2);
    await h.cp.worker.claimJob({ scanId, attempt: 1, workerId: 'w1' }, { metadata: h.cp.metadata });
    const report = completeReport(
      [wirePackage('zlib', '1.2')],
      [wireFinding('CVE-2024-0003', 'LOW', wirePackage('zlib', '1.2'), '1.3')],
    );
    await h.cp.worker.report(messages(scanId, 1, report), { metadata: h.cp.metadata });
    await sse.until(() => false);
    expect({
      status: res.status,
      type: res.headers.get('content-type'),
      events: sse.state.events.map((e) => {
        const data = e.data as { scan?: { status: string; id: string }; stage?: string };
        return `${e.event}:${data.scan ? `${data.scan.status}:${data.scan.id === scanId}` : data.stage}`;
      }),
      ended: sse.state.done,
    }).toEqual({
      status: 200,
      type: 'text/event-stream; charset=utf-8',
      events: ['status:queued:true', 'status:running:true', 'progress:analyze', 'status:completed:true'],
      ended: true,
    });
  });

  it("ends the server's watch when the client goes away", async () => {
    const scanId = await h.fresh.queuedScanId(h.a);
    const watches = watchesEnded.length;
    const controller = new AbortController();
    const res = await fetch(`${base}/api/v1/scans/${scanId}/events`, {
      headers: { authorization: `Bearer ${h.a.tokens.read}` },
      signal: controller.signal,
    });
    const sse = sseReader(res.body!);
    await sse.until(() => sse.state.events.length === 1);
    controller.abort();
    await watchesEnded[watches];
    expect({ watchesStarted: watchesEnded.length - watches, events: sse.state.events.length }).toEqual({
      watchesStarted: 1,
      events: 1,
    });
  });

  it('answers /healthz, /readyz (503 while draining or a dependency is down) and /metrics', async () => {
    const get = async (path: string) => {
      const r = await fetch(`${base}${path}`);
      return { status: r.status, body: (await r.json()) as unknown };
    };
    const ready = await get('/readyz');
    healthy = false;
    const down = await get('/readyz');
    healthy = true;
    draining = true;
    const drain = await get('/readyz');
    draining = false;
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect({
      health: await get('/healthz'),
      ready,
      down,
      drain,
      metrics: [
        /vigil_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/scans",status_code="201"\} \d+/,
        /vigil_auth_attempts_total\{method="password",result="ok"\} \d+/,
        /vigil_scans_requested_total\{priority="manual",created="true"\} \d+/,
        /vigil_process_cpu_seconds_total \d+/,
      ].map((pattern) => pattern.test(metrics)),
    }).toEqual({
      health: { status: 200, body: { status: 'ok' } },
      ready: { status: 200, body: { status: 'ready', checks: { postgres: 'ok', queue: 'ok' } } },
      down: {
        status: 503,
        body: {
          code: 'CP_UNAVAILABLE',
          message: 'not ready: queue',
          checks: { postgres: 'ok', queue: 'failed' },
        },
      },
      drain: {
        status: 503,
        body: {
          code: 'CP_UNAVAILABLE',
          message: 'draining for shutdown',
          checks: { postgres: 'ok', queue: 'ok' },
        },
      },
      metrics: [true, true, true, true],
    });
  });
});
