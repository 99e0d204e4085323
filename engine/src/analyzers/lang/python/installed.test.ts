import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { inputFromBuffer } from '../../types.js';
import { parseHeaders } from './parse-metadata.js';
import { pythonPackageAnalyzer } from './index.js';

const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out.sort();
}

const pkg = (name: string, version: string, licenses?: string[]) => ({
  packages: [{ name, version, ecosystem: 'pypi', foundBy: 'lang/python', ...(licenses ? { licenses } : {}) }],
});

describe.skipIf(!hasRealdata)('pythonPackageAnalyzer on realdata', () => {
  it.each([
    // wheel METADATA: no License field (LicenseFile is not one) → the License classifier
    [
      'syft-dist-info-METADATA',
      'site-packages/Pygments-2.6.1.dist-info/METADATA',
      pkg('Pygments', '2.6.1', ['BSD License']),
    ],
    // egg PKG-INFO with an indented multi-paragraph Description
    [
      'syft-egg-info-PKG-INFO',
      'site-packages/requests-2.22.0.egg-info/PKG-INFO',
      pkg('requests', '2.22.0', ['Apache 2.0']),
    ],
    // single-file egg-info whose Description holds a truly empty line
    [
      'syft-Python-2.7.egg-info',
      'usr/lib/python2.7/Python-2.7.egg-info',
      pkg('Python', '2.7.13', ['PSF license']),
    ],
  ])('%s', async (file, path, want) => {
    const buf = await readFile(realdata(`pkgdb/python/${file}`));
    expect(pythonPackageAnalyzer.required(path, { size: buf.length, mode: 0o644 })).toBe(true);
    expect(await pythonPackageAnalyzer.analyze(inputFromBuffer(path, buf))).toEqual(want);
  });

  it('keeps the classifiers that follow a Description with an empty line inside it', async () => {
    const headers = parseHeaders(
      (await readFile(realdata('pkgdb/python/syft-Python-2.7.egg-info'))).toString(),
    );
    expect(headers.get('classifier')).toEqual([
      'Development Status :: 6 - Mature',
      'License :: OSI Approved :: Python Software Foundation License',
      'Natural Language :: English',
      'Programming Language :: C',
      'Programming Language :: Python',
      'Topic :: Software Development',
    ]);
    expect(headers.get('platform')).toEqual(['Many']);
  });
});

describe('pythonPackageAnalyzer on an image-like tree', () => {
  it('reads every metadata form and reports metadata without a version', async () => {
    const root = join(TESTDATA, 'installed');
    const results: { path: string; result: unknown }[] = [];
    for (const file of await walk(root)) {
      const path = relative(root, file).split('\\').join('/');
      const buf = await readFile(file);
      if (!pythonPackageAnalyzer.required(path, { size: buf.length, mode: 0o644 })) continue;
      results.push({ path, result: await pythonPackageAnalyzer.analyze(inputFromBuffer(path, buf)) });
    }
    const sp = 'usr/local/lib/python3.12/site-packages';
    expect(results).toEqual([
      // an editable install's egg-info folder
      { path: 'app/src/mypkg.egg-info/PKG-INFO', result: pkg('mypkg', '0.0.1.dev0', ['Apache-2.0']) },
      // single-file egg-info; Description continues past a blank line
      { path: 'usr/lib/python3/dist-packages/six-1.16.0.egg-info', result: pkg('six', '1.16.0', ['MIT']) },
      // License-Expression wins; header-like lines in the body are ignored
      { path: `${sp}/attrs-23.2.0.dist-info/METADATA`, result: pkg('attrs', '23.2.0', ['MIT']) },
      // License: UNKNOWN → classifiers, bare "OSI Approved" and duplicates dropped
      {
        path: `${sp}/foo-0.1-py3.12.egg/EGG-INFO/PKG-INFO`,
        result: pkg('foo', '0.1', ['Apache Software License', 'Other/Proprietary License']),
      },
      // CRLF; a License holding license text (several lines) → classifiers
      {
        path: `${sp}/multiline_license-1.0.dist-info/METADATA`,
        result: pkg('multiline-license', '1.0.post1', ['BSD License']),
      },
      {
        path: `${sp}/noversion-0.dist-info/METADATA`,
        result: {
          unknowns: [
            {
              path: `${sp}/noversion-0.dist-info/METADATA`,
              message: 'cannot parse METADATA: metadata has no Name or no Version',
              source: 'lang/python',
            },
          ],
        },
      },
    ]);
  });

  it.each([
    ['', undefined],
    [
      'Name: x\nVersion: 1.0\nLicense:\nClassifier: License :: Public Domain\n',
      pkg('x', '1.0', ['Public Domain']),
    ],
    ['Name: x\nVersion:   2.0  \n\n\n  indented body line after blanks\n', pkg('x', '2.0')],
    ['Name: x\nnot a header line\nVersion: 1.0\n', undefined],
    ['Name: first\nName: second\nVersion: 1\n  folded\n', pkg('first', '1')],
    ['Name: x\nVersion: 1\tVersion: 2\n', 'invalid Version "1\\tVersion: 2"'],
  ])('edge case %j', async (text, want) => {
    const path = 'site-packages/x-1.0.dist-info/METADATA';
    const result = await pythonPackageAnalyzer.analyze(inputFromBuffer(path, Buffer.from(text)));
    const message = typeof want === 'string' ? want : 'metadata has no Name or no Version';
    expect(result).toEqual(
      typeof want === 'object'
        ? want
        : { unknowns: [{ path, message: `cannot parse METADATA: ${message}`, source: 'lang/python' }] },
    );
  });
});
