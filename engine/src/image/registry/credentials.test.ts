import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzz } from '../../../../test/support/fuzz.js';
import { isEngineError } from '../../errors.js';
import { credentialsFromEntry, loadCredentials, normalizeAuthKey, parseDockerConfig } from './credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return isEngineError(error) ? `${error.code}: ${error.message}` : `uncoded: ${String(error)}`;
  }
}

describe('docker config parsing', () => {
  it('normalises auth keys to registry hosts', () => {
    expect(
      [
        'https://index.docker.io/v1/',
        'docker.io',
        'registry-1.docker.io',
        'https://ghcr.io',
        'http://localhost:5000/v2/',
        'Quay.IO',
      ].map(normalizeAuthKey),
    ).toEqual(['docker.io', 'docker.io', 'docker.io', 'ghcr.io', 'localhost:5000', 'quay.io']);
  });

  it('reads auth, username/password, identity and registry tokens', () => {
    const config = parseDockerConfig(
      JSON.stringify({
        auths: {
          a: { auth: b64('alice:pa:ss') },
          b: { username: 'bob', password: 'pw' },
          c: { auth: b64('carol:'), identitytoken: 'refresh' },
          d: { registrytoken: 'tok' },
          e: {},
          f: 'junk',
        },
        credHelpers: { 'gcr.io': 'gcloud', bad: 1 },
        credsStore: 'desktop',
        psFormat: 'ignored',
      }),
      'config.json',
    );
    expect(config).toEqual({
      auths: {
        a: { auth: b64('alice:pa:ss') },
        b: { username: 'bob', password: 'pw' },
        c: { auth: b64('carol:'), identitytoken: 'refresh' },
        d: { registrytoken: 'tok' },
        e: {},
      },
      credHelpers: { 'gcr.io': 'gcloud' },
      credsStore: 'desktop',
    });
    expect(Object.values(config.auths).map((e) => credentialsFromEntry(e, 'config.json'))).toEqual([
      { kind: 'basic', username: 'alice', password: 'pa:ss' },
      { kind: 'basic', username: 'bob', password: 'pw' },
      { kind: 'identity-token', username: 'carol', token: 'refresh' },
      { kind: 'bearer', token: 'tok' },
      undefined,
    ]);
    expect(() => credentialsFromEntry({ auth: b64('no-colon') }, 'config.json')).toThrow(
      /not base64 of "user:password"/,
    );
  });

  it('fuzz: parsing only fails with ENG_INVALID_ARGUMENT', async () => {
    const seeds = [
      JSON.stringify({
        auths: { 'https://index.docker.io/v1/': { auth: b64('u:p') }, 'ghcr.io': { identitytoken: 'x' } },
        credsStore: 'desktop',
      }),
      JSON.stringify({
        credHelpers: { 'gcr.io': 'gcloud', '123.dkr.ecr.us-east-1.amazonaws.com': 'ecr-login' },
        auths: { 'quay.io': { username: 'u', password: 'p' } },
      }),
    ].map((s) => Buffer.from(s));
    const failures = await fuzz(
      seeds,
      10_000,
      (input) => {
        const config = parseDockerConfig(input.toString('utf8'), 'config.json');
        for (const entry of Object.values(config.auths)) credentialsFromEntry(entry, 'config.json');
        for (const key of Object.keys(config.auths)) normalizeAuthKey(key);
      },
      { allowed: (e) => isEngineError(e) && e.code === 'ENG_INVALID_ARGUMENT' },
    );
    expect(failures).toEqual([]);
  });
});

