/**
 * openRegistryImage against real distribution registries (Debian's docker-registry) holding
 * images built with umoci and pushed with skopeo: anonymous, htpasswd, token auth, TLS, proxy.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTemp } from '../../../../test/harness/images.js';
import {
  alpineLikeFiles,
  buildMultiPlatformLayout,
  pushOciLayout,
  type BuiltImage,
  type MultiPlatformLayout,
} from '../../../../test/harness/oci-image.js';
import { startConnectProxy } from '../../../../test/harness/http-server.js';
import { startRegistry, type RegistryHandle } from '../../../../test/harness/registry.js';
import { isEngineError } from '../../errors.js';
import type { ImageSource } from '../types.js';
import { headRegistryManifest, openRegistryImage } from './index.js';

let layout: MultiPlatformLayout;
let open: RegistryHandle;
let tls: RegistryHandle;

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return isEngineError(error) ? `${error.code}: ${error.message}` : `uncoded: ${String(error)}`;
  }
}

async function readAll(source: ImageSource, i = 0): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await source.layers[i]!.open()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** What a source must look like for `image`, named `name`, reached through `resolved` (tag or index digest). */
function expected(
  name: string,
  image: BuiltImage,
  repo: string,
  tag: string | undefined,
  resolvedDigest: string,
) {
  return {
    kind: 'registry',
    name,
    digest: image.manifestDigest,
    repoTags: tag ? [`${repo}:${tag}`] : [],
    repoDigests: [`${repo}@${resolvedDigest}`],
    configDigest: image.configDigest,
    config: image.config,
    layers: image.manifest.layers.map((l, i) => ({
      diffId: image.config.rootfs.diff_ids[i],
      digest: l.digest,
      mediaType: l.mediaType,
      size: l.size,
    })),
  };
}

function summary(source: ImageSource) {
  const { kind, name, digest, repoTags, repoDigests, configDigest, config } = source;
  return {
    kind,
    name,
    digest,
    repoTags,
    repoDigests,
    configDigest,
    config,
    layers: source.layers.map(({ diffId, digest, mediaType, size }) => ({ diffId, digest, mediaType, size })),
  };
}

async function pull(ref: string, options: Parameters<typeof openRegistryImage>[1]) {
  const source = await openRegistryImage(ref, options);
  try {
    return { summary: summary(source), layer: await readAll(source) };
  } finally {
    await source.close();
  }
}

beforeAll(async () => {
  layout = await buildMultiPlatformLayout(
    [
      {
        tag: 'amd64',
        platform: { os: 'linux', architecture: 'amd64' },
        files: alpineLikeFiles('3.19.1', 'x86_64'),
      },
      {
        tag: 'arm64',
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        files: alpineLikeFiles('3.19.1', 'aarch64'),
      },
      {
        tag: 'corrupt-layer',
        platform: { os: 'linux', architecture: 'amd64' },
        files: { 'etc/os-release': 'ID=corrupt-layer\n' },
      },
      {
        tag: 'corrupt-config',
        platform: { os: 'linux', architecture: 'amd64' },
        files: { 'etc/os-release': 'ID=corrupt-config\n' },
      },
      {
        tag: 'corrupt-manifest',
        platform: { os: 'linux', architecture: 'amd64' },
        files: { 'etc/os-release': 'ID=corrupt-manifest\n' },
      },
    ],
    { tag: 'multi', of: ['amd64', 'arm64'] },
  );
  [open, tls] = await Promise.all([startRegistry(), startRegistry({ tls: true })]);
  const push = (registry: RegistryHandle, tag: string, destination: string, all = false) =>
    pushOciLayout({ layout: layout.dir, tag, registryHost: registry.host, destination, all });
  await push(open, 'multi', 'test/img:multi', true);
  await push(open, 'amd64', 'test/img:amd64');
  for (const t of ['corrupt-layer', 'corrupt-config', 'corrupt-manifest'])
    await push(open, t, `${t.replace('-', '/')}:1`);
  await push(tls, 'amd64', 'test/img:amd64');
});

afterAll(async () => {
  await Promise.all([open?.stop(), tls?.stop()]);
  if (layout) await removeTemp(layout.dir);
});

