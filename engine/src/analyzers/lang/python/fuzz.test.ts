import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { type Analyzer, inputFromBuffer } from '../../types.js';
import { pythonLockAnalyzer, pythonPackageAnalyzer } from './index.js';

const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));
const ITERATIONS = 10_000;

const seeds = (real: string[], own: string[]): Buffer[] => [
  ...(hasRealdata ? real.map((f) => readFileSync(realdata(`pkgdb/python/${f}`))) : []),
  ...own.map((f) => readFileSync(`${TESTDATA}${f}`)),
];

/** Runs `analyzer` on mutations; every run must resolve to a well-formed result. */
async function check(analyzer: Analyzer, path: string, seedFiles: Buffer[], seed: number) {
  const failures = await fuzz(
    seedFiles,
    ITERATIONS,
    async (input) => {
      const result = await analyzer.analyze(inputFromBuffer(path, input));
      for (const pkg of result.packages ?? []) {
        if (!pkg.name || !pkg.version || pkg.ecosystem !== 'pypi')
          throw new Error(`bad package ${JSON.stringify(pkg)}`);
      }
      for (const u of result.unknowns ?? []) {
        if (u.path !== path || !u.message) throw new Error(`bad unknown ${JSON.stringify(u)}`);
      }
    },
    { seed },
  );
  expect(failures).toEqual([]);
}

const SP = 'installed/usr/local/lib/python3.12/site-packages';

describe('python analyzers never reject on mutated input', () => {
  it('METADATA / PKG-INFO', async () => {
    const s = seeds(
      ['syft-dist-info-METADATA', 'syft-egg-info-PKG-INFO', 'syft-Python-2.7.egg-info'],
      [
        `${SP}/attrs-23.2.0.dist-info/METADATA`,
        `${SP}/multiline_license-1.0.dist-info/METADATA`,
        'installed/usr/lib/python3/dist-packages/six-1.16.0.egg-info',
      ],
    );
    await check(pythonPackageAnalyzer, 'site-packages/x-1.0.dist-info/METADATA', s, 11);
  });

  it('requirements.txt', async () => {
    const s = seeds(['syft-requirements.txt'], ['requirements/requirements-dev.txt']);
    await check(pythonLockAnalyzer, 'app/requirements.txt', s, 12);
  });

  it('Pipfile.lock', async () => {
    await check(
      pythonLockAnalyzer,
      'app/Pipfile.lock',
      seeds(['syft-Pipfile.lock'], ['pipfile-overlap/Pipfile.lock']),
      13,
    );
  });

  it('poetry.lock', async () => {
    const s = seeds(
      ['syft-poetry-simple-deps.lock'],
      ['poetry-v1-category/poetry.lock', 'poetry-v2-groups/poetry.lock'],
    );
    await check(pythonLockAnalyzer, 'app/poetry.lock', s, 14);
  });

  it('uv.lock', async () => {
    await check(
      pythonLockAnalyzer,
      'app/uv.lock',
      seeds(['syft-uv-simple-deps.lock'], ['uv-dev/uv.lock']),
      15,
    );
  });

  it('pdm.lock', async () => {
    await check(pythonLockAnalyzer, 'app/pdm.lock', seeds(['syft-pdm.lock'], ['pdm-editable/pdm.lock']), 16);
  });
});
