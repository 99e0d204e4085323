import { describe, expect, it } from 'vitest';
import { pythonLockAnalyzer, pythonPackageAnalyzer } from './index.js';

const info = { size: 100, mode: 0o644 };

describe('pythonPackageAnalyzer.required', () => {
  it.each([
    ['usr/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA', true],
    ['usr/lib/python3/dist-packages/six-1.16.0.egg-info', true],
    ['usr/lib/python3/dist-packages/requests.egg-info/PKG-INFO', true],
    ['usr/lib/python2.7/site-packages/foo-0.1-py2.7.egg/EGG-INFO/PKG-INFO', true],
    ['usr/lib/python2.7/Python-2.7.egg-info', true],
    ['app/src/mypkg.egg-info/PKG-INFO', true],
    ['pkg.dist-info/METADATA', true],
    // other files of the same folders, look-alikes
    ['usr/lib/python3.12/site-packages/requests-2.31.0.dist-info/RECORD', false],
    ['usr/lib/python3.12/site-packages/requests-2.31.0.dist-info/direct_url.json', false],
    ['usr/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA.bak', false],
    ['usr/lib/python3.12/site-packages/requests-2.31.0.dist-info/metadata', false],
    ['usr/lib/python3/dist-packages/requests.egg-info/SOURCES.txt', false],
    ['usr/lib/python3/dist-packages/requests/PKG-INFO', false],
    ['usr/lib/python3/dist-packages/requests/METADATA', false],
    ['usr/lib/python3/dist-packages/.egg-info', false],
    ['usr/lib/python3/dist-packages/six-1.16.0.egg-info.orig', false],
    ['usr/lib/python3.12/site-packages/dist-info/METADATA', false],
  ])('%s → %s', (path, want) => {
    expect(pythonPackageAnalyzer.required(path, info)).toBe(want);
  });
});

describe('pythonLockAnalyzer.required', () => {
  it.each([
    ['poetry.lock', true],
    ['app/poetry.lock', true],
    ['app/Pipfile.lock', true],
    ['app/uv.lock', true],
    ['app/pdm.lock', true],
    ['app/requirements.txt', true],
    ['app/requirements-dev.txt', true],
    ['app/requirements_test.txt', true],
    ['app/requirements.in.txt', true],
    // shipped inside installed packages
    ['usr/lib/python3.12/site-packages/foo/requirements.txt', false],
    ['usr/lib/python3/dist-packages/foo/poetry.lock', false],
    ['app/node_modules/node-gyp/requirements.txt', false],
    // look-alikes
    ['app/Pipfile', false],
    ['app/pipfile.lock', false],
    ['app/requirements.in', false],
    ['app/dev-requirements.txt', false],
    ['app/requirements.txt.bak', false],
    ['app/pyproject.toml', false],
    ['app/constructor', false],
  ])('%s → %s', (path, want) => {
    expect(pythonLockAnalyzer.required(path, info)).toBe(want);
  });
});

describe('analyzer identity', () => {
  it('names, versions and tags', () => {
    expect(
      [pythonPackageAnalyzer, pythonLockAnalyzer].map((a) => ({
        name: a.name,
        version: a.version,
        tags: a.tags,
      })),
    ).toEqual([
      { name: 'lang/python', version: 1, tags: ['lang', 'installed'] },
      { name: 'lang/python-lock', version: 1, tags: ['lang', 'declared'] },
    ]);
  });
});
