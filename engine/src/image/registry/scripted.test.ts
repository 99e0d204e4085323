/**
 * What a real registry cannot be made to do on cue, against small node:http servers of ours:
 * rate limiting, 5xx, schema 1, odd media types, huge manifests, redirects to blob storage on
 * another origin, Bearer realms answering `token` or `access_token`, stalls and aborts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type ScriptedServer } from '../../../../test/harness/http-server.js';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { startTokenServer } from '../../../../test/harness/token-server.js';
import { isEngineError } from '../../errors.js';
import type { ImageSource } from '../types.js';
import { headRegistryManifest, openRegistryImage, type RegistryImageOptions } from './index.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** A one-layer image whose layer is `layer` (the registry does not care what the bytes are). */
function makeImage(layer = Buffer.from('pretend this is a gzip tar')) {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha(Buffer.from('uncompressed'))] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha(config),
        size: config.length,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length },
      ],
    }),
  );
  return {
    manifest,
    manifestDigest: sha(manifest),
    config,
    configDigest: sha(config),
    layer,
    layerDigest: sha(layer),
  };
}
type Image = ReturnType<typeof makeImage>;

/** Serves `image` under /v2/app/…; `hook` may answer first (return true when it did). */
function registryHandler(
  image: Image,
  hook?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>,
) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (hook && (await hook(req, res))) return;
    const path = req.url ?? '';
    if (path.startsWith('/v2/app/manifests/')) {
      res.writeHead(200, {
        'content-type': OCI_MANIFEST,
        'docker-content-digest': image.manifestDigest,
        'content-length': image.manifest.length,
      });
      res.end(req.method === 'HEAD' ? undefined : image.manifest);
    } else if (path === `/v2/app/blobs/${image.configDigest}`) {
      res.end(image.config);
    } else if (path === `/v2/app/blobs/${image.layerDigest}`) {
      res.end(image.layer);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] }));
    }
  };
}

const servers: { stop(): Promise<void> }[] = [];
async function serve(
  handler: Parameters<typeof startHttpServer>[0],
  hostname?: string,
): Promise<ScriptedServer> {
  const server = await startHttpServer(handler, hostname);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return isEngineError(error) ? `${error.code}: ${error.message}` : `uncoded: ${String(error)}`;
  }
}

async function readLayer(source: ImageSource, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await source.layers[0]!.open(signal)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const opts = (server: ScriptedServer, extra: RegistryImageOptions = {}): RegistryImageOptions => ({
  insecureRegistries: [server.host],
  dockerConfigPath: '/nonexistent/config.json',
  ...extra,
});
/** Opens, closes and returns the manifest digest. */
async function digestOnly(ref: string, options: RegistryImageOptions): Promise<string | undefined> {
  const source = await openRegistryImage(ref, options);
  await source.close();
  return source.digest;
}
const manifestRequests = (s: ScriptedServer) =>
  s.requests.filter((r) => r.url.startsWith('/v2/app/manifests/')).length;

describe('retries', () => {
  it('waits out a 429 with Retry-After, then succeeds', async () => {
    const image = makeImage();
    let limited = false;
    const server = await serve(
      registryHandler(image, (req, res) => {
        if (limited || !req.url?.includes('/manifests/')) return false;
        limited = true;
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }));
        return true;
      }),
    );
    expect(await digestOnly(`${server.host}/app:1`, opts(server))).toBe(image.manifestDigest);
    expect(manifestRequests(server)).toBe(2);
  });

  it('gives up on endless 429 and 500 after the configured retries, with the registry message', async () => {
    for (const [status, code, label] of [
      [429, 'ENG_REGISTRY_RATE_LIMITED', 'rate limited (too many requests; retries exhausted)'],
      [500, 'ENG_REGISTRY_SERVER_ERROR', 'server error'],
    ] as const) {
      const server = await serve((_req, res) => {
        res.writeHead(status, { 'retry-after': '0', 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'storage on fire' }] }));
      });
      expect(await failure(openRegistryImage(`${server.host}/app:1`, opts(server, { retries: 2 })))).toBe(
        `${code}: manifest "1" of ${server.host}/app: HTTP ${status} ${label} - registry says: UNKNOWN: storage on fire`,
      );
      expect(manifestRequests(server)).toBe(3);
    }
  });

  it('retries refused connections, then reports the registry unreachable', async () => {
    const server = await serve(() => undefined);
    const host = server.host;
    await server.stop();
    expect(
      await failure(openRegistryImage(`${host}/app:1`, { insecureRegistries: [host], retries: 1 })),
    ).toMatch(new RegExp(`^ENG_REGISTRY_UNREACHABLE: manifest "1" of ${host}/app: ECONNREFUSED`));
  });

  it('maps 403 to ENG_REGISTRY_FORBIDDEN without retrying', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }],
        }),
      );
    });
    expect(await failure(openRegistryImage(`${server.host}/app:1`, opts(server)))).toBe(
      `ENG_REGISTRY_FORBIDDEN: manifest "1" of ${server.host}/app: HTTP 403 forbidden (the credentials do not allow pulling this repository) - registry says: DENIED: requested access to the resource is denied`,
    );
    expect(manifestRequests(server)).toBe(1);
  });
});