describe('anonymous registry', () => {
  const opts = () => ({ insecureRegistries: [open.host] });

  it('pulls a single-platform image by tag, layers verified byte for byte', async () => {
    const ref = `${open.host}/test/img:amd64`;
    const { summary: got, layer } = await pull(ref, opts());
    const image = layout.images.amd64!;
    expect(got).toEqual(expected(ref, image, `${open.host}/test/img`, 'amd64', image.manifestDigest));
    expect(layer.equals(await layout.blob(image.manifest.layers[0]!.digest))).toBe(true);
  });

  it('refuses to open layers once closed (close is idempotent)', async () => {
    const source = await openRegistryImage(`${open.host}/test/img:amd64`, opts());
    await source.close();
    await source.close();
    const digest = layout.images.amd64!.manifest.layers[0]!.digest;
    expect(await failure(source.layers[0]!.open())).toBe(
      `ENG_INVALID_ARGUMENT: layer ${digest} of ${open.host}/test/img: the image source is closed`,
    );
  });

  it('resolves the OCI index to linux/amd64 by default and to arm64 on request', async () => {
    const ref = `${open.host}/test/img:multi`;
    const index = layout.index!.digest;
    expect((await pull(ref, opts())).summary).toEqual(
      expected(ref, layout.images.amd64!, `${open.host}/test/img`, 'multi', index),
    );
    const arm64 = expected(ref, layout.images.arm64!, `${open.host}/test/img`, 'multi', index);
    // the index says arm64/v8: a bare arm64 request means v8
    expect(
      (await pull(ref, { ...opts(), platform: { os: 'linux', architecture: 'arm64' } })).summary,
    ).toEqual(arm64);
    expect(
      (await pull(ref, { ...opts(), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }))
        .summary,
    ).toEqual(arm64);
  });

  it('refuses platforms the image does not have', async () => {
    expect(
      await failure(
        openRegistryImage(`${open.host}/test/img:multi`, {
          ...opts(),
          platform: { os: 'linux', architecture: 's390x' },
        }),
      ),
    ).toBe(
      `ENG_IMAGE_PLATFORM_NOT_FOUND: ${open.host}/test/img:multi has no image for platform linux/s390x; available: linux/amd64, linux/arm64/v8`,
    );
    expect(
      await failure(
        openRegistryImage(`${open.host}/test/img:amd64`, {
          ...opts(),
          platform: { os: 'linux', architecture: 'arm64' },
        }),
      ),
    ).toBe(
      `ENG_IMAGE_PLATFORM_NOT_FOUND: ${open.host}/test/img:amd64 is a single-platform image for linux/amd64, not linux/arm64`,
    );
  });

  it('pulls by digest (of a manifest or of the index) and by tag+digest', async () => {
    const arm = layout.images.arm64!;
    const repo = `${open.host}/test/img`;
    expect((await pull(`${repo}@${arm.manifestDigest}`, opts())).summary).toEqual(
      expected(`${repo}@${arm.manifestDigest}`, arm, repo, undefined, arm.manifestDigest),
    );
    const byIndex = `${repo}:multi@${layout.index!.digest}`;
    expect((await pull(byIndex, opts())).summary).toEqual(
      expected(byIndex, layout.images.amd64!, repo, 'multi', layout.index!.digest),
    );
  });

  it('resolves digests with HEAD', async () => {
    expect(await headRegistryManifest(`${open.host}/test/img:multi`, opts())).toEqual({
      digest: layout.index!.digest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      size: layout.index!.size,
    });
  });

  it('reports missing repositories, tags and digests with the registry message', async () => {
    const missing = `sha256:${'0'.repeat(64)}`;
    expect(await failure(openRegistryImage(`${open.host}/no/such:1`, opts()))).toBe(
      `ENG_REGISTRY_NOT_FOUND: manifest "1" of ${open.host}/no/such: HTTP 404 not found - registry says: MANIFEST_UNKNOWN: manifest unknown`,
    );
    expect(await failure(openRegistryImage(`${open.host}/test/img:nope`, opts()))).toBe(
      `ENG_REGISTRY_NOT_FOUND: manifest "nope" of ${open.host}/test/img: HTTP 404 not found - registry says: MANIFEST_UNKNOWN: manifest unknown`,
    );
    expect(await failure(openRegistryImage(`${open.host}/test/img@${missing}`, opts()))).toMatch(
      /^ENG_REGISTRY_NOT_FOUND: manifest "sha256:0{64}" of /,
    );
  });

  it('does not speak plain HTTP to a host that is not listed as insecure', async () => {
    expect(await failure(openRegistryImage(`${open.host}/test/img:amd64`, { retries: 0 }))).toMatch(
      new RegExp(
        `^ENG_REGISTRY_UNREACHABLE: manifest "amd64" of ${open.host}/test/img: TLS handshake failed \\(ERR_SSL_WRONG_VERSION_NUMBER\\); a registry serving plain HTTP must be listed in insecureRegistries$`,
      ),
    );
  });

  it('honours an aborted signal', async () => {
    expect(
      await failure(
        openRegistryImage(`${open.host}/test/img:amd64`, { ...opts(), signal: AbortSignal.abort() }),
      ),
    ).toBe(`ENG_ABORTED: manifest "amd64" of ${open.host}/test/img: aborted`);
  });

  it('fails a layer stream whose stored blob was corrupted, at its end', async () => {
    const image = layout.images['corrupt-layer']!;
    const digest = image.manifest.layers[0]!.digest;
    const path = open.blobPath(digest);
    const bytes = await readFile(path);
    const at = bytes.length >> 1;
    bytes[at] = bytes[at]! ^ 0xff;
    await writeFile(path, bytes);
    const source = await openRegistryImage(`${open.host}/corrupt/layer:1`, opts());
    try {
      expect(await failure(readAll(source))).toMatch(
        new RegExp(
          `^ENG_DIGEST_MISMATCH: layer ${digest} of ${open.host}/corrupt/layer: content digest sha256:[0-9a-f]{64} does not match ${digest}$`,
        ),
      );
    } finally {
      await source.close();
    }
  });

  it('refuses a corrupted config blob', async () => {
    const digest = layout.images['corrupt-config']!.configDigest;
    const path = open.blobPath(digest);
    await writeFile(path, (await readFile(path, 'utf8')).replace('"amd64"', '"AMD64"'));
    expect(await failure(openRegistryImage(`${open.host}/corrupt/config:1`, opts()))).toMatch(
      new RegExp(
        `^ENG_DIGEST_MISMATCH: config ${digest} of ${open.host}/corrupt/config: content digest sha256:[0-9a-f]{64} does not match ${digest}$`,
      ),
    );
  });

  it('refuses a manifest whose content does not match its Docker-Content-Digest', async () => {
    const image = layout.images['corrupt-manifest']!;
    const path = open.blobPath(image.manifestDigest);
    const text = await readFile(path, 'utf8');
    // same length, still valid JSON: one hex digit of the layer digest changes
    const layerHex = image.manifest.layers[0]!.digest.slice(7);
    const swapped = layerHex.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    await writeFile(path, text.replace(layerHex, swapped));
    expect(await failure(openRegistryImage(`${open.host}/corrupt/manifest:1`, opts()))).toMatch(
      new RegExp(
        `^ENG_DIGEST_MISMATCH: manifest "1" of ${open.host}/corrupt/manifest: Docker-Content-Digest says ${image.manifestDigest}, the content is sha256:`,
      ),
    );
  });
});

