/**
 * Prometheus metrics of the control plane: one registry (`GET /metrics` serves it) with the process's default
 * metrics, the REST gateway's request histogram, and counters the services, the queue and auth increment.
 * Labels never carry an organisation, user or token: /metrics is operator data, not tenant data.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The control plane's registry. Default process metrics are collected once, when this module loads. */
export const metricsRegistry: Registry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'vigil_' });

/** REST request durations by method, route pattern (never the raw URL) and status code. */
export const httpRequestDuration: Histogram<'method' | 'route' | 'status_code'> = new Histogram({
  name: 'vigil_http_request_duration_seconds',
  help: 'REST request duration by route pattern and status code',
  labelNames: ['method', 'route', 'status_code'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

/** gRPC calls of the public services by method and gRPC status name. */
export const grpcCalls: Counter<'method' | 'code'> = new Counter({
  name: 'vigil_grpc_calls_total',
  help: 'Public gRPC calls by method and status',
  labelNames: ['method', 'code'],
  registers: [metricsRegistry],
});

/** Scans requested through any API, by priority and whether a new scan was created (false: an existing one). */
export const scansRequested: Counter<'priority' | 'created'> = new Counter({
  name: 'vigil_scans_requested_total',
  help: 'Scan requests by priority and whether a new scan was created',
  labelNames: ['priority', 'created'],
  registers: [metricsRegistry],
});

/** Scans that reached a final status (completed, failed, cancelled). Incremented by services/scan-metrics.ts. */
export const scansFinished: Counter<'status'> = new Counter({
  name: 'vigil_scans_finished_total',
  help: 'Scans that reached a final status',
  labelNames: ['status'],
  registers: [metricsRegistry],
});

/** Jobs published to the work queue, and publishes that failed. Incremented by the scan publisher. */
export const queuePublished: Counter<'result'> = new Counter({
  name: 'vigil_queue_published_total',
  help: 'Scan jobs published to the work queue by result (ok, duplicate, failed)',
  labelNames: ['result'],
  registers: [metricsRegistry],
});

/** Jobs that exhausted their deliveries. Incremented by the dispatch loop's dead-job listener. */
export const queueDeadJobs: Counter = new Counter({
  name: 'vigil_queue_dead_jobs_total',
  help: 'Scan jobs that exhausted their deliveries',
  registers: [metricsRegistry],
});

let readQueueDepth: (() => Promise<number>) | null = null;

/** Jobs waiting in the work queue, read on each scrape from the function given to `trackQueueDepth`. */
const queueDepth: Gauge = new Gauge({
  name: 'vigil_queue_pending_jobs',
  help: 'Scan jobs waiting in the work queue',
  registers: [metricsRegistry],
  async collect() {
    if (!readQueueDepth) return;
    try {
      queueDepth.set(await readQueueDepth());
    } catch {
      // the queue being down shows on /readyz; the scrape itself must still answer
    }
  },
});

/** Logins and API authentications by outcome (`ok`, `bad_credentials`, `rate_limited`, `invalid_token`, …). */
export const authAttempts: Counter<'method' | 'result'> = new Counter({
  name: 'vigil_auth_attempts_total',
  help: 'Authentication attempts by method (password, session, token) and result',
  labelNames: ['method', 'result'],
  registers: [metricsRegistry],
});

/**
 * Inserts into the analytics store and their rows, by table (the driver's own count: an insert into `findings` also
 * fills `finding_ids` through its view). On ClickHouse each insert is a new part of the table: the rate to watch.
 */
export const analyticsInserts: Counter<'table'> = new Counter({
  name: 'vigil_analytics_inserts_total',
  help: 'Inserts into the analytics store (each a new ClickHouse part) by table',
  labelNames: ['table'],
  registers: [metricsRegistry],
});
export const analyticsInsertedRows: Counter<'table'> = new Counter({
  name: 'vigil_analytics_inserted_rows_total',
  help: 'Rows inserted into the analytics store by table',
  labelNames: ['table'],
  registers: [metricsRegistry],
});

/**
 * Worker reports stored content-addressed (analytics storeAttemptRows), per kind of rows (`packages`, `findings`):
 * `written`, or `reused` when a published scan of the same image digest already held identical rows.
 */
export const reportContents: Counter<'kind' | 'stored'> = new Counter({
  name: 'vigil_report_contents_total',
  help: 'Worker reports stored content-addressed, by kind of rows and whether they were written or reused',
  labelNames: ['kind', 'stored'],
  registers: [metricsRegistry],
});

/**
 * Reads the queue depth on every scrape from `pending` (e.g. `JobDispatcher.pending`). A failing read leaves the
 * gauge at its last value rather than failing the scrape.
 */
export function trackQueueDepth(pending: () => Promise<number>): void {
  readQueueDepth = pending;
}
