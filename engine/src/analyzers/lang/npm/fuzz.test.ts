import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../../../../../test/support/fuzz.js';
import { hasRealdata, realdata } from '../../../../../test/support/realdata.js';
import { type Analyzer, inputFromBuffer } from '../../types.js';
import { npmLockAnalyzer, npmPackageAnalyzer } from './index.js';

const TESTDATA = fileURLToPath(new URL('./testdata/', import.meta.url));
const ITERATIONS = 10_000;

const seeds = (real: string[], own: string[]): Buffer[] => [
  ...(hasRealdata ? real.map((f) => readFileSync(realdata(`pkgdb/npm/${f}`))) : []),
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
        if (!pkg.name || !pkg.version || pkg.ecosystem !== 'npm')
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

describe('npm analyzers never reject on mutated input', () => {
  it('installed package.json', async () => {
    const s = seeds(
      ['syft-node_modules-cowsay-package.json', 'syft-package.json'],
      [
        'installed/app/node_modules/a/node_modules/b/package.json',
        'installed/app/node_modules/@scope/pkg/package.json',
      ],
    );
    await check(npmPackageAnalyzer, 'app/node_modules/x/package.json', s, 1);
  });

  it('package-lock.json', async () => {
    const s = seeds(
      [
        'syft-package-lock-v1.json',
        'syft-package-lock-v2.json',
        'syft-package-lock-v3.json',
        'syft-package-lock-alias-v2.json',
        'scalibr-package-lock-commits.v2.json',
      ],
      ['lock-v3-workspaces/package-lock.json', 'lock-v1-edge/npm-shrinkwrap.json'],
    );
    await check(npmLockAnalyzer, 'app/package-lock.json', s, 2);
  });

  it('yarn.lock v1', async () => {
    await check(
      npmLockAnalyzer,
      'app/yarn.lock',
      seeds(['syft-yarn-v1.lock'], ['yarn-v1-edge/yarn.lock']),
      3,
    );
  });

  it('yarn.lock berry', async () => {
    const s = seeds(
      ['syft-yarn-berry.lock', 'scalibr-yarn-with-aliases.v2.lock'],
      ['yarn-berry-edge/yarn.lock'],
    );
    await check(npmLockAnalyzer, 'app/yarn.lock', s, 4);
  });

  it('pnpm-lock.yaml', async () => {
    const s = seeds(
      [
        'syft-pnpm-lock-v5.yaml',
        'syft-pnpm-lock-v6.yaml',
        'syft-pnpm-lock-v9.yaml',
        'scalibr-pnpm-peer-deps-advanced.v9.yaml',
      ],
      ['pnpm-v9-dev/pnpm-lock.yaml', 'pnpm-v5-edge/pnpm-lock.yaml', 'pnpm-v6-edge/pnpm-lock.yaml'],
    );
    await check(npmLockAnalyzer, 'app/pnpm-lock.yaml', s, 5);
  });

  it('bun.lock', async () => {
    await check(npmLockAnalyzer, 'app/bun.lock', seeds(['osvscanner-bun.lock'], ['bun-edge/bun.lock']), 6);
  });
});
