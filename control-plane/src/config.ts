/**
 * Start-up configuration of the three programs (`vigil server`, `vigil control-plane`, `vigil worker`): every
 * environment variable they read is declared once in ENV_VARS (docs/deployment.md and deploy/compose.yaml are
 * checked against it by tests), parsed and validated here. Every problem is reported at once, in one
 * CP_INVALID_ARGUMENT error naming each variable, before anything starts. The CLI turns its flags into the same
 * variables, so a flag and its variable can never disagree.
 */
import { join, resolve } from 'node:path';
import { FEEDS } from '@vigil/engine/db';
import { ControlPlaneError } from './errors.js';

/** The three programs. `server` is the all-in-one; `control-plane` and `worker` are the fleet. */
export type Program = 'server' | 'control-plane' | 'worker';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** One environment variable: which programs read it, its default (as documented) and what it is for. */
export interface EnvVar {
  name: string;
  programs: readonly Program[];
  default: string | null;
  description: string;
}

const ALL: readonly Program[] = ['server', 'control-plane', 'worker'];
const SERVERS: readonly Program[] = ['server', 'control-plane'];

/** Every variable the programs read. */
export const ENV_VARS: readonly EnvVar[] = [
  {
    name: 'PORT',
    programs: SERVERS,
    default: '8080',
    description: 'HTTP port: REST API and its docs, /healthz, /readyz, /metrics',
  },
  {
    name: 'VIGIL_HOST',
    programs: SERVERS,
    default: '0.0.0.0',
    description: 'address the HTTP and gRPC servers bind',
  },
  {
    name: 'VIGIL_GRPC_PORT',
    programs: SERVERS,
    default: '9090',
    description: 'gRPC port: WorkerService and the public services',
  },
  {
    name: 'VIGIL_DATA_DIR',
    programs: ALL,
    default: './.vigil-data',
    description: 'embedded databases, demo images, the built vulnerability database, layer cache',
  },
  {
    name: 'DATABASE_URL',
    programs: ['control-plane'],
    default: null,
    description: 'PostgreSQL URL (`postgres://user:pass@host:5432/db`); required by the fleet control plane',
  },
  {
    name: 'CLICKHOUSE_URL',
    programs: ['control-plane'],
    default: null,
    description:
      'ClickHouse HTTP URL (`http://user:pass@host:8123/db`); unset: embedded chdb in `<data dir>/clickhouse`',
  },
  {
    name: 'NATS_URL',
    programs: ['control-plane', 'worker'],
    default: null,
    description: 'NATS server(s) with JetStream, comma-separated (`nats://host:4222`); required by the fleet',
  },
  {
    name: 'VIGIL_NATS_STREAM',
    programs: ['control-plane', 'worker'],
    default: 'VIGIL_SCANS',
    description: 'JetStream stream of the scan jobs',
  },
  {
    name: 'VIGIL_NATS_SUBJECT_PREFIX',
    programs: ['control-plane', 'worker'],
    default: 'vigil.scans',
    description: 'subject prefix of jobs (`<prefix>.jobs.<priority>`) and cancels',
  },
  {
    name: 'VIGIL_QUEUE_ACK_WAIT',
    programs: ['control-plane'],
    default: '30s',
    description:
      "ack wait of the JetStream job consumers (`30s`, `2m`, seconds; at least 1 s): a killed worker's job is redelivered after it",
  },
  {
    name: 'VIGIL_DB',
    programs: ALL,
    default: null,
    description:
      'vulnerability database snapshot file; required by the fleet (the control plane schedules against its version, workers match with it); the all-in-one builds one in the data dir when unset',
  },
  {
    name: 'VIGIL_FEEDS_DIR',
    programs: ['server'],
    default: '../shared/realdata/feeds if present, else the built-in demo feeds',
    description: 'all-in-one without VIGIL_DB: feed files to build the snapshot from on first start',
  },
  {
    name: 'VIGIL_WORKER_TOKEN',
    programs: ALL,
    default: null,
    description:
      'shared secret workers present to WorkerService; required by the fleet (all-in-one: random per start)',
  },
  {
    name: 'VIGIL_CONTROL_PLANE',
    programs: ['worker'],
    default: '127.0.0.1:9090',
    description: 'gRPC address (`host:port`) of the control plane',
  },
  {
    name: 'VIGIL_WORKERS',
    programs: ['server'],
    default: '2',
    description: 'in-process workers of the all-in-one server',
  },
  {
    name: 'VIGIL_WORKER_CONCURRENCY',
    programs: ['server', 'worker'],
    default: '2',
    description: 'scans at once per worker',
  },
  {
    name: 'VIGIL_LAYER_CACHE',
    programs: ['worker'],
    default: 'nats',
    description:
      '`nats`: layer analyses shared by the fleet in the JetStream object store `<VIGIL_NATS_STREAM>_LAYERS`, memory and `<data dir>/cache` in front; `local`: `<data dir>/cache` only',
  },
  {
    name: 'VIGIL_INSECURE_REGISTRIES',
    programs: ALL,
    default: null,
    description: 'registry hosts (`host:port`, comma-separated) resolved and pulled over plain HTTP',
  },
  {
    name: 'VIGIL_ADMIN_EMAIL',
    programs: SERVERS,
    default: null,
    description: 'first admin, created on first start (all-in-one default `admin@demo.vigil.local`)',
  },
  {
    name: 'VIGIL_ADMIN_PASSWORD',
    programs: SERVERS,
    default: null,
    description: 'first admin password, 12+ characters (all-in-one: generated and printed once)',
  },
  {
    name: 'VIGIL_ADMIN_ORG',
    programs: SERVERS,
    default: 'default (all-in-one: demo)',
    description: 'organisation (slug) of the first admin',
  },
  {
    name: 'VIGIL_DEMO',
    programs: ['server'],
    default: '1',
    description: '`0`: no demo images or scans on first start',
  },
  {
    name: 'VIGIL_DRAIN_TIMEOUT',
    programs: ALL,
    default: '30',
    description:
      'seconds running scans may take to finish on SIGTERM before they are handed back to the queue',
  },
  {
    name: 'VIGIL_REMATCH_BATCH_SIZE',
    programs: SERVERS,
    default: '100',
    description:
      'images per rematch batch (1-1000): a new snapshot re-evaluates stored inventories in batches of this size, queued below scheduled scans',
  },
  {
    name: 'VIGIL_LOG_LEVEL',
    programs: ALL,
    default: 'info',
    description: `log level: ${LOG_LEVELS.join(', ')}`,
  },
  {
    name: 'VIGIL_DB_DIR',
    programs: SERVERS,
    default: '<data dir>/db/snapshots',
    description:
      'snapshot directory: published snapshots by version, the current one, drops of `vigil db build` output; shared by control-plane replicas',
  },
  {
    name: 'VIGIL_DB_UPDATE_INTERVAL',
    programs: SERVERS,
    default: '6h',
    description: 'time between scheduled `db update` runs (`90m`, `6h`, `1d`, seconds); `0`: none',
  },
  {
    name: 'VIGIL_DB_SOURCES',
    programs: SERVERS,
    default: 'every feed',
    description: 'feeds the scheduled update fetches, comma-separated (`nvd,osv,alpine`)',
  },
  {
    name: 'VIGIL_DB_MIRRORS',
    programs: SERVERS,
    default: null,
    description: 'feed base URLs, comma-separated `feed=URL` (`nvd=https://mirror.example/nvd/`)',
  },
  {
    name: 'NVD_API_KEY',
    programs: SERVERS,
    default: null,
    description: 'NVD API key for the update (50 instead of 5 requests per 30 s)',
  },
  {
    name: 'GITHUB_TOKEN',
    programs: SERVERS,
    default: null,
    description: 'GitHub token: the update also fetches the GitHub advisories (`ghsa`)',
  },
  {
    name: 'VIGIL_CONTROL_PLANE_URL',
    programs: ['worker'],
    default: null,
    description:
      "the control plane's HTTP URL (`http://control-plane:8080`): the worker downloads the current snapshot from it and follows updates; VIGIL_DB is then optional",
  },
];