describe('manifests a registry should not send', () => {
  it.skipIf(!hasRealdata)('refuses schema 1 with a clear message', async () => {
    const body = readFileSync(realdata('images/manifests/cimage-docker-v2s1-signed-manifest.json'));
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' });
      res.end(body);
    });
    expect(await failure(openRegistryImage(`${server.host}/app:1`, opts(server)))).toBe(
      `ENG_IMAGE_MANIFEST_UNSUPPORTED: manifest "1" of ${server.host}/app: Docker image manifest schema 1 is not supported (deprecated since 2017); push the image again with a current client to get a schema 2 or OCI manifest`,
    );
  });

  it('refuses an unknown manifest media type', async () => {
    const image = makeImage();
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.example.bundle+json' });
      res.end(image.manifest);
    });
    expect(await failure(openRegistryImage(`${server.host}/app:1`, opts(server)))).toMatch(
      /^ENG_IMAGE_MEDIA_TYPE_UNSUPPORTED: manifest "1" of 127\.0\.0\.1:\d+\/app: unsupported manifest media type "application\/vnd\.example\.bundle\+json"/,
    );
  });

  it('stops reading an oversized manifest (endless body, or a large Content-Length)', async () => {
    let closedEarly = false;
    const server = await serve((req, res) => {
      res.writeHead(200, {
        'content-type': OCI_MANIFEST,
        ...(req.url?.endsWith('/declared') ? { 'content-length': String(1 << 30) } : {}),
      });
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = () => {
        while (res.write(chunk));
      };
      res.on('drain', pump);
      res.on('close', () => (closedEarly = true));
      pump();
    });
    for (const tag of ['endless', 'declared']) {
      expect(
        await failure(
          openRegistryImage(`${server.host}/app:${tag}`, opts(server, { maxManifestBytes: 64 * 1024 })),
        ),
      ).toBe(
        `ENG_IMAGE_MANIFEST_TOO_LARGE: manifest "${tag}" of ${server.host}/app: larger than 65536 bytes`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(closedEarly).toBe(true);
  });

  it('checks a digest reference against the bytes received', async () => {
    const image = makeImage();
    const other = makeImage(Buffer.from('other layer'));
    const server = await serve(registryHandler(image));
    expect(await failure(openRegistryImage(`${server.host}/app@${other.manifestDigest}`, opts(server)))).toBe(
      `ENG_DIGEST_MISMATCH: manifest "${other.manifestDigest}" of ${server.host}/app: content digest ${image.manifestDigest} does not match ${other.manifestDigest}`,
    );
  });
});

