/**
 * Starts a real distribution registry (Debian's `docker-registry`, github.com/distribution/distribution
 * v2) on 127.0.0.1 with storage in a temp dir, and optionally htpasswd or token auth and TLS.
 * See README.md in this folder for usage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSelfSignedCert } from './certs.js';
import { freePort, run, waitForHttp } from './process.js';
import { startTokenServer, type TokenServer, type TokenServerOptions } from './token-server.js';

export const REGISTRY_BIN = process.env.VIGIL_DOCKER_REGISTRY ?? '/usr/bin/docker-registry';

export interface StartRegistryOptions {
  /** `none` (anonymous read/write), `htpasswd` (Basic) or `token` (Bearer via startTokenServer). */
  auth?: 'none' | 'htpasswd' | 'token';
  /** Users for htpasswd or the token server (default `{ vigil: 'vigil-pass' }`). */
  users?: Record<string, string>;
  /** Extra token server options (auth: 'token'). */
  token?: Omit<TokenServerOptions, 'users'>;
  /** Serve HTTPS with a self-signed cert for 127.0.0.1 (its PEM is `caFile`). */
  tls?: boolean;
}

export interface RegistryHandle {
  /** `http://127.0.0.1:<port>` (or https with tls). */
  url: string;
  /** `127.0.0.1:<port>`: the registry part of image references. */
  host: string;
  /** First configured user and password (for pushes). */
  username: string;
  password: string;
  /** Filesystem storage root (docker/registry/v2/… below it). */
  storageDir: string;
  tokenServer?: TokenServer;
  /** The TLS certificate (tls: true) to trust. */
  caFile?: string;
  /** Path of a blob's data file in storage, to corrupt it in tests. */
  blobPath(digest: string): string;
  /** Registry stderr so far (for failing-test diagnostics). */
  log(): string;
  stop(): Promise<void>;
}

function configYaml(o: { port: number; storage: string; auth: string; tls: string }): string {
  return (
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${o.storage}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${o.port}`,
      '  secret: vigil-test-secret',
      o.tls,
      o.auth,
    ]
      .filter(Boolean)
      .join('\n') + '\n'
  );
}

async function launch(
  config: string,
  dir: string,
): Promise<{ child: ChildProcess; log: () => string; exited: () => string | undefined }> {
  const file = join(dir, 'config.yml');
  await writeFile(file, config);
  const child = spawn(REGISTRY_BIN, ['serve', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exit: string | undefined;
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
  });
  child.on('exit', (code, signal) => {
    exit = `exited (${code ?? signal}): ${stderr.slice(-2000)}`;
  });
  child.on('error', (error) => {
    exit = `failed to start ${REGISTRY_BIN}: ${error.message}`;
  });
  return { child, log: () => stderr, exited: () => exit };
}

/** Starts a registry; call `stop()` in afterAll. */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RegistryHandle> {
  const auth = options.auth ?? 'none';
  const users = options.users ?? { vigil: 'vigil-pass' };
  const [username, password] = Object.entries(users)[0] ?? ['', ''];
  const dir = await mkdtemp(join(tmpdir(), 'vigil-registry-'));
  const storageDir = join(dir, 'storage');
  let tokenServer: TokenServer | undefined;
  try {
    let authYaml = '';
    if (auth === 'htpasswd') {
      const lines: string[] = [];
      for (const [user, pass] of Object.entries(users))
        lines.push((await run('htpasswd', ['-Bbn', user, pass])).trim());
      await writeFile(join(dir, 'htpasswd'), lines.join('\n') + '\n');
      authYaml = `auth:\n  htpasswd:\n    realm: vigil-test\n    path: ${join(dir, 'htpasswd')}`;
    } else if (auth === 'token') {
      tokenServer = await startTokenServer({ ...options.token, users });
      authYaml = [
        'auth:',
        '  token:',
        `    realm: ${tokenServer.realm}`,
        `    service: ${tokenServer.service}`,
        `    issuer: ${tokenServer.issuer}`,
        `    rootcertbundle: ${tokenServer.certFile}`,
      ].join('\n');
    }
    let tlsYaml = '';
    let caFile: string | undefined;
    if (options.tls) {
      const cert = await makeSelfSignedCert(dir, 'vigil-registry-tls');
      caFile = cert.certFile;
      tlsYaml = `  tls:\n    certificate: ${cert.certFile}\n    key: ${cert.keyFile}`;
    }
    const scheme = options.tls ? 'https' : 'http';
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const proc = await launch(configYaml({ port, storage: storageDir, auth: authYaml, tls: tlsYaml }), dir);
      const host = `127.0.0.1:${port}`;
      try {
        await waitForHttp(`${scheme}://${host}/v2/`, 15_000, proc.exited);
      } catch (error) {
        proc.child.kill();
        if (attempt < 2 && /address already in use/.test(proc.log())) continue;
        throw error;
      }
      return {
        url: `${scheme}://${host}`,
        host,
        username,
        password,
        storageDir,
        ...(tokenServer ? { tokenServer } : {}),
        ...(caFile ? { caFile } : {}),
        blobPath: (digest) => {
          const [algorithm, hex] = digest.split(':') as [string, string];
          return join(storageDir, 'docker/registry/v2/blobs', algorithm, hex.slice(0, 2), hex, 'data');
        },
        log: proc.log,
        async stop() {
          if (proc.exited() === undefined) {
            const gone = new Promise((resolve) => proc.child.once('exit', resolve));
            proc.child.kill('SIGTERM');
            await gone;
          }
          await tokenServer?.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (error) {
    await tokenServer?.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
