/**
 * Server-sent events of one scan (`GET /scans/{id}/events`): `status` and `progress` events as the scan service
 * reports them, until a final status; a comment line every heartbeat interval keeps proxies from closing an
 * idle stream; a client that goes away aborts the watch. A failure after the stream started is sent as an
 * `error` event (`{code, message}`) before the stream ends, since the status line is already out.
 * Event format: https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ScanEvent, ScanService } from '../services/api.js';
import { toHttpError } from './errors.js';

export interface ScanEventStream {
  scans: ScanService;
  orgId: string;
  scanId: string;
  heartbeatMs: number;
}

function eventData(event: ScanEvent): unknown {
  if (event.type === 'progress') return event;
  const { orgId: _orgId, ...scan } = event.scan;
  return { type: 'status', scan };
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Takes over the reply and streams the scan's events (the scan must already be known to exist in the org). */
export async function streamScanEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  stream: ScanEventStream,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const controller = new AbortController();
  // The response's 'close' before we end it means the client went away.
  raw.once('close', () => controller.abort());
  const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), stream.heartbeatMs);
  raw.write(': watching\n\n');
  try {
    for await (const event of stream.scans.watchScan(stream.orgId, stream.scanId, controller.signal)) {
      if (controller.signal.aborted) break;
      raw.write(frame(event.type, eventData(event)));
    }
  } catch (error) {
    if (!controller.signal.aborted) {
      const answer = toHttpError(error);
      if (answer.status >= 500) request.log.error({ err: error }, 'scan events failed');
      raw.write(frame('error', answer.body));
    }
  } finally {
    clearInterval(heartbeat);
    raw.end();
  }
}
