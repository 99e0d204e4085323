/**
 * deploy/ and docs/deployment.md against config.ts (Docker cannot run here): the compose file parses, has the
 * fleet's services wired to each other with health checks, and its environment passes the same start-up checks
 * the programs run; the Dockerfile builds one image for every program; the docs list exactly the variables.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARS, loadServerConfig, loadWorkerConfig, type Env, type Program } from './config.js';

const root = new URL('../../', import.meta.url);
const read = (path: string): Promise<string> => readFile(new URL(path, root), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  deploy?: { replicas: number };
  volumes?: string[];
}

/** What `docker compose` does with `${VAR}`, `${VAR:-default}` and `${VAR:?error}`, given the caller's variables. */
function interpolate(value: string | number, vars: Env): string {
  return String(value).replace(
    /\$\{([A-Z_]+)(?::([-?])([^}]*))?\}/g,
    (_, name: string, op?: string, arg?: string) => {
      const set = vars[name];
      if (set) return set;
      if (op === '?') throw new Error(`compose refuses to start without ${name}: ${arg}`);
      return op === '-' ? (arg ?? '') : '';
    },
  );
}

const envOf = (service: Service, vars: Env): Env =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(v, vars)]));

async function compose(): Promise<Record<string, Service>> {
  return (parse(await read('deploy/compose.yaml'), { merge: true }) as { services: Record<string, Service> })
    .services;
}

/** The environment deploy/Dockerfile sets for every container (checked below). */
const IMAGE_ENV: Env = { VIGIL_DATA_DIR: '/var/lib/vigil' };

const USER_VARS: Env = {
  VIGIL_WORKER_TOKEN: 'a-worker-token-of-some-length',
  VIGIL_ADMIN_PASSWORD: 'a long admin password',
};

