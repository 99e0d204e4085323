/**
 * Authentication against real registries: htpasswd (Basic) and token auth (Bearer, with our
 * token server), credentials from options, docker config.json and a credential helper.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTemp } from '../../../../test/harness/images.js';
import {
  alpineLikeFiles,
  buildMultiPlatformLayout,
  pushOciLayout,
  type MultiPlatformLayout,
} from '../../../../test/harness/oci-image.js';
import { startRegistry, type RegistryHandle } from '../../../../test/harness/registry.js';
import { isEngineError } from '../../errors.js';
import { openRegistryImage, type RegistryImageOptions } from './index.js';

let layout: MultiPlatformLayout;
let basic: RegistryHandle;
let token: RegistryHandle;
let dir: string;
const savedPath = process.env.PATH;
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return isEngineError(error) ? `${error.code}: ${error.message}` : `uncoded: ${String(error)}`;
  }
}

/** Opens, reads the first layer through, closes; returns the manifest digest. */
async function pullDigest(ref: string, options: RegistryImageOptions): Promise<string | undefined> {
  const source = await openRegistryImage(ref, options);
  try {
    for await (const _ of await source.layers[0]!.open());
    return source.digest;
  } finally {
    await source.close();
  }
}

async function dockerConfig(doc: unknown): Promise<string> {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, JSON.stringify(doc));
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-regauth-'));
  layout = await buildMultiPlatformLayout([
    { tag: 'amd64', platform: { os: 'linux', architecture: 'amd64' }, files: alpineLikeFiles() },
  ]);
  [basic, token] = await Promise.all([
    startRegistry({ auth: 'htpasswd', users: { alice: 'wonder-land' } }),
    startRegistry({
      auth: 'token',
      users: { alice: 'wonder-land' },
      token: { publicRepositories: ['public/img'], refreshTokens: { 'refresh-abc': 'alice' } },
    }),
  ]);
  const credentials = { username: 'alice', password: 'wonder-land' };
  await pushOciLayout({
    layout: layout.dir,
    tag: 'amd64',
    registryHost: basic.host,
    destination: 'test/img:1',
    credentials,
  });
  for (const destination of ['test/img:1', 'public/img:1']) {
    await pushOciLayout({
      layout: layout.dir,
      tag: 'amd64',
      registryHost: token.host,
      destination,
      credentials,
    });
  }
  // a credential helper that knows alice for the htpasswd registry only
  const helper = join(dir, 'docker-credential-vigiltest');
  await writeFile(
    helper,
    `#!/bin/sh\nserver=$(cat)\nif [ "$server" = "${basic.host}" ]; then printf '{"ServerURL":"%s","Username":"alice","Secret":"wonder-land"}' "$server"; else echo "credentials not found in native keychain"; exit 1; fi\n`,
  );
  await chmod(helper, 0o755);
  process.env.PATH = `${dir}${delimiter}${savedPath ?? ''}`;
});

afterAll(async () => {
  process.env.PATH = savedPath;
  await Promise.all([basic?.stop(), token?.stop()]);
  if (layout) await removeTemp(layout.dir);
  await rm(dir, { recursive: true, force: true });
});

describe('htpasswd (Basic) registry', () => {
  const digest = () => layout.images.amd64!.manifestDigest;
  const opts = (extra: RegistryImageOptions = {}): RegistryImageOptions => ({
    insecureRegistries: [basic.host],
    dockerConfigPath: join(dir, 'none.json'),
    ...extra,
  });

  it('refuses anonymous and wrong-password pulls', async () => {
    const why = `ENG_REGISTRY_UNAUTHORIZED: manifest "1" of ${basic.host}/test/img: HTTP 401 unauthorized (missing or wrong credentials) - registry says: UNAUTHORIZED: authentication required`;
    expect(await failure(openRegistryImage(`${basic.host}/test/img:1`, opts()))).toBe(why);
    expect(
      await failure(
        openRegistryImage(
          `${basic.host}/test/img:1`,
          opts({ auth: { username: 'alice', password: 'nope' } }),
        ),
      ),
    ).toBe(why);
  });

  it('pulls with credentials from options, config.json auths and a credential helper', async () => {
    const ref = `${basic.host}/test/img:1`;
    expect(await pullDigest(ref, opts({ auth: { username: 'alice', password: 'wonder-land' } }))).toBe(
      digest(),
    );
    const auths = await dockerConfig({
      auths: { [`http://${basic.host}`]: { auth: b64('alice:wonder-land') } },
    });
    expect(await pullDigest(ref, opts({ dockerConfigPath: auths }))).toBe(digest());
    const fields = await dockerConfig({
      auths: { [basic.host]: { username: 'alice', password: 'wonder-land' } },
    });
    expect(await pullDigest(ref, opts({ dockerConfigPath: fields }))).toBe(digest());
    const helper = await dockerConfig({ credHelpers: { [basic.host]: 'vigiltest' } });
    expect(await pullDigest(ref, opts({ dockerConfigPath: helper }))).toBe(digest());
  });

  it('reports a failing credential helper', async () => {
    const config = await dockerConfig({ credsStore: 'vigil-missing-helper' });
    expect(
      await failure(openRegistryImage(`${basic.host}/test/img:1`, opts({ dockerConfigPath: config }))),
    ).toBe(
      'ENG_CREDENTIALS_HELPER_FAILED: credential helper docker-credential-vigil-missing-helper: not found on PATH',
    );
  });
});

