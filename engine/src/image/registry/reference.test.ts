import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../test/support/realdata.js';
import { isEngineError } from '../../errors.js';
import { parseReference } from './reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference', () => {
  it.each([
    [
      'alpine',
      {
        domain: 'docker.io',
        registry: 'registry-1.docker.io',
        repository: 'library/alpine',
        tag: 'latest',
        canonical: 'docker.io/library/alpine:latest',
        familiarRepository: 'alpine',
      },
    ],
    [
      'alpine:3.19',
      {
        domain: 'docker.io',
        registry: 'registry-1.docker.io',
        repository: 'library/alpine',
        tag: '3.19',
        canonical: 'docker.io/library/alpine:3.19',
        familiarRepository: 'alpine',
      },
    ],
    [
      'istio/base',
      {
        domain: 'docker.io',
        registry: 'registry-1.docker.io',
        repository: 'istio/base',
        tag: 'latest',
        canonical: 'docker.io/istio/base:latest',
        familiarRepository: 'istio/base',
      },
    ],
    [
      'docker.io/istio/base:latest',
      {
        domain: 'docker.io',
        registry: 'registry-1.docker.io',
        repository: 'istio/base',
        tag: 'latest',
        canonical: 'docker.io/istio/base:latest',
        familiarRepository: 'istio/base',
      },
    ],
    [
      'index.docker.io/library/nginx:alpine',
      {
        domain: 'docker.io',
        registry: 'registry-1.docker.io',
        repository: 'library/nginx',
        tag: 'alpine',
        canonical: 'docker.io/library/nginx:alpine',
        familiarRepository: 'nginx',
      },
    ],
    [
      'localhost:5000/x/y:tag',
      {
        domain: 'localhost:5000',
        registry: 'localhost:5000',
        repository: 'x/y',
        tag: 'tag',
        canonical: 'localhost:5000/x/y:tag',
        familiarRepository: 'localhost:5000/x/y',
      },
    ],
    [
      'localhost/x',
      {
        domain: 'localhost',
        registry: 'localhost',
        repository: 'x',
        tag: 'latest',
        canonical: 'localhost/x:latest',
        familiarRepository: 'localhost/x',
      },
    ],
    [
      '127.0.0.1:5000/app',
      {
        domain: '127.0.0.1:5000',
        registry: '127.0.0.1:5000',
        repository: 'app',
        tag: 'latest',
        canonical: '127.0.0.1:5000/app:latest',
        familiarRepository: '127.0.0.1:5000/app',
      },
    ],
    [
      `ghcr.io/o/r@${D}`,
      {
        domain: 'ghcr.io',
        registry: 'ghcr.io',
        repository: 'o/r',
        digest: D,
        canonical: `ghcr.io/o/r@${D}`,
        familiarRepository: 'ghcr.io/o/r',
      },
    ],
    [
      `ghcr.io/o/r:v1.2@${D}`,
      {
        domain: 'ghcr.io',
        registry: 'ghcr.io',
        repository: 'o/r',
        tag: 'v1.2',
        digest: D,
        canonical: `ghcr.io/o/r:v1.2@${D}`,
        familiarRepository: 'ghcr.io/o/r',
      },
    ],
    // an upper-case first component is a host (distribution's splitDockerDomain)
    [
      'Registry.Example/a_b/c-d__e.f:T_1',
      {
        domain: 'registry.example',
        registry: 'registry.example',
        repository: 'a_b/c-d__e.f',
        tag: 'T_1',
        canonical: 'registry.example/a_b/c-d__e.f:T_1',
        familiarRepository: 'registry.example/a_b/c-d__e.f',
      },
    ],
  ])('%s', (text, expected) => {
    expect(parseReference(text)).toEqual(expected);
  });

  it.each([
    ['', 'empty'],
    ['Alpine', 'repository name must be lowercase'],
    ['alpine:', 'bad tag ""'],
    ['alpine:-x', 'bad tag "-x"'],
    ['alpine@sha256:abc', 'bad digest'],
    [`alpine@md5:${'a'.repeat(32)}`, 'bad digest'],
    ['a//b', 'bad path component ""'],
    ['a/b_', 'bad path component "b_"'],
    ['-a.io/b', 'bad registry host "-a.io"'],
    ['example.com:99999/b', 'bad port "99999"'],
    ['https://ghcr.io/o/r', 'no scheme'],
    ['alpine 3', 'whitespace'],
    [`${'a'.repeat(256)}`, 'longer than 255'],
    ['ghcr.io/', 'bad path component ""'],
  ])('%j is invalid (%s)', (text, why) => {
    let caught: unknown;
    try {
      parseReference(text);
    } catch (error) {
      caught = error;
    }
    expect(isEngineError(caught) && caught.code).toBe('ENG_IMAGE_REF_INVALID');
    expect((caught as Error).message).toContain(why);
  });
});

describe.skipIf(!hasRealdata)('parseReference on real pod image fields', () => {
  const seeds: Buffer[] = [];
  for (const file of [
    'k8s/pods/k9s-pod-nginx.json',
    'k8s/pods/k9s-pod-with-sidecar.json',
    'k8s/manifests/scalibr-k8s-workloads.yaml',
  ]) {
    const text = readFileSync(realdata(file), 'utf8');
    for (const m of text.matchAll(/"?image(?:ID)?"?:\s*"?([^",\s]+)/g))
      seeds.push(Buffer.from(m[1]!.replace(/^docker-pullable:\/\//, '')));
  }

  it('parses them', () => {
    expect(seeds.length).toBeGreaterThan(8);
    const parsed = seeds
      .filter((s) => !s.includes('docker://'))
      .map((s) => parseReference(s.toString()).canonical);
    expect(parsed).toContain(
      'docker.io/library/nginx@sha256:482ead44b2203fa32b3390abdaf97cbdc8ad15c07fb03a3e68d7c35a19ad7595',
    );
    expect(parsed).toContain('tag7:5000/my-app:dev');
  });

  it('fuzz: never throws anything but ENG_IMAGE_REF_INVALID', async () => {
    const failures = await fuzz(seeds, 20_000, (input) => parseReference(input.toString('latin1')), {
      allowed: (e) => isEngineError(e) && e.code === 'ENG_IMAGE_REF_INVALID',
    });
    expect(failures).toEqual([]);
  });
});