describe('deploy/compose.yaml', () => {
  it('runs postgres, clickhouse, nats with JetStream, the control plane and 3 workers from one image', async () => {
    const services = await compose();
    const vigil = (name: string) => ({
      image: services[name]!.image,
      build: services[name]!.build,
      command: services[name]!.command,
    });
    expect({
      services: Object.keys(services).sort(),
      images: ['postgres', 'clickhouse', 'nats'].map((s) => services[s]!.image!.split(':')[0]),
      natsCommand: services.nats!.command,
      vigil: ['vulndb', 'control-plane', 'worker'].map(vigil),
      workers: services.worker!.deploy,
      healthchecks: Object.entries(services)
        .filter(([, s]) => s.healthcheck)
        .map(([name]) => name)
        .sort(),
      controlPlaneWaitsFor: services['control-plane']!.depends_on,
      workerWaitsFor: services.worker!.depends_on,
    }).toEqual({
      services: ['clickhouse', 'control-plane', 'nats', 'postgres', 'vulndb', 'worker'],
      images: ['postgres', 'clickhouse/clickhouse-server', 'nats'],
      natsCommand: expect.arrayContaining(['-js']),
      vigil: [
        {
          image: 'vigil:local',
          build: { context: '..', dockerfile: 'deploy/Dockerfile' },
          command: ['db', 'update', '--db', '/var/lib/vigil/db/vigil.db'],
        },
        {
          image: 'vigil:local',
          build: { context: '..', dockerfile: 'deploy/Dockerfile' },
          command: ['control-plane'],
        },
        {
          image: 'vigil:local',
          build: { context: '..', dockerfile: 'deploy/Dockerfile' },
          command: ['worker'],
        },
      ],
      workers: { replicas: 3 },
      healthchecks: ['clickhouse', 'control-plane', 'nats', 'postgres'],
      controlPlaneWaitsFor: {
        postgres: { condition: 'service_healthy' },
        clickhouse: { condition: 'service_healthy' },
        nats: { condition: 'service_healthy' },
        vulndb: { condition: 'service_completed_successfully' },
      },
      workerWaitsFor: {
        nats: { condition: 'service_healthy' },
        'control-plane': { condition: 'service_healthy' },
      },
    });
  });

  it("gives the control plane and the workers an environment their start-up checks accept, pointing at each other's ports", async () => {
    const services = await compose();
    const cpEnv = envOf(services['control-plane']!, USER_VARS);
    const workerEnv = envOf(services.worker!, USER_VARS);
    const cp = loadServerConfig('control-plane', { ...IMAGE_ENV, ...cpEnv });
    const worker = loadWorkerConfig({ ...IMAGE_ENV, ...workerEnv });
    const known = (program: Program) =>
      new Set(ENV_VARS.filter((v) => v.programs.includes(program)).map((v) => v.name));
    const unknown = (env: Env, program: Program) =>
      Object.keys(env).filter((name) => !known(program).has(name));
    const mount = (s: Service, volume: string) => s.volumes?.find((v) => v.startsWith(`${volume}:`));
    const user = new URL(cp.databaseUrl!);
    expect({
      unknown: [unknown(cpEnv, 'control-plane'), unknown(workerEnv, 'worker')],
      ports: services['control-plane']!.ports,
      published: [cp.port, cp.grpcPort],
      healthcheck: services['control-plane']!.healthcheck!.test.join(' ').includes(
        `127.0.0.1:${cp.port}/readyz`,
      ),
      workerTarget: worker.controlPlane,
      sameToken: worker.workerToken === cp.workerToken,
      seed: [mount(services.vulndb!, 'vulndb'), mount(services['control-plane']!, 'vulndb'), cp.dbPath],
      snapshotDir: [cp.dbSync.dir, mount(services['control-plane']!, 'snapshots')],
      // workers download the current snapshot from the control plane into their own (writable) data dir
      workerSnapshots: [worker.controlPlaneUrl, worker.dbPath, worker.snapshotDir, services.worker!.volumes],
      stores: [user.host, new URL(cp.clickhouseUrl!).host, cp.natsServers, worker.natsServers],
      postgresUser: [user.username, services.postgres!.environment!.POSTGRES_USER],
    }).toEqual({
      unknown: [[], []],
      ports: [`${cp.port}:${cp.port}`, `${cp.grpcPort}:${cp.grpcPort}`],
      published: [8080, 9090],
      healthcheck: true,
      workerTarget: `control-plane:${cp.grpcPort}`,
      sameToken: true,
      seed: ['vulndb:/var/lib/vigil/db', 'vulndb:/var/lib/vigil/db:ro', '/var/lib/vigil/db/vigil.db'],
      snapshotDir: ['/var/lib/vigil/snapshots', 'snapshots:/var/lib/vigil/snapshots'],
      workerSnapshots: [`http://control-plane:${cp.port}`, null, '/var/lib/vigil/db', undefined],
      stores: ['postgres:5432', 'clickhouse:8123', ['nats://nats:4222'], ['nats://nats:4222']],
      postgresUser: ['vigil', 'vigil'],
    });
  });

  it('refuses to start without the worker token and the admin password', async () => {
    const services = await compose();
    expect(() => envOf(services['control-plane']!, {})).toThrow(/VIGIL_WORKER_TOKEN/);
    expect(() => envOf(services.worker!, {})).toThrow(/VIGIL_WORKER_TOKEN/);
    expect(() => envOf(services['control-plane']!, { VIGIL_WORKER_TOKEN: 'x'.repeat(20) })).toThrow(
      /VIGIL_ADMIN_PASSWORD/,
    );
  });
});

describe('deploy/Dockerfile', () => {
  it('builds on node:20 in two stages into one image whose command picks the program', async () => {
    const dockerfile = await read('deploy/Dockerfile');
    const lines = dockerfile.split('\n');
    expect({
      from: lines.filter((l) => l.startsWith('FROM ')),
      entrypoint: lines.find((l) => l.startsWith('ENTRYPOINT')),
      cmd: lines.find((l) => l.startsWith('CMD')),
      expose: lines.find((l) => l.startsWith('EXPOSE')),
      user: lines.find((l) => l.startsWith('USER')),
      dataDir: dockerfile.includes(`VIGIL_DATA_DIR=${IMAGE_ENV.VIGIL_DATA_DIR}`),
    }).toEqual({
      from: ['FROM node:20-bookworm-slim AS build', 'FROM node:20-bookworm-slim'],
      entrypoint: 'ENTRYPOINT ["node", "/app/cli/bin/vigil.js"]',
      cmd: 'CMD ["server"]',
      expose: 'EXPOSE 8080 9090',
      user: 'USER node',
      dataDir: true,
    });
  });
});

describe('docs/deployment.md', () => {
  it('lists exactly the variables the programs read, in order, with their programs', async () => {
    const doc = await read('docs/deployment.md');
    const rows = doc
      .split('\n')
      .map((line) => /^\| `([A-Z_]+)` *\|([^|]*)\|([^|]*)\|([^|]*)\|/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({
        name: m[1]!,
        programs: (['server', 'control-plane', 'worker'] as const).filter((_, i) => m[i + 2]!.includes('✓')),
      }));
    expect(rows).toEqual(ENV_VARS.map((v) => ({ name: v.name, programs: [...v.programs] })));
  });
});