describe('token (Bearer) registry', () => {
  const digest = () => layout.images.amd64!.manifestDigest;
  const opts = (extra: RegistryImageOptions = {}): RegistryImageOptions => ({
    insecureRegistries: [token.host, token.tokenServer!.host],
    dockerConfigPath: join(dir, 'none.json'),
    ...extra,
  });
  /** Token requests made by `fn` (pushes in beforeAll made earlier ones). */
  async function tokenRequests(fn: () => Promise<unknown>) {
    const from = token.tokenServer!.requests.length;
    await fn();
    return token.tokenServer!.requests.slice(from).map(({ method, url, authorization, form }) => ({
      method,
      url: decodeURIComponent(url),
      authorization,
      ...(form ? { form } : {}),
    }));
  }

  it('fetches one token with Basic credentials at the realm and pulls', async () => {
    let got: string | undefined;
    const requests = await tokenRequests(async () => {
      got = await pullDigest(
        `${token.host}/test/img:1`,
        opts({ auth: { username: 'alice', password: 'wonder-land' } }),
      );
    });
    expect(got).toBe(digest());
    expect(requests).toEqual([
      {
        method: 'GET',
        url: '/token?scope=repository:test/img:pull&service=vigil-test-registry&account=alice',
        authorization: `Basic ${b64('alice:wonder-land')}`,
      },
    ]);
  });

  it('pulls a public repository with an anonymous token', async () => {
    let got: string | undefined;
    const requests = await tokenRequests(async () => {
      got = await pullDigest(`${token.host}/public/img:1`, opts());
    });
    expect(got).toBe(digest());
    expect(requests).toEqual([
      {
        method: 'GET',
        url: '/token?scope=repository:public/img:pull&service=vigil-test-registry',
        authorization: undefined,
      },
    ]);
  });

  it('exchanges a config.json identity token (OAuth2 refresh token) for an access token', async () => {
    const config = await dockerConfig({ auths: { [token.host]: { identitytoken: 'refresh-abc' } } });
    let got: string | undefined;
    const requests = await tokenRequests(async () => {
      got = await pullDigest(`${token.host}/test/img:1`, opts({ dockerConfigPath: config }));
    });
    expect(got).toBe(digest());
    expect(requests).toEqual([
      {
        method: 'POST',
        url: '/token',
        authorization: undefined,
        form: {
          service: 'vigil-test-registry',
          grant_type: 'refresh_token',
          refresh_token: 'refresh-abc',
          client_id: 'vigil',
          scope: 'repository:test/img:pull',
        },
      },
    ]);
  });

  it('is unauthorized anonymously on a private repository and with a wrong password', async () => {
    expect(await failure(openRegistryImage(`${token.host}/test/img:1`, opts()))).toBe(
      `ENG_REGISTRY_UNAUTHORIZED: manifest "1" of ${token.host}/test/img: HTTP 401 unauthorized (missing or wrong credentials) - registry says: UNAUTHORIZED: authentication required`,
    );
    expect(
      await failure(
        openRegistryImage(
          `${token.host}/test/img:1`,
          opts({ auth: { username: 'alice', password: 'wrong' } }),
        ),
      ),
    ).toBe(
      `ENG_REGISTRY_UNAUTHORIZED: token for ${token.host}/test/img from ${token.tokenServer!.url}/token: HTTP 401 unauthorized (missing or wrong credentials) - registry says: UNAUTHORIZED: invalid username or password`,
    );
  });

  it('refuses a plain-HTTP token realm that is not listed as insecure', async () => {
    expect(
      await failure(
        openRegistryImage(`${token.host}/test/img:1`, { ...opts(), insecureRegistries: [token.host] }),
      ),
    ).toBe(
      `ENG_REGISTRY_INSECURE_REFUSED: token for ${token.host}/test/img from ${token.tokenServer!.url}/token: refusing plain HTTP to ${token.tokenServer!.host} (${token.tokenServer!.url}); list the host in insecureRegistries to allow it`,
    );
  });
});