describe('loadCredentials with real config files and credential helpers', () => {
  let dir: string;
  let helperLog: string;
  const savedPath = process.env.PATH;

  const configWith = async (doc: unknown): Promise<string> => {
    const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return file;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-creds-'));
    helperLog = join(dir, 'helper.log');
    const helper = [
      '#!/bin/sh',
      '[ "$1" = get ] || exit 3',
      'server=$(cat)',
      `printf '%s\\n' "$server" >> '${helperLog}'`,
      'case "$server" in',
      `  127.0.0.1:5000) printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret"}' "$server" ;;`,
      `  https://index.docker.io/v1/) printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh-123"}' "$server" ;;`,
      '  garbage.example) echo "this is not json" ;;',
      '  *) echo "credentials not found in native keychain"; exit 1 ;;',
      'esac',
    ].join('\n');
    await writeFile(join(dir, 'docker-credential-vigiltest'), helper + '\n');
    await writeFile(
      join(dir, 'docker-credential-vigilbroken'),
      '#!/bin/sh\necho "keychain locked" >&2\nexit 2\n',
    );
    await chmod(join(dir, 'docker-credential-vigiltest'), 0o755);
    await chmod(join(dir, 'docker-credential-vigilbroken'), 0o755);
    process.env.PATH = `${dir}${delimiter}${savedPath ?? ''}`;
  });

  afterAll(async () => {
    process.env.PATH = savedPath;
    await rm(dir, { recursive: true, force: true });
  });

  it('prefers explicit options and is anonymous without a config file', async () => {
    const path = await configWith({ auths: { 'ghcr.io': { auth: b64('x:y') } } });
    expect(await loadCredentials('ghcr.io', { auth: { token: 't' }, dockerConfigPath: path })).toEqual({
      kind: 'bearer',
      token: 't',
    });
    expect(await loadCredentials('ghcr.io', { auth: { username: 'u', password: 'p' } })).toEqual({
      kind: 'basic',
      username: 'u',
      password: 'p',
    });
    expect(await loadCredentials('ghcr.io', { dockerConfigPath: join(dir, 'missing.json') })).toBeUndefined();
    expect(await loadCredentials('quay.io', { dockerConfigPath: path })).toBeUndefined();
  });

  it('finds Docker Hub under both of its keys', async () => {
    for (const key of ['https://index.docker.io/v1/', 'docker.io']) {
      const path = await configWith({ auths: { [key]: { auth: b64('hubuser:hubpass') } } });
      expect(await loadCredentials('docker.io', { dockerConfigPath: path })).toEqual({
        kind: 'basic',
        username: 'hubuser',
        password: 'hubpass',
      });
    }
  });

  it('asks credHelpers with the registry on stdin, then credsStore', async () => {
    const helpers = await configWith({
      credHelpers: { '127.0.0.1:5000': 'vigiltest' },
      auths: { '127.0.0.1:5000': { auth: b64('not:used') } },
    });
    expect(await loadCredentials('127.0.0.1:5000', { dockerConfigPath: helpers })).toEqual({
      kind: 'basic',
      username: 'alice',
      password: 's3cret',
    });
    const store = await configWith({ credsStore: 'vigiltest', auths: { 'https://index.docker.io/v1/': {} } });
    expect(await loadCredentials('docker.io', { dockerConfigPath: store })).toEqual({
      kind: 'identity-token',
      token: 'refresh-123',
    });
    // "credentials not found" from the helper means anonymous
    expect(await loadCredentials('other.example', { dockerConfigPath: store })).toBeUndefined();
    expect((await readFile(helperLog, 'utf8')).split('\n')).toEqual([
      '127.0.0.1:5000',
      'https://index.docker.io/v1/',
      'other.example',
      '',
    ]);
  });

  it('reports helper failures as ENG_CREDENTIALS_HELPER_FAILED', async () => {
    const path = await configWith({
      credHelpers: {
        'broken.example': 'vigilbroken',
        'garbage.example': 'vigiltest',
        'missing.example': 'vigil-no-such-helper',
        'evil.example': '../../bin/sh',
      },
    });
    expect(await failure(loadCredentials('broken.example', { dockerConfigPath: path }))).toBe(
      'ENG_CREDENTIALS_HELPER_FAILED: credential helper docker-credential-vigilbroken: exited with 2: keychain locked',
    );
    expect(await failure(loadCredentials('garbage.example', { dockerConfigPath: path }))).toBe(
      'ENG_CREDENTIALS_HELPER_FAILED: credential helper docker-credential-vigiltest: printed something that is not JSON',
    );
    expect(await failure(loadCredentials('missing.example', { dockerConfigPath: path }))).toBe(
      'ENG_CREDENTIALS_HELPER_FAILED: credential helper docker-credential-vigil-no-such-helper: not found on PATH',
    );
    expect(await failure(loadCredentials('evil.example', { dockerConfigPath: path }))).toBe(
      'ENG_CREDENTIALS_HELPER_FAILED: credential helper docker-credential-../../bin/sh: invalid helper name',
    );
  });

  it('rejects a malformed config file', async () => {
    const path = await configWith('{"auths": ');
    expect(await failure(loadCredentials('ghcr.io', { dockerConfigPath: path }))).toBe(
      `ENG_INVALID_ARGUMENT: docker config ${path}: not valid JSON`,
    );
  });
});
