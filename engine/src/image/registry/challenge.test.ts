import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../test/support/fuzz.js';
import { parseChallenges } from './challenge.js';

describe('parseChallenges', () => {
  it('reads a Docker Hub Bearer challenge', () => {
    expect(
      parseChallenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/alpine:pull',
        },
      },
    ]);
  });

  it('reads several challenges, unquoted values, escapes, spaces and case', () => {
    expect(
      parseChallenges(
        'Basic realm="Registry \\"x\\"", BEARER Realm = https://a/t , Service=svc,scope="repository:a:pull repository:b:pull"',
      ),
    ).toEqual([
      { scheme: 'basic', params: { realm: 'Registry "x"' } },
      {
        scheme: 'bearer',
        params: { realm: 'https://a/t', service: 'svc', scope: 'repository:a:pull repository:b:pull' },
      },
    ]);
  });

  it('reads token68 challenges and several header values', () => {
    expect(parseChallenges(['Negotiate abc+/123==', 'Basic realm="r"'])).toEqual([
      { scheme: 'negotiate', params: { '': 'abc+/123==' } },
      { scheme: 'basic', params: { realm: 'r' } },
    ]);
  });

  it('tolerates junk and missing headers', () => {
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges(',, = Bearer realm="unterminated')).toEqual([
      { scheme: 'bearer', params: { realm: 'unterminated' } },
    ]);
  });

  it('fuzz: never throws', async () => {
    const seeds = [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      'Basic realm="Registry Realm"',
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull",error="insufficient_scope"',
      'Negotiate abc==, Basic realm="x"',
    ].map((s) => Buffer.from(s));
    const failures = await fuzz(seeds, 12_000, (input) => parseChallenges(input.toString('latin1')));
    expect(failures).toEqual([]);
  });
});
