import { describe, expect, it } from 'vitest';
import { loadServerConfig, loadWorkerConfig, redactUrl, type Env } from './config.js';

const failure = (fn: () => unknown): { code?: string; message: string } => {
  try {
    fn();
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message };
  }
  throw new Error('expected a failure');
};

const FLEET: Env = {
  DATABASE_URL: 'postgres://vigil:pw@db:5432/vigil',
  CLICKHOUSE_URL: 'http://default:pw@clickhouse:8123/vigil',
  NATS_URL: 'nats://nats:4222, nats://nats-2:4222',
  VIGIL_WORKER_TOKEN: 'worker-token-0123456789',
  VIGIL_DB: '/db/vigil.db',
};

describe('loadServerConfig', () => {
  it('gives the all-in-one its defaults from an empty environment', () => {
    expect(loadServerConfig('server', {}, '/srv')).toEqual({
      mode: 'all-in-one',
      host: '0.0.0.0',
      port: 8080,
      grpcPort: 9090,
      dataDir: '/srv/.vigil-data',
      databaseUrl: null,
      clickhouseUrl: null,
      natsServers: [],
      queue: { stream: 'VIGIL_SCANS', subjectPrefix: 'vigil.scans', ackWaitMs: 30_000 },
      dbPath: null,
      feedsDir: null,
      workerToken: null,
      admin: { email: 'admin@demo.vigil.local', password: null, org: 'demo' },
      workers: 2,
      workerConcurrency: 2,
      insecureRegistries: [],
      demo: true,
      drainTimeoutMs: 30_000,
      rematchBatchSize: 100,
      logLevel: 'info',
      dbSync: {
        dir: '/srv/.vigil-data/db/snapshots',
        intervalMs: 6 * 3_600_000,
        sources: [],
        mirrors: {},
        credentials: {},
      },
    });
  });

  it('reads the fleet servers, paths relative to cwd, and the first admin', () => {
    const config = loadServerConfig(
      'control-plane',
      {
        ...FLEET,
        PORT: '80',
        VIGIL_GRPC_PORT: '0',
        VIGIL_DATA_DIR: 'state',
        VIGIL_ADMIN_EMAIL: 'ops@example.com',
        VIGIL_ADMIN_PASSWORD: 'correct horse battery',
        VIGIL_NATS_STREAM: 'SCANS_T1',
        VIGIL_QUEUE_ACK_WAIT: '5s',
        VIGIL_LOG_LEVEL: 'DEBUG',
        VIGIL_FEEDS_DIR: '/ignored/in/fleet',
      },
      '/srv',
    );
    expect(config).toEqual({
      mode: 'fleet',
      host: '0.0.0.0',
      port: 80,
      grpcPort: 0,
      dataDir: '/srv/state',
      databaseUrl: 'postgres://vigil:pw@db:5432/vigil',
      clickhouseUrl: 'http://default:pw@clickhouse:8123/vigil',
      natsServers: ['nats://nats:4222', 'nats://nats-2:4222'],
      queue: { stream: 'SCANS_T1', subjectPrefix: 'vigil.scans', ackWaitMs: 5_000 },
      dbPath: '/db/vigil.db',
      feedsDir: null,
      workerToken: 'worker-token-0123456789',
      admin: { email: 'ops@example.com', password: 'correct horse battery', org: 'default' },
      workers: 0,
      workerConcurrency: 2,
      insecureRegistries: [],
      demo: false,
      drainTimeoutMs: 30_000,
      rematchBatchSize: 100,
      logLevel: 'debug',
      dbSync: {
        dir: '/srv/state/db/snapshots',
        intervalMs: 6 * 3_600_000,
        sources: [],
        mirrors: {},
        credentials: {},
      },
    });
  });

  it('names every missing fleet setting in one error', () => {
    expect(failure(() => loadServerConfig('control-plane', {}))).toEqual({
      code: 'CP_INVALID_ARGUMENT',
      message: [
        'invalid configuration for vigil control-plane:',
        '  - DATABASE_URL is required by the fleet control plane (postgres://user:pass@host:5432/db)',
        '  - VIGIL_WORKER_TOKEN is required by the fleet control plane (a shared secret for workers)',
        '  - VIGIL_DB is required by the fleet control plane: the snapshot file scans are scheduled against',
        '  - NATS_URL is required (e.g. nats://127.0.0.1:4222)',
      ].join('\n'),
    });
  });

  it('names every invalid value, never echoing a password', () => {
    const env: Env = {
      ...FLEET,
      PORT: 'eighty',
      VIGIL_GRPC_PORT: '70000',
      DATABASE_URL: 'mysql://root:hunter2@db/vigil',
      CLICKHOUSE_URL: 'clickhouse:8123',
      NATS_URL: 'nats://a b',
      VIGIL_WORKER_TOKEN: 'short',
      VIGIL_ADMIN_EMAIL: 'ops@example.com',
      VIGIL_ADMIN_ORG: 'Not A Slug',
      VIGIL_NATS_SUBJECT_PREFIX: 'vigil.*',
      VIGIL_QUEUE_ACK_WAIT: '0',
      VIGIL_DRAIN_TIMEOUT: '-1',
      VIGIL_LOG_LEVEL: 'loud',
    };
    const { code, message } = failure(() => loadServerConfig('control-plane', env));
    expect({ code, lines: message.split('\n'), leaks: message.includes('hunter2') }).toEqual({
      code: 'CP_INVALID_ARGUMENT',
      lines: [
        'invalid configuration for vigil control-plane:',
        '  - PORT must be an integer from 0 to 65535, got "eighty"',
        '  - VIGIL_GRPC_PORT must be an integer from 0 to 65535, got "70000"',
        '  - DATABASE_URL must be a postgres:// or postgresql:// URL with a host, got "mysql://root:***@db/vigil"',
        '  - VIGIL_WORKER_TOKEN must be at least 16 characters',
        '  - VIGIL_ADMIN_EMAIL and VIGIL_ADMIN_PASSWORD go together: set both or neither',
        '  - VIGIL_ADMIN_ORG must be a lower-case slug (a-z, 0-9, -), got "Not A Slug"',
        '  - CLICKHOUSE_URL must be a http:// or https:// URL with a host, got "clickhouse:8123"',
        '  - NATS_URL has an invalid server "nats://a b" (nats://host:port)',
        '  - VIGIL_NATS_SUBJECT_PREFIX must be dot-separated tokens without wildcards, got "vigil.*"',
        '  - VIGIL_QUEUE_ACK_WAIT must be a duration of at least 1 s (`90m`, `6h`, seconds), got "0"',
        '  - VIGIL_DRAIN_TIMEOUT must be an integer from 0 to 3600, got "-1"',
        '  - VIGIL_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      ],
      leaks: false,
    });
  });

  it('checks the all-in-one settings it reads', () => {
    const { message } = failure(() =>
      loadServerConfig('server', {
        PORT: '9000',
        VIGIL_GRPC_PORT: '9000',
        VIGIL_WORKERS: '0',
        VIGIL_DEMO: 'maybe',
        VIGIL_ADMIN_PASSWORD: 'short',
      }),
    );
    expect(message.split('\n')).toEqual([
      'invalid configuration for vigil server:',
      '  - PORT and VIGIL_GRPC_PORT must differ (both 9000)',
      '  - VIGIL_ADMIN_PASSWORD must be at least 12 characters',
      '  - VIGIL_WORKERS must be an integer from 1 to 64, got "0"',
      '  - VIGIL_DEMO must be 1 or 0 (true/false), got "maybe"',
    ]);
  });
});

describe('loadWorkerConfig', () => {
  it('reads the queue, the control plane and the database', () => {
    expect(
      loadWorkerConfig(
        {
          NATS_URL: 'nats://127.0.0.1:4222',
          VIGIL_CONTROL_PLANE: 'control-plane:9090',
          VIGIL_WORKER_TOKEN: 'worker-token-0123456789',
          VIGIL_DB: 'db/vigil.db',
          VIGIL_WORKER_CONCURRENCY: '4',
          VIGIL_INSECURE_REGISTRIES: '127.0.0.1:5000, registry.local:5000',
        },
        '/srv',
      ),
    ).toEqual({
      natsServers: ['nats://127.0.0.1:4222'],
      queue: { stream: 'VIGIL_SCANS', subjectPrefix: 'vigil.scans' },
      controlPlane: 'control-plane:9090',
      workerToken: 'worker-token-0123456789',
      dbPath: '/srv/db/vigil.db',
      controlPlaneUrl: null,
      snapshotDir: '/srv/.vigil-data/db',
      cacheDir: '/srv/.vigil-data/cache',
      layerCache: { kind: 'nats', bucket: 'VIGIL_SCANS_LAYERS' },
      concurrency: 4,
      insecureRegistries: ['127.0.0.1:5000', 'registry.local:5000'],
      drainTimeoutMs: 30_000,
      logLevel: 'info',
    });
  });

  it('names every missing or invalid setting', () => {
    expect(
      failure(() =>
        loadWorkerConfig({
          VIGIL_CONTROL_PLANE: 'http://cp',
          VIGIL_WORKER_CONCURRENCY: '0',
          VIGIL_LAYER_CACHE: 'redis',
        }),
      ).message.split('\n'),
    ).toEqual([
      'invalid configuration for vigil worker:',
      '  - VIGIL_DB (--db) is required: the vulnerability database snapshot file',
      "  - VIGIL_WORKER_TOKEN is required (the control plane's worker token)",
      '  - NATS_URL is required (e.g. nats://127.0.0.1:4222)',
      '  - VIGIL_CONTROL_PLANE must be host:port, got "http://cp"',
      '  - VIGIL_LAYER_CACHE must be nats or local, got "redis"',
      '  - VIGIL_WORKER_CONCURRENCY must be an integer from 1 to 256, got "0"',
    ]);
  });
});

it('redactUrl hides the password of a URL', () => {
  expect(
    [
      'postgres://vigil:s3cret@db:5432/x',
      'http://user@host:8123',
      'nats://127.0.0.1:4222',
      'http://:tok@h/',
    ].map(redactUrl),
  ).toEqual([
    'postgres://vigil:***@db:5432/x',
    'http://user@host:8123',
    'nats://127.0.0.1:4222',
    'http://:***@h/',
  ]);
});
