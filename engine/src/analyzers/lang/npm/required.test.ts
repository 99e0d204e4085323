import { describe, expect, it } from 'vitest';
import { npmLockAnalyzer, npmPackageAnalyzer } from './index.js';

const info = { size: 100, mode: 0o644 };

describe('npmPackageAnalyzer.required', () => {
  it.each([
    ['app/node_modules/lodash/package.json', true],
    ['node_modules/lodash/package.json', true],
    ['app/node_modules/@babel/core/package.json', true],
    ['app/node_modules/a/node_modules/b/package.json', true],
    ['app/node_modules/a/node_modules/@s/b/package.json', true],
    ['usr/lib/node_modules/npm/package.json', true],
    ['usr/local/lib/node_modules/npm/node_modules/abbrev/package.json', true],
    ['app/node_modules/.pnpm/c@1.0.0/node_modules/c/package.json', true],
    // not a package folder
    ['app/package.json', false],
    ['app/node_modules/package.json', false],
    ['app/node_modules/@babel/package.json', false],
    ['app/node_modules/lodash/test/package.json', false],
    ['app/node_modules/@babel/core/lib/package.json', false],
    ['app/node_modules/.bin/package.json', false],
    ['app/node_modules/.pnpm/package.json', false],
    ['app/node_modules/lodash/package.json.bak', false],
    ['app/my_node_modules/lodash/package.json', false],
    ['app/node_modules/lodash/package-lock.json', false],
  ])('%s → %s', (path, want) => {
    expect(npmPackageAnalyzer.required(path, info)).toBe(want);
  });
});

describe('npmLockAnalyzer.required', () => {
  it.each([
    ['package-lock.json', true],
    ['app/package-lock.json', true],
    ['app/npm-shrinkwrap.json', true],
    ['app/yarn.lock', true],
    ['app/pnpm-lock.yaml', true],
    ['app/bun.lock', true],
    // lock files shipped inside installed packages, hidden lock files, look-alikes
    ['app/node_modules/foo/package-lock.json', false],
    ['app/node_modules/foo/yarn.lock', false],
    ['app/node_modules/.package-lock.json', false],
    ['app/package.json', false],
    ['app/bun.lockb', false],
    ['app/pnpm-lock.yml', false],
    ['app/yarn.lock.orig', false],
    ['app/my-package-lock.json', false],
    ['app/constructor', false],
  ])('%s → %s', (path, want) => {
    expect(npmLockAnalyzer.required(path, info)).toBe(want);
  });
});

describe('analyzer identity', () => {
  it('names, versions and tags', () => {
    expect(
      [npmPackageAnalyzer, npmLockAnalyzer].map((a) => ({ name: a.name, version: a.version, tags: a.tags })),
    ).toEqual([
      { name: 'lang/npm', version: 1, tags: ['lang', 'installed'] },
      { name: 'lang/npm-lock', version: 1, tags: ['lang', 'declared'] },
    ]);
  });
});