/** The first admin account (created on first start; a later start changes nothing). */
export interface AdminConfig {
  email: string;
  /** null in the all-in-one without VIGIL_ADMIN_PASSWORD: the demo generates one */
  password: string | null;
  org: string;
}

/** The vulnerability database sync of the control plane (control-plane/src/vulndb-sync). */
export interface DbSyncConfig {
  /** absolute */
  dir: string;
  /** 0: no scheduled update */
  intervalMs: number;
  /** feed names; empty: every feed */
  sources: string[];
  /** base URL per feed name */
  mirrors: Record<string, string>;
  credentials: { nvdApiKey?: string; githubToken?: string };
}

/** What `vigil server` (all-in-one) and `vigil control-plane` (fleet) run with. */
export interface ServerConfig {
  mode: 'all-in-one' | 'fleet';
  host: string;
  /** 0: any free port (tests) */
  port: number;
  grpcPort: number;
  /** absolute */
  dataDir: string;
  /** fleet only */
  databaseUrl: string | null;
  /** null: embedded chdb in `<dataDir>/clickhouse` */
  clickhouseUrl: string | null;
  /** fleet only */
  natsServers: string[];
  /** `ackWaitMs`: the fleet's JetStream consumers (the all-in-one's in-process queue has its own) */
  queue: { stream: string; subjectPrefix: string; ackWaitMs: number };
  /** absolute; null: all-in-one builds `<dataDir>/db/vigil.db` */
  dbPath: string | null;
  /** all-in-one without VIGIL_DB */
  feedsDir: string | null;
  /** null only in the all-in-one (a random one per start) */
  workerToken: string | null;
  /** null: no admin from the environment (fleet) */
  admin: AdminConfig | null;
  /** all-in-one: in-process workers and their concurrency */
  workers: number;
  workerConcurrency: number;
  insecureRegistries: string[];
  demo: boolean;
  drainTimeoutMs: number;
  /** images per rematch batch (rematch/service.ts) */
  rematchBatchSize: number;
  logLevel: LogLevel;
  dbSync: DbSyncConfig;
}

