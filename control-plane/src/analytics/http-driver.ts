/**
 * The fleet driver: a ClickHouse server over HTTP(S) through `@clickhouse/client` (`CLICKHOUSE_URL`, e.g.
 * `http://user:password@clickhouse:8123/vigil`, the path naming the database). Parameters go as `param_*`
 * request parts (large arrays switch to multipart bodies, so 10,000 image ids never hit URL limits); inserts use
 * server-side async inserts (`async_insert`, waited for), so many workers' small chunks become few parts.
 */
import { ControlPlaneError } from '../errors.js';
import {
  classified,
  closedError,
  describeStatement,
  type ClickHouseDriver,
  type QueryParams,
  type Row,
} from './driver.js';

/** Options of {@link createHttpDriver}. */
export interface HttpDriverOptions {
  /** `http(s)://[user[:password]@]host[:port][/database]` */
  url: string;
  /** Per-request timeout (default 30,000 ms); a timeout is CP_ANALYTICS_UNAVAILABLE. */
  requestTimeoutMillis?: number;
  /** Sockets per host (default 20). */
  maxOpenConnections?: number;
  application?: string;
}

/**
 * A driver on a ClickHouse server. Nothing is sent until the first call, so an unreachable server shows as
 * CP_ANALYTICS_UNAVAILABLE on that call. Throws CP_INVALID_ARGUMENT for a URL that is not http(s).
 */
export async function createHttpDriver(options: HttpDriverOptions): Promise<ClickHouseDriver> {
  const url = parseClickHouseUrl(options.url);
  const { createClient, ClickHouseLogLevel } = await import('@clickhouse/client');
  const client = createClient({
    url,
    request_timeout: options.requestTimeoutMillis ?? 30_000,
    max_open_connections: options.maxOpenConnections ?? 20,
    application: options.application ?? 'vigil-control-plane',
    use_multipart_params_auto: true,
    // Failures reach the caller as coded errors (and the control plane's log); the client's own console log is off.
    log: { level: ClickHouseLogLevel.OFF },
  });
  let closed = false;
  const open = () => {
    if (closed) throw closedError('http');
  };
  return {
    kind: 'http',
    exec: (statement, params) =>
      classified(describeStatement(statement), async () => {
        open();
        await client.command({ query: statement, query_params: paramsOrUndefined(params) });
      }),
    query: <R extends Row = Row>(sql: string, params?: QueryParams) =>
      classified(describeStatement(sql), async () => {
        open();
        const rs = await client.query({
          query: sql,
          query_params: paramsOrUndefined(params),
          format: 'JSONEachRow',
        });
        return rs.json<R>();
      }),
    insert: (table, rows) =>
      classified(`insert into ${table}`, async () => {
        open();
        if (rows.length === 0) return;
        await client.insert({
          table,
          values: rows as Row[],
          format: 'JSONEachRow',
          clickhouse_settings: { async_insert: 1, wait_for_async_insert: 1 },
        });
      }),
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}

/**
 * Validates `CLICKHOUSE_URL`: an absolute http: or https: URL. CP_INVALID_ARGUMENT otherwise; the message never
 * repeats a password.
 */
export function parseClickHouseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new ControlPlaneError('CP_INVALID_ARGUMENT', 'the ClickHouse URL is not an absolute URL', {
      cause: err,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ControlPlaneError(
      'CP_INVALID_ARGUMENT',
      `the ClickHouse URL must use http: or https: (got ${url.protocol}); the native protocol (9000) is not supported`,
    );
  }
  return url;
}

function paramsOrUndefined(params: QueryParams | undefined): Record<string, unknown> | undefined {
  return params && Object.keys(params).length > 0 ? { ...params } : undefined;
}