describe('TLS registry with a self-signed certificate', () => {
  it('is refused without caFile and pulled with it', async () => {
    const ref = `${tls.host}/test/img:amd64`;
    expect(await failure(openRegistryImage(ref, { retries: 0 }))).toMatch(
      new RegExp(
        `^ENG_REGISTRY_UNREACHABLE: manifest "amd64" of ${tls.host}/test/img: TLS certificate not trusted \\(DEPTH_ZERO_SELF_SIGNED_CERT: .*pass caFile for a private CA$`,
      ),
    );
    const image = layout.images.amd64!;
    expect((await pull(ref, { caFile: tls.caFile! })).summary).toEqual(
      expected(ref, image, `${tls.host}/test/img`, 'amd64', image.manifestDigest),
    );
  });
});

describe('HTTP(S)_PROXY through undici EnvHttpProxyAgent', () => {
  const saved = {
    HTTP_PROXY: process.env.HTTP_PROXY,
    HTTPS_PROXY: process.env.HTTPS_PROXY,
    NO_PROXY: process.env.NO_PROXY,
  };
  afterAll(() => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  it('tunnels to a host name only the proxy knows', async () => {
    const proxy = await startConnectProxy((host, port) =>
      host === 'registry.vigil.test' ? { host: '127.0.0.1', port } : { host, port },
    );
    try {
      process.env.HTTP_PROXY = proxy.url;
      delete process.env.NO_PROXY;
      const port = open.host.split(':')[1];
      const ref = `registry.vigil.test:${port}/test/img:amd64`;
      const image = layout.images.amd64!;
      expect((await pull(ref, { insecureRegistries: ['registry.vigil.test'] })).summary).toEqual(
        expected(ref, image, `registry.vigil.test:${port}/test/img`, 'amd64', image.manifestDigest),
      );
      expect(new Set(proxy.connects)).toEqual(new Set([`registry.vigil.test:${port}`]));
    } finally {
      delete process.env.HTTP_PROXY;
      await proxy.stop();
    }
  });

  it('goes direct for NO_PROXY hosts', async () => {
    process.env.HTTP_PROXY = 'http://127.0.0.1:9'; // nothing listens on the discard port
    const ref = `${open.host}/test/img:amd64`;
    try {
      expect(await failure(openRegistryImage(ref, { insecureRegistries: [open.host], retries: 0 }))).toMatch(
        /^ENG_REGISTRY_UNREACHABLE: .*ECONNREFUSED/,
      );
      process.env.NO_PROXY = '127.0.0.1';
      expect((await pull(ref, { insecureRegistries: [open.host] })).summary.digest).toBe(
        layout.images.amd64!.manifestDigest,
      );
    } finally {
      delete process.env.HTTP_PROXY;
      delete process.env.NO_PROXY;
    }
  });
});