/** What `vigil worker` runs with. */
export interface WorkerConfig {
  natsServers: string[];
  queue: { stream: string; subjectPrefix: string };
  controlPlane: string;
  workerToken: string;
  /** absolute; null only with `controlPlaneUrl` (the snapshot is downloaded) */
  dbPath: string | null;
  /** the control plane's REST gateway, where snapshots are downloaded from (null: VIGIL_DB only) */
  controlPlaneUrl: string | null;
  /** absolute: `<dataDir>/db`, downloaded snapshots */
  snapshotDir: string;
  /** absolute: `<dataDir>/cache` */
  cacheDir: string;
  /** VIGIL_LAYER_CACHE: `nats` shares layer analyses in the object store `bucket` (cacheDir in front) */
  layerCache: { kind: 'nats'; bucket: string } | { kind: 'local' };
  concurrency: number;
  insecureRegistries: string[];
  drainTimeoutMs: number;
  logLevel: LogLevel;
}

export type Env = Readonly<Record<string, string | undefined>>;

export const DEMO_ADMIN_EMAIL = 'admin@demo.vigil.local';
export const DEMO_ORG = 'demo';

/** Reads variables, collecting every problem instead of stopping at the first. */
class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return n;
  }

  url(name: string, protocols: readonly string[]): string | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    let url: URL | null = null;
    try {
      url = new URL(value);
    } catch {
      // reported below
    }
    if (!url || !protocols.includes(url.protocol) || !url.hostname) {
      this.problems.push(
        `${name} must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL with a host, got ${JSON.stringify(redactUrl(value))}`,
      );
      return null;
    }
    return value;
  }

  list(name: string): string[] {
    return (this.raw(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  hostPort(name: string, fallback: string): string {
    const value = this.string(name, fallback);
    if (!/^[^\s:/]+:\d{1,5}$/.test(value) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(value)) {
      this.problems.push(`${name} must be host:port, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  natsServers(name: string, required: boolean): string[] {
    const servers = this.list(name);
    if (servers.length === 0 && required)
      this.problems.push(`${name} is required (e.g. nats://127.0.0.1:4222)`);
    for (const server of servers) {
      if (!/^(?:(?:nats|tls|ws|wss):\/\/)?[^\s/]+(?::\d{1,5})?\/?$/.test(server)) {
        this.problems.push(
          `${name} has an invalid server ${JSON.stringify(redactUrl(server))} (nats://host:port)`,
        );
      }
    }
    return servers;
  }

  queue(): { stream: string; subjectPrefix: string } {
    const stream = this.string('VIGIL_NATS_STREAM', 'VIGIL_SCANS');
    const subjectPrefix = this.string('VIGIL_NATS_SUBJECT_PREFIX', 'vigil.scans');
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(stream)) {
      this.problems.push(
        `VIGIL_NATS_STREAM must be 1-64 letters, digits, _ or -, got ${JSON.stringify(stream)}`,
      );
    }
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(subjectPrefix)) {
      this.problems.push(
        `VIGIL_NATS_SUBJECT_PREFIX must be dot-separated tokens without wildcards, got ${JSON.stringify(subjectPrefix)}`,
      );
    }
    return { stream, subjectPrefix };
  }

  /** VIGIL_LAYER_CACHE; the fleet's bucket is named after its queue stream, so separate fleets never share it */
  layerCache(stream: string): WorkerConfig['layerCache'] {
    const value = this.string('VIGIL_LAYER_CACHE', 'nats');
    if (value === 'local') return { kind: 'local' };
    if (value !== 'nats') {
      this.problems.push(`VIGIL_LAYER_CACHE must be nats or local, got ${JSON.stringify(value)}`);
    }
    return { kind: 'nats', bucket: `${stream}_LAYERS` };
  }

  logLevel(): LogLevel {
    const value = this.string('VIGIL_LOG_LEVEL', 'info').toLowerCase();
    if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
    this.problems.push(
      `VIGIL_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`,
    );
    return 'info';
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name} must be 1 or 0 (true/false), got ${JSON.stringify(value)}`);
    return fallback;
  }

  /** `90m`, `6h`, `1d`, `45s` or plain seconds; at least `minMs`, or `0` (off) when `zeroIsOff`. */
  duration(name: string, fallback: string, minMs: number, zeroIsOff = true): number {
    const value = this.string(name, fallback);
    const m = /^(\d+)\s*(s|m|h|d)?$/i.exec(value);
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m?.[2] ?? 's').toLowerCase()]!;
    const ms = m ? Number(m[1]) * unit : Number.NaN;
    if (!Number.isSafeInteger(ms) || ((ms !== 0 || !zeroIsOff) && ms < minMs)) {
      this.problems.push(
        `${name} must be ${zeroIsOff ? '0 or ' : ''}a duration of at least ${minMs / 1_000} s (\`90m\`, \`6h\`, seconds), got ${JSON.stringify(value)}`,
      );
      return 0;
    }
    return ms;
  }

  feedNames(name: string, names: readonly string[]): void {
    const known = FEEDS.map((f) => f.name);
    const unknown = names.filter((n) => !known.includes(n));
    if (unknown.length)
      this.problems.push(`${name} names unknown feeds ${unknown.join(', ')} (feeds: ${known.join(', ')})`);
  }

  dbSync(dataDir: string, cwd: string): DbSyncConfig {
    const sources = this.list('VIGIL_DB_SOURCES');
    this.feedNames('VIGIL_DB_SOURCES', sources);
    const mirrors: Record<string, string> = {};
    for (const item of this.list('VIGIL_DB_MIRRORS')) {
      const m = /^([a-z0-9-]+)=(https?:\/\/\S+)$/.exec(item);
      if (!m)
        this.problems.push(
          `VIGIL_DB_MIRRORS entries must be feed=http(s)://URL, got ${JSON.stringify(redactUrl(item))}`,
        );
      else mirrors[m[1]!] = m[2]!;
    }
    this.feedNames('VIGIL_DB_MIRRORS', Object.keys(mirrors));
    const nvdApiKey = this.raw('NVD_API_KEY');
    const githubToken = this.raw('GITHUB_TOKEN');
    return {
      dir: resolve(cwd, this.string('VIGIL_DB_DIR', join(dataDir, 'db', 'snapshots'))),
      intervalMs: this.duration('VIGIL_DB_UPDATE_INTERVAL', '6h', 60_000),
      sources,
      mirrors,
      credentials: { ...(nvdApiKey ? { nvdApiKey } : {}), ...(githubToken ? { githubToken } : {}) },
    };
  }

  fail(program: Program): void {
    if (this.problems.length === 0) return;
    throw new ControlPlaneError(
      'CP_INVALID_ARGUMENT',
      `invalid configuration for vigil ${program}:\n${this.problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}

/** `postgres://user:secret@host` → `postgres://user:***@host`, so a password never reaches a message or log. */
export function redactUrl(value: string): string {
  return value.replace(/(\/\/[^/@:\s]*:)[^/@\s]*@/, '$1***@');
}

/**
 * The configuration of `vigil server` (all-in-one) or `vigil control-plane` (fleet) from the environment.
 * Relative paths are resolved against `cwd`. Throws CP_INVALID_ARGUMENT listing every invalid variable.
 */
export function loadServerConfig(
  program: 'server' | 'control-plane',
  env: Env,
  cwd = process.cwd(),
): ServerConfig {
  const r = new EnvReader(env);
  const fleet = program === 'control-plane';
  const port = r.int('PORT', 8080, 0, 65_535);
  const grpcPort = r.int('VIGIL_GRPC_PORT', 9090, 0, 65_535);
  if (port !== 0 && port === grpcPort) r.problems.push(`PORT and VIGIL_GRPC_PORT must differ (both ${port})`);
  const databaseUrl = fleet ? r.url('DATABASE_URL', ['postgres:', 'postgresql:']) : null;
  if (fleet && r.raw('DATABASE_URL') === undefined) {
    r.problems.push(
      'DATABASE_URL is required by the fleet control plane (postgres://user:pass@host:5432/db)',
    );
  }
  const workerToken = r.raw('VIGIL_WORKER_TOKEN') ?? null;
  if (fleet && workerToken === null) {
    r.problems.push(
      'VIGIL_WORKER_TOKEN is required by the fleet control plane (a shared secret for workers)',
    );
  }
  if (workerToken !== null && workerToken.length < 16) {
    r.problems.push('VIGIL_WORKER_TOKEN must be at least 16 characters');
  }
  const email = r.raw('VIGIL_ADMIN_EMAIL');
  const password = r.raw('VIGIL_ADMIN_PASSWORD') ?? null;
  if (fleet && (email === undefined) !== (password === null)) {
    r.problems.push('VIGIL_ADMIN_EMAIL and VIGIL_ADMIN_PASSWORD go together: set both or neither');
  }
  if (password !== null && password.length < 12)
    r.problems.push('VIGIL_ADMIN_PASSWORD must be at least 12 characters');
  const org = r.string('VIGIL_ADMIN_ORG', fleet ? 'default' : DEMO_ORG);
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(org)) {
    r.problems.push(`VIGIL_ADMIN_ORG must be a lower-case slug (a-z, 0-9, -), got ${JSON.stringify(org)}`);
  }
  const admin: AdminConfig | null =
    email !== undefined || !fleet ? { email: email ?? DEMO_ADMIN_EMAIL, password, org } : null;
  const dbPath = r.raw('VIGIL_DB');
  if (fleet && dbPath === undefined) {
    r.problems.push(
      'VIGIL_DB is required by the fleet control plane: the snapshot file scans are scheduled against',
    );
  }
  const feedsDir = r.raw('VIGIL_FEEDS_DIR');
  const dataDir = resolve(cwd, r.string('VIGIL_DATA_DIR', './.vigil-data'));
  const config: ServerConfig = {
    mode: fleet ? 'fleet' : 'all-in-one',
    host: r.string('VIGIL_HOST', '0.0.0.0'),
    port,
    grpcPort,
    dataDir,
    databaseUrl,
    clickhouseUrl: fleet ? r.url('CLICKHOUSE_URL', ['http:', 'https:']) : null,
    natsServers: fleet ? r.natsServers('NATS_URL', true) : [],
    queue: {
      ...r.queue(),
      ackWaitMs: fleet ? r.duration('VIGIL_QUEUE_ACK_WAIT', '30s', 1_000, false) : 30_000,
    },
    dbPath: dbPath === undefined ? null : resolve(cwd, dbPath),
    feedsDir: fleet || feedsDir === undefined ? null : resolve(cwd, feedsDir),
    workerToken,
    admin,
    workers: fleet ? 0 : r.int('VIGIL_WORKERS', 2, 1, 64),
    workerConcurrency: r.int('VIGIL_WORKER_CONCURRENCY', 2, 1, 256),
    insecureRegistries: r.list('VIGIL_INSECURE_REGISTRIES'),
    demo: !fleet && r.bool('VIGIL_DEMO', true),
    drainTimeoutMs: r.int('VIGIL_DRAIN_TIMEOUT', 30, 0, 3_600) * 1_000,
    rematchBatchSize: r.int('VIGIL_REMATCH_BATCH_SIZE', 100, 1, 1_000),
    logLevel: r.logLevel(),
    dbSync: r.dbSync(dataDir, cwd),
  };
  r.fail(program);
  return config;
}

/** The configuration of `vigil worker` from the environment. Throws CP_INVALID_ARGUMENT listing every problem. */
export function loadWorkerConfig(env: Env, cwd = process.cwd()): WorkerConfig {
  const r = new EnvReader(env);
  const dbPath = r.raw('VIGIL_DB');
  const controlPlaneUrl = r.url('VIGIL_CONTROL_PLANE_URL', ['http:', 'https:']);
  if (dbPath === undefined && r.raw('VIGIL_CONTROL_PLANE_URL') === undefined)
    r.problems.push('VIGIL_DB (--db) is required: the vulnerability database snapshot file');
  const workerToken = r.raw('VIGIL_WORKER_TOKEN');
  if (workerToken === undefined)
    r.problems.push("VIGIL_WORKER_TOKEN is required (the control plane's worker token)");
  const natsServers = r.natsServers('NATS_URL', true);
  const queue = r.queue();
  const config: WorkerConfig = {
    natsServers,
    queue,
    controlPlane: r.hostPort('VIGIL_CONTROL_PLANE', '127.0.0.1:9090'),
    workerToken: workerToken ?? '',
    dbPath: dbPath === undefined ? null : resolve(cwd, dbPath),
    controlPlaneUrl,
    snapshotDir: resolve(cwd, r.string('VIGIL_DATA_DIR', './.vigil-data'), 'db'),
    cacheDir: resolve(cwd, r.string('VIGIL_DATA_DIR', './.vigil-data'), 'cache'),
    layerCache: r.layerCache(queue.stream),
    concurrency: r.int('VIGIL_WORKER_CONCURRENCY', 2, 1, 256),
    insecureRegistries: r.list('VIGIL_INSECURE_REGISTRIES'),
    drainTimeoutMs: r.int('VIGIL_DRAIN_TIMEOUT', 30, 0, 3_600) * 1_000,
    logLevel: r.logLevel(),
  };
  r.fail('worker');
  return config;
}
