import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { inputFromBuffer } from '../../types.js';
import { npmPackageAnalyzer } from './index.js';

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

describe.skipIf(!hasRealdata)('npmPackageAnalyzer on realdata', () => {
  it('reads an installed package.json as published to npm', async () => {
    const buf = await readFile(realdata('pkgdb/npm/syft-node_modules-cowsay-package.json'));
    const result = await npmPackageAnalyzer.analyze(
      inputFromBuffer('app/node_modules/cowsay/package.json', buf),
    );
    // "name": "cowsay", "version": "1.4.0", "license": "MIT"
    expect(result).toEqual({
      packages: [
        { name: 'cowsay', version: '1.4.0', ecosystem: 'npm', foundBy: 'lang/npm', licenses: ['MIT'] },
      ],
    });
  });

  it('a project manifest (not in node_modules) is not wanted, but parses if asked', async () => {
    const buf = await readFile(realdata('pkgdb/npm/syft-package.json'));
    expect(npmPackageAnalyzer.required('app/package.json', { size: buf.length, mode: 0o644 })).toBe(false);
    const doc = JSON.parse(buf.toString()) as { name: string; version: string; license: string };
    const result = await npmPackageAnalyzer.analyze(inputFromBuffer('x/node_modules/npm/package.json', buf));
    expect(result).toEqual({
      packages: [
        {
          name: doc.name,
          version: doc.version,
          ecosystem: 'npm',
          foundBy: 'lang/npm',
          licenses: [doc.license],
        },
      ],
    });
    expect([doc.name, doc.version, doc.license]).toEqual(['npm', '6.14.6', 'Artistic-2.0']);
  });
});

describe('npmPackageAnalyzer on an image-like tree', () => {
  it('reports package folders only, with legacy license forms, skipping nameless/versionless manifests', async () => {
    const root = join(TESTDATA, 'installed');
    const results: { path: string; result: unknown }[] = [];
    for (const file of await walk(root)) {
      const path = relative(root, file).split('\\').join('/');
      const buf = await readFile(file);
      if (!npmPackageAnalyzer.required(path, { size: buf.length, mode: 0o644 })) continue;
      results.push({ path, result: await npmPackageAnalyzer.analyze(inputFromBuffer(path, buf)) });
    }
    const pkg = (name: string, version: string, licenses?: string[]) => ({
      packages: [{ name, version, ecosystem: 'npm', foundBy: 'lang/npm', ...(licenses ? { licenses } : {}) }],
    });
    expect(results).toEqual([
      // pnpm's virtual store is a real install location
      {
        path: 'app/node_modules/.pnpm/c@1.0.0/node_modules/c/package.json',
        result: pkg('c', '1.0.0', ['BSD-2-Clause']),
      },
      // legacy {type, url} license object
      {
        path: 'app/node_modules/@scope/pkg/package.json',
        result: pkg('@scope/pkg', '1.0.0-beta.1', ['MIT']),
      },
      // nested node_modules, legacy licenses array
      {
        path: 'app/node_modules/a/node_modules/b/package.json',
        result: pkg('b', '0.2.0', ['MIT', 'Apache-2.0']),
      },
      // no license field at all
      { path: 'app/node_modules/a/package.json', result: pkg('a', '3.1.4') },
      // app/node_modules/a/test/package.json is not a package folder: never asked for
      {
        path: 'app/node_modules/broken/package.json',
        result: {
          unknowns: [
            {
              path: 'app/node_modules/broken/package.json',
              message: expect.stringMatching(/^cannot parse package\.json: invalid JSON: /),
              source: 'lang/npm',
            },
          ],
        },
      },
      // {"name": "noversion", "private": true}: skipped without an unknown
      { path: 'app/node_modules/noversion/package.json', result: {} },
      // global installs
      {
        path: 'usr/local/lib/node_modules/npm/node_modules/abbrev/package.json',
        result: pkg('abbrev', '2.0.0', ['ISC']),
      },
      { path: 'usr/local/lib/node_modules/npm/package.json', result: pkg('npm', '10.8.2', ['Artistic-2.0']) },
    ]);
  });

  it.each([
    [
      '[1, 2]',
      {
        unknowns: [
          {
            path: 'n/node_modules/x/package.json',
            message: 'cannot parse package.json: package.json is not a JSON object',
            source: 'lang/npm',
          },
        ],
      },
    ],
    ['{"name": "x", "version": 1}', {}],
    ['{"name": "", "version": "1.0.0"}', {}],
    [
      '{"name": "x", "version": "1.0.0", "license": "", "licenses": "MIT"}',
      {
        packages: [{ name: 'x', version: '1.0.0', ecosystem: 'npm', foundBy: 'lang/npm', licenses: ['MIT'] }],
      },
    ],
    [
      '\ufeff{"name": "bom", "version": "1.0.0", "licenses": [{"type": "MIT"}, "MIT", 3]}',
      {
        packages: [
          { name: 'bom', version: '1.0.0', ecosystem: 'npm', foundBy: 'lang/npm', licenses: ['MIT'] },
        ],
      },
    ],
  ])('edge case %s', async (text, want) => {
    const result = await npmPackageAnalyzer.analyze(
      inputFromBuffer('n/node_modules/x/package.json', Buffer.from(text)),
    );
    expect(result).toEqual(want);
  });
});
