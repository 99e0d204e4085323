import { describe, expect, it } from 'vitest';
import { globToRegExp, matchesAnyGlob } from './glob.js';
import { parsePurl, purlStringMatches } from './purl-match.js';

describe('purl matching', () => {
  // [pattern, candidate, expected, why]. "trivy" = an example of trivy's VEX "PURL matching" appendix.
  const CASES: [string, string, boolean, string][] = [
    [
      'pkg:maven/com.google.guava/guava',
      'pkg:maven/com.google.guava/guava@24.1.1',
      true,
      'trivy: no version = all versions',
    ],
    [
      'pkg:maven/com.google.guava/guava',
      'pkg:maven/com.google.guava/guava@30.0',
      true,
      'trivy: no version = all versions',
    ],
    [
      'pkg:maven/com.google.guava/guava@24.1.1',
      'pkg:maven/com.google.guava/guava@24.1.1?classifier=x86',
      true,
      'trivy: no qualifiers = any',
    ],
    [
      'pkg:maven/com.google.guava/guava@24.1.1',
      'pkg:maven/com.google.guava/guava@24.1.1?type=pom',
      true,
      'trivy: no qualifiers = any',
    ],
    [
      'pkg:maven/com.google.guava/guava@24.1.1?classifier=x86',
      'pkg:maven/com.google.guava/guava@24.1.1?classifier=x86&type=dll',
      true,
      'trivy: extra qualifiers ignored',
    ],
    [
      'pkg:maven/com.google.guava/guava@24.1.1?classifier=x86',
      'pkg:maven/com.google.guava/guava@24.1.1',
      false,
      'trivy: qualifier missing',
    ],
    [
      'pkg:maven/com.google.guava/guava@24.1.1?classifier=x86',
      'pkg:maven/com.google.guava/guava@24.1.1?classifier=sources',
      false,
      'trivy: qualifier differs',
    ],
    [
      'pkg:maven/com.google.guava/guava@24.1.1',
      'pkg:maven/com.google.guava/guava@24.1.2',
      false,
      'version differs',
    ],
    ['pkg:maven/com.google.guava/guava', 'pkg:maven/com.google/guava@24.1.1', false, 'namespace differs'],
    ['pkg:npm/lodash', 'pkg:pypi/lodash@1.0', false, 'type differs'],
    ['pkg:npm/%40babel/core@7.23.9', 'pkg:npm/@babel/core@7.23.9', true, 'percent-encoding is decoded'],
    [
      'pkg:pypi/Typing_Extensions',
      'pkg:pypi/typing-extensions@4.10.0',
      true,
      'pypi names normalised by the library',
    ],
    [
      'pkg:apk/alpine/musl?arch=x86_64',
      'pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=alpine-3.10.4',
      true,
      'OS package, arch subset',
    ],
    [
      'pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.24?distro=jammy',
      'pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.24?arch=amd64&distro=ubuntu-22.04',
      false,
      'distro values compared as written',
    ],
    [
      'pkg:golang/github.com/Azure/go-autorest@v1',
      'pkg:golang/github.com/Azure/go-autorest@v1',
      true,
      'golang "v1" (the library validator throws; the fallback parses)',
    ],
    [
      'pkg:maven/log4j@1.2.17',
      'pkg:maven/log4j@1.2.17',
      true,
      'maven without group (library refuses; fallback parses)',
    ],
    ['not a purl', 'pkg:npm/lodash@4', false, 'not a purl'],
  ];
  it.each(CASES)('%s vs %s → %s (%s)', (pattern, candidate, expected) => {
    expect(purlStringMatches(pattern, candidate)).toBe(expected);
  });

  it('parses into components with decoded qualifiers, dropping empty ones', () => {
    expect(
      parsePurl('pkg:rpm/redhat/openssl-libs@1.1.1k-5.el8_5?arch=x86_64&epoch=1&upstream=&distro=rhel-8.5'),
    ).toEqual({
      type: 'rpm',
      namespace: 'redhat',
      name: 'openssl-libs',
      version: '1.1.1k-5.el8_5',
      qualifiers: { arch: 'x86_64', epoch: '1', distro: 'rhel-8.5' },
    });
    expect([parsePurl(''), parsePurl('pkg:'), parsePurl('pkg:/x'), parsePurl('pkg:npm/%zz')]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('path globs', () => {
  // [glob, path, expected]
  const CASES: [string, string, boolean][] = [
    ['app/node_modules/**', 'app/node_modules/lodash/package.json', true],
    ['app/node_modules/**', 'app/package.json', false],
    ['**/package.json', 'package.json', true],
    ['**/package.json', 'a/b/package.json', true],
    ['*.jar', 'app.jar', true],
    ['*.jar', 'lib/app.jar', false],
    ['lib/*.jar', 'lib/app.jar', true],
    ['lib/?.jar', 'lib/a.jar', true],
    ['lib/?.jar', 'lib/ab.jar', false],
    ['lib/[ab].jar', 'lib/b.jar', true],
    ['lib/[!ab].jar', 'lib/b.jar', false],
    ['lib/[!ab].jar', 'lib/c.jar', true],
    ['app/vendor', 'app/vendor/x/package.json', true],
    ['app/vendor/', 'app/vendor/x/package.json', true],
    ['app/vendor', 'app/vendors/x', false],
    ['/usr/lib/**', 'usr/lib/python3/site-packages/x/METADATA', true],
    ['./app/*.json', 'app/a.json', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['lib/[x', 'lib/[x', true],
    ['a.b', 'axb', false],
  ];
  it.each(CASES)('%s ~ %s → %s', (glob, path, expected) => {
    expect(matchesAnyGlob(path, [globToRegExp(glob)])).toBe(expected);
  });
});