describe('credentials stay with their registry', () => {
  it('follows a 307 to blob storage on another origin without the Authorization header', async () => {
    const image = makeImage();
    const storage = await serve((req, res) => {
      res.end(req.url === `/blobs/${image.layerDigest}` ? image.layer : image.config);
    }, 'localhost');
    const auth = `Basic ${Buffer.from('u:p').toString('base64')}`;
    const registry = await serve(
      registryHandler(image, (req, res) => {
        if (req.headers.authorization !== auth) {
          res.writeHead(401, { 'www-authenticate': 'Basic realm="scripted"' }).end();
          return true;
        }
        const blob = /\/v2\/app\/blobs\/(sha256:[0-9a-f]+)$/.exec(req.url ?? '')?.[1];
        if (!blob) return false;
        res.writeHead(307, { location: `${storage.url}/blobs/${blob}` }).end();
        return true;
      }),
    );
    const source = await openRegistryImage(
      `${registry.host}/app:1`,
      opts(registry, {
        auth: { username: 'u', password: 'p' },
        insecureRegistries: [registry.host, storage.host],
      }),
    );
    expect((await readLayer(source)).equals(image.layer)).toBe(true);
    await source.close();
    expect(storage.requests.map((r) => [r.url, r.headers.authorization])).toEqual([
      [`/blobs/${image.configDigest}`, undefined],
      [`/blobs/${image.layerDigest}`, undefined],
    ]);
    // first manifest request anonymous, then with credentials; blobs with credentials before the redirect
    expect(registry.requests.map((r) => r.headers.authorization)).toEqual([undefined, auth, auth, auth]);
  });

  it('refuses a redirect to plain HTTP on a host not listed as insecure', async () => {
    const image = makeImage();
    const storage = await serve((_req, res) => void res.end(image.config), 'localhost');
    const registry = await serve(
      registryHandler(image, (req, res) => {
        if (!req.url?.includes('/blobs/')) return false;
        res.writeHead(307, { location: `${storage.url}/x` }).end();
        return true;
      }),
    );
    expect(await failure(openRegistryImage(`${registry.host}/app:1`, opts(registry)))).toBe(
      `ENG_REGISTRY_INSECURE_REFUSED: config ${image.configDigest} of ${registry.host}/app: refusing plain HTTP to ${storage.host} (${storage.url}); list the host in insecureRegistries to allow it`,
    );
    expect(storage.requests).toEqual([]);
  });

  it('reads the token from "token" or "access_token" and sends Basic credentials only to the realm', async () => {
    for (const tokenField of ['token', 'access_token'] as const) {
      const tokens = await startTokenServer({ users: { u: 'p' }, tokenField });
      servers.push(tokens);
      const image = makeImage();
      const registry = await serve(
        registryHandler(image, (req, res) => {
          if (req.headers.authorization?.startsWith('Bearer ey')) return false;
          res
            .writeHead(401, {
              'www-authenticate': `Bearer realm="${tokens.realm}",service="scripted",scope="repository:app:pull"`,
            })
            .end();
          return true;
        }),
      );
      const source = await openRegistryImage(
        `${registry.host}/app:1`,
        opts(registry, {
          auth: { username: 'u', password: 'p' },
          insecureRegistries: [registry.host, tokens.host],
        }),
      );
      expect((await readLayer(source)).equals(image.layer)).toBe(true);
      await source.close();
      expect(tokens.requests.map((r) => [r.url, r.authorization])).toEqual([
        [
          '/token?scope=repository%3Aapp%3Apull&service=scripted&account=u',
          `Basic ${Buffer.from('u:p').toString('base64')}`,
        ],
      ]);
      expect(registry.requests.every((r) => !r.headers.authorization?.startsWith('Basic'))).toBe(true);
    }
  });
});

