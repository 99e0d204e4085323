import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import type { Package } from '../../../model/package.js';
import { type AnalysisResult, inputFromBuffer } from '../../types.js';
import { pythonLockAnalyzer } from './index.js';

const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));

/** An expected lock-file package. */
function p(name: string, version: string, dev = false): Package {
  return {
    name,
    version,
    ecosystem: 'pypi',
    foundBy: 'lang/python-lock',
    declared: true,
    ...(dev ? { dev: true } : {}),
  };
}

/** Runs the lock analyzer on `file` presented under the path `as` (the base name picks the parser). */
async function analyze(file: string, as: string): Promise<AnalysisResult> {
  return pythonLockAnalyzer.analyze(inputFromBuffer(as, await readFile(file)));
}

describe.skipIf(!hasRealdata)('pythonLockAnalyzer on realdata', () => {
  it.each<[string, string, Package[]]>([
    [
      // default → prod, develop → dev; "==" stripped
      'syft-Pipfile.lock',
      'Pipfile.lock',
      [
        p('aio-pika', '6.8.0'),
        p('aiodns', '2.0.0'),
        p('aiohttp', '3.7.4.post0'),
        p('aiohttp-jinja2', '1.4.2'),
        p('astroid', '2.5.2', true),
        p('autopep8', '1.5.6', true),
      ],
    ],
    [
      // Poetry 1.7 lock-version 2.0: neither category nor groups, so nothing is dev
      'syft-poetry-simple-deps.lock',
      'poetry.lock',
      [
        p('certifi', '2024.2.2'),
        p('charset-normalizer', '3.3.2'),
        p('idna', '3.7'),
        p('requests', '2.32.2'),
        p('urllib3', '2.2.1'),
      ],
    ],
    [
      // the virtual root project "testpkg" is left out
      'syft-uv-simple-deps.lock',
      'uv.lock',
      [
        p('certifi', '2025.1.31'),
        p('charset-normalizer', '3.4.1'),
        p('idna', '3.10'),
        p('requests', '2.32.3'),
        p('urllib3', '2.3.0'),
      ],
    ],
    [
      'syft-pdm.lock',
      'pdm.lock',
      [
        p('certifi', '2025.1.31'),
        p('chardet', '3.0.4'),
        p('charset-normalizer', '2.0.12'),
        p('colorama', '0.3.9'),
        p('idna', '2.7'),
        p('py', '1.4.34'),
        p('pytest', '3.2.5'),
        p('requests', '2.27.1'),
        p('setuptools', '39.2.0'),
        p('urllib3', '1.26.20'),
      ],
    ],
    [
      // pinned lines only: ranges, ~=, !=, wildcards, bare names, -e/-r/--requirements, comments
      // and "==2.3.4" without a name are not packages; extras, markers, hashes, continuations,
      // "===" and a stray "@ url" after a pin are handled (uppercase sorts first)
      'syft-requirements.txt',
      'requirements.txt',
      [
        p('FrIeNdLy-_-bArD', '1.0.0'),
        p('GithubSampleProject', '3.7.1'),
        p('SomeProject', '5.4'),
        p('argh', '0.26.2'),
        p('argh', '0.26.3'),
        p('celery', '4.4.7'),
        p('dots-._allowed', '1.0.0'),
        p('flask', '4.0.0'),
        p('foo', '1.0.0'),
        p('local-version', '1.2.3+gcr.2'),
        p('urllib3', '1.26.20'),
      ],
    ],
  ])('%s', async (file, as, want) => {
    expect(await analyze(realdata(`pkgdb/python/${file}`), `project/${as}`)).toEqual({ packages: want });
  });
});

describe('pythonLockAnalyzer edge cases', () => {
  it.each<[string, Package[]]>([
    [
      // BOM, CRLF, options, two Django pins by marker, extras + hashes over continuations, ===,
      // direct URL, wildcard, range, pin beside an exclusion, '#' without a space is not a comment
      // (and makes an invalid version), duplicate, a comment ending in '\' does not continue,
      // paths/URLs, invalid name, continuation at end of file
      'requirements/requirements-dev.txt',
      [
        p('Django', '3.2.23'),
        p('Django', '4.2.7'),
        p('attrs', '23.1.0'),
        p('isort', '5.13.2'),
        p('pandas', '2.1.4'),
        p('requests', '2.31.0'),
        p('trailing-continuation', '0.1'),
        p('zope.interface', '6.1-custom'),
      ],
    ],
    [
      // category = "dev"; the directory source (path dependency) is left out; git keeps its version
      'poetry-v1-category/poetry.lock',
      [p('click', '8.1.7'), p('from-git', '1.2.0'), p('pytest', '7.4.3', true)],
    ],
    [
      // groups without "main" are dev-only
      'poetry-v2-groups/poetry.lock',
      [p('colorama', '0.4.6'), p('mkdocs', '1.5.3', true), p('ruff', '0.1.9', true)],
    ],
    [
      // six is in both sections → not dev; git/editable/unpinned/non-object entries skipped
      'pipfile-overlap/Pipfile.lock',
      [p('arbitrary', '1.0-custom', true), p('pytest', '7.4.3', true), p('six', '1.16.0')],
    ],
    [
      // editable root app: deps + extras are prod, dev group → pytest → pluggy and idna 3.6 are dev;
      // idna 3.7 via httpx is prod; the directory member and the versionless git package are left out
      'uv-dev/uv.lock',
      [
        p('click', '8.1.7'),
        p('httpx', '0.26.0'),
        p('idna', '3.6', true),
        p('idna', '3.7'),
        p('pluggy', '1.4.0', true),
        p('pytest', '8.0.0', true),
      ],
    ],
    [
      // editable and path packages left out; pdm.lock does not say which groups are dev
      'pdm-editable/pdm.lock',
      [p('pytest', '7.4.4'), p('rich', '13.7.0')],
    ],
  ])('%s', async (fixture, want) => {
    expect(await analyze(`${TESTDATA}${fixture}`, fixture)).toEqual({ packages: want });
  });

  it.each([
    ['Pipfile.lock', '{"default": ', /^cannot parse Pipfile\.lock: /],
    ['Pipfile.lock', '[]', /^cannot parse Pipfile\.lock: Pipfile\.lock is not a JSON object$/],
    ['poetry.lock', '[[package]\nname = "x"', /^cannot parse poetry\.lock: /],
    ['uv.lock', 'version = 1\nversion = 2\n', /^cannot parse uv\.lock: /],
    ['pdm.lock', '[metadata\n', /^cannot parse pdm\.lock: /],
  ])('%s with %j becomes an unknown', async (name, text, message) => {
    const result = await pythonLockAnalyzer.analyze(inputFromBuffer(`p/${name}`, Buffer.from(text)));
    expect(result).toEqual({
      unknowns: [{ path: `p/${name}`, message: expect.stringMatching(message), source: 'lang/python-lock' }],
    });
  });

  it.each([
    ['Pipfile.lock', '{}'],
    ['poetry.lock', ''],
    ['poetry.lock', 'package = "not a list"\n'],
    ['uv.lock', 'version = 1\n'],
    ['pdm.lock', '[[package]]\nname = "noversion"\n'],
    ['requirements.txt', ''],
    ['requirements.txt', '\u0000\u00ff\n==\n[x]==1\n'],
  ])('%s with %j has no packages', async (name, text) => {
    expect(await pythonLockAnalyzer.analyze(inputFromBuffer(`p/${name}`, Buffer.from(text)))).toEqual({
      packages: [],
    });
  });
});