describe('registry tokens and HEAD', () => {
  it('sends a registry token (option or config.json registrytoken) as the Bearer credential', async () => {
    const image = makeImage();
    const registry = await serve(
      registryHandler(image, (req, res) => {
        if (req.headers.authorization === 'Bearer given-token') return false;
        res
          .writeHead(401, {
            'www-authenticate': 'Bearer realm="http://127.0.0.1:9/never-asked",service="scripted"',
          })
          .end();
        return true;
      }),
    );
    expect(
      await digestOnly(`${registry.host}/app:1`, opts(registry, { auth: { token: 'given-token' } })),
    ).toBe(image.manifestDigest);
    const dir = await mkdtemp(join(tmpdir(), 'vigil-regtoken-'));
    await writeFile(
      `${dir}/config.json`,
      JSON.stringify({ auths: { [registry.host]: { registrytoken: 'given-token' } } }),
    );
    try {
      expect(
        await digestOnly(
          `${registry.host}/app:1`,
          opts(registry, { dockerConfigPath: `${dir}/config.json` }),
        ),
      ).toBe(image.manifestDigest);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(
      await failure(
        openRegistryImage(`${registry.host}/app:1`, opts(registry, { auth: { token: 'stale-token' } })),
      ),
    ).toBe(
      `ENG_REGISTRY_UNAUTHORIZED: manifest "1" of ${registry.host}/app: HTTP 401 unauthorized (missing or wrong credentials)`,
    );
  });

  it('falls back to GET when HEAD brings no Docker-Content-Digest', async () => {
    const image = makeImage();
    const server = await serve((req, res) => {
      res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': image.manifest.length });
      res.end(req.method === 'HEAD' ? undefined : image.manifest);
    });
    expect(await headRegistryManifest(`${server.host}/app:1`, opts(server))).toEqual({
      digest: image.manifestDigest,
      mediaType: OCI_MANIFEST,
      size: image.manifest.length,
    });
    expect(server.requests.map((r) => r.method)).toEqual(['HEAD', 'GET']);
  });
});

describe('timeouts and aborts', () => {
  it('times out when headers never come', async () => {
    const server = await serve(() => undefined);
    expect(
      await failure(openRegistryImage(`${server.host}/app:1`, opts(server, { timeoutMs: 300 }))),
    ).toMatch(new RegExp(`^ENG_REGISTRY_TIMEOUT: manifest "1" of ${server.host}/app: timed out`));
  });

  it('times out a layer body that stalls half way', async () => {
    const image = makeImage(Buffer.alloc(64 * 1024, 7));
    const server = await serve(
      registryHandler(image, (req, res) => {
        if (req.url !== `/v2/app/blobs/${image.layerDigest}`) return false;
        res.writeHead(200, { 'content-length': image.layer.length });
        res.write(image.layer.subarray(0, 1000));
        return true;
      }),
    );
    const source = await openRegistryImage(`${server.host}/app:1`, opts(server, { timeoutMs: 300 }));
    expect(await failure(readLayer(source))).toMatch(
      new RegExp(`^ENG_REGISTRY_TIMEOUT: layer ${image.layerDigest} of ${server.host}/app: timed out`),
    );
    await source.close();
  });

  it('aborts a waiting request and a streaming layer', async () => {
    const image = makeImage(Buffer.alloc(64 * 1024, 7));
    let stall = true;
    const server = await serve(
      registryHandler(image, (req, res) => {
        if (req.url === `/v2/app/blobs/${image.layerDigest}`) {
          res.writeHead(200, { 'content-length': image.layer.length });
          res.write(image.layer.subarray(0, 1000));
          return true;
        }
        return stall && (req.url?.includes('/manifests/') ?? false); // never answers while stalling
      }),
    );
    const waiting = new AbortController();
    const pending = failure(
      openRegistryImage(`${server.host}/app:1`, opts(server, { signal: waiting.signal })),
    );
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    waiting.abort();
    expect(await pending).toBe(`ENG_ABORTED: manifest "1" of ${server.host}/app: aborted`);

    stall = false;
    const source = await openRegistryImage(`${server.host}/app:1`, opts(server));
    const streaming = new AbortController();
    const stream = await source.layers[0]!.open(streaming.signal);
    const first = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
    expect(first.length).toBe(1000);
    const ended = new Promise<unknown>((resolve) => stream.once('error', resolve));
    streaming.abort();
    const error = await ended;
    expect(isEngineError(error) && `${error.code}: ${error.message}`).toBe(
      `ENG_ABORTED: layer ${image.layerDigest} of ${server.host}/app: aborted`,
    );
    await source.close();
  });
});
